"""Domain errors, and how the API shapes them: `{"message": ..., "extra": {...}}`; the base
of output serializers."""

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A request that the domain refuses; `extra` carries machine-readable details."""

    http_status: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class NotFoundError(ApplicationError):
    http_status = status.HTTP_404_NOT_FOUND


class UnprocessableError(ApplicationError):
    """Well-formed, but cannot be honoured (e.g. an idempotency key reused for another body)."""

    http_status = status.HTTP_422_UNPROCESSABLE_ENTITY


class ConflictError(ApplicationError):
    """The request does not fit the current state (e.g. cancelling a shipped order)."""

    http_status = status.HTTP_409_CONFLICT


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response({"message": exc.message, "extra": exc.extra}, status=exc.http_status)
    if isinstance(exc, ObjectDoesNotExist):
        return Response({"message": "Not found.", "extra": {}}, status=status.HTTP_404_NOT_FOUND)
    return exception_handler(exc, context)


class OutputSerializer(serializers.Serializer):
    """A response body of read-only fields, each read from the attribute of its name.

    It renders with the declared fields themselves: DRF's Serializer deep-copies and binds
    every declared field for each instance it serializes (each item of a list too), which
    cost more CPU than anything else in answering a new order. The declared fields still
    describe the body to the schema and the browsable API.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, field in cls._declared_fields.items():
            if not field.read_only or field.source not in (None, name):
                raise TypeError(f"{cls.__name__}.{name}: output fields are read-only, no source")

    def to_representation(self, instance: Any) -> dict[str, Any]:
        body = {}
        for name, field in self._declared_fields.items():
            value = getattr(instance, name)
            body[name] = None if value is None else field.to_representation(value)
        return body


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 (no route matched, e.g. an order id that is not a UUID): JSON under
    /api/, as every other API answer; the usual page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"message": "Not found.", "extra": {}}, status=404)
    return defaults.page_not_found(request, exception)
