"""OpenAPI schema generation (drf-spectacular) fitted to the views' style."""

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema

ERROR_BODY = {"type": "object", "additionalProperties": True}
ERRORS = {
    "400": "Invalid input: field errors by field name, or `{message, extra}`.",
    "401": "No credentials, or an access token that is forged, expired or not for this API.",
    "403": "Authenticated, but not allowed (staff only).",
    "404": "No such resource, or not yours.",
    "409": "Not allowed in the resource's current state, or it exists already.",
    "413": "Request body over 64 KiB.",
    "415": "Unsupported Content-Type.",
    "422": "This Idempotency-Key was already used with another request.",
    "429": "Throttled: wait the seconds Retry-After says.",
}


class SagaAutoSchema(AutoSchema):
    """Name a view's nested serializers after the view (`OrderCancelApi.InputSerializer`
    becomes `OrderCancelInput`), so every view can call its input `InputSerializer`; document
    the error answers each operation can give."""

    def get_serializer_name(
        self, serializer: Any, direction: Literal["request", "response"]
    ) -> str:
        qualname = type(serializer).__qualname__
        if "." not in qualname:
            return super().get_serializer_name(serializer, direction)
        outer, inner = qualname.rsplit(".", 1)
        outer = outer.replace(".", "").removesuffix("Api")
        return outer + inner.removesuffix("Serializer")

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code in self.error_statuses():
            responses.setdefault(
                code,
                {
                    "description": ERRORS[code],
                    "content": {"application/json": {"schema": ERROR_BODY}},
                },
            )
        return responses

    def error_statuses(self) -> list[str]:
        """The error statuses this operation can answer with."""
        writes = self.method not in ("GET", "HEAD", "OPTIONS")
        is_list = self._is_list_view()
        codes = ["401", "429"]
        if writes or is_list:
            codes.append("400")
        if writes:
            codes += ["403", "409", "413", "415"]
        if "{" in self.path or is_list:  # a list's page past the end is a 404 too
            codes.append("404")
        if writes and any(p.get("name") == "Idempotency-Key" for p in self._get_parameters()):
            codes.append("422")
        return sorted(codes)
