"""The events admin: the outbox backlog at a glance, parked rows, processed events."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from order_service.orders.handlers import HANDLERS
from shared_events.contracts import (
    OrderCancelledIntegrationEvent,
    StockLevelNormalizedIntegrationEvent,
)
from shared_events.django.consuming import event_message_process
from shared_events.django.models import OutboxMessage
from shared_events.django.outbox import outbox_append
from tests.order_service.factories import order_create
from tests.support.messages import event_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = get_user_model().objects.create_superuser("admin", password="admin-password")
    client.force_login(admin)
    return client


def test_the_outbox_page_shows_the_backlog_and_failed_rows(admin_client):
    # given two pending rows and one parked as failed
    with transaction.atomic():
        rows = outbox_append(
            *[OrderCancelledIntegrationEvent(order_id=uuid.uuid4()) for _ in range(3)],
            correlation_id="admin-test",
        )
    OutboxMessage.objects.filter(id=rows[0].id).update(
        failed_at=timezone.now(), attempts=5, last_error="MSG_SIZE_TOO_LARGE"
    )

    page = admin_client.get("/admin/shared_events/outboxmessage/").content.decode()
    failed = admin_client.get("/admin/shared_events/outboxmessage/?status=failed").content.decode()

    assert "Backlog: 2 pending" in page and "1 failed." in page
    assert f">{rows[0].id}</a>" in failed and f">{rows[1].id}</a>" not in failed


def test_processed_events_show_their_cause(admin_client):
    order = order_create()
    cause = uuid.uuid4()
    message, event_id = event_message(
        StockLevelNormalizedIntegrationEvent(order_id=order.id),
        correlation_id=str(order.id),
        causation_id=cause,
    )
    event_message_process(message, handlers=HANDLERS)

    page = admin_client.get(f"/admin/shared_events/processedevent/{event_id}/change/")

    assert page.status_code == 200
    assert str(cause) in page.content.decode() and "inventory-service" in page.content.decode()
