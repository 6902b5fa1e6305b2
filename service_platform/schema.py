"""OpenAPI schema generation (drf-spectacular) fitted to the views' style."""

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema


class SagaAutoSchema(AutoSchema):
    """Name a view's nested serializers after the view (`OrderCancelApi.InputSerializer`
    becomes `OrderCancelInput`), so every view can call its input `InputSerializer`."""

    def get_serializer_name(
        self, serializer: Any, direction: Literal["request", "response"]
    ) -> str:
        qualname = type(serializer).__qualname__
        if "." not in qualname:
            return super().get_serializer_name(serializer, direction)
        outer, inner = qualname.rsplit(".", 1)
        outer = outer.replace(".", "").removesuffix("Api")
        return outer + inner.removesuffix("Serializer")
