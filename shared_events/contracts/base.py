"""Base class of every event contract."""

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Contract(BaseModel):
    """One event type at one version: an immutable, validated payload.

    Unknown fields are ignored so that adding an optional field stays compatible
    with older consumers; anything else that changes needs a new version.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    event_version: ClassVar[int]

    def partition_key(self) -> str:
        """Return the Kafka key that keeps one aggregate's events in order."""
        raise NotImplementedError
