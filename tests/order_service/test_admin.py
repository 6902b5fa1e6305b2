"""The admin and the browsable API render for a staff user."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.order_service.factories import order_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("admin", password="pw"))
    return client


def test_order_admin_pages_render_with_the_status_filter(staff):
    order = order_create()
    listing = staff.get("/admin/orders/order/", {"status__exact": "pending"})
    assert listing.status_code == 200 and str(order.id) in listing.content.decode()
    assert staff.get(f"/admin/orders/order/{order.id}/change/").status_code == 200
    assert (
        staff.get("/admin/shared_events/outboxmessage/", {"status": "pending"}).status_code == 200
    )


def test_ship_action_refuses_a_pending_order_with_a_message(staff):
    order = order_create()
    response = staff.post(
        "/admin/orders/order/",
        {"action": "ship", "index": 0, "_selected_action": [order.id]},
        follow=True,
    )
    assert "Only confirmed orders can be shipped" in response.content.decode()
    order.refresh_from_db()
    assert order.status == "pending"


def test_browsable_api_renders_html(staff):
    response = staff.get("/api/orders/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "text/html" in response["Content-Type"]


def test_admin_actions_need_the_change_permission():
    from django.contrib.auth.models import Permission

    viewer = get_user_model().objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client = Client()
    client.force_login(viewer)
    order = order_create()

    listing = client.get("/admin/orders/order/").content.decode()
    response = client.post(
        "/admin/orders/order/",
        {"action": "cancel", "index": 0, "_selected_action": [order.id]},
        follow=True,
    )

    assert 'value="cancel"' not in listing and 'value="ship"' not in listing
    assert response.status_code in (200, 403)
    order.refresh_from_db()
    assert order.status == "pending"
