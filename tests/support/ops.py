"""The staff ops API both services serve: its permission matrix, dead letters to show and
replay, and a fake Kafka for the replays."""

import pytest

from shared_events.django import dead_letters
from shared_events.django.models import DeadLetter
from shared_events.kafka.producer import EventProducer
from tests.support.fake_kafka import FakeBroker, FakeProducer

# (method, route, path, body): statuses for (anonymous, customer, other customer, staff).
# `{letter_id}` is a stored dead letter.
OPS_MATRIX = [
    (("GET", "api/ops/status/", "/api/ops/status/", None), (401, 403, 403, 200)),
    (("GET", "api/ops/dead-letters/", "/api/ops/dead-letters/", None), (401, 403, 403, 200)),
    (
        (
            "POST",
            "api/ops/dead-letters/<int:letter_id>/replay/",
            "/api/ops/dead-letters/{letter_id}/replay/",
            None,
        ),
        (401, 403, 403, 200),
    ),
]


def ops_cases(roles: tuple[str, ...]) -> list[object]:
    return [
        pytest.param(
            *operation,
            role,
            statuses[roles.index(role)],
            id=f"{operation[0]} {operation[1]} {role}",
        )
        for operation, statuses in OPS_MATRIX
        for role in roles
    ]


def dead_letter_create(*, offset: int = 0, **fields: object) -> DeadLetter:
    """A dead letter as `consume_dead_letters` stores it: a refused OrderCreated event."""
    values: dict[str, object] = {
        "topic": "order-events.dlq",
        "partition": 0,
        "offset": offset,
        "original_topic": "order-events",
        "original_partition": 3,
        "original_offset": 40 + offset,
        "consumer_group": "inventory-service",
        "error_class": "EventRejectedError",
        "error_message": "handler refused it",
        "attempts": 1,
        "message_key": f"order-{offset}".encode(),
        "value": b'{"event_id": "e-%d", "event_type": "OrderCreatedIntegrationEvent"}' % offset,
        "headers": [["event_type", "OrderCreatedIntegrationEvent"], ["dlq.attempts", "1"]],
        "event_id": f"e-{offset}",
        "event_type": "OrderCreatedIntegrationEvent",
        "correlation_id": f"order-{offset}",
        **fields,
    }
    return DeadLetter.objects.create(**values)


def replays_to_fake_kafka(monkeypatch: pytest.MonkeyPatch, **fake: object) -> FakeBroker:
    """Make replays publish to an in-memory broker (`fake`: FakeProducer's options)."""
    broker = FakeBroker()
    monkeypatch.setattr(
        dead_letters,
        "EventProducer",
        lambda settings: EventProducer(settings, client=FakeProducer(broker, **fake)),
    )
    return broker
