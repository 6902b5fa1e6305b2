"""Server-Sent Events framing (https://html.spec.whatwg.org/multipage/server-sent-events.html)."""

import re

# Redis stream ids: what the page's EventSource sends back as Last-Event-ID.
STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")


def sse_event(*, data: str, event_id: str | None = None, event: str | None = None) -> str:
    """One event; every line of `data` is its own `data:` field."""
    lines = []
    if event:
        lines.append(f"event: {_one_line(event)}")
    if event_id:
        lines.append(f"id: {_one_line(event_id)}")
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"


def sse_retry(milliseconds: int) -> str:
    """How long the browser waits before it reconnects by itself."""
    return f"retry: {int(milliseconds)}\n\n"


def sse_comment(text: str) -> str:
    """A comment line: keeps the connection (and every proxy on the way) from going idle."""
    return f": {_one_line(text)}\n\n"


def stream_position(last_event_id: str | None) -> str:
    """Where to read the order's stream from: after the last id the browser saw, or from
    its start when it saw none (or sent something that is no stream id)."""
    if last_event_id and STREAM_ID.match(last_event_id.strip()):
        return last_event_id.strip()
    return "0-0"


def _one_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")
