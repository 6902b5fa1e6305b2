"""One error hierarchy for event handling: permanent errors dead-letter, transient ones retry."""


class EventError(Exception):
    """Base class for anything that goes wrong while handling an event."""


class PermanentEventError(EventError):
    """Retrying cannot help: the message goes to the dead-letter topic."""


class EventDecodeError(PermanentEventError):
    """The bytes are not a valid event envelope."""


class UnknownEventTypeError(PermanentEventError):
    """No contract is registered for this event type and version."""


class ContractValidationError(PermanentEventError):
    """The payload does not match its contract."""


class UntrustedEventError(PermanentEventError):
    """The event arrived on a topic, or from a producer, its type does not belong to."""


class EventRejectedError(PermanentEventError):
    """A handler refused the event for a business reason."""


class TransientEventError(EventError):
    """A passing failure (database unavailable, deadlock): retry later."""
