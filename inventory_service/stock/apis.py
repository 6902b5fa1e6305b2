"""Product HTTP API: each view decodes input, calls one service or selector, encodes output."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from inventory_service.stock import selectors, services
from inventory_service.stock.levels import StockLevelName
from inventory_service.stock.models import Product
from service_platform.permissions import IsStaffOrReadOnly
from shared_events.contracts.limits import SKU_MAX_LENGTH, SKU_PATTERN

MAX_QUANTITY = 10_000_000


class ProductOutputSerializer(serializers.ModelSerializer):
    is_low = serializers.BooleanField(read_only=True)
    stock_level = serializers.ChoiceField(
        choices=[level.value for level in StockLevelName], read_only=True
    )

    class Meta:
        model = Product
        fields = [
            "sku",
            "name",
            "unit_price",
            "available_quantity",
            "reserved_quantity",
            "sold_quantity",
            "low_stock_threshold",
            "is_low",
            "stock_level",
            "updated_at",
        ]


@extend_schema_view(
    get=extend_schema(
        parameters=[
            OpenApiParameter("low_stock", bool, description="at or below the threshold, or above"),
            OpenApiParameter("search", str, description="part of the SKU or the name, any case"),
            OpenApiParameter(
                "stock",
                str,
                enum=[level.value for level in StockLevelName],
                description="out (none available), low (at or below the threshold) or in",
            ),
        ]
    )
)
class ProductListCreateApi(generics.ListAPIView):
    """List products (`?search=` in SKU or name, `?stock=in|low|out`, `?low_stock=true` for
    those at or below their threshold) or add one."""

    class InputSerializer(serializers.Serializer):
        sku = serializers.RegexField(
            SKU_PATTERN,
            max_length=SKU_MAX_LENGTH,
            error_messages={"invalid": "SKUs are 2-40 upper-case letters, digits or '-'."},
        )
        name = serializers.CharField(max_length=200)
        unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
        available_quantity = serializers.IntegerField(
            min_value=0, max_value=MAX_QUANTITY, default=0
        )
        low_stock_threshold = serializers.IntegerField(
            min_value=0, max_value=MAX_QUANTITY, default=10
        )

    class FilterSerializer(serializers.Serializer):
        low_stock = serializers.BooleanField(required=False, allow_null=True, default=None)
        search = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
        stock = serializers.ChoiceField(
            choices=[level.value for level in StockLevelName], required=False, default=None
        )

        def validate_stock(self, value: str | None) -> StockLevelName | None:
            return StockLevelName(value) if value else None

    serializer_class = ProductOutputSerializer
    permission_classes = [IsStaffOrReadOnly]

    def get_queryset(self) -> QuerySet[Product]:
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.product_list(**filters.validated_data)

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.request.method == "POST":
            return self.InputSerializer
        return ProductOutputSerializer

    @extend_schema(request=InputSerializer, responses={201: ProductOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.product_create(**serializer.validated_data)
        return Response(ProductOutputSerializer(product).data, status=status.HTTP_201_CREATED)


class ProductDetailApi(generics.GenericAPIView):
    """Read a product, or change its name, price or threshold (staff only): PATCH some of
    them, PUT all three."""

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
        low_stock_threshold = serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY)

    serializer_class = InputSerializer
    permission_classes = [IsStaffOrReadOnly]
    # OPTIONS and the browsable API look the product up through these.
    queryset = Product.objects.all()
    lookup_field = "sku"

    @extend_schema(responses=ProductOutputSerializer)
    def get(self, request: Request, sku: str) -> Response:
        return Response(ProductOutputSerializer(selectors.product_get(sku=sku)).data)

    @extend_schema(request=InputSerializer, responses=ProductOutputSerializer)
    def patch(self, request: Request, sku: str) -> Response:
        return self._update(request, sku, partial=True)

    @extend_schema(request=InputSerializer, responses=ProductOutputSerializer)
    def put(self, request: Request, sku: str) -> Response:
        return self._update(request, sku, partial=False)

    def _update(self, request: Request, sku: str, *, partial: bool) -> Response:
        serializer = self.InputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        product = services.product_update(sku=sku, **serializer.validated_data)
        return Response(ProductOutputSerializer(product).data)


class ProductRestockApi(generics.GenericAPIView):
    """Receive more units of a product (staff only)."""

    class InputSerializer(serializers.Serializer):
        quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)

    serializer_class = InputSerializer
    permission_classes = [IsStaffOrReadOnly]
    queryset = Product.objects.all()
    lookup_field = "sku"

    @extend_schema(request=InputSerializer, responses=ProductOutputSerializer)
    def post(self, request: Request, sku: str) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.product_restock(sku=sku, quantity=serializer.validated_data["quantity"])
        return Response(ProductOutputSerializer(product).data)
