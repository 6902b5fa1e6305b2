"""List pages: a bounded page size and a bounded offset, so no request scans without end."""

from typing import Any

from django.db.models import QuerySet
from rest_framework import pagination, serializers
from rest_framework.request import Request
from rest_framework.views import APIView

MAX_PAGE_SIZE = 100
# Deeper than this a client narrows the list with its filters instead.
MAX_OFFSET = 10_000


class BoundedPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        page = request.query_params.get(self.page_query_param, "1")
        size = self.get_page_size(request) or MAX_PAGE_SIZE
        if page.isdigit() and (int(page) - 1) * size > MAX_OFFSET:
            raise serializers.ValidationError(
                {"page": f"Pages reach {MAX_OFFSET} rows deep at most; filter the list instead."}
            )
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters
