"""Domain errors, and how the API shapes them: `{"message": ..., "extra": {...}}`."""

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A request that the domain refuses; `extra` carries machine-readable details."""

    http_status = status.HTTP_400_BAD_REQUEST

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
