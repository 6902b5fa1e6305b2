"""schemathesis against the Inventory API's schema, as a customer and as staff: no server
error, no answer the schema does not document."""

import pytest

from tests.inventory_service.factories import product_create
from tests.support.schema_fuzz import fuzz, fuzz_stateful

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["customer", "staff"])
def test_generated_requests_get_documented_answers(role):
    product_create(sku="KEYBOARD-01")  # so some generated SKUs name a product
    sent, failures = fuzz(role)
    print(f"schemathesis, inventory as {role}: {sent} cases, {len(failures)} failing operations")
    assert sent > 0 and not failures, "\n\n".join(failures)


@pytest.mark.parametrize("role", ["customer", "staff"])
def test_chains_of_calls_along_the_schema_links_get_documented_answers(role):
    linked = fuzz_stateful(role)
    print(f"schemathesis stateful, inventory as {role}: {linked} operations reached by links")
    assert linked > 0
