"""With tracing on, the W3C trace context travels HTTP → outbox → Kafka header → consumer."""

import pytest
from django.test import override_settings

from order_service.orders.handlers import HANDLERS
from shared_events.contracts import StockLevelNormalizedIntegrationEvent
from shared_events.django.consuming import event_message_process, event_messages_process
from shared_events.django.models import OutboxMessage
from shared_events.headers import relay_headers
from shared_events.observability.logging import log_context_clear
from tests.order_service.factories import order_create
from tests.support.messages import event_message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_log_context_left():
    """The consumer loop clears the log context after each batch; these tests call the
    processing functions directly, so they clear it themselves."""
    yield
    log_context_clear()


TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def _trace_id(traceparent: str) -> str:
    return traceparent.split("-")[1]


@override_settings(TRACING_ENABLED=True)
def test_a_request_trace_is_stored_with_the_outbox_row(client, django_user_model):
    user = django_user_model.objects.create_user("tracer", password="tracer-password")
    client.force_login(user)

    response = client.post(
        "/api/orders/",
        {"customer_id": "c", "lines": [{"sku": "KEYBOARD-01", "quantity": 1}]},
        content_type="application/json",
        HTTP_TRACEPARENT=INCOMING,
    )

    assert response.status_code == 201
    row = OutboxMessage.objects.get(correlation_id=response.json()["id"])
    assert _trace_id(row.traceparent) == TRACE_ID
    assert row.traceparent != INCOMING  # a child span of the caller's
    assert _trace_id(response["traceparent"]) == TRACE_ID


@override_settings(TRACING_ENABLED=True)
def test_a_consumer_continues_the_trace_of_the_message_it_handles():
    order = order_create()
    message, _ = event_message(
        StockLevelNormalizedIntegrationEvent(order_id=order.id),
        correlation_id=str(order.id),
        traceparent=INCOMING,
    )
    from order_service.orders import services

    services.order_cancel(order_id=order.id)

    event_message_process(message, handlers=HANDLERS)

    latest = OutboxMessage.objects.filter(correlation_id=str(order.id)).latest("id")
    assert latest.event_type == "OrderStatusChangedIntegrationEvent"
    assert _trace_id(latest.traceparent) == TRACE_ID


def test_without_tracing_nothing_is_stored_and_no_header_is_sent():
    order = order_create()
    assert OutboxMessage.objects.get(correlation_id=str(order.id)).traceparent == ""
    headers = dict(relay_headers(event_type="E", event_version=1, correlation_id="c", event_id="i"))
    assert "traceparent" not in headers
    assert headers["event_id"] == b"i"
    with_trace = dict(
        relay_headers(
            event_type="E", event_version=1, correlation_id="c", event_id="i", traceparent=INCOMING
        )
    )
    assert with_trace["traceparent"] == INCOMING.encode()


def test_the_request_id_is_stored_with_the_outbox_row_and_sent_as_a_header(
    client, django_user_model
):
    client.force_login(django_user_model.objects.create_user("requester"))

    response = client.post(
        "/api/orders/",
        {"lines": [{"sku": "KEYBOARD-01", "quantity": 1}]},
        content_type="application/json",
        HTTP_X_REQUEST_ID="checkout-42",
    )

    assert response.status_code == 201
    row = OutboxMessage.objects.get(correlation_id=response.json()["id"])
    assert row.request_id == "checkout-42"
    timeline = client.get(f"/api/orders/{row.correlation_id}/timeline/").json()["events"]
    assert [e["request_id"] for e in timeline] == ["checkout-42"]
    headers = dict(
        relay_headers(
            event_type="E", event_version=1, correlation_id="c", event_id="i", request_id="r-1"
        )
    )
    assert headers["request_id"] == b"r-1"


def test_events_a_consumer_writes_carry_the_request_id_of_the_event_that_caused_them():
    from order_service.orders import services

    orders = [order_create() for _ in range(3)]
    for order in orders:
        services.order_cancel(order_id=order.id)
    messages = [
        event_message(
            StockLevelNormalizedIntegrationEvent(order_id=order.id),
            correlation_id=str(order.id),
            offset=n,
            request_id=request_id,
        )[0]
        for n, (order, request_id) in enumerate(
            zip(orders, ["checkout-1", "", "checkout-3"], strict=True)
        )
    ]

    # a batch of two sagas, then one message alone
    event_messages_process(messages[:2], handlers=HANDLERS)
    event_message_process(messages[2], handlers=HANDLERS)

    def latest(order) -> OutboxMessage:
        return OutboxMessage.objects.filter(correlation_id=str(order.id)).latest("id")

    assert [latest(order).event_type for order in orders] == [
        "OrderStatusChangedIntegrationEvent"
    ] * 3
    assert [latest(order).request_id for order in orders] == ["checkout-1", "", "checkout-3"]


def test_events_written_outside_a_request_have_no_request_id():
    order = order_create()

    assert OutboxMessage.objects.get(correlation_id=str(order.id)).request_id == ""
    assert "request_id" not in dict(
        relay_headers(event_type="E", event_version=1, correlation_id="c", event_id="i")
    )
