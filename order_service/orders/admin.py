from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from order_service.orders import services
from order_service.orders.models import Order, OrderLine
from service_platform.api import ApplicationError
from shared_events.django.conf import events_config
from shared_events.django.timeline import event_timeline, timeline_html


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    readonly_fields = ["sku", "quantity", "unit_price"]
    can_delete = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "customer_id", "status", "total_amount", "created_at", "updated_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["id", "customer_id"]
    readonly_fields = [
        "id",
        "customer_id",
        "status",
        "status_reason",
        "total_amount",
        "created_at",
        "updated_at",
    ]
    fields = [*readonly_fields, "shipping_address", "note", "saga_timeline"]
    readonly_fields = [*readonly_fields, "saga_timeline"]
    inlines = [OrderLineInline]
    actions = ["ship", "cancel"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders are placed through the API, which starts the saga

    @admin.display(description="saga timeline (events published and consumed)")
    def saga_timeline(self, obj: Order) -> str:
        return timeline_html(
            event_timeline(correlation_id=str(obj.id), producer=events_config().service_name)
        )

    def save_model(self, request: HttpRequest, obj: Order, form: Any, change: bool) -> None:
        services.order_update(order_id=obj.id, shipping_address=obj.shipping_address, note=obj.note)

    @admin.action(description="Ship selected confirmed orders", permissions=["change"])
    def ship(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._apply(request, queryset, services.order_ship, "shipped")

    @admin.action(description="Cancel selected orders", permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._apply(request, queryset, services.order_cancel, "being cancelled")

    def _apply(
        self,
        request: HttpRequest,
        queryset: QuerySet[Order],
        action: Callable[..., Order],
        done: str,
    ) -> None:
        succeeded = 0
        for order_id in queryset.values_list("id", flat=True):
            try:
                action(order_id=order_id)
                succeeded += 1
            except ApplicationError as exc:
                self.message_user(request, f"{order_id}: {exc.message}", messages.WARNING)
        if succeeded:
            self.message_user(request, f"{succeeded} order(s) {done}.", messages.SUCCESS)
