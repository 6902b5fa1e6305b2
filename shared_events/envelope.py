"""The JSON envelope every event travels in."""

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from shared_events.errors import EventDecodeError


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel):
    """Metadata shared by all events plus the contract-specific payload."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    event_type: str = Field(min_length=1, max_length=200)
    event_version: int = Field(ge=1)
    occurred_at: AwareDatetime = Field(default_factory=_utc_now)
    producer: str = Field(min_length=1, max_length=100)
    correlation_id: str | None = Field(default=None, max_length=100)
    causation_id: uuid.UUID | None = None
    payload: dict[str, Any]

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json_bytes(cls, raw: bytes | None) -> "Envelope":
        if not raw:
            raise EventDecodeError("empty message value")
        try:
            return cls.model_validate_json(raw)
        except ValidationError as exc:
            raise EventDecodeError(f"invalid envelope: {format_validation_errors(exc)}") from exc


def format_validation_errors(exc: ValidationError, limit: int = 3) -> str:
    """Summarise a validation error in one line."""
    parts = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(p) for p in error["loc"]) or "<root>"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)
