"""Each event type is accepted only on its own topic, or the consumer's replay topic, and
only from the service that owns that topic."""

import uuid
from decimal import Decimal

import pytest

from shared_events.contracts import (
    OrderCancelledIntegrationEvent,
    ReservedLine,
    StockReservedIntegrationEvent,
)
from shared_events.errors import UntrustedEventError
from shared_events.registry import CONTRACTS, EVENT_TOPICS, EventSources
from tests.support.events import event

SOURCES = EventSources(namespace="ns.", replay_topic="ns.order-service.retry")
RESERVED = StockReservedIntegrationEvent(
    order_id=uuid.uuid4(),
    lines=(ReservedLine(sku="KEYBOARD-01", quantity=1, unit_price=Decimal("1.00")),),
    total_amount=Decimal("1.00"),
)
CANCELLED = OrderCancelledIntegrationEvent(order_id=uuid.uuid4())


def test_every_registered_event_type_has_a_topic():
    assert set(CONTRACTS.values()) == set(EVENT_TOPICS)


@pytest.mark.parametrize(
    ("payload", "producer", "topic"),
    [
        (RESERVED, "inventory-service", "ns.inventory-events"),
        (RESERVED, "inventory-service", "ns.order-service.retry"),
        (CANCELLED, "order-service", "ns.order-events"),
    ],
)
def test_an_event_from_its_owner_on_its_topic_is_accepted(payload, producer, topic):
    SOURCES.verify(event(payload, producer=producer), topic=topic)


@pytest.mark.parametrize(
    ("payload", "producer", "topic"),
    [
        pytest.param(RESERVED, "inventory-service", "ns.order-events", id="other-topic"),
        pytest.param(RESERVED, "inventory-service", "inventory-events", id="other-namespace"),
        pytest.param(RESERVED, "inventory-service", "ns.inventory-events.dlq", id="dlq"),
        pytest.param(RESERVED, "inventory-service", None, id="no-topic"),
        pytest.param(RESERVED, "order-service", "ns.inventory-events", id="other-producer"),
        pytest.param(CANCELLED, "inventory-service", "ns.order-events", id="forged-cancel"),
        pytest.param(CANCELLED, "order-service", "ns.inventory-events", id="cancel-elsewhere"),
    ],
)
def test_an_event_from_elsewhere_is_refused(payload, producer, topic):
    with pytest.raises(UntrustedEventError):
        SOURCES.verify(event(payload, producer=producer), topic=topic)


def test_without_a_replay_topic_only_the_events_own_topic_is_accepted():
    sources = EventSources(namespace="ns.")
    sources.verify(event(RESERVED, producer="inventory-service"), topic="ns.inventory-events")
    with pytest.raises(UntrustedEventError):
        sources.verify(event(RESERVED, producer="inventory-service"), topic=None)
