"""The stock admin: low-stock filter and the restock action."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from inventory_service.stock.models import Product
from tests.inventory_service.factories import product_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("admin", password="pw"))
    return client


def test_low_stock_filter_lists_only_products_at_or_below_their_threshold(staff):
    low = product_create(available_quantity=2, low_stock_threshold=5)
    fine = product_create(available_quantity=50, low_stock_threshold=5)
    page = staff.get("/admin/stock/product/", {"low_stock": "yes"}).content.decode()
    assert low.sku in page and fine.sku not in page


def test_restock_action_adds_the_quantity_to_each_selected_product(staff):
    a = product_create(available_quantity=1)
    b = product_create(available_quantity=2)
    staff.post(
        "/admin/stock/product/",
        {"action": "restock", "index": 0, "quantity": 5, "_selected_action": [a.sku, b.sku]},
    )
    assert Product.objects.get(sku=a.sku).available_quantity == 6
    assert Product.objects.get(sku=b.sku).available_quantity == 7


def test_browsable_api_renders_html(staff):
    response = staff.get("/api/products/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and "text/html" in response["Content-Type"]


def test_the_restock_action_needs_the_change_permission():
    from django.contrib.auth.models import Permission

    viewer = get_user_model().objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_product"))
    client = Client()
    client.force_login(viewer)
    product = product_create(available_quantity=3)

    listing = client.get("/admin/stock/product/").content.decode()
    client.post(
        "/admin/stock/product/",
        {"action": "restock", "index": 0, "quantity": 5, "_selected_action": [product.sku]},
        follow=True,
    )

    assert 'value="restock"' not in listing
    product.refresh_from_db()
    assert product.available_quantity == 3
