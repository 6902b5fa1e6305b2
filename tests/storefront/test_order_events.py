"""Which order events reach an order's stream, and as what."""

import json
import uuid

from shared_events.envelope import Envelope
from storefront.shop.order_events import (
    OrderStreamEntry,
    order_stream_key,
    read_entries,
    stream_entry_of,
)

ORDER_ID = uuid.uuid4()


def raw(event_type: str, **payload) -> bytes:
    envelope = Envelope(
        event_type=event_type,
        event_version=1,
        producer="order-service",
        payload={"order_id": str(ORDER_ID), **payload},
    )
    return envelope.to_json_bytes()


def test_a_created_order_is_pending():
    entry = stream_entry_of(
        raw("OrderCreatedIntegrationEvent", customer_id="7", lines=[{"sku": "A-1", "quantity": 1}])
    )

    assert entry is not None
    assert (entry.order_id, entry.status, entry.reason) == (str(ORDER_ID), "pending", "")


def test_a_status_change_carries_the_new_status_its_reason_and_when_kafka_got_it():
    entry = stream_entry_of(
        raw(
            "OrderStatusChangedIntegrationEvent",
            old_status="pending",
            new_status="rejected",
            reason="Insufficient stock for A-1",
        ),
        published_at_ms=1_733_230_000_123,
    )

    assert entry is not None
    assert (entry.status, entry.reason) == ("rejected", "Insufficient stock for A-1")
    assert entry.published_at == "1733230000123"
    assert order_stream_key(entry.order_id) == f"storefront:order:{ORDER_ID}"


def test_the_cancellation_request_adds_nothing_its_status_change_follows():
    assert stream_entry_of(raw("OrderCancelledIntegrationEvent", reason="changed my mind")) is None


def test_an_unreadable_message_is_skipped():
    assert stream_entry_of(b"not json") is None
    assert stream_entry_of(None) is None
    assert stream_entry_of(raw("OrderStatusChangedIntegrationEvent", new_status="")) is None


def test_an_entry_survives_the_round_trip_through_redis_fields():
    entry = stream_entry_of(
        raw("OrderStatusChangedIntegrationEvent", old_status="pending", new_status="confirmed")
    )
    assert entry is not None

    [(entry_id, read)] = read_entries(entry.order_id, [["key", [("5-0", entry.fields())]]])

    assert (entry_id, read) == ("5-0", entry)
    assert json.loads(read.sse_data(total_amount="37.50")) == {
        "status": "confirmed",
        "reason": "",
        "total_amount": "37.50",
        "occurred_at": entry.occurred_at,
        "published_at": "",
    }


def test_both_redis_reply_shapes_are_read():
    fields = OrderStreamEntry("o", "e", "shipped", "", "t", "5").fields()

    resp2 = read_entries("o", [["k", [("1-0", fields)]]])
    resp3 = read_entries("o", {"k": [[("1-0", fields)]]})

    assert resp2 == resp3 == [("1-0", OrderStreamEntry("o", "e", "shipped", "", "t", "5"))]
    assert read_entries("o", []) == read_entries("o", None) == []
