from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join

from shared_events.django.dead_letters import dead_letter_replay
from shared_events.django.models import DeadLetter, OutboxMessage, ProcessedEvent
from shared_events.django.ops import outbox_backlog
from shared_events.django.relay import outbox_redrive


class OutboxStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("pending", "pending"), ("failed", "failed"), ("published", "published")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
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

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "GET":
            self._backlog_banner(request)
        return super().changelist_view(request, extra_context)

    def _backlog_banner(self, request: HttpRequest) -> None:
        backlog = outbox_backlog()
        age = backlog.oldest_pending_age_seconds
        level = messages.WARNING if backlog.failed or age > 60 else messages.INFO
        self.message_user(
            request,
            f"Backlog: {backlog.pending} pending (oldest {age:.0f}s old), {backlog.failed} failed.",
            level,
        )

    @admin.action(description="Republish selected failed rows", permissions=["change"])
    def redrive(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        count = outbox_redrive(ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"{count} row(s) queued for publishing again.", messages.SUCCESS)


@admin.register(ProcessedEvent)
class ProcessedEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "event_type", "correlation_id", "producer", "processed_at"]
    list_filter = ["event_type", "producer"]
    search_fields = ["event_id", "correlation_id", "causation_id"]
    readonly_fields = [
        "event_id",
        "event_type",
        "correlation_id",
        "causation_id",
        "producer",
        "occurred_at",
        "processed_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class ReplayedFilter(admin.SimpleListFilter):
    title = "replayed"
    parameter_name = "replayed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "not replayed"), ("yes", "replayed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "no":
            return queryset.filter(replayed_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(replayed_at__isnull=False)
        return queryset


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "event_type",
        "original_topic",
        "original_partition",
        "original_offset",
        "error_class",
        "short_error",
        "correlation_id",
        "received_at",
        "replay_count",
        "replayed_at",
    ]
    list_filter = [ReplayedFilter, "error_class", "original_topic", "event_type"]
    search_fields = ["event_id", "correlation_id", "error_message"]
    date_hierarchy = "received_at"
    readonly_fields = [
        "topic",
        "partition",
        "offset",
        "original_topic",
        "original_partition",
        "original_offset",
        "consumer_group",
        "error_class",
        "error_message",
        "attempts",
        "failed_at",
        "event_id",
        "event_type",
        "correlation_id",
        "key",
        "message",
        "header_table",
        "received_at",
        "replay_count",
        "replayed_at",
        "last_replay_error",
    ]
    exclude = ["message_key", "value", "headers"]
    actions = ["replay"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="error")
    def short_error(self, obj: DeadLetter) -> str:
        return obj.error_message[:80]

    @admin.display(description="key")
    def key(self, obj: DeadLetter) -> str:
        return obj.key_text

    @admin.display(description="message (original bytes)")
    def message(self, obj: DeadLetter) -> str:
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", obj.value_text)

    @admin.display(description="headers")
    def header_table(self, obj: DeadLetter) -> str:
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", obj.headers),
        )

    def has_replay_permission(self, request: HttpRequest) -> bool:
        # The change page is read-only for everyone; replaying still needs the change right.
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.action(
        description="Replay selected dead letters to their original topic", permissions=["replay"]
    )
    def replay(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        result = dead_letter_replay(ids=list(queryset.values_list("id", flat=True)))
        if result.replayed:
            self.message_user(
                request, f"{len(result.replayed)} dead letter(s) replayed.", messages.SUCCESS
            )
        for letter_id, error in result.failed.items():
            self.message_user(request, f"{letter_id}: not replayed: {error}", messages.ERROR)
