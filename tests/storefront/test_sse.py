"""Server-Sent Events framing and where a reconnecting browser resumes."""

import pytest

from storefront.shop.sse import sse_comment, sse_event, sse_retry, stream_position


def test_an_event_has_its_id_and_one_data_line_per_line():
    assert sse_event(data='{"a":1}\n{"b":2}', event_id="17-0") == (
        'id: 17-0\ndata: {"a":1}\ndata: {"b":2}\n\n'
    )


def test_a_named_event_and_an_empty_one():
    assert sse_event(event="unavailable", data="") == "event: unavailable\ndata: \n\n"


def test_newlines_cannot_smuggle_fields_into_an_id_or_a_comment():
    assert sse_event(data="x", event_id="1-0\ndata: evil") == "id: 1-0 data: evil\ndata: x\n\n"
    assert sse_comment("heartbeat\nid: 9") == ": heartbeat id: 9\n\n"


def test_retry_is_in_milliseconds():
    assert sse_retry(1000) == "retry: 1000\n\n"


@pytest.mark.parametrize(
    "last_event_id, position",
    [
        (None, "0-0"),
        ("", "0-0"),
        ("1733230000000-3", "1733230000000-3"),
        (" 5-0 ", "5-0"),
        ("$", "0-0"),
        ("1-0; FLUSHALL", "0-0"),
    ],
)
def test_a_stream_is_read_after_the_last_id_seen_or_from_its_start(last_event_id, position):
    assert stream_position(last_event_id) == position
