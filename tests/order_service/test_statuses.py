"""The order state machine."""

import pytest

from order_service.orders.statuses import FINAL_STATUSES, OrderStatus, can_transition
from shared_events.contracts import OrderStatusName

S = OrderStatus

ALLOWED = {
    (S.PENDING, S.CONFIRMED),
    (S.PENDING, S.REJECTED),
    (S.PENDING, S.CANCELLING),
    (S.CONFIRMED, S.CANCELLING),
    (S.CONFIRMED, S.SHIPPED),
    (S.CANCELLING, S.CANCELLED),
}


@pytest.mark.parametrize("old", list(S))
@pytest.mark.parametrize("new", list(S))
def test_only_the_documented_transitions_are_allowed(old, new):
    assert can_transition(old, new) == ((old, new) in ALLOWED)


def test_final_statuses_are_those_with_no_way_out():
    # A confirmed order can still be shipped or cancelled, so it is not final.
    assert {S.REJECTED, S.CANCELLED, S.SHIPPED} == FINAL_STATUSES


def test_the_statuses_an_order_has_are_the_ones_its_events_announce():
    # Inventory reads `new_status` through the contract's enum: a status the contract does
    # not name would make every order's status change unreadable there.
    assert {str(s) for s in OrderStatus} == {str(s) for s in OrderStatusName}
