"""REST API of inventory: warehouses, lots and their status, balances, the stock ledger,
receipts, FEFO allocation, reservations, near-expiry lots and production capacity.
Views parse input and call one service (writes) or selector (reads); every rule lives in
``services`` / ``allocation``."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404  # a malformed id is a 404, not an error
from rest_framework.response import Response
from rest_framework.views import APIView

from foodflow.catalog.models import Product
from foodflow.core.api import ErrorSerializer, allow
from foodflow.core.vocab import Channel, Storage

from . import services
from .allocation import ShelfLifeRequirement, allocation_plan, requirement_for_channel
from .models import Lot, ProductionRequest, Reservation, StockBalance, StockMove, Warehouse
from .permissions import can_hold_lot, can_manage_capacity, can_manage_stock, can_recall_lot, can_view_stock
from .selectors import lots_near_expiry, stock_by_lot

WRITE_ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 409: ErrorSerializer}
ACTION_ERRORS = {403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


def _quantity(**kwargs):
    return serializers.DecimalField(max_digits=14, decimal_places=3, **kwargs)


# --- warehouses ------------------------------------------------------------------------------


# The zone takes its values from the product's storage condition; a schema of its own keeps the
# two enums apart in the generated clients (one name per field, as the schema check demands).
@extend_schema_field({"type": "string", "enum": list(Storage.values)})
class ZoneField(serializers.CharField):
    pass


class WarehouseSerializer(serializers.ModelSerializer):
    zone = ZoneField(read_only=True)

    class Meta:
        model = Warehouse
        fields = ["id", "code", "name", "zone", "address", "is_active"]
        read_only_fields = fields


class WarehouseViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = Warehouse.objects.order_by("code")
    serializer_class = WarehouseSerializer
    permission_classes = [allow(can_view_stock)]
    search_fields = ["code", "name"]
    filterset_fields = ["zone", "is_active"]


# --- lots ------------------------------------------------------------------------------------


class LotSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.display_name", read_only=True)
    shelf_life_days = serializers.IntegerField(read_only=True)

    class Meta:
        model = Lot
        fields = [
            "id",
            "product",
            "sku",
            "product_name",
            "lot_number",
            "production_date",
            "expiry_date",
            "shelf_life_days",
            "status",
            "hold_reason",
            "origin",
            "created_at",
        ]
        read_only_fields = fields


class LotFilter(filters.FilterSet):
    expiry_date = filters.DateFromToRangeFilter(help_text="expiry_date_after / expiry_date_before, inclusive.")

    class Meta:
        model = Lot
        fields = ["product", "status", "expiry_date"]


class LotReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class LotReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class LotViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Lot.objects.select_related("product").order_by("expiry_date", "product__sku", "lot_number")
    serializer_class = LotSerializer
    permission_classes = [allow(can_view_stock)]
    filterset_class = LotFilter
    search_fields = ["lot_number", "product__sku", "product__name"]
    ordering_fields = ["expiry_date", "production_date", "lot_number"]

    def _transition(self, request, pk, service, serializer_class):
        lot = get_object_or_404(Lot, pk=pk)
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(LotSerializer(service(by=request.user, lot=lot, **data.validated_data)).data)

    @extend_schema(request=LotReasonSerializer, responses={200: LotSerializer, 400: ErrorSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"], permission_classes=[allow(can_hold_lot)])
    def hold(self, request, pk=None):
        """Put an available lot on hold: it is no longer allocated nor shipped."""
        return self._transition(request, pk, services.lot_hold, LotReasonSerializer)

    @extend_schema(request=LotReleaseSerializer, responses={200: LotSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"], permission_classes=[allow(can_hold_lot)])
    def release(self, request, pk=None):
        return self._transition(request, pk, services.lot_release, LotReleaseSerializer)

    @extend_schema(request=LotReasonSerializer, responses={200: LotSerializer, 400: ErrorSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"], permission_classes=[allow(can_recall_lot)])
    def recall(self, request, pk=None):
        return self._transition(request, pk, services.lot_recall, LotReasonSerializer)


# --- balances and the ledger -----------------------------------------------------------------


class StockBalanceSerializer(serializers.ModelSerializer):
    lot_number = serializers.CharField(source="lot.lot_number", read_only=True)
    lot_status = serializers.CharField(source="lot.status", read_only=True)
    expiry_date = serializers.DateField(source="lot.expiry_date", read_only=True)
    sku = serializers.CharField(source="lot.product.sku", read_only=True)
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)
    available = _quantity(read_only=True)

    class Meta:
        model = StockBalance
        fields = [
            "id",
            "product",
            "sku",
            "lot",
            "lot_number",
            "lot_status",
            "expiry_date",
            "warehouse",
            "warehouse_code",
            "on_hand",
            "reserved",
            "available",
        ]
        read_only_fields = fields


class StockBalanceViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Balances with stock on hand, earliest expiry first."""

    serializer_class = StockBalanceSerializer
    permission_classes = [allow(can_view_stock)]
    filterset_fields = ["product", "warehouse", "lot"]
    search_fields = ["lot__lot_number", "lot__product__sku", "lot__product__name"]
    ordering_fields = ["lot__expiry_date", "on_hand", "reserved"]

    def get_queryset(self):
        return stock_by_lot()


class StockMoveSerializer(serializers.ModelSerializer):
    lot_number = serializers.CharField(source="lot.lot_number", read_only=True)
    sku = serializers.CharField(source="lot.product.sku", read_only=True)
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)
    by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = StockMove
        fields = [
            "id",
            "kind",
            "lot",
            "lot_number",
            "sku",
            "warehouse",
            "warehouse_code",
            "on_hand_change",
            "reserved_change",
            "reservation",
            "reference",
            "note",
            "at",
            "by",
        ]
        read_only_fields = fields


class StockMoveViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The stock ledger, newest first."""

    queryset = StockMove.objects.select_related("lot", "lot__product", "warehouse", "by").order_by("-at", "-id")
    serializer_class = StockMoveSerializer
    permission_classes = [allow(can_view_stock)]
    filterset_fields = ["lot", "kind", "reference", "warehouse", "reservation"]
    ordering_fields = ["at"]


class ReceiptSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    lot_number = serializers.CharField(max_length=40)
    quantity = _quantity()
    production_date = serializers.DateField()
    expiry_date = serializers.DateField(required=False, help_text="From the shelf life if not given.")
    origin = serializers.CharField(max_length=120, required=False, allow_blank=True)
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True)


class ReceiptView(APIView):
    """Receive stock of a lot (made or bought); the lot is created the first time."""

    permission_classes = [allow(can_manage_stock)]

    @extend_schema(request=ReceiptSerializer, responses={201: LotSerializer, **WRITE_ERRORS})
    def post(self, request):
        data = ReceiptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lot = services.lot_receive(by=request.user, **data.validated_data)
        return Response(LotSerializer(lot).data, status=status.HTTP_201_CREATED)


# --- allocation and reservations -------------------------------------------------------------


class ShelfLifeSerializer(serializers.Serializer):
    """The customer's shelf-life requirement: explicit, or the default of a channel."""

    min_days = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    min_percent = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=100)
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        help_text="Use the channel's shelf-life rule instead of min_days/min_percent.",
    )

    def validate(self, attrs):
        explicit = attrs.get("min_days") is not None or attrs.get("min_percent") is not None
        if explicit and attrs.get("channel"):
            raise serializers.ValidationError({"channel": [_("Give either the channel or min_days/min_percent.")]})
        return attrs


def _requirement(data: dict) -> ShelfLifeRequirement:
    if data.get("channel"):
        return requirement_for_channel(data["channel"])
    return ShelfLifeRequirement(min_days=data.get("min_days"), min_percent=data.get("min_percent"))


class AllocationPlanParamsSerializer(ShelfLifeSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = _quantity()
    date = serializers.DateField(required=False, help_text="Today if not given.")


AllocationPlanSerializer = inline_serializer(
    "AllocationPlan",
    {
        "product": serializers.CharField(help_text="SKU"),
        "requested": _quantity(),
        "allocated": _quantity(),
        "short": _quantity(),
        "lines": serializers.ListField(
            child=inline_serializer(
                "AllocationLine",
                {
                    "lot": serializers.CharField(help_text="Lot number"),
                    "lot_id": serializers.IntegerField(),
                    "warehouse_id": serializers.IntegerField(),
                    "expiry_date": serializers.DateField(),
                    "quantity": _quantity(),
                },
            )
        ),
    },
)


class AllocationPlanView(APIView):
    """Which lots would serve a quantity, earliest expiry first (reads only, reserves nothing)."""

    permission_classes = [allow(can_view_stock)]

    @extend_schema(
        request=AllocationPlanParamsSerializer, responses={200: AllocationPlanSerializer, 400: ErrorSerializer}
    )
    def post(self, request):
        params = AllocationPlanParamsSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        plan = allocation_plan(
            product=data["product"], quantity=data["quantity"], on=data.get("date"), requirement=_requirement(data)
        )
        return Response(plan.as_dict())


class ReservationSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    lot_number = serializers.CharField(source="lot.lot_number", read_only=True)
    expiry_date = serializers.DateField(source="lot.expiry_date", read_only=True)
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Reservation
        fields = [
            "id",
            "reference",
            "product",
            "sku",
            "lot",
            "lot_number",
            "expiry_date",
            "warehouse",
            "warehouse_code",
            "quantity",
            "open_quantity",
            "status",
            "owner",
            "created_at",
        ]
        read_only_fields = fields


class ReservationCreateSerializer(ShelfLifeSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = _quantity()
    reference = serializers.CharField(max_length=64, help_text="The document the stock is held for.")
    allow_partial = serializers.BooleanField(default=False, help_text="Keep what can be reserved when short.")


ReservationResultSerializer = inline_serializer(
    "ReservationResult",
    {"reservations": ReservationSerializer(many=True), "plan": AllocationPlanSerializer},
)


class ReservationReleaseSerializer(serializers.Serializer):
    quantity = _quantity(required=False, allow_null=True, help_text="All that is still reserved if not given.")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ReservationIssueSerializer(serializers.Serializer):
    quantity = _quantity(required=False, allow_null=True, help_text="All that is still reserved if not given.")
    reference = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="The shipping document; the reservation's if not given.",
    )


class ReservationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Reservation.objects.select_related("product", "lot", "warehouse", "owner")
    serializer_class = ReservationSerializer
    filterset_fields = ["reference", "status", "product", "lot"]
    search_fields = ["reference"]
    ordering_fields = ["created_at", "reference"]

    def get_permissions(self):
        writes = self.action in ("create", "release", "issue")
        return [allow(can_manage_stock if writes else can_view_stock)()]

    @extend_schema(request=ReservationCreateSerializer, responses={201: ReservationResultSerializer, **WRITE_ERRORS})
    def create(self, request):
        """Reserve by FEFO. Short and not ``allow_partial``: 409 ``insufficient_stock``, nothing kept."""
        params = ReservationCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        result = services.stock_reserve(
            by=request.user,
            product=data["product"],
            quantity=data["quantity"],
            reference=data["reference"],
            allow_partial=data["allow_partial"],
            requirement=_requirement(data),
        )
        body = {
            "reservations": ReservationSerializer(result.reservations, many=True).data,
            "plan": result.plan.as_dict(),
        }
        return Response(body, status=status.HTTP_201_CREATED)

    def _close(self, request, pk, service, serializer_class):
        reservation = get_object_or_404(Reservation.objects.select_related("lot", "warehouse"), pk=pk)
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        move = service(by=request.user, reservation=reservation, **data.validated_data)
        return Response(StockMoveSerializer(move).data)

    @extend_schema(request=ReservationReleaseSerializer, responses={200: StockMoveSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Give reserved stock back (all of it, or ``quantity``)."""
        return self._close(request, pk, services.stock_release, ReservationReleaseSerializer)

    @extend_schema(request=ReservationIssueSerializer, responses={200: StockMoveSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        """Ship reserved stock (all of it, or ``quantity``)."""
        return self._close(request, pk, services.stock_issue, ReservationIssueSerializer)


# --- near expiry -----------------------------------------------------------------------------


class NearExpiryQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(
        required=False, min_value=0, max_value=3650, help_text="The category's warning period if not given."
    )


class NearExpirySerializer(serializers.Serializer):
    lot = serializers.IntegerField(source="lot.pk")
    lot_number = serializers.CharField(source="lot.lot_number")
    lot_status = serializers.CharField(source="lot.status")
    product = serializers.IntegerField(source="lot.product_id")
    sku = serializers.CharField(source="lot.product.sku")
    product_name = serializers.CharField(source="lot.product.display_name")
    expiry_date = serializers.DateField(source="lot.expiry_date")
    days_left = serializers.IntegerField()
    warning_days = serializers.IntegerField()
    on_hand = _quantity()
    reserved = _quantity()


class NearExpiryViewSet(viewsets.GenericViewSet):
    """Lots with stock that expire within their category's warning period (or ``days``)."""

    serializer_class = NearExpirySerializer
    permission_classes = [allow(can_view_stock)]
    filter_backends = []

    @extend_schema(parameters=[NearExpiryQuerySerializer], responses={200: NearExpirySerializer(many=True)})
    def list(self, request):
        params = NearExpiryQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        page = self.paginate_queryset(lots_near_expiry(days=params.validated_data.get("days")))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# --- production capacity ---------------------------------------------------------------------


class CapacityQuerySerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = _quantity()
    start = serializers.DateField(required=False, help_text="Tomorrow if not given.")


CapacityPlanSerializer = inline_serializer(
    "CapacityPlan",
    {
        "ready_date": serializers.DateField(),
        "slices": serializers.ListField(
            child=inline_serializer(
                "CapacitySlice",
                {
                    "line": serializers.CharField(help_text="Code of the production line"),
                    "line_id": serializers.IntegerField(),
                    "day": serializers.DateField(),
                    "quantity": _quantity(),
                },
            )
        ),
    },
)


class CapacityEarliestView(APIView):
    """The earliest day the lines can make a quantity, and the capacity it would take."""

    permission_classes = [allow(can_view_stock)]

    @extend_schema(
        parameters=[CapacityQuerySerializer],
        responses={200: CapacityPlanSerializer, 400: ErrorSerializer, 409: ErrorSerializer},
    )
    def get(self, request):
        params = CapacityQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        slices = services.capacity_plan(**params.validated_data)
        return Response(
            {
                "ready_date": slices[-1].day.isoformat(),
                "slices": [
                    {"line": s.line.code, "line_id": s.line.pk, "day": s.day.isoformat(), "quantity": str(s.quantity)}
                    for s in slices
                ],
            }
        )


class ProductionRequestSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)

    class Meta:
        model = ProductionRequest
        fields = ["id", "number", "product", "sku", "quantity", "ready_date", "reference", "status", "created_at"]
        read_only_fields = fields


class ProductionRequestCreateSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = _quantity()
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True)
    start = serializers.DateField(required=False, help_text="Book from this day on (tomorrow if not given).")


class ProductionCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class ProductionRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = ProductionRequest.objects.select_related("product")
    serializer_class = ProductionRequestSerializer
    filterset_fields = ["status", "product", "reference"]
    search_fields = ["number", "reference", "product__sku"]
    ordering_fields = ["ready_date", "number"]

    def get_permissions(self):
        # the planners' bookings of factory capacity: read and written by them, as on the page
        return [allow(can_manage_capacity)()]

    @extend_schema(
        request=ProductionRequestCreateSerializer, responses={201: ProductionRequestSerializer, **WRITE_ERRORS}
    )
    def create(self, request):
        """Book the earliest free capacity for a quantity."""
        params = ProductionRequestCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        production = services.production_request_create(by=request.user, **params.validated_data)
        return Response(ProductionRequestSerializer(production).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ProductionCancelSerializer, responses={200: ProductionRequestSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        production = get_object_or_404(ProductionRequest, pk=pk)
        params = ProductionCancelSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        cancelled = services.production_request_cancel(by=request.user, request=production, **params.validated_data)
        return Response(ProductionRequestSerializer(cancelled).data)
