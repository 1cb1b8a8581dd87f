"""REST API of after-sales: complaints (service tickets) with their actions and SLA clocks,
holds and recalls of the lot a complaint is about, recalls with their lines and returns, and
the forward trace of a lot.

It follows the contracts API: complaints are read through ``complaints_in_scope``, so one
outside the caller's scope is not found (404); every write parses its input and calls one
service, which checks the object-level rules (403, 409, 400 with a code). Logging a
complaint and starting a recall take an ``Idempotency-Key``; fields only the services set
are refused with 400 ``read_only_field``."""

from __future__ import annotations

from django.db.models import Count, Prefetch
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from foodflow.accounts.models import User
from foodflow.catalog.models import Product
from foodflow.contracts.api import EnumField
from foodflow.core.api import QUERY_MAX_LENGTH, BoundedTextMixin, ErrorSerializer, id_field, row_id
from foodflow.core.errors import NotFoundError, ValidationFailed
from foodflow.crm.api import VisibleCustomerField
from foodflow.inventory.api import LotSerializer
from foodflow.inventory.models import Lot, StockMove
from foodflow.sales.api import (
    ACTION_ERRORS,
    IDEMPOTENCY_KEY,
    IDEMPOTENT_REPLAYED,
    READ_ERRORS,
    WRITE_ERRORS,
    ReasonSerializer,
    RefuseReadOnlyMixin,
    ScopedRelatedField,
    ScopedViewSet,
    idempotent,
)
from foodflow.sales.models import Delivery, DeliveryLine, ReturnLine, SalesOrder
from foodflow.sales.permissions import can_manage_receivables, docs_in_scope

from . import recalls, remedies, selectors, services
from .models import Complaint, ComplaintAction, Recall, RecallLine, Remedy, Severity
from .permissions import can_log_complaints, can_recall, can_trace_lots, can_view_complaints, complaints_in_scope
from .workflows import COMPLAINT_FLOW, OPEN, REMEDY_FLOW


def _quantity(**kwargs):
    return serializers.DecimalField(max_digits=14, decimal_places=3, **kwargs)


def _deliveries_visible(user, queryset):
    return queryset.filter(order__in=docs_in_scope(user, SalesOrder.objects.all()))


def _channel_field(**kwargs):
    return EnumField(Complaint.Channel.choices, enum_name="ComplaintChannelEnum", **kwargs)


def _category_field(**kwargs):
    return EnumField(Complaint.Category.choices, enum_name="ComplaintCategoryEnum", **kwargs)


def _severity_field(**kwargs):
    return EnumField(Severity.choices, enum_name="ComplaintSeverityEnum", **kwargs)


def _action_kind_field(**kwargs):
    return EnumField(ComplaintAction.Kind.choices, enum_name="ComplaintActionKindEnum", **kwargs)


def lot_by_reference(reference: str) -> Lot:
    """A lot named by its lot number or, failing that, its id. Lot numbers are unique per
    product only: a number two products share must be given as the lot's id."""
    reference = (reference or "").strip()
    lots = selectors.lots_numbered(reference)
    if len(lots) > 1:
        message = gettext("Several products have a lot %(number)s: give the lot's id.") % {"number": reference}
        raise ValidationFailed(message, code="lot_ambiguous", fields={"lot": [message]})
    if not lots and reference.isdigit():
        lots = list(Lot.objects.select_related("product").filter(pk=int(reference)))
    if not lots:
        raise NotFoundError(gettext("There is no such lot."), code="lot_not_found")
    return lots[0]


# --- complaints: what is shown ----------------------------------------------------------------------


class ComplaintActionSerializer(serializers.ModelSerializer):
    kind = _action_kind_field(read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    by_name = serializers.CharField(source="by.display_name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = ComplaintAction
        fields = ["id", "kind", "kind_label", "note", "by", "by_name", "at"]
        read_only_fields = fields


COMPLAINT_FIELDS = [
    "id",
    "number",
    "channel",
    "channel_label",
    "category",
    "category_label",
    "severity",
    "severity_label",
    "customer",
    "customer_name",
    "contact_name",
    "contact_phone",
    "order",
    "order_number",
    "delivery",
    "delivery_number",
    "product",
    "sku",
    "lot",
    "lot_number",
    "owner",
    "owner_name",
    "state",
    "state_label",
    "received_at",
    "response_due",
    "resolution_due",
    "responded_at",
    "resolved_at",
    "closed_at",
    "response_overdue",
    "resolution_overdue",
    "created_at",
]


class ComplaintSerializer(serializers.ModelSerializer):
    """A row of the complaint list, with its SLA clocks."""

    channel = _channel_field(read_only=True)
    channel_label = serializers.CharField(source="get_channel_display", read_only=True)
    category = _category_field(read_only=True)
    category_label = serializers.CharField(source="get_category_display", read_only=True)
    severity = _severity_field(read_only=True)
    severity_label = serializers.CharField(source="get_severity_display", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True, default=None, allow_null=True)
    order_number = serializers.CharField(source="order.__str__", read_only=True, default=None, allow_null=True)
    delivery_number = serializers.CharField(source="delivery.number", read_only=True, default=None, allow_null=True)
    sku = serializers.CharField(source="product.sku", read_only=True, default=None, allow_null=True)
    lot_number = serializers.CharField(source="lot.lot_number", read_only=True, default=None, allow_null=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True, default=None, allow_null=True)
    state = EnumField(COMPLAINT_FLOW.choices(), enum_name="ComplaintStateEnum", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    response_overdue = serializers.SerializerMethodField(help_text="No first response yet and its deadline passed.")
    resolution_overdue = serializers.SerializerMethodField(help_text="Still open and its resolution deadline passed.")

    class Meta:
        model = Complaint
        fields = COMPLAINT_FIELDS
        read_only_fields = fields

    def get_response_overdue(self, complaint) -> bool:
        return complaint.responded_at is None and complaint.state in OPEN and timezone.now() > complaint.response_due

    def get_resolution_overdue(self, complaint) -> bool:
        return complaint.state in OPEN and timezone.now() > complaint.resolution_due


class ComplaintDetailSerializer(ComplaintSerializer):
    """One complaint with what the customer said, the resolution, the escalations done, the
    actions taken and the recalls it started."""

    actions = ComplaintActionSerializer(many=True, read_only=True)
    recalls = serializers.SerializerMethodField(help_text="Numbers of the recalls started from the complaint.")

    class Meta:
        model = Complaint
        fields = [
            *COMPLAINT_FIELDS,
            "description",
            "escalations",
            "escalated_at",
            "resolution",
            "root_cause",
            "corrective_action",
            "customer_feedback",
            "actions",
            "recalls",
        ]
        read_only_fields = fields

    def get_recalls(self, complaint) -> list[str]:
        return [recall.number for recall in complaint.recalls.all()]


# --- complaints: what the caller sends --------------------------------------------------------------


class ComplaintLogSerializer(BoundedTextMixin, RefuseReadOnlyMixin, serializers.Serializer):
    """A complaint from any channel: the customer (or a contact), what they say, and what it is
    about (order, delivery, product, lot) where known."""

    shown_by = ComplaintDetailSerializer

    channel = _channel_field()
    category = _category_field()
    severity = _severity_field()
    description = serializers.CharField(allow_blank=True, help_text="What the customer says.")
    customer = VisibleCustomerField(required=False, allow_null=True, default=None)
    contact_name = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    contact_phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    order = ScopedRelatedField(SalesOrder, docs_in_scope, required=False, allow_null=True, default=None)
    delivery = ScopedRelatedField(
        Delivery, _deliveries_visible, required=False, allow_null=True, default=None, help_text="Sets the order."
    )
    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.all(), required=False, allow_null=True, default=None
    )
    lot = serializers.PrimaryKeyRelatedField(
        queryset=Lot.objects.all(), required=False, allow_null=True, default=None, help_text="Sets the product."
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="Assign it at once to this service agent.",
    )
    received_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="Now if not given; the SLA clocks start here."
    )


class ComplaintAssignSerializer(serializers.Serializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), help_text="A service agent."
    )


class ComplaintActionInputSerializer(BoundedTextMixin, serializers.Serializer):
    kind = _action_kind_field(help_text="Escalations are FoodFlow's to record (400 invalid_kind).")
    note = serializers.CharField(allow_blank=True, help_text="What was done.")


class ComplaintResolveSerializer(BoundedTextMixin, serializers.Serializer):
    resolution = serializers.CharField(allow_blank=True, required=False, default="")
    root_cause = serializers.CharField(allow_blank=True, required=False, default="")
    corrective_action = serializers.CharField(allow_blank=True, required=False, default="")


class FeedbackSerializer(serializers.Serializer):
    feedback = serializers.CharField(
        max_length=300, allow_blank=True, required=False, default="", help_text="What the customer said."
    )


class ComplaintQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=QUERY_MAX_LENGTH,
        default="",
        help_text="Number, customer, contact or description.",
    )
    state = serializers.ChoiceField(choices=COMPLAINT_FLOW.choices(), required=False, allow_blank=True, default="")
    severity = serializers.ChoiceField(choices=Severity.choices, required=False, allow_blank=True, default="")
    category = serializers.ChoiceField(choices=Complaint.Category.choices, required=False, allow_blank=True, default="")
    customer = id_field(required=False)
    lot = serializers.CharField(required=False, allow_blank=True, default="", help_text="A lot number.")
    owner = id_field(required=False)


# --- remedies of a complaint -----------------------------------------------------------------------


class RemedySerializer(serializers.ModelSerializer):
    """What a complaint gave the customer, with the documents that carry it."""

    complaint_number = serializers.CharField(source="complaint.number", read_only=True)
    kind = EnumField(Remedy.Kind.choices, enum_name="RemedyKindEnum", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    state = EnumField(REMEDY_FLOW.choices(), enum_name="RemedyStateEnum", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    order_number = serializers.CharField(
        source="order.__str__", read_only=True, default=None, allow_null=True, help_text="The replacement order."
    )
    delivery_number = serializers.CharField(
        source="delivery.number", read_only=True, default=None, allow_null=True, help_text="The replacement delivery."
    )
    return_number = serializers.CharField(
        source="customer_return.number", read_only=True, default=None, allow_null=True
    )
    credit_note_number = serializers.CharField(
        source="credit_note.number", read_only=True, default=None, allow_null=True
    )
    created_by_name = serializers.CharField(
        source="created_by.display_name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Remedy
        fields = [
            "id",
            "complaint",
            "complaint_number",
            "kind",
            "kind_label",
            "state",
            "state_label",
            "amount",
            "reason",
            "order",
            "order_number",
            "delivery",
            "delivery_number",
            "customer_return",
            "return_number",
            "credit_note",
            "credit_note_number",
            "decided_at",
            "reject_reason",
            "created_by",
            "created_by_name",
            "created_at",
        ]
        read_only_fields = fields


class ReplaceLineSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = _quantity()


class RemedyReplaceSerializer(RefuseReadOnlyMixin, serializers.Serializer):
    """A no-charge replacement: reserved by FEFO (never from a held or recalled lot) and put on
    a delivery note at once; a shortage refuses all of it (409 ``stock_short``)."""

    shown_by = RemedySerializer

    lines = ReplaceLineSerializer(many=True, allow_empty=True)
    reason = serializers.CharField(max_length=300, allow_blank=True)
    planned_date = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="The delivery date; today if not given."
    )


class RemedyCreditSerializer(RefuseReadOnlyMixin, serializers.Serializer):
    """A refund (at most what the order is worth) or a compensation, approved by amount."""

    shown_by = RemedySerializer

    kind = EnumField(
        [(value, label) for value, label in Remedy.Kind.choices if value in ("refund", "compensation")],
        enum_name="RemedyCreditKindEnum",
    )
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="Tax included, above zero.")
    reason = serializers.CharField(max_length=300, allow_blank=True)


class RemedyReturnLineSerializer(serializers.Serializer):
    delivery_line = serializers.IntegerField(min_value=1, help_text="A line of the complaint's delivery.")
    quantity = _quantity()
    disposition = serializers.ChoiceField(choices=ReturnLine.Disposition.choices)


class RemedyReturnSerializer(RefuseReadOnlyMixin, serializers.Serializer):
    """Goods of the complaint's delivery back to their lot, restocked or scrapped, credited at
    the order line's net price."""

    shown_by = RemedySerializer

    lines = RemedyReturnLineSerializer(many=True, allow_empty=True)
    reason = serializers.CharField(max_length=300, allow_blank=True)


REMEDY_ID = OpenApiParameter("remedy_id", int, OpenApiParameter.PATH, description="A remedy of this complaint.")


# --- recalls: what is shown -------------------------------------------------------------------------


class RecallLineSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    customer_code = serializers.CharField(source="customer.code", read_only=True)
    delivery_number = serializers.CharField(source="delivery.number", read_only=True)
    outstanding = _quantity(read_only=True, help_text="Shipped and not yet returned.")

    class Meta:
        model = RecallLine
        fields = [
            "id",
            "customer",
            "customer_name",
            "customer_code",
            "delivery",
            "delivery_number",
            "shipped_quantity",
            "returned_quantity",
            "outstanding",
            "contact_name",
            "contact_phone",
            "notified_at",
        ]
        read_only_fields = fields


class OriginReceiptSerializer(serializers.ModelSerializer):
    """A receipt of the lot: where it came from."""

    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)
    warehouse_name = serializers.CharField(source="warehouse.name", read_only=True)
    quantity = _quantity(source="on_hand_change", read_only=True)

    class Meta:
        model = StockMove
        fields = ["id", "warehouse", "warehouse_code", "warehouse_name", "quantity", "reference", "note", "at"]
        read_only_fields = fields


RECALL_FIELDS = [
    "id",
    "number",
    "lot",
    "lot_number",
    "product",
    "sku",
    "product_name",
    "complaint",
    "complaint_number",
    "reason",
    "is_drill",
    "state",
    "state_label",
    "trace_ms",
    "customers",
    "created_at",
    "closed_at",
    "close_note",
]


class RecallSerializer(serializers.ModelSerializer):
    lot_number = serializers.CharField(source="lot.lot_number", read_only=True)
    product = serializers.IntegerField(source="lot.product_id", read_only=True)
    sku = serializers.CharField(source="lot.product.sku", read_only=True)
    product_name = serializers.CharField(source="lot.product.display_name", read_only=True)
    complaint_number = serializers.CharField(source="complaint.number", read_only=True, default=None, allow_null=True)
    state = EnumField(Recall._meta.get_field("state").choices, enum_name="RecallStateEnum", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    customers = serializers.IntegerField(read_only=True, help_text="Customers who received the lot.")

    class Meta:
        model = Recall
        fields = RECALL_FIELDS
        read_only_fields = fields


class RecallDetailSerializer(RecallSerializer):
    """One recall with every delivery that shipped the lot and where the lot came from."""

    lines = RecallLineSerializer(many=True, read_only=True)
    origin = serializers.SerializerMethodField(help_text="The lot's receipts, oldest first.")

    class Meta:
        model = Recall
        fields = [*RECALL_FIELDS, "lines", "origin"]
        read_only_fields = fields

    @extend_schema_field(OriginReceiptSerializer(many=True))
    def get_origin(self, recall):
        return OriginReceiptSerializer(recalls.trace_origin(recall.lot), many=True).data


class TraceRowSerializer(serializers.Serializer):
    customer = serializers.IntegerField(source="customer_id")
    customer_name = serializers.CharField()
    customer_code = serializers.CharField()
    delivery = serializers.IntegerField(source="delivery_id")
    delivery_number = serializers.CharField()
    shipped_on = serializers.DateTimeField(allow_null=True)
    quantity = _quantity()
    contact_name = serializers.CharField(help_text="The customer's primary contact.")
    contact_phone = serializers.CharField()


# --- recalls: what the caller sends -----------------------------------------------------------------


class RecallStartSerializer(BoundedTextMixin, RefuseReadOnlyMixin, serializers.Serializer):
    shown_by = RecallDetailSerializer

    lot = serializers.CharField(max_length=40, help_text="The lot's number, or its id.")
    reason = serializers.CharField(allow_blank=True)
    drill = serializers.BooleanField(
        required=False, default=False, help_text="A mock recall: traced and timed, the lot stays as it is."
    )


class RecallReturnSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="A line of this recall.")
    quantity = _quantity(help_text="What came back now (added to what came back before).")


class RecallCloseSerializer(BoundedTextMixin, serializers.Serializer):
    note = serializers.CharField(
        allow_blank=True, required=False, default="", help_text="Required while anything is still out."
    )


class TraceQuerySerializer(serializers.Serializer):
    lot = serializers.CharField(max_length=40, help_text="The lot's number, or its id.")


# --- complaints -------------------------------------------------------------------------------------

COMPLAINT_WRITES = ("create", "assign", "add_action", "resolve", "confirm", "reopen")
REMEDY_WRITES = ("replace", "credit", "return_goods")


@extend_schema_view(retrieve=extend_schema(responses={200: ComplaintDetailSerializer, **READ_ERRORS}))
class ComplaintViewSet(mixins.RetrieveModelMixin, ScopedViewSet):
    """Complaints in the caller's scope, newest first, with their SLA clocks."""

    serializer_class = ComplaintDetailSerializer
    queryset = Complaint.objects.none()  # for the schema; get_queryset asks the scope
    filter_backends = []  # the list's own filters
    default_predicate = staticmethod(can_view_complaints)
    PREDICATES = {
        **dict.fromkeys(COMPLAINT_WRITES, can_log_complaints),
        **dict.fromkeys(REMEDY_WRITES, can_log_complaints),
        "hold_lot": can_recall,
        "recall": can_recall,
        # finance sees no complaints: the remedy is found by its own id (see issue_credit)
        "issue_credit": can_manage_receivables,
    }

    @staticmethod
    def complaint_queryset():
        return Complaint.objects.select_related("customer", "order", "delivery", "product", "lot", "owner")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Complaint.objects.none()
        complaints = complaints_in_scope(self.request.user, self.complaint_queryset())
        if self.action != "list":
            complaints = complaints.prefetch_related(
                Prefetch("actions", ComplaintAction.objects.select_related("by")), "recalls"
            )
        return complaints

    def complaint_response(self, complaint, status_code=status.HTTP_200_OK) -> Response:
        """The complaint as it is now (read again: services return bare rows)."""
        complaint = self.get_queryset().get(pk=complaint.pk)
        return Response(ComplaintDetailSerializer(complaint).data, status=status_code)

    def step(self, request, service, serializer_class, status_code=status.HTTP_200_OK) -> Response:
        """An action: parse the body, call the one service, answer the complaint."""
        complaint = self.get_object()
        data = serializer_class(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        service(by=request.user, complaint=complaint, **data.validated_data)
        return self.complaint_response(complaint, status_code)

    @extend_schema(
        parameters=[ComplaintQuerySerializer],
        responses={200: ComplaintSerializer(many=True), 400: ErrorSerializer},
    )
    def list(self, request):
        params = ComplaintQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        complaints = selectors.complaints_filtered(self.get_queryset(), **params.validated_data)
        page = self.paginate_queryset(complaints)
        return self.get_paginated_response(ComplaintSerializer(page, many=True).data)

    @extend_schema(
        request=ComplaintLogSerializer,
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
        responses={201: ComplaintDetailSerializer, 422: ErrorSerializer, **WRITE_ERRORS},
    )
    def create(self, request):
        """Log a complaint; its response and resolution deadlines run from ``received_at`` in
        the service desk's business hours."""
        return idempotent(request, "complaints.create", lambda: self._create(request))

    def _create(self, request) -> Response:
        data = ComplaintLogSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        complaint = services.complaint_log(by=request.user, **data.validated_data)
        return self.complaint_response(complaint, status.HTTP_201_CREATED)

    @extend_schema(request=ComplaintAssignSerializer, responses={200: ComplaintDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Give the complaint to a service agent (or hand it over while open)."""
        return self.step(request, services.complaint_assign, ComplaintAssignSerializer)

    @extend_schema(request=ComplaintActionInputSerializer, responses={201: ComplaintDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"], url_path="actions", url_name="actions")
    def add_action(self, request, pk=None):
        """Record a note, call or visit; the first one is the first response."""
        return self.step(
            request, services.complaint_add_action, ComplaintActionInputSerializer, status.HTTP_201_CREATED
        )

    @extend_schema(request=ComplaintResolveSerializer, responses={200: ComplaintDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """Resolved, with the root cause and the corrective action; the customer confirms next."""
        return self.step(request, services.complaint_resolve, ComplaintResolveSerializer)

    @extend_schema(request=FeedbackSerializer, responses={200: ComplaintDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """The customer accepts the resolution: closed."""
        return self.step(request, services.complaint_confirm, FeedbackSerializer)

    @extend_schema(request=FeedbackSerializer, responses={200: ComplaintDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """The customer disagrees (what they said is required): back in progress."""
        return self.step(request, services.complaint_reopen, FeedbackSerializer)

    @extend_schema(request=ReasonSerializer, responses={200: LotSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"], url_path="hold-lot", url_name="hold-lot")
    def hold_lot(self, request, pk=None):
        """Put the complaint's lot on hold: no allocation takes it any more. Answers the lot."""
        complaint = self.get_object()
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lot = recalls.lot_hold_from_complaint(by=request.user, complaint=complaint, **data.validated_data)
        return Response(LotSerializer(Lot.objects.select_related("product").get(pk=lot.pk)).data)

    @extend_schema(request=ReasonSerializer, responses={201: RecallDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def recall(self, request, pk=None):
        """Recall the complaint's lot: every customer who received it becomes a recall line."""
        complaint = self.get_object()
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recall = recalls.recall_from_complaint(
            by=request.user, complaint=complaint, reason=data.validated_data["reason"]
        )
        return Response(RecallViewSet.recall_detail(recall), status=status.HTTP_201_CREATED)

    # --- remedies ---------------------------------------------------------------------------------

    @staticmethod
    def remedy_queryset():
        return Remedy.objects.select_related(
            "complaint", "order", "delivery", "customer_return", "credit_note", "created_by"
        )

    def remedy_response(self, remedy, status_code=status.HTTP_200_OK) -> Response:
        return Response(RemedySerializer(self.remedy_queryset().get(pk=remedy.pk)).data, status=status_code)

    def _remedy(self, request, serializer_class, give) -> Response:
        """Parse the body, call the one service, answer the remedy (201)."""
        complaint = self.get_object()
        data = serializer_class(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        remedy = give(complaint, data.validated_data)
        return self.remedy_response(remedy, status.HTTP_201_CREATED)

    @extend_schema(
        request=RemedyReplaceSerializer,
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
        responses={201: RemedySerializer, 422: ErrorSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def replace(self, request, pk=None):
        """Replace the goods free of charge: a no-charge order reserved by FEFO and its delivery
        note planned; a shortage refuses all of it and saves nothing."""

        def give(complaint, values):
            lines = [(line["product"], line["quantity"]) for line in values["lines"]]
            return remedies.complaint_replace(
                by=request.user,
                complaint=complaint,
                lines=lines,
                reason=values["reason"],
                planned_date=values["planned_date"],
            )

        return idempotent(request, "complaints.replace", lambda: self._remedy(request, RemedyReplaceSerializer, give))

    @extend_schema(
        request=RemedyCreditSerializer,
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
        responses={201: RemedySerializer, 422: ErrorSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def credit(self, request, pk=None):
        """Ask for a refund or compensation: approved at once below every approval policy
        (state ``approved``), else it waits in the approval queue (``pending_approval``).
        Finance issues the credit note once approved."""

        def give(complaint, values):
            return remedies.complaint_credit_request(by=request.user, complaint=complaint, **values)

        return idempotent(request, "complaints.credit", lambda: self._remedy(request, RemedyCreditSerializer, give))

    @extend_schema(
        request=RemedyReturnSerializer,
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
        responses={201: RemedySerializer, 422: ErrorSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="return-goods", url_name="return-goods")
    def return_goods(self, request, pk=None):
        """Take goods of the complaint's delivery back to their lot (restocked or scrapped);
        a credit note at the order line's net price follows."""

        def give(complaint, values):
            wanted = [line["delivery_line"] for line in values["lines"]]
            found = DeliveryLine.objects.in_bulk(wanted)
            # a line that is not the delivery's is the service's to refuse (line_not_on_delivery)
            lines = [
                (
                    found.get(line["delivery_line"]) or DeliveryLine(pk=line["delivery_line"]),
                    line["quantity"],
                    line["disposition"],
                )
                for line in values["lines"]
            ]
            return remedies.complaint_return(by=request.user, complaint=complaint, lines=lines, reason=values["reason"])

        return idempotent(
            request, "complaints.return_goods", lambda: self._remedy(request, RemedyReturnSerializer, give)
        )

    @extend_schema(responses={200: RemedySerializer(many=True), **READ_ERRORS})
    @action(
        detail=True,
        methods=["get"],
        url_path="remedies",
        url_name="remedies",
        pagination_class=None,
        filter_backends=[],
    )
    def remedy_list(self, request, pk=None):
        """What the complaint gave the customer, newest first."""
        complaint = self.get_object()
        return Response(RemedySerializer(self.remedy_queryset().filter(complaint=complaint), many=True).data)

    @extend_schema(request=None, parameters=[REMEDY_ID], responses={200: RemedySerializer, **ACTION_ERRORS})
    @action(
        detail=True,
        methods=["post"],
        url_path=r"remedies/(?P<remedy_id>[0-9]+)/issue",
        url_name="remedy-issue",
    )
    def issue_credit(self, request, pk=None, remedy_id=None):
        """Finance issues the approved refund or compensation as a credit note, set against the
        order's open receivable first (the rest stays with the customer as credit)."""
        # no get_object (finance sees no complaints): the path's ids are checked here
        complaint_id, remedy_id = row_id(pk), row_id(remedy_id)
        remedy = Remedy.objects.filter(pk=remedy_id, complaint_id=complaint_id).first() if complaint_id else None
        if remedy is None:
            raise NotFoundError(gettext("The complaint has no such remedy."), code="remedy_not_found")
        remedy = remedies.remedy_credit_issue(by=request.user, remedy=remedy)
        return self.remedy_response(remedy)


# --- recalls ----------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses={200: RecallSerializer(many=True), 400: ErrorSerializer}),
    retrieve=extend_schema(responses={200: RecallDetailSerializer, **READ_ERRORS}),
)
class RecallViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Recalls and mock recall drills, newest first, with what was shipped and what came back."""

    serializer_class = RecallDetailSerializer
    queryset = Recall.objects.none()  # for the schema
    filterset_fields = ["state", "is_drill", "lot", "complaint"]
    search_fields = ["number", "lot__lot_number", "reason"]
    ordering_fields = ["created_at", "number"]
    default_predicate = staticmethod(can_trace_lots)
    PREDICATES = dict.fromkeys(("create", "returns", "close"), can_recall)

    @staticmethod
    def recall_queryset():
        lines = RecallLine.objects.select_related("customer", "delivery")
        return (
            Recall.objects.select_related("lot__product", "complaint")
            .annotate(customers=Count("lines__customer", distinct=True))
            .prefetch_related(Prefetch("lines", queryset=lines))
            .order_by("-created_at", "-id")  # an aggregate drops the model's ordering
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Recall.objects.none()
        return self.recall_queryset()

    def get_serializer_class(self):
        return RecallSerializer if self.action == "list" else RecallDetailSerializer

    @classmethod
    def recall_detail(cls, recall) -> dict:
        return RecallDetailSerializer(cls.recall_queryset().get(pk=recall.pk)).data

    @extend_schema(
        request=RecallStartSerializer,
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
        responses={201: RecallDetailSerializer, 422: ErrorSerializer, **WRITE_ERRORS},
    )
    def create(self, request):
        """Recall a lot (or run a drill): the lot is marked recalled and the forward trace
        becomes the recall's lines."""
        return idempotent(request, "recalls.create", lambda: self._create(request))

    def _create(self, request) -> Response:
        data = RecallStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        lot = lot_by_reference(fields.pop("lot"))
        recall = recalls.recall_start(by=request.user, lot=lot, **fields)
        return Response(self.recall_detail(recall), status=status.HTTP_201_CREATED)

    @extend_schema(request=RecallReturnSerializer, responses={200: RecallDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def returns(self, request, pk=None):
        """What came back from one delivery (cumulative, never more than was shipped)."""
        recall = self.get_object()
        data = RecallReturnSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        line = RecallLine.objects.filter(recall=recall, pk=data.validated_data["line"]).first()
        if line is None:
            message = gettext("Not a line of this recall.")
            raise ValidationFailed(message, code="line_not_in_recall", fields={"line": [message]})
        recalls.recall_record_return(by=request.user, line=line, quantity=data.validated_data["quantity"])
        return Response(self.recall_detail(recall))

    @extend_schema(request=RecallCloseSerializer, responses={200: RecallDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close the recall: everything came back, or the note says why not."""
        recall = self.get_object()
        data = RecallCloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recalls.recall_close(by=request.user, recall=recall, **data.validated_data)
        return Response(self.recall_detail(recall))

    @extend_schema(
        parameters=[TraceQuerySerializer],
        responses={
            200: TraceRowSerializer(many=True),
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def trace(self, request):
        """Every customer and delivery that received the lot, with the primary contact; no
        recall is started."""
        params = TraceQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        lot = lot_by_reference(params.validated_data["lot"])
        return Response(TraceRowSerializer(recalls.trace_forward(lot), many=True).data)
