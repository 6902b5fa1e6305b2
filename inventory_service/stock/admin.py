from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import F, QuerySet
from django.http import HttpRequest

from inventory_service.stock import services
from inventory_service.stock.models import Product, Reservation, ReservationLine


class LowStockFilter(admin.SimpleListFilter):
    title = "stock level"
    parameter_name = "low_stock"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "at or below threshold"), ("no", "above threshold")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(available_quantity__lte=F("low_stock_threshold"))
        if self.value() == "no":
            return queryset.filter(available_quantity__gt=F("low_stock_threshold"))
        return queryset


class RestockForm(ActionForm):
    quantity = forms.IntegerField(
        min_value=1, required=False, initial=10, help_text="units to add with the restock action"
    )


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "sku",
        "name",
        "unit_price",
        "available_quantity",
        "reserved_quantity",
        "sold_quantity",
        "low_stock_threshold",
        "is_low",
    ]
    list_filter = [LowStockFilter]
    search_fields = ["sku", "name"]
    action_form = RestockForm
    actions = ["restock"]

    def get_readonly_fields(self, request: HttpRequest, obj: Product | None = None) -> list[str]:
        stock = ["available_quantity", "reserved_quantity", "sold_quantity", "received_quantity"]
        return ["sku", *stock] if obj else stock[1:]

    def save_model(self, request: HttpRequest, obj: Product, form: Any, change: bool) -> None:
        if change:
            services.product_update(
                sku=obj.sku,
                name=obj.name,
                unit_price=obj.unit_price,
                low_stock_threshold=obj.low_stock_threshold,
            )
        else:
            services.product_create(
                sku=obj.sku,
                name=obj.name,
                unit_price=obj.unit_price,
                available_quantity=obj.available_quantity,
                low_stock_threshold=obj.low_stock_threshold,
            )

    @admin.display(boolean=True, description="low")
    def is_low(self, obj: Product) -> bool:
        return obj.is_low

    @admin.action(description="Restock selected products (quantity above)", permissions=["change"])
    def restock(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        try:
            quantity = forms.IntegerField(min_value=1).clean(request.POST.get("quantity"))
        except forms.ValidationError:
            self.message_user(request, "Enter a quantity of 1 or more to restock.", messages.ERROR)
            return
        skus = list(queryset.values_list("sku", flat=True))
        for sku in skus:
            services.product_restock(sku=sku, quantity=quantity)
        self.message_user(
            request, f"Added {quantity} unit(s) to {len(skus)} product(s).", messages.SUCCESS
        )


class ReservationLineInline(admin.TabularInline):
    model = ReservationLine
    extra = 0
    can_delete = False
    readonly_fields = ["product", "quantity", "unit_price"]


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = ["order_id", "status", "reason", "created_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["order_id"]
    readonly_fields = ["order_id", "status", "reason", "created_at", "updated_at"]
    inlines = [ReservationLineInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
