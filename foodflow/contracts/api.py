"""REST API of contracts: the ledger and every version of a contract, drafting and editing,
legal review, signing with the scan, amendments, orders under a contract, fulfilment, the diff
between versions and the PDF; templates, disputes, risk warnings, the review queue and the
risk policy.

It follows the sales API: reads start from the permission module's scopes
(``contracts_in_scope``, ``disputes_in_scope``, ``warnings_in_scope``), so a contract outside
the caller's scope is not found (404); every write parses its input and calls one service,
which checks the object-level rules (403, 409). A PATCH needs the version edited
(``If-Match`` or ``lock_version``: 428 without, 409 ``stale_version`` when stale); drafting a
contract and opening a dispute take an ``Idempotency-Key``; fields only the services set are
refused with 400 ``read_only_field``."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_choice_field
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from foodflow.catalog.models import Product
from foodflow.core.api import QUERY_MAX_LENGTH, BoundedTextMixin, ErrorSerializer, allow, id_field
from foodflow.core.errors import NotFoundError, PermissionDeniedError
from foodflow.core.models import Attachment
from foodflow.crm.api import VisibleCustomerField
from foodflow.sales import approvals
from foodflow.sales.api import (
    ACTION_ERRORS,
    ETAG,
    ETAG_CREATED,
    IDEMPOTENCY_KEY,
    IDEMPOTENT_REPLAYED,
    IF_MATCH,
    PDF_LANGUAGE,
    READ_ERRORS,
    WRITE_ERRORS,
    ApprovalReasonSerializer,
    ApprovalRequestSerializer,
    PdfRenderer,
    ReasonSerializer,
    RefuseReadOnlyMixin,
    ScopedRelatedField,
    ScopedViewSet,
    etag_of,
    expected_version,
    idempotent,
)
from foodflow.sales.models import DocType, Quotation, SalesOrder
from foodflow.sales.permissions import docs_in_scope

from . import pdf, risk, selectors, services
from .clauses import render
from .models import (
    ClauseKey,
    Contract,
    ContractClause,
    ContractKind,
    ContractLine,
    ContractOrder,
    ContractTemplate,
    Dispute,
    DisputeAction,
    PaymentMilestone,
    ReviewComment,
    RiskPolicy,
    RiskWarning,
    Severity,
    TemplateClause,
)
from .permissions import (
    can_acknowledge_warning,
    can_draft_contracts,
    can_manage_disputes,
    can_manage_templates,
    can_review_contracts,
    can_set_risk_policy,
    can_view_contracts,
    contracts_in_scope,
)
from .workflows import CONTRACT_FLOW, DISPUTE_FLOW


def _money(**kwargs):
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


def _quantity(**kwargs):
    return serializers.DecimalField(max_digits=14, decimal_places=3, **kwargs)


def _percent(**kwargs):
    return serializers.DecimalField(max_digits=5, decimal_places=1, **kwargs)


class EnumField(serializers.ChoiceField):
    """A choice field that is one named enum in the schema wherever it appears (a contract's
    kind on the ledger, the detail and the templates) rather than a copy per component, which
    the schema check refuses as an ambiguous name."""

    def __init__(self, choices, *, enum_name: str, **kwargs):
        self.enum_name = enum_name
        super().__init__(choices, **kwargs)


class EnumFieldSchema(OpenApiSerializerFieldExtension):
    target_class = EnumField

    def get_name(self):
        return self.target.enum_name

    def map_serializer_field(self, auto_schema, direction):
        schema = build_choice_field(self.target)
        return {key: schema[key] for key in ("type", "enum", "description") if key in schema}


def _kind_field(**kwargs):
    return EnumField(ContractKind.choices, enum_name="ContractKindEnum", **kwargs)


def _clause_key_field(**kwargs):
    return EnumField(ClauseKey.choices, enum_name="ClauseKeyEnum", **kwargs)


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}.pdf"'
    return response


# --- contracts: what is shown -----------------------------------------------------------------------


class ContractLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.display_name", read_only=True)
    net_unit_price = _money(read_only=True, help_text="unit_price × (1 − discount)")

    class Meta:
        model = ContractLine
        fields = [
            "id",
            "position",
            "product",
            "sku",
            "product_name",
            "quantity",
            "unit_price",
            "discount",
            "net_unit_price",
            "vat_rate",
            "amount",
            "tax",
        ]
        read_only_fields = fields
        extra_kwargs = {"quantity": {"help_text": "Empty: prices only (a framework agreement)."}}


class ContractClauseSerializer(serializers.ModelSerializer):
    key = _clause_key_field(read_only=True)
    key_label = serializers.CharField(source="get_key_display", read_only=True)
    text = serializers.SerializerMethodField(help_text="The body as it reads for this contract: placeholders filled.")

    class Meta:
        model = ContractClause
        fields = ["id", "position", "key", "key_label", "title", "body", "text", "editable"]
        read_only_fields = fields

    def get_text(self, clause) -> str:
        # ``clause.contract`` is the contract the clauses were prefetched from (no query)
        return render(clause.body, clause.contract)


class PaymentMilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentMilestone
        fields = ["id", "position", "label", "due_date", "amount"]
        read_only_fields = fields


class ScanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = ["id", "original_name", "content_type", "size", "sha256", "uploaded_at"]
        read_only_fields = fields


CONTRACT_FIELDS = [
    "id",
    "number",
    "version",
    "is_current",
    "previous",
    "amendment_reason",
    "kind",
    "kind_label",
    "template",
    "template_name",
    "language",
    "title",
    "customer",
    "customer_name",
    "owner",
    "owner_name",
    "start_date",
    "end_date",
    "total",
    "tax_total",
    "state",
    "state_label",
    "review_round",
    "signed_on",
    "lock_version",
    "created_at",
    "updated_at",
]


class ContractSerializer(serializers.ModelSerializer):
    """A row of the ledger."""

    kind = _kind_field(read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    template_name = serializers.CharField(source="template.__str__", read_only=True)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    state = EnumField(CONTRACT_FLOW.choices(), enum_name="ContractStateEnum", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = Contract
        fields = CONTRACT_FIELDS
        read_only_fields = fields


class ContractDetailSerializer(ContractSerializer):
    """One version with its terms, lines, clauses (as they read), milestones and the orders
    linked to its number."""

    quotation_number = serializers.CharField(source="quotation.__str__", read_only=True, default=None, allow_null=True)
    order_number = serializers.CharField(source="order.__str__", read_only=True, default=None, allow_null=True)
    scan = ScanSerializer(read_only=True, allow_null=True)
    lines = ContractLineSerializer(many=True, read_only=True)
    clauses = ContractClauseSerializer(many=True, read_only=True)
    milestones = PaymentMilestoneSerializer(many=True, read_only=True)
    linked_orders = serializers.SerializerMethodField(help_text="Numbers of the orders put under the contract.")

    class Meta:
        model = Contract
        fields = [
            *CONTRACT_FIELDS,
            "quotation",
            "quotation_number",
            "order",
            "order_number",
            "payment_terms_days",
            "delivery_terms",
            "delivery_address",
            "quality_standard",
            "liability_cap_percent",
            "late_penalty_per_day",
            "dispute_venue",
            "our_signatory",
            "customer_signatory",
            "scan",
            "end_reason",
            "lines",
            "clauses",
            "milestones",
            "linked_orders",
        ]
        read_only_fields = fields

    def get_linked_orders(self, contract) -> list[str]:
        return list(
            ContractOrder.objects.filter(contract_number=contract.number)
            .order_by("linked_at", "id")
            .values_list("order_number", flat=True)
        )


class ReviewCommentSerializer(serializers.ModelSerializer):
    by_name = serializers.CharField(source="by.display_name", read_only=True)

    class Meta:
        model = ReviewComment
        fields = ["id", "round", "clause", "clause_title", "text", "by", "by_name", "at", "resolved_at"]
        read_only_fields = fields


class ReviewHistorySerializer(serializers.Serializer):
    rounds = ApprovalRequestSerializer(many=True, help_text="The review rounds (approval requests), newest first.")
    comments = ReviewCommentSerializer(many=True, help_text="Legal's comments of every round, oldest first.")


class ChangeSerializer(serializers.Serializer):
    label = serializers.CharField()
    before = serializers.CharField()
    after = serializers.CharField()
    html = serializers.CharField(allow_null=True, help_text="A character-level diff (<del>/<ins>) of a clause.")


class ContractDiffSerializer(serializers.Serializer):
    previous = serializers.IntegerField(help_text="The version compared with.")
    previous_version = serializers.IntegerField()
    terms = ChangeSerializer(many=True)
    lines = ChangeSerializer(many=True)
    clauses = ChangeSerializer(many=True)
    milestones = ChangeSerializer(many=True)


class FulfilmentOrderSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="__str__", read_only=True)
    state = serializers.CharField(read_only=True, help_text="The order's state code.")
    state_label = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = SalesOrder
        fields = ["id", "number", "state", "state_label", "ordered_on", "promised_date", "wanted_date", "total"]
        read_only_fields = fields


class LineFulfilmentSerializer(serializers.Serializer):
    product = serializers.IntegerField(source="product.pk")
    sku = serializers.CharField(source="product.sku")
    product_name = serializers.CharField(source="product.display_name")
    contracted_quantity = _quantity(allow_null=True)
    contracted_amount = _money()
    ordered_quantity = _quantity()
    delivered_quantity = _quantity()
    percent = _percent(allow_null=True, help_text="Delivered of contracted quantity; empty without a quantity.")


class MilestoneStatusSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="milestone.pk")
    label = serializers.CharField(source="milestone.label")
    due_date = serializers.DateField(source="milestone.due_date")
    amount = _money(source="milestone.amount")
    covered = _money(help_text="Paid money applied to it, milestones in order of their due dates.")
    open = _money()
    state = serializers.ChoiceField(choices=["paid", "due", "overdue"])


class FulfilmentSerializer(serializers.Serializer):
    contracted_amount = _money()
    ordered_amount = _money()
    delivered_amount = _money()
    invoiced_amount = _money()
    paid_amount = _money()
    open_amount = _money()
    overdue_amount = _money()
    oldest_overdue_days = serializers.IntegerField()
    milestone_overdue = _money(help_text="Open amounts of the milestones past their due date.")
    percent = _percent(allow_null=True, help_text="Delivered against contracted, by amount (else by quantity).")
    complete = serializers.BooleanField(help_text="Everything delivered and paid: the contract may be closed.")
    orders = FulfilmentOrderSerializer(many=True)
    late_orders = serializers.SerializerMethodField(help_text="Numbers of the orders past their delivery date.")
    lines = LineFulfilmentSerializer(many=True)
    milestones = MilestoneStatusSerializer(many=True)

    def get_late_orders(self, figures) -> list[str]:
        return [str(order) for order in figures.late_orders]


# --- contracts: what the caller sends ---------------------------------------------------------------


class ContractLineInputSerializer(RefuseReadOnlyMixin, serializers.Serializer):
    """A line as the contract admin enters it; VAT and amounts are the services' to compute."""

    shown_by = ContractLineSerializer

    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = _quantity(required=False, allow_null=True, help_text="Empty: prices only (a framework agreement).")
    unit_price = _money(required=False, allow_null=True, help_text="The customer's resolved price if not given.")
    discount = serializers.DecimalField(
        max_digits=5, decimal_places=4, required=False, help_text="A fraction: 0.05 for 5 %. 0 if not given."
    )


class MilestoneInputSerializer(RefuseReadOnlyMixin, serializers.Serializer):
    shown_by = PaymentMilestoneSerializer

    label = serializers.CharField(max_length=120)
    due_date = serializers.DateField()
    amount = _money()


class ContractDraftSerializer(RefuseReadOnlyMixin, serializers.Serializer):
    """Exactly one of ``order``, ``quotation`` and ``customer`` (else 400 ``one_source``)."""

    shown_by = ContractDetailSerializer

    template = serializers.PrimaryKeyRelatedField(
        queryset=ContractTemplate.objects.all(), help_text="A current, active template version."
    )
    order = ScopedRelatedField(SalesOrder, docs_in_scope, required=False, help_text="A confirmed order.")
    quotation = ScopedRelatedField(Quotation, docs_in_scope, required=False, help_text="An approved quotation.")
    customer = VisibleCustomerField(
        required=False, help_text="For a framework or distribution agreement priced for the customer."
    )
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False, help_text="Chinese if not given.")
    start_date = serializers.DateField(required=False, help_text="Today if not given.")
    end_date = serializers.DateField(required=False, help_text="By the kind of contract if not given.")
    title = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="The customer and the kind if not given."
    )


class ContractEditSerializer(BoundedTextMixin, RefuseReadOnlyMixin, serializers.Serializer):
    """A PATCH: the terms given change; ``lines`` and ``milestones``, if given, replace all;
    ``clauses`` rewrites free clauses by id."""

    shown_by = ContractDetailSerializer

    lock_version = serializers.IntegerField(
        min_value=1, required=False, help_text="The version edited, if no If-Match header is sent."
    )
    title = serializers.CharField(max_length=200, required=False)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False)
    payment_terms_days = serializers.IntegerField(min_value=0, max_value=32767, required=False)
    delivery_terms = serializers.CharField(max_length=200, required=False, allow_blank=True)
    delivery_address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    quality_standard = serializers.CharField(max_length=300, required=False, allow_blank=True)
    liability_cap_percent = serializers.DecimalField(
        max_digits=6, decimal_places=2, required=False, allow_null=True, help_text="Empty: unlimited."
    )
    late_penalty_per_day = serializers.DecimalField(max_digits=6, decimal_places=3, required=False)
    dispute_venue = serializers.CharField(max_length=200, required=False, allow_blank=True)
    lines = ContractLineInputSerializer(many=True, required=False)
    clauses = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        help_text="Clause id → new text; only free clauses may change.",
    )
    milestones = MilestoneInputSerializer(many=True, required=False)

    def validate_clauses(self, value: dict) -> dict[int, str]:
        bad = [key for key in value if not str(key).isdigit()]
        if bad:
            raise serializers.ValidationError(_("Name the clauses by their id."))
        return {int(key): body for key, body in value.items()}


class ContractCommentSerializer(BoundedTextMixin, serializers.Serializer):
    clause = serializers.PrimaryKeyRelatedField(
        queryset=ContractClause.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="The clause commented on; the contract as a whole if not given.",
    )
    text = serializers.CharField(required=False, allow_blank=True, default="")


class ContractReviewSerializer(serializers.Serializer):
    approve = serializers.BooleanField(help_text="true to approve, false to return it to the contract admin.")
    comment = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required to return it unless the clauses were commented on in this round.",
    )


class ContractSignSerializer(serializers.Serializer):
    signed_on = serializers.DateField()
    our_signatory = serializers.CharField(max_length=100, allow_blank=True)
    customer_signatory = serializers.CharField(max_length=100, allow_blank=True)
    scan = serializers.FileField(help_text="The signed contract: PDF or image (PNG, JPEG, WebP), judged by content.")


class LinkOrderSerializer(serializers.Serializer):
    order = ScopedRelatedField(SalesOrder, docs_in_scope, help_text="A confirmed order of the contract's customer.")


class UnlinkOrderSerializer(serializers.Serializer):
    order_number = serializers.CharField(max_length=32)


class LedgerQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=QUERY_MAX_LENGTH,
        default="",
        help_text="Number, title or customer name; customer code.",
    )
    customer = id_field(required=False)
    kind = serializers.ChoiceField(choices=ContractKind.choices, required=False, allow_blank=True, default="")
    state = serializers.ChoiceField(choices=CONTRACT_FLOW.choices(), required=False, allow_blank=True, default="")
    owner = id_field(required=False)
    amount_min = _money(required=False)
    amount_max = _money(required=False)
    signed_from = serializers.DateField(required=False)
    signed_to = serializers.DateField(required=False)
    ends_from = serializers.DateField(required=False)
    ends_to = serializers.DateField(required=False)
    ordering = serializers.ChoiceField(choices=list(selectors.LEDGER_SORTS), required=False, default="-created")


# --- contracts ----------------------------------------------------------------------------------------


@extend_schema_view(
    retrieve=extend_schema(parameters=[ETAG], responses={200: ContractDetailSerializer, **READ_ERRORS}),
)
class ContractViewSet(ScopedViewSet):
    """The ledger (current versions in the caller's scope) and every version by id."""

    serializer_class = ContractDetailSerializer
    queryset = Contract.objects.none()  # for the schema; get_queryset asks the scope
    filter_backends = []  # the ledger's own filters
    default_predicate = staticmethod(can_view_contracts)
    WRITES = (
        "create",
        "partial_update",
        "submit",
        "sign",
        "amend",
        "cancel",
        "terminate",
        "fulfil",
        "link_order",
        "unlink_order",
    )
    PREDICATES = {
        **dict.fromkeys(WRITES, can_draft_contracts),
        "comment": can_review_contracts,
        "review": can_review_contracts,
    }

    @staticmethod
    def contract_queryset():
        lines = ContractLine.objects.select_related("product")
        return Contract.objects.select_related(
            "customer", "owner", "template", "quotation", "order", "scan"
        ).prefetch_related(Prefetch("lines", queryset=lines), "clauses", "milestones")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Contract.objects.none()
        return contracts_in_scope(self.request.user, self.contract_queryset())

    @classmethod
    def contract_response(cls, request, contract, status_code: int = status.HTTP_200_OK) -> Response:
        """The version as it is now (read again: services return bare rows), with its ETag."""
        contract = cls.contract_queryset().get(pk=contract.pk)
        body = ContractDetailSerializer(contract, context={"request": request}).data
        return Response(body, status=status_code, headers={"ETag": etag_of(contract)})

    def step(self, request, service, serializer_class=None, status_code=status.HTTP_200_OK) -> Response:
        """An action: parse the body (if any), call the one service, answer the contract."""
        contract = self.get_object()
        fields = {}
        if serializer_class is not None:
            data = serializer_class(data=request.data, context=self.get_serializer_context())
            data.is_valid(raise_exception=True)
            fields = data.validated_data
        return self.contract_response(request, service(request.user, contract, **fields), status_code)

    @extend_schema(
        parameters=[LedgerQuerySerializer],
        responses={200: ContractSerializer(many=True), 400: ErrorSerializer},
    )
    def list(self, request):
        """The ledger: the version in force of every contract in the caller's scope."""
        params = LedgerQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = dict(params.validated_data)
        contracts = selectors.ledger(request.user, sort=filters.pop("ordering"), **filters)
        page = self.paginate_queryset(contracts)
        return self.get_paginated_response(ContractSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        contract = self.get_object()
        body = self.get_serializer(contract).data
        return Response(body, headers={"ETag": etag_of(contract)})

    @extend_schema(
        request=ContractDraftSerializer,
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED, ETAG_CREATED],
        responses={201: ContractDetailSerializer, 422: ErrorSerializer, **WRITE_ERRORS},
    )
    def create(self, request):
        """A draft from exactly one source: an order, a quotation or a customer."""
        return idempotent(request, "contracts.create", lambda: self._create(request))

    def _create(self, request) -> Response:
        data = ContractDraftSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        contract = services.contract_draft(by=request.user, **data.validated_data)
        return self.contract_response(request, contract, status.HTTP_201_CREATED)

    @extend_schema(
        request=ContractEditSerializer,
        parameters=[IF_MATCH, ETAG],
        responses={200: ContractDetailSerializer, 428: ErrorSerializer, **WRITE_ERRORS},
    )
    def partial_update(self, request, pk=None):
        """Edit a contract not yet signed. Under review or after approval the edit voids the
        review and takes the contract back to draft; a signed one is amended instead."""
        contract = self.get_object()
        data = ContractEditSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        version = expected_version(request, fields.pop("lock_version", None))
        lines = fields.pop("lines", None)
        milestones = fields.pop("milestones", None)
        contract = services.contract_update(
            by=request.user,
            contract=contract,
            expected_version=version,
            lines=None if lines is None else [services.ContractLineInput(**line) for line in lines],
            clauses=fields.pop("clauses", None),
            milestones=None if milestones is None else [services.MilestoneInput(**item) for item in milestones],
            **fields,
        )
        return self.contract_response(request, contract)

    @extend_schema(request=None, responses={200: ContractDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """To legal: a new review round."""
        return self.step(request, lambda by, contract: services.contract_submit(by=by, contract=contract))

    @extend_schema(request=ContractCommentSerializer, responses={201: ReviewCommentSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def comment(self, request, pk=None):
        """A reviewer's comment on a clause (or the whole contract) in the current round."""
        contract = self.get_object()
        data = ContractCommentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.contract_comment(by=request.user, contract=contract, **data.validated_data)
        return Response(ReviewCommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ContractReviewSerializer, responses={200: ContractDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """Legal's decision on the current round: approve, or return it with comments."""
        return self.step(
            request,
            lambda by, contract, **fields: services.contract_review(by=by, contract=contract, **fields),
            ContractReviewSerializer,
        )

    @extend_schema(request=ContractSignSerializer, responses={200: ContractDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def sign(self, request, pk=None):
        """Record the signing with the signed scan (multipart). A refused file stores nothing;
        a signed amendment replaces the version it amends."""
        return self.step(
            request,
            lambda by, contract, **fields: services.contract_sign(by=by, contract=contract, **fields),
            ContractSignSerializer,
        )

    @extend_schema(request=ReasonSerializer, responses={201: ContractDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def amend(self, request, pk=None):
        """A new draft version of a signed contract, reviewed again; the signed one stays in
        force until the amendment is signed. Answers the new version."""
        return self.step(
            request,
            lambda by, contract, reason: services.contract_amend(by=by, contract=contract, reason=reason),
            ReasonSerializer,
            status.HTTP_201_CREATED,
        )

    @extend_schema(request=ReasonSerializer, responses={200: ContractDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Drop a contract (or an amendment) that was never signed, with the reason."""
        return self.step(
            request,
            lambda by, contract, reason: services.contract_cancel(by=by, contract=contract, reason=reason),
            ReasonSerializer,
        )

    @extend_schema(request=ReasonSerializer, responses={200: ContractDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def terminate(self, request, pk=None):
        """End a signed contract early, with the reason."""
        return self.step(
            request,
            lambda by, contract, reason: services.contract_terminate(by=by, contract=contract, reason=reason),
            ReasonSerializer,
        )

    @extend_schema(request=None, responses={200: ContractDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def fulfil(self, request, pk=None):
        """Close a contract whose quantities are delivered and whose receivables are paid."""
        return self.step(request, lambda by, contract: services.contract_fulfil(by=by, contract=contract))

    @extend_schema(request=LinkOrderSerializer, responses={200: ContractDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"], url_path="link-order")
    def link_order(self, request, pk=None):
        """Put a confirmed order of the same customer under the contract."""
        contract = self.get_object()
        data = LinkOrderSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        services.contract_link_order(by=request.user, contract=contract, order=data.validated_data["order"])
        return self.contract_response(request, contract)

    @extend_schema(request=UnlinkOrderSerializer, responses={200: ContractDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"], url_path="unlink-order")
    def unlink_order(self, request, pk=None):
        contract = self.get_object()
        data = UnlinkOrderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.contract_unlink_order(by=request.user, contract=contract, **data.validated_data)
        return self.contract_response(request, contract)

    @extend_schema(request=None, responses={200: FulfilmentSerializer, **READ_ERRORS})
    @action(detail=True, methods=["get"])
    def fulfilment(self, request, pk=None):
        """Contracted vs ordered, delivered, invoiced and paid; milestones; late orders."""
        return Response(FulfilmentSerializer(selectors.contract_fulfilment(self.get_object())).data)

    @extend_schema(request=None, responses={200: ContractDiffSerializer, **READ_ERRORS})
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        """What changed against the version this one amends (404 ``no_previous_version`` for a
        first version)."""
        contract = self.get_object()
        previous = self.get_queryset().filter(pk=contract.previous_id).first() if contract.previous_id else None
        if previous is None:
            raise NotFoundError(
                gettext("This is the first version: there is no earlier one to compare with."),
                code="no_previous_version",
            )
        changes = selectors.contract_diff(previous, contract)
        body = {"previous": previous.pk, "previous_version": previous.version, **changes}
        return Response(ContractDiffSerializer(body).data)

    @extend_schema(request=None, responses={200: ReviewHistorySerializer, **READ_ERRORS})
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Every review round of this version with its steps and decisions, and legal's comments."""
        contract = self.get_object()
        rounds = approvals.approval_history(doc_type=DocType.CONTRACT, obj=contract).select_related("submitted_by")
        comments = ReviewComment.objects.filter(contract=contract).select_related("by")
        return Response(ReviewHistorySerializer({"rounds": rounds, "comments": comments}).data)

    @extend_schema(request=None, responses={200: ContractSerializer(many=True), **READ_ERRORS})
    @action(detail=True, methods=["get"], pagination_class=None)
    def versions(self, request, pk=None):
        """Every version of the contract's number, oldest first (each readable by its id)."""
        versions = self.get_queryset().filter(number=self.get_object().number).order_by("version")
        return Response(ContractSerializer(versions, many=True).data)

    @extend_schema(
        request=None,
        parameters=[PDF_LANGUAGE],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: ErrorSerializer},
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PdfRenderer])
    def pdf(self, request, pk=None):
        """The contract as PDF, in its language (or ``language``)."""
        contract = self.get_object()
        language = request.query_params.get("language")
        language = language if language in dict(settings.LANGUAGES) else None
        return _pdf_response(pdf.contract_pdf(contract, language=language), str(contract).replace(" ", "-"))


# --- templates ----------------------------------------------------------------------------------------


class TemplateClauseSerializer(serializers.ModelSerializer):
    key = _clause_key_field(read_only=True)
    key_label = serializers.CharField(source="get_key_display", read_only=True)

    class Meta:
        model = TemplateClause
        fields = ["id", "position", "key", "key_label", "title", "title_en", "body", "body_en", "editable"]
        read_only_fields = fields


class ContractTemplateSerializer(serializers.ModelSerializer):
    kind = _kind_field(read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    clauses = TemplateClauseSerializer(many=True, read_only=True)

    class Meta:
        model = ContractTemplate
        fields = [
            "id",
            "code",
            "version",
            "is_current",
            "kind",
            "kind_label",
            "name",
            "name_en",
            "change_note",
            "is_active",
            "created_at",
            "updated_at",
            "clauses",
        ]
        read_only_fields = fields


class TemplateClauseInputSerializer(BoundedTextMixin, RefuseReadOnlyMixin, serializers.Serializer):
    """A clause as legal writes it; placeholders like ``{{customer_name}}`` are checked."""

    shown_by = TemplateClauseSerializer

    key = _clause_key_field()
    title = serializers.CharField(max_length=120)
    title_en = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    body = serializers.CharField()
    body_en = serializers.CharField(required=False, allow_blank=True, default="")
    editable = serializers.BooleanField(
        required=False, default=False, help_text="A free clause the contract admin may rewrite per contract."
    )


class TemplateReviseSerializer(RefuseReadOnlyMixin, serializers.Serializer):
    shown_by = ContractTemplateSerializer

    name = serializers.CharField(max_length=120)
    name_en = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    change_note = serializers.CharField(max_length=300, allow_blank=True, help_text="What changed (required).")
    clauses = TemplateClauseInputSerializer(many=True, help_text="All clauses of the new version, in order.")


class TemplateCreateSerializer(RefuseReadOnlyMixin, serializers.Serializer):
    shown_by = ContractTemplateSerializer

    code = serializers.SlugField(max_length=40)
    kind = _kind_field()
    name = serializers.CharField(max_length=120)
    name_en = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    clauses = TemplateClauseInputSerializer(many=True)


class TemplateActiveSerializer(serializers.Serializer):
    active = serializers.BooleanField(help_text="Offered for new contracts.")


def _clause_inputs(clauses: list[dict]) -> list[services.ClauseInput]:
    return [services.ClauseInput(**clause) for clause in clauses]


@extend_schema_view(retrieve=extend_schema(responses={200: ContractTemplateSerializer, **READ_ERRORS}))
class ContractTemplateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Every version of every template (``is_current`` filters the versions offered now)."""

    serializer_class = ContractTemplateSerializer
    queryset = ContractTemplate.objects.prefetch_related("clauses").order_by("kind", "code", "-version")
    filterset_fields = ["code", "kind", "is_current", "is_active"]
    search_fields = ["code", "name", "name_en"]
    ordering_fields = ["code", "version", "created_at"]
    default_predicate = staticmethod(can_view_contracts)
    PREDICATES = dict.fromkeys(("create", "revise", "active"), can_manage_templates)

    def template_response(self, template, status_code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=template.pk)).data, status=status_code)

    @extend_schema(request=TemplateCreateSerializer, responses={201: ContractTemplateSerializer, **WRITE_ERRORS})
    def create(self, request):
        """A new template (version 1)."""
        data = TemplateCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        clauses = _clause_inputs(fields.pop("clauses"))
        template = services.template_create(by=request.user, clauses=clauses, **fields)
        return self.template_response(template, status.HTTP_201_CREATED)

    @extend_schema(request=TemplateReviseSerializer, responses={201: ContractTemplateSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def revise(self, request, pk=None):
        """The next version of the template; contracts drafted from earlier ones keep theirs."""
        template = self.get_object()
        data = TemplateReviseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        clauses = _clause_inputs(fields.pop("clauses"))
        revised = services.template_revise(by=request.user, template=template, clauses=clauses, **fields)
        return self.template_response(revised, status.HTTP_201_CREATED)

    @extend_schema(request=TemplateActiveSerializer, responses={200: ContractTemplateSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def active(self, request, pk=None):
        """Offer the template for new contracts, or stop offering it."""
        template = self.get_object()
        data = TemplateActiveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        template = services.template_set_active(by=request.user, template=template, **data.validated_data)
        return self.template_response(template)


# --- disputes -----------------------------------------------------------------------------------------


class DisputeActionSerializer(serializers.ModelSerializer):
    by_name = serializers.CharField(source="by.display_name", read_only=True)

    class Meta:
        model = DisputeAction
        fields = ["id", "note", "by", "by_name", "at"]
        read_only_fields = fields


DISPUTE_FIELDS = [
    "id",
    "number",
    "contract",
    "contract_number",
    "customer",
    "customer_name",
    "category",
    "category_label",
    "amount",
    "description",
    "complaint_reference",
    "owner",
    "owner_name",
    "state",
    "state_label",
    "resolution",
    "settled_amount",
    "resolved_on",
    "created_at",
]


class DisputeSerializer(serializers.ModelSerializer):
    contract_number = serializers.CharField(source="contract.__str__", read_only=True)
    customer = serializers.IntegerField(source="contract.customer_id", read_only=True)
    customer_name = serializers.CharField(source="contract.customer.name", read_only=True)
    category = EnumField(Dispute.Category.choices, enum_name="DisputeCategoryEnum", read_only=True)
    category_label = serializers.CharField(source="get_category_display", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    state = EnumField(DISPUTE_FLOW.choices(), enum_name="DisputeStateEnum", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = Dispute
        fields = DISPUTE_FIELDS
        read_only_fields = fields


class DisputeDetailSerializer(DisputeSerializer):
    actions = DisputeActionSerializer(many=True, read_only=True)

    class Meta(DisputeSerializer.Meta):
        fields = [*DISPUTE_FIELDS, "actions"]
        read_only_fields = fields


class DisputeOpenSerializer(BoundedTextMixin, RefuseReadOnlyMixin, serializers.Serializer):
    shown_by = DisputeDetailSerializer

    contract = ScopedRelatedField(Contract, contracts_in_scope, help_text="A signed contract.")
    category = EnumField(Dispute.Category.choices, enum_name="DisputeCategoryEnum")
    amount = _money(required=False, help_text="The amount in dispute; 0 if not given.")
    description = serializers.CharField(allow_blank=True)
    complaint_reference = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class DisputeNoteSerializer(BoundedTextMixin, serializers.Serializer):
    note = serializers.CharField(allow_blank=True, help_text="The action taken.")


class DisputeResolveSerializer(BoundedTextMixin, serializers.Serializer):
    resolution = serializers.CharField(allow_blank=True)
    settled_amount = _money(required=False, allow_null=True, default=None)


@extend_schema_view(
    list=extend_schema(responses={200: DisputeSerializer(many=True), 400: ErrorSerializer}),
    retrieve=extend_schema(responses={200: DisputeDetailSerializer, **READ_ERRORS}),
)
class ContractDisputeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Disputes about the contracts in the caller's scope, with the actions taken."""

    serializer_class = DisputeDetailSerializer
    queryset = Dispute.objects.none()  # for the schema; get_queryset asks the scope
    filterset_fields = ["state", "category", "contract"]
    search_fields = ["number", "contract__number", "contract__customer__name", "complaint_reference"]
    ordering_fields = ["created_at", "amount", "number"]
    default_predicate = staticmethod(can_view_contracts)
    PREDICATES = dict.fromkeys(("create", "add_action", "resolve", "reopen", "close"), can_manage_disputes)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Dispute.objects.none()
        disputes = selectors.disputes_in_scope(self.request.user)
        if self.action != "list":
            disputes = disputes.prefetch_related(Prefetch("actions", DisputeAction.objects.select_related("by")))
        return disputes

    def get_serializer_class(self):
        return DisputeSerializer if self.action == "list" else DisputeDetailSerializer

    def dispute_response(self, dispute, status_code=status.HTTP_200_OK) -> Response:
        dispute = self.get_queryset().get(pk=dispute.pk)
        return Response(DisputeDetailSerializer(dispute).data, status=status_code)

    @extend_schema(
        request=DisputeOpenSerializer,
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
        responses={201: DisputeDetailSerializer, 422: ErrorSerializer, **WRITE_ERRORS},
    )
    def create(self, request):
        """Open a dispute about a signed contract."""
        return idempotent(request, "contract-disputes.create", lambda: self._create(request))

    def _create(self, request) -> Response:
        data = DisputeOpenSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        dispute = services.dispute_open(by=request.user, **data.validated_data)
        return self.dispute_response(dispute, status.HTTP_201_CREATED)

    @extend_schema(request=DisputeNoteSerializer, responses={201: DisputeDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"], url_path="actions", url_name="actions")
    def add_action(self, request, pk=None):
        """Record an action taken; an open dispute moves to negotiating."""
        dispute = self.get_object()
        data = DisputeNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.dispute_add_action(by=request.user, dispute=dispute, **data.validated_data)
        return self.dispute_response(dispute, status.HTTP_201_CREATED)

    @extend_schema(request=DisputeResolveSerializer, responses={200: DisputeDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        dispute = self.get_object()
        data = DisputeResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.dispute_response(services.dispute_resolve(by=request.user, dispute=dispute, **data.validated_data))

    @extend_schema(request=ReasonSerializer, responses={200: DisputeDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        dispute = self.get_object()
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.dispute_response(services.dispute_reopen(by=request.user, dispute=dispute, **data.validated_data))

    @extend_schema(request=None, responses={200: DisputeDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self.dispute_response(services.dispute_close(by=request.user, dispute=self.get_object()))


# --- risk warnings ------------------------------------------------------------------------------------


class RiskWarningSerializer(serializers.ModelSerializer):
    rule_label = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField(help_text="What the rule found, in the caller's language.")
    severity_label = serializers.CharField(source="get_severity_display", read_only=True)
    contract_number = serializers.CharField(source="contract.__str__", read_only=True)
    contract_state = serializers.CharField(source="contract.state", read_only=True)
    contract_end_date = serializers.DateField(source="contract.end_date", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    acknowledged_by_name = serializers.CharField(
        source="acknowledged_by.display_name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = RiskWarning
        fields = [
            "id",
            "rule",
            "rule_label",
            "message",
            "severity",
            "severity_label",
            "contract",
            "contract_number",
            "contract_state",
            "contract_end_date",
            "customer",
            "customer_name",
            "owner",
            "owner_name",
            "state",
            "state_label",
            "raised_at",
            "last_seen_at",
            "acknowledged_by",
            "acknowledged_by_name",
            "acknowledged_at",
            "note",
            "resolved_at",
        ]
        read_only_fields = fields

    def get_rule_label(self, warning) -> str:
        return risk.warning_rule_label(warning)

    def get_message(self, warning) -> str:
        return risk.warning_message(warning)


BOARD_STATES = ("live", "all", *RiskWarning.State.values)


class RiskBoardQuerySerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=BOARD_STATES,
        required=False,
        default="live",
        help_text="live (open and acknowledged, the default), all, or one state.",
    )
    rule = serializers.ChoiceField(choices=list(risk.RULES), required=False, allow_blank=True, default="")
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    mine = serializers.BooleanField(required=False, default=False, help_text="Only the warnings the caller owns.")


class AcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, allow_blank=True, help_text="What is being done about it.")


class RiskOutcomeSerializer(serializers.Serializer):
    raised = serializers.IntegerField()
    kept = serializers.IntegerField()
    resolved = serializers.IntegerField()


@extend_schema_view(retrieve=extend_schema(responses={200: RiskWarningSerializer, **READ_ERRORS}))
class ContractRiskViewSet(mixins.RetrieveModelMixin, ScopedViewSet):
    """The risk board: warnings on the contracts in the caller's scope, open ones first by
    severity."""

    serializer_class = RiskWarningSerializer
    queryset = RiskWarning.objects.none()  # for the schema; get_queryset asks the scope
    filter_backends = []  # the board's own filters
    default_predicate = staticmethod(can_view_contracts)
    PREDICATES = {"evaluate": can_set_risk_policy}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RiskWarning.objects.none()
        return selectors.warnings_in_scope(self.request.user)

    @extend_schema(
        parameters=[RiskBoardQuerySerializer],
        responses={200: RiskWarningSerializer(many=True), 400: ErrorSerializer},
    )
    def list(self, request):
        params = RiskBoardQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = dict(params.validated_data)
        if filters["state"] == "all":
            filters["state"] = ""
        page = self.paginate_queryset(selectors.risk_board(request.user, **filters))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=AcknowledgeSerializer, responses={200: RiskWarningSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Seen, with what is being done; it stays on the board until the finding is gone."""
        warning = self.get_object()
        if not can_acknowledge_warning(request.user, warning):
            raise PermissionDeniedError()  # before the body is read (the service asks again)
        data = AcknowledgeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        risk.warning_acknowledge(by=request.user, warning=warning, **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=warning.pk)).data)

    @extend_schema(request=None, responses={200: RiskOutcomeSerializer, 403: ErrorSerializer})
    @action(detail=False, methods=["post"])
    def evaluate(self, request):
        """Run every rule over the live contracts now (it also runs daily); owners of new
        warnings are told."""
        outcome = risk.risk_evaluate(notify_owners=True)
        return Response(RiskOutcomeSerializer(outcome).data)


# --- the review queue ---------------------------------------------------------------------------------


class ReviewQueueRowSerializer(serializers.Serializer):
    step = serializers.IntegerField(source="step.pk", help_text="The approval step waiting for the caller.")
    contract = serializers.IntegerField(source="contract.pk")
    number = serializers.CharField(source="contract.number")
    version = serializers.IntegerField(source="contract.version")
    title = serializers.CharField(source="contract.title")
    customer = serializers.IntegerField(source="contract.customer_id")
    customer_name = serializers.CharField(source="contract.customer.name")
    amount = _money(source="step.request.amount")
    round = serializers.IntegerField(source="contract.review_round")
    role = serializers.CharField(source="step.role.code")
    role_name = serializers.CharField(source="step.role.display_name")
    reasons = ApprovalReasonSerializer(source="step.reasons", many=True)
    submitted_at = serializers.DateTimeField(source="step.request.submitted_at")
    submitted_by_name = serializers.CharField(
        source="step.request.submitted_by.display_name", default=None, allow_null=True
    )


class ContractReviewQueueViewSet(ScopedViewSet):
    """Contract review steps the caller may decide now, oldest first; the decision is
    ``POST contracts/{id}/review/``."""

    serializer_class = ReviewQueueRowSerializer
    filter_backends = []
    default_predicate = staticmethod(can_review_contracts)

    def list(self, request):
        rows = [
            {"step": step, "contract": contract}
            for step, contract in selectors.review_queue_rows(request.user)
            if contract is not None
        ]
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# --- the risk policy ----------------------------------------------------------------------------------


class RiskPolicySerializer(RefuseReadOnlyMixin, serializers.ModelSerializer):
    updated_by_name = serializers.CharField(
        source="updated_by.display_name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = RiskPolicy
        fields = [*risk.POLICY_FIELDS, "updated_at", "updated_by", "updated_by_name"]
        read_only_fields = ["updated_at", "updated_by", "updated_by_name"]


class ContractRiskPolicyView(APIView):
    """The limits the risk rules compare against (one for the company). Everyone who sees
    contracts reads it; legal sets it."""

    def get_permissions(self):
        predicate = can_set_risk_policy if self.request.method == "PATCH" else can_view_contracts
        return [allow(predicate)()]

    @extend_schema(responses={200: RiskPolicySerializer, 403: ErrorSerializer})
    def get(self, request):
        return Response(RiskPolicySerializer(risk.risk_policy()).data)

    @extend_schema(request=RiskPolicySerializer, responses={200: RiskPolicySerializer, **WRITE_ERRORS})
    def patch(self, request):
        """Change the limits given; the next evaluation applies them."""
        data = RiskPolicySerializer(risk.risk_policy(), data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        policy = risk.risk_policy_update(by=request.user, **data.validated_data)
        return Response(RiskPolicySerializer(policy).data)
