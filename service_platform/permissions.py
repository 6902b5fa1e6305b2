"""Who may call what: anonymous clients read the catalog, customers their own orders, staff
everything (the README's permission table). Everything else needs a user (the default)."""

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request


class IsStaffOrReadOnly(BasePermission):
    """Anyone reads; only staff write."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return bool(request.user.is_authenticated and request.user.is_staff)


def customer_scope(request: Request) -> str | None:
    """The customer whose orders a request may touch: its own account; None for staff (all)."""
    if request.user.is_staff:
        return None
    return str(request.user.pk)


def customer_of(request: Request) -> str:
    """The customer an order placed by this request belongs to: the account placing it."""
    return str(request.user.pk)
