"""A saga's timeline: every event this service published and consumed for one correlation id."""

import dataclasses
import json
from datetime import datetime

from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join

from shared_events.django.models import DeadLetter, OutboxMessage, ProcessedEvent


@dataclasses.dataclass(frozen=True)
class TimelineEntry:
    direction: str  # published | consumed | dead-lettered
    event_id: str
    event_type: str
    occurred_at: datetime | None  # when the producer created the event
    recorded_at: datetime  # outbox row written / effect committed / dead letter stored
    producer: str
    causation_id: str | None
    caused_by: str | None  # the causing event's type, when it is in this timeline
    status: str  # pending | published | failed | processed | dead-lettered | replayed
    published_at: datetime | None = None
    traceparent: str = ""
    request_id: str = ""  # the HTTP request that caused a published event
    error: str = ""


def event_timeline(*, correlation_id: str, producer: str = "") -> list[TimelineEntry]:
    """Published, consumed and dead-lettered events of one saga, in the order they happened.

    Published and consumed events are kept for EVENTS_RETENTION_DAYS, so an older saga's
    timeline is partial.
    """
    entries: list[TimelineEntry] = []
    for row in OutboxMessage.objects.filter(correlation_id=correlation_id).order_by("id"):
        envelope = _json(row.body)
        entries.append(
            TimelineEntry(
                direction="published",
                event_id=str(row.event_id),
                event_type=row.event_type,
                occurred_at=parse_datetime(envelope.get("occurred_at") or "") or row.created_at,
                recorded_at=row.created_at,
                producer=envelope.get("producer") or producer,
                causation_id=envelope.get("causation_id"),
                caused_by=None,
                status=row.status,
                published_at=row.published_at,
                traceparent=row.traceparent,
                request_id=row.request_id,
                error=row.last_error,
            )
        )
    for event in ProcessedEvent.objects.filter(correlation_id=correlation_id):
        entries.append(
            TimelineEntry(
                direction="consumed",
                event_id=str(event.event_id),
                event_type=event.event_type,
                occurred_at=event.occurred_at or event.processed_at,
                recorded_at=event.processed_at,
                producer=event.producer,
                causation_id=str(event.causation_id) if event.causation_id else None,
                caused_by=None,
                status="processed",
            )
        )
    for letter in DeadLetter.objects.filter(correlation_id=correlation_id):
        entries.append(
            TimelineEntry(
                direction="dead-lettered",
                event_id=letter.event_id,
                event_type=letter.event_type or "unknown",
                occurred_at=letter.failed_at or letter.received_at,
                recorded_at=letter.received_at,
                producer="",
                causation_id=None,
                caused_by=None,
                status="replayed" if letter.replayed_at else "dead-lettered",
                error=f"{letter.error_class}: {letter.error_message}",
            )
        )
    types = {e.event_id: e.event_type for e in entries if e.direction != "dead-lettered"}
    entries = [dataclasses.replace(e, caused_by=types.get(e.causation_id or "")) for e in entries]
    # Causes come before their effects; ties (same clock tick) keep insertion order.
    return sorted(entries, key=lambda e: (e.occurred_at or e.recorded_at, e.recorded_at))


def _json(body: str) -> dict[str, str]:
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def timeline_html(entries: list[TimelineEntry]) -> str:
    """The timeline as an HTML table, for the admin."""
    if not entries:
        return "No events recorded (yet, or no longer: see EVENTS_RETENTION_DAYS)."
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td>"
        "<td><code>{}</code></td><td>{}</td></tr>",
        (
            (
                e.occurred_at.isoformat(timespec="milliseconds") if e.occurred_at else "",
                e.direction,
                e.event_type,
                e.event_id,
                e.status,
                e.causation_id or "",
                e.caused_by or "",
            )
            for e in entries
        ),
    )
    return format_html(
        "<table><thead><tr><th>occurred at</th><th>direction</th><th>event</th>"
        "<th>event id</th><th>status</th><th>caused by (event id)</th><th>caused by</th>"
        "</tr></thead><tbody>{}</tbody></table>",
        rows,
    )
