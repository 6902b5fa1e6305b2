"""Contracts and envelopes: what is accepted, what is refused, and how it round-trips."""

import json
import uuid
from decimal import Decimal

import pytest

from shared_events.contracts import (
    OrderCreatedIntegrationEvent,
    OrderLine,
    ReservedLine,
    StockLevel,
    StockLevelNormalizedIntegrationEvent,
    StockReservedIntegrationEvent,
)
from shared_events.errors import ContractValidationError, EventDecodeError, UnknownEventTypeError
from shared_events.registry import CONTRACTS, decode_event, envelope_for

SEED_EVENT_TYPES = {
    "OrderCreatedIntegrationEvent",
    "OrderStatusChangedIntegrationEvent",
    "OrderCancelledIntegrationEvent",
    "StockReservedIntegrationEvent",
    "ReservationFailedIntegrationEvent",
    "StockLevelWarningIntegrationEvent",
    "StockLevelNormalizedIntegrationEvent",
    "StockDepletedIntegrationEvent",
}


def _order_created() -> OrderCreatedIntegrationEvent:
    return OrderCreatedIntegrationEvent(
        order_id=uuid.uuid4(),
        customer_id="c-1",
        lines=(OrderLine(sku="KEYBOARD-01", quantity=2),),
    )


def test_registry_accepts_exactly_version_1_of_the_eight_seed_events():
    assert set(CONTRACTS) == {(name, 1) for name in SEED_EVENT_TYPES}


def test_envelope_round_trip_keeps_metadata_and_payload():
    # given
    event = _order_created()
    causation = uuid.uuid4()
    envelope = envelope_for(
        event, producer="order-service", correlation_id=str(event.order_id), causation_id=causation
    )

    # when
    decoded = decode_event(envelope.to_json_bytes())

    # then
    assert decoded.payload == event
    assert decoded.event_id == envelope.event_id
    assert decoded.event_type == "OrderCreatedIntegrationEvent"
    assert decoded.event_version == 1
    assert decoded.correlation_id == str(event.order_id)
    assert decoded.causation_id == causation
    assert decoded.occurred_at.utcoffset().total_seconds() == 0


def test_envelope_json_has_the_documented_fields():
    raw = json.loads(envelope_for(_order_created(), producer="order-service").to_json_bytes())
    assert set(raw) == {
        "event_id",
        "event_type",
        "event_version",
        "occurred_at",
        "producer",
        "correlation_id",
        "causation_id",
        "payload",
    }
    assert raw["occurred_at"].endswith("Z") or raw["occurred_at"].endswith("+00:00")


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b'{"event_type": "X"}'])
def test_undecodable_bytes_are_a_decode_error(raw):
    with pytest.raises(EventDecodeError):
        decode_event(raw)


def test_unknown_type_or_version_is_refused():
    envelope = envelope_for(_order_created(), producer="order-service")
    for event_type, version in [
        ("OrderShreddedIntegrationEvent", 1),
        ("OrderCreatedIntegrationEvent", 2),
    ]:
        raw = envelope.model_copy(update={"event_type": event_type, "event_version": version})
        with pytest.raises(UnknownEventTypeError):
            decode_event(raw.to_json_bytes())


@pytest.mark.parametrize(
    "lines", [[], [{"sku": "bad sku", "quantity": 1}], [{"sku": "KEYBOARD-01", "quantity": 0}]]
)
def test_invalid_payload_is_a_contract_error(lines):
    envelope = envelope_for(_order_created(), producer="order-service")
    bad = envelope.model_copy(update={"payload": {**envelope.payload, "lines": lines}})
    with pytest.raises(ContractValidationError):
        decode_event(bad.to_json_bytes())


def test_unknown_payload_fields_are_ignored_for_forward_compatibility():
    envelope = envelope_for(_order_created(), producer="order-service")
    newer = envelope.model_copy(update={"payload": {**envelope.payload, "coupon": "X"}})
    assert decode_event(
        newer.to_json_bytes()
    ).payload == OrderCreatedIntegrationEvent.model_validate(envelope.payload)


def test_partition_keys_keep_an_order_together_and_stock_levels_by_sku():
    order_id = uuid.uuid4()
    reserved = StockReservedIntegrationEvent(
        order_id=order_id,
        total_amount=Decimal("2.00"),
        lines=(ReservedLine(sku="AB", quantity=1, unit_price=Decimal("2.00")),),
    )
    released = StockLevelNormalizedIntegrationEvent(order_id=order_id)
    restocked = StockLevelNormalizedIntegrationEvent(
        levels=(StockLevel(sku="AB", available_quantity=5, low_stock_threshold=1),)
    )
    assert reserved.partition_key() == released.partition_key() == str(order_id)
    assert restocked.partition_key() == "AB"


def test_contracts_are_immutable():
    event = _order_created()
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error
        event.customer_id = "someone else"
