"""OpenAPI schema generation (drf-spectacular) fitted to the views' style."""

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import IsAdminUser

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
            codes += ["409", "413", "415"]
        if writes or self._staff_only():
            codes.append("403")
        if "{" in self.path or is_list:  # a list's page past the end is a 404 too
            codes.append("404")
        if writes and any(p.get("name") == "Idempotency-Key" for p in self._get_parameters()):
            codes.append("422")
        return sorted(codes)

    def _staff_only(self) -> bool:
        return any(isinstance(p, IsAdminUser) for p in self.view.get_permissions())


def resource_links(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """OpenAPI links from each create (a POST's 201) to the operations on what it created:
    `/api/orders/` links to every `/api/orders/{order_id}/...` operation, its `order_id`
    taken from the new order's `id` (or from a field named like the parameter, as `sku`).
    Clients and schemathesis' stateful runs follow them."""
    paths: dict[str, Any] = result.get("paths", {})
    schemas: dict[str, Any] = result.get("components", {}).get("schemas", {})
    for path, operations in paths.items():
        created = operations.get("post", {}).get("responses", {}).get("201")
        if created is None:
            continue
        ref = created.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
        fields = schemas.get(str(ref).rsplit("/", 1)[-1], {}).get("properties", {})
        links = created.setdefault("links", {})
        for other, other_operations in paths.items():
            rest = other.removeprefix(path)
            if other == path or not rest.startswith("{"):
                continue
            parameter = rest[1:].split("}", 1)[0]
            field = parameter if parameter in fields else "id"
            if field not in fields:
                continue
            for method, operation in other_operations.items():
                name = operation.get("operationId", f"{method}{other}")
                links[name] = {
                    "operationId": name,
                    "parameters": {parameter: f"$response.body#/{field}"},
                }
    return result
