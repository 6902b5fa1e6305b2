"""Order HTTP API: each view decodes input, calls one service or selector, encodes output."""

import hashlib
import json
from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from order_service.orders import selectors, services
from order_service.orders.models import Order
from order_service.orders.statuses import OrderStatus
from service_platform.api import OutputSerializer
from service_platform.permissions import customer_of, customer_scope
from service_platform.throttling import OrderCreateThrottle
from shared_events.contracts.limits import (
    LINE_MAX_QUANTITY,
    ORDER_MAX_LINES,
    ORDER_TEXT_MAX_LENGTH,
    REASON_MAX_LENGTH,
    SKU_MAX_LENGTH,
    SKU_PATTERN,
)


# Not ModelSerializers: those rebuild their fields from the model for every response.
class OrderLineOutputSerializer(OutputSerializer):
    sku = serializers.CharField(read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    unit_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True, read_only=True
    )


class OrderOutputSerializer(OutputSerializer):
    id = serializers.UUIDField(read_only=True)
    customer_id = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=OrderStatus.choices, read_only=True)
    status_reason = serializers.CharField(read_only=True)
    total_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, read_only=True
    )
    lines = OrderLineOutputSerializer(many=True, read_only=True)
    shipping_address = serializers.CharField(read_only=True)
    note = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)
    # Staff narrow the list to one customer; a customer's list holds only their own orders.
    customer_id = django_filters.CharFilter(max_length=100)

    class Meta:
        model = Order
        fields = ["status", "customer_id"]


class OrderListCreateApi(generics.ListAPIView):
    """List your orders (staff: everyone's; filter by `status` and `customer_id`) or place a
    new one for your account."""

    class InputSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            sku = serializers.RegexField(
                SKU_PATTERN,
                max_length=SKU_MAX_LENGTH,
                error_messages={"invalid": "SKUs are 2-40 upper-case letters, digits or '-'."},
            )
            quantity = serializers.IntegerField(min_value=1, max_value=LINE_MAX_QUANTITY)

        # many=True hands max_length to the ListSerializer it builds; the stubs miss it.
        lines = LineSerializer(many=True, allow_empty=False, max_length=ORDER_MAX_LINES)  # type: ignore[call-arg]
        shipping_address = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=ORDER_TEXT_MAX_LENGTH
        )
        note = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=ORDER_TEXT_MAX_LENGTH
        )

        def validate_lines(self, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
            skus = [line["sku"] for line in lines]
            duplicates = sorted({sku for sku in skus if skus.count(sku) > 1})
            if duplicates:
                raise serializers.ValidationError(
                    f"Each SKU may appear once; repeated: {', '.join(duplicates)}."
                )
            return lines

    queryset = Order.objects.none()
    serializer_class = OrderOutputSerializer
    filterset_class = OrderFilter
    permission_classes = [IsAuthenticated]
    # Orders are never read anonymously, so only placing them is throttled here.
    throttle_classes = [OrderCreateThrottle]

    def get_queryset(self) -> QuerySet[Order]:
        return selectors.order_list(customer_id=customer_scope(self.request))

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        # The browsable API shows the input form for POST.
        if self.request.method == "POST":
            return self.InputSerializer
        return OrderOutputSerializer

    @extend_schema(
        request=InputSerializer,
        responses={201: OrderOutputSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="A retry with the same key returns the original order"
                " (keys are per account).",
            )
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        lines = [services.OrderLineInput(**line) for line in data["lines"]]
        key = request.headers.get("Idempotency-Key")
        customer_id = customer_of(request)
        headers = {}
        if key is None:
            order = services.order_create(
                customer_id=customer_id,
                lines=lines,
                shipping_address=data["shipping_address"],
                note=data["note"],
            )
        else:
            if not 1 <= len(key) <= 255:
                raise serializers.ValidationError(
                    {"Idempotency-Key": "Use 1 to 255 characters, e.g. a UUID."}
                )
            order, created = services.order_create_idempotent(
                idempotency_key=key,
                request_fingerprint=_fingerprint(data),
                customer_id=customer_id,
                lines=lines,
                shipping_address=data["shipping_address"],
                note=data["note"],
            )
            if not created:
                headers["Idempotent-Replayed"] = "true"
        # The order as it was committed: the saga may already have moved it on.
        return Response(
            OrderOutputSerializer(order).data, status=status.HTTP_201_CREATED, headers=headers
        )


def _fingerprint(data: dict[str, Any]) -> str:
    """A stable digest of a validated request body."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class OrderDetailApi(generics.GenericAPIView):
    """Read an order, or change its shipping address and note while it is not final."""

    class InputSerializer(serializers.Serializer):
        shipping_address = serializers.CharField(
            required=False, allow_blank=True, max_length=ORDER_TEXT_MAX_LENGTH
        )
        note = serializers.CharField(
            required=False, allow_blank=True, max_length=ORDER_TEXT_MAX_LENGTH
        )

    serializer_class = InputSerializer
    # OPTIONS looks the order up through these (and finds none: it describes, never reads).
    queryset = Order.objects.none()
    lookup_field = "id"
    lookup_url_kwarg = "order_id"

    @extend_schema(responses=OrderOutputSerializer)
    def get(self, request: Request, order_id: Any) -> Response:
        order = selectors.order_get(order_id=order_id, customer_id=customer_scope(request))
        return Response(OrderOutputSerializer(order).data)

    @extend_schema(request=InputSerializer, responses=OrderOutputSerializer)
    def patch(self, request: Request, order_id: Any) -> Response:
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        customer_id = customer_scope(request)
        services.order_update(
            order_id=order_id, customer_id=customer_id, **serializer.validated_data
        )
        order = selectors.order_get(order_id=order_id, customer_id=customer_id)
        return Response(OrderOutputSerializer(order).data)


class OrderCancelApi(APIView):
    """Start cancelling an order: 202, then `cancelled` once its stock is released."""

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(
            required=False, allow_blank=True, max_length=REASON_MAX_LENGTH, default=""
        )

    @extend_schema(request=InputSerializer, responses={202: OrderOutputSerializer})
    def post(self, request: Request, order_id: Any) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.order_cancel(
            order_id=order_id,
            reason=serializer.validated_data["reason"],
            customer_id=customer_scope(request),
        )
        return Response(OrderOutputSerializer(order).data, status=status.HTTP_202_ACCEPTED)


class OrderShipApi(APIView):
    """Ship a confirmed order (staff only)."""

    permission_classes = [IsAdminUser]

    @extend_schema(request=None, responses=OrderOutputSerializer)
    def post(self, request: Request, order_id: Any) -> Response:
        services.order_ship(order_id=order_id)
        return Response(OrderOutputSerializer(selectors.order_get(order_id=order_id)).data)


class OrderTimelineApi(APIView):
    """Every event this service published and consumed for the order, in the order they
    happened, with ids, timestamps and causation links."""

    class EntrySerializer(serializers.Serializer):
        direction = serializers.ChoiceField(choices=["published", "consumed", "dead-lettered"])
        event_id = serializers.CharField()
        event_type = serializers.CharField()
        occurred_at = serializers.DateTimeField(allow_null=True)
        recorded_at = serializers.DateTimeField()
        producer = serializers.CharField()
        causation_id = serializers.CharField(allow_null=True)
        caused_by = serializers.CharField(allow_null=True)
        status = serializers.CharField()
        published_at = serializers.DateTimeField(allow_null=True)
        traceparent = serializers.CharField(allow_blank=True)
        request_id = serializers.CharField(allow_blank=True)
        error = serializers.CharField(allow_blank=True)

    @extend_schema(
        responses=inline_serializer(
            "OrderTimeline",
            {
                "order_id": serializers.UUIDField(),
                "status": serializers.CharField(),
                "events": EntrySerializer(many=True),
            },
        )
    )
    def get(self, request: Request, order_id: Any) -> Response:
        order, entries = selectors.order_timeline(
            order_id=order_id, customer_id=customer_scope(request)
        )
        return Response(
            {
                "order_id": order.id,
                "status": order.status,
                "events": self.EntrySerializer(entries, many=True).data,
            }
        )
