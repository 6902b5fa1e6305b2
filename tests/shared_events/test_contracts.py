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
from shared_events.contracts.limits import (
    CUSTOMER_ID_MAX_LENGTH,
    LINE_MAX_QUANTITY,
    ORDER_MAX_LINES,
    SKU_MAX_LENGTH,
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


def _order_created_bytes(*, lines: list[dict], customer_id: str = "c-1") -> bytes:
    envelope = envelope_for(_order_created(), producer="order-service")
    payload = {**envelope.payload, "lines": lines, "customer_id": customer_id}
    return envelope.model_copy(update={"payload": payload}).to_json_bytes()


@pytest.mark.parametrize(
    ("lines", "customer_id"),
    [
        pytest.param([{"sku": "A1", "quantity": LINE_MAX_QUANTITY + 1}], "c", id="quantity"),
        pytest.param(
            [{"sku": f"SKU-{i}", "quantity": 1} for i in range(ORDER_MAX_LINES + 1)],
            "c",
            id="line-count",
        ),
        pytest.param([{"sku": "A1", "quantity": 1}] * 2, "c", id="repeated-sku"),
        pytest.param(
            [{"sku": "A1", "quantity": 1}], "c" * (CUSTOMER_ID_MAX_LENGTH + 1), id="customer-id"
        ),
    ],
)
def test_an_order_the_api_could_never_place_is_refused(lines, customer_id):
    # given an OrderCreated outside the API's bounds
    raw = _order_created_bytes(lines=lines, customer_id=customer_id)

    # when / then
    with pytest.raises(ContractValidationError):
        decode_event(raw)


def test_an_order_at_the_api_bounds_is_accepted():
    # given the largest order the API takes
    lines = [{"sku": f"SKU-{i}", "quantity": LINE_MAX_QUANTITY} for i in range(ORDER_MAX_LINES)]
    raw = _order_created_bytes(lines=lines, customer_id="c" * CUSTOMER_ID_MAX_LENGTH)

    # when
    event = decode_event(raw)

    # then
    assert len(event.payload.lines) == ORDER_MAX_LINES


def test_the_api_and_the_contracts_share_their_bounds():
    from order_service.orders.apis import OrderListCreateApi

    fields = OrderListCreateApi.InputSerializer().fields
    line_fields = fields["lines"].child.fields
    assert line_fields["quantity"].max_value == LINE_MAX_QUANTITY
    assert fields["lines"].max_length == ORDER_MAX_LINES
    assert line_fields["sku"].max_length == SKU_MAX_LENGTH
    # The customer is the account (its id), never an input.
    assert "customer_id" not in fields


def _reserved(*, total: str, lines: tuple[ReservedLine, ...] | None = None) -> dict:
    lines = lines or (
        ReservedLine(sku="KEYBOARD-01", quantity=2, unit_price=Decimal("10.50")),
        ReservedLine(sku="MOUSE-01", quantity=1, unit_price=Decimal("4.00")),
    )
    return {
        "order_id": str(uuid.uuid4()),
        "lines": [line.model_dump(mode="json") for line in lines],
        "total_amount": total,
    }


def test_a_reservation_whose_total_is_its_lines_sum_is_accepted():
    assert StockReservedIntegrationEvent.model_validate(_reserved(total="25.00"))


@pytest.mark.parametrize("total", ["0.00", "24.99", "25.01"])
def test_a_reservation_whose_total_is_not_its_lines_sum_is_refused(total):
    with pytest.raises(ValueError, match="not the sum of the lines"):
        StockReservedIntegrationEvent.model_validate(_reserved(total=total))
