"""Topic and consumer-group names.

`namespace` prefixes every name so that isolated stacks (tests, benchmarks) can share
one Kafka cluster without seeing each other's events.
"""

ORDER_EVENTS = "order-events"
INVENTORY_EVENTS = "inventory-events"
DEAD_LETTER_SUFFIX = ".dlq"
RETRY_SUFFIX = ".retry"

# The services, by the name each puts in its envelopes' `producer`.
ORDER_SERVICE = "order-service"
INVENTORY_SERVICE = "inventory-service"
# Each topic has one owner, the only service that publishes on it.
TOPIC_OWNERS = {ORDER_EVENTS: ORDER_SERVICE, INVENTORY_EVENTS: INVENTORY_SERVICE}


def topic_name(base: str, *, namespace: str = "") -> str:
    return f"{namespace}{base}"


def dead_letter_topic(topic: str) -> str:
    return f"{topic}{DEAD_LETTER_SUFFIX}"


def retry_topic(group: str) -> str:
    """Where a consumer group's replayed dead letters go: the group owns it and reads it,
    so replay needs no right to write another service's topic."""
    return f"{group}{RETRY_SUFFIX}"


def partitions_of(topic: str, *, default: int) -> int:
    """How many partitions `topic` is created with.

    A retry topic carries only replayed dead letters: one partition, so that when a group's
    consumers balance partitions by count they share the events topic, rather than one of
    them taking every events partition and another only the (empty) retry topic's.
    """
    return 1 if topic.endswith(RETRY_SUFFIX) else default


# The storefront's group: it reads order-events to push each order's status to its page.
STOREFRONT_GROUP = "storefront"

# The services' consumer groups (each also has a dead-letter group, see dead_letter_group).
SERVICE_GROUPS = (ORDER_SERVICE, INVENTORY_SERVICE)
DEAD_LETTER_GROUP_SUFFIX = ".dead-letters"


def all_topics(*, namespace: str = "") -> list[str]:
    """Every topic the saga uses, dead-letter and retry topics included."""
    names = [topic_name(t, namespace=namespace) for t in (ORDER_EVENTS, INVENTORY_EVENTS)]
    retries = [retry_topic(topic_name(g, namespace=namespace)) for g in SERVICE_GROUPS]
    return names + [dead_letter_topic(n) for n in names] + retries


def dead_letter_group(group: str) -> str:
    """The group that stores a service's dead letters for browsing and replay."""
    return f"{group}{DEAD_LETTER_GROUP_SUFFIX}"


def all_groups(*, namespace: str = "") -> list[str]:
    """Every consumer group of the saga: each service's consumers and dead-letter consumers."""
    names = [topic_name(g, namespace=namespace) for g in SERVICE_GROUPS]
    return names + [dead_letter_group(n) for n in names]
