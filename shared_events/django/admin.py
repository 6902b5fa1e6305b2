from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from shared_events.django.models import OutboxMessage, ProcessedEvent
from shared_events.django.relay import outbox_redrive


class OutboxStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):  # type: ignore[no-untyped-def]
        return [("pending", "pending"), ("failed", "failed"), ("published", "published")]

    def queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        value = self.value()
        if value == "pending":
            return queryset.filter(published_at__isnull=True, failed_at__isnull=True)
        if value == "failed":
            return queryset.filter(published_at__isnull=True, failed_at__isnull=False)
        if value == "published":
            return queryset.filter(published_at__isnull=False)
        return queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "event_type",
        "message_key",
        "status",
        "attempts",
        "created_at",
        "published_at",
    ]
    list_filter = [OutboxStatusFilter, "event_type"]
    search_fields = ["event_id", "message_key", "correlation_id"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = ["redrive"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Republish selected failed rows")
    def redrive(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        count = outbox_redrive(ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"{count} row(s) queued for publishing again.", messages.SUCCESS)


@admin.register(ProcessedEvent)
class ProcessedEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "event_type", "correlation_id", "processed_at"]
    list_filter = ["event_type"]
    search_fields = ["event_id", "correlation_id"]
    readonly_fields = ["event_id", "event_type", "correlation_id", "processed_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
