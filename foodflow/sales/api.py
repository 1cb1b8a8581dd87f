"""REST API of order to cash: inquiries, quotations, orders and their review, approvals,
deliveries, receivables, payments, returns, credit notes and reconciliation.

Reads start from the permission module's scopes (``docs_in_scope``, ``receivables_in_scope``),
so a document outside the caller's scope is not found (404), as on the pages; every write
parses its input and calls one service, which checks the object-level rules (403, 409).

What an API needs on top of the pages:

* ``Idempotency-Key`` on the POSTs that create documents or record money: a retried request
  gets the first answer again and creates nothing (``idempotent``);
* optimistic locking on PATCH: the version the client edited (``If-Match: W/"<lock_version>"``
  or ``lock_version`` in the body) is required, and a stale one is 409 ``stale_version``;
* fields only the services set (states, totals, numbers, line amounts, paid amounts…) are
  refused with 400 ``read_only_field`` instead of being silently dropped (``RefuseReadOnlyMixin``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from foodflow.accounts.models import Role
from foodflow.accounts.permissions import scoped
from foodflow.catalog.models import Product
from foodflow.core.api import BoundedTextMixin, ErrorSerializer, allow
from foodflow.core.errors import ConflictError, DomainError, ValidationFailed
from foodflow.crm.api import VisibleCustomerField

from . import approvals, fulfilment, pdf, receivables, review, services, services_policies
from .models import (
    ApprovalPolicy,
    ApprovalRequest,
    ApprovalStep,
    ContactChannel,
    CreditNote,
    CustomerReturn,
    Delivery,
    DeliveryLine,
    DocType,
    IdempotencyKey,
    Inquiry,
    InquiryLine,
    Invoice,
    OrderLine,
    OrderReview,
    Payment,
    PaymentAllocation,
    Quotation,
    QuotationLine,
    ReturnLine,
    SalesOrder,
    WriteOff,
)
from .permissions import (
    APPROVE,
    can_approve,
    can_create_docs,
    can_manage_deliveries,
    can_manage_policies,
    can_manage_receivables,
    can_manage_returns,
    can_open_review,
    can_reconcile,
    can_review_orders,
    can_view_receivables,
    can_view_sales,
    docs_in_scope,
    payments_in_scope,
    receivables_in_scope,
)
from .selectors import ar_aging, reconciliation

WRITE_ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}
ACTION_ERRORS = WRITE_ERRORS
READ_ERRORS = {404: ErrorSerializer}


def _money(**kwargs):
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


def _quantity(**kwargs):
    return serializers.DecimalField(max_digits=14, decimal_places=3, **kwargs)


# --- errors of the API layer -------------------------------------------------------------------


class ReadOnlyFieldRefused(ValidationFailed):
    code = "read_only_field"
    default_message = _("Some fields are set by FoodFlow, not by the caller: leave them out.")


class PreconditionRequired(DomainError):
    code = "precondition_required"
    default_message = _(
        "Say which version you edited: send the ETag of your GET as If-Match, or lock_version in the body."
    )
    status = 428


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    default_message = _("This Idempotency-Key was used for a different request. Use a new key for a new request.")
    status = 422


# --- refusing what only the services set ---------------------------------------------------------

_REFUSED: dict[type, frozenset[str]] = {}


class RefuseReadOnlyMixin:
    """A body that sets what only the services set (``state``, ``total``, a line's ``amount``…)
    is refused with 400 ``read_only_field`` naming the fields, instead of DRF's silent drop: a
    client that sends ``state: approved`` learns at once that it has no effect.

    Refused: this serializer's read-only fields, the fields of ``shown_by`` (the shape of the
    answer, which a client may echo back) that this serializer does not accept, and
    ``refused_extra``. Nested serializers with the mixin check their part of the body
    (``lines.0.amount``); the outermost one raises once for the whole body."""

    shown_by: type[serializers.Serializer] | None = None
    refused_extra: tuple[str, ...] = ()

    def refused_names(self) -> frozenset[str]:
        cls = type(self)
        if cls not in _REFUSED:
            fields = self.fields
            writable = {name for name, field in fields.items() if not field.read_only}
            shown = set(self.shown_by().fields) if self.shown_by is not None else set()
            read_only = {name for name, field in fields.items() if field.read_only}
            _REFUSED[cls] = frozenset((shown | read_only | set(self.refused_extra)) - writable)
        return _REFUSED[cls]

    def refused_in(self, data, prefix: str = "") -> list[str]:
        if not isinstance(data, Mapping):
            return []
        refused = self.refused_names()
        found = [f"{prefix}{name}" for name in data if name in refused]
        for name, field in self.fields.items():
            value = data.get(name)
            if field.read_only or value is None:
                continue
            child = getattr(field, "child", None)
            if isinstance(child, RefuseReadOnlyMixin) and isinstance(value, list):
                for index, item in enumerate(value):
                    found += child.refused_in(item, f"{prefix}{name}.{index}.")
            elif isinstance(field, RefuseReadOnlyMixin):
                found += field.refused_in(value, f"{prefix}{name}.")
        return found

    def to_internal_value(self, data):
        if self.parent is None:  # the outermost serializer checks the whole body, once
            refused = self.refused_in(data)
            if refused:
                message = gettext("Set by FoodFlow, not by the caller: leave it out.")
                raise ReadOnlyFieldRefused(fields={name: [message] for name in refused})
        return super().to_internal_value(data)


# --- optimistic locking ------------------------------------------------------------------------

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')

IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='The ETag of the document as read (W/"<lock_version>"); or send lock_version in the body. '
    "Without either: 428 precondition_required; stale: 409 stale_version.",
)
IF_MATCH_OPTIONAL = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='Optional: the ETag of the version amended (W/"<lock_version>"); stale: 409 stale_version.',
)
ETAG_DESCRIPTION = 'W/"<lock_version>": send it back as If-Match to edit this version.'
ETAG = OpenApiParameter("ETag", str, OpenApiParameter.HEADER, response=[200], description=ETAG_DESCRIPTION)
ETAG_CREATED = OpenApiParameter("ETag", str, OpenApiParameter.HEADER, response=[201], description=ETAG_DESCRIPTION)


def etag_of(doc) -> str:
    return f'W/"{doc.lock_version}"'


def expected_version(request, body_version: int | None, *, required: bool = True) -> int | None:
    """The version the client edited: the If-Match header or ``lock_version`` in the body."""
    header = request.headers.get("If-Match")
    if header is None:
        if body_version is None and required:
            raise PreconditionRequired()
        return body_version
    match = _ETAG.match(header)
    if match is None:
        message = gettext('Send the ETag of the document: W/"<lock_version>".')
        raise ValidationFailed(message, code="invalid_precondition", fields={"If-Match": [message]})
    version = int(match.group(1))
    if body_version is not None and body_version != version:
        message = gettext("If-Match and lock_version name different versions.")
        raise ValidationFailed(message, code="invalid_precondition", fields={"lock_version": [message]})
    return version


# --- idempotent creation -----------------------------------------------------------------------

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Any unique string (a UUID) chosen by the client, at most 100 characters. A repeat with the same "
    "key and body returns the first answer and creates nothing; the same key with another body: 422 "
    "idempotency_key_reused.",
)
IDEMPOTENT_REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    str,
    OpenApiParameter.HEADER,
    response=[201],
    description='"true" when this is the stored answer to an earlier request with the same Idempotency-Key.',
)


def _fingerprint(endpoint: str, data) -> str:
    if hasattr(data, "lists"):  # a form body: every value of every key
        data = dict(data.lists())
    canonical = json.dumps([endpoint, data], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent(request, endpoint: str, perform: Callable[[], Response]) -> Response:
    """Run ``perform`` once per ``Idempotency-Key`` of the caller (no key: every time).

    The key row is inserted first, in the transaction that does the work and stores the
    answer: a concurrent request with the same key waits on the unique index (PostgreSQL)
    until this transaction ends, then reads the stored answer instead of working again. A
    request that fails stores nothing (its transaction rolls back), so it may be retried."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return perform()
    if len(key) > IdempotencyKey._meta.get_field("key").max_length:
        message = gettext("An Idempotency-Key has at most 100 characters.")
        raise ValidationFailed(message, code="invalid_idempotency_key", fields={"Idempotency-Key": [message]})
    fingerprint = _fingerprint(endpoint, request.data)
    with transaction.atomic():
        stored, created = IdempotencyKey.objects.get_or_create(
            user=request.user, key=key, defaults={"endpoint": endpoint, "fingerprint": fingerprint}
        )
        if not created:
            return _replay(stored, endpoint, fingerprint)
        response = perform()
        stored.status = response.status_code
        stored.response = json.loads(JSONRenderer().render(response.data) or b"null")
        stored.save(update_fields=["status", "response"])
    return response


def _replay(stored: IdempotencyKey, endpoint: str, fingerprint: str) -> Response:
    if stored.endpoint != endpoint or stored.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if stored.status is None:  # cannot happen through ``idempotent``: the answer commits with the key
        raise ConflictError(code="idempotency_key_in_progress")
    return Response(stored.response, status=stored.status, headers={"Idempotent-Replayed": "true"})


# --- shared fields and helpers -------------------------------------------------------------------


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """An id among the objects the caller may see: one outside their scope "does not exist",
    as it does on retrieve (its existence is not disclosed by a 403)."""

    def __init__(self, model, scope: Callable, **kwargs):
        self.scope = scope
        super().__init__(queryset=model._default_manager.all(), **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        queryset = super().get_queryset()
        return self.scope(request.user, queryset) if request else queryset.none()


def _orders_visible(user, queryset=None):
    return docs_in_scope(user, SalesOrder.objects.all() if queryset is None else queryset)


def _deliveries_visible(user, queryset):
    return queryset.filter(order__in=_orders_visible(user))


def _invoices_visible(user, queryset):
    return receivables_in_scope(user, queryset)


def _approval_histories(doc_type: str, docs: Iterable) -> dict[int, list[ApprovalRequest]]:
    """The approval requests of many documents in two queries, newest first per document."""
    ids = [doc.pk for doc in docs]
    found: dict[int, list[ApprovalRequest]] = defaultdict(list)
    if not ids:
        return found
    steps = ApprovalStep.objects.select_related("role", "decided_by").order_by("sequence")
    for request in (
        ApprovalRequest.objects.filter(doc_type=doc_type, object_id__in=ids)
        .select_related("submitted_by")
        .prefetch_related(Prefetch("steps", queryset=steps))
        .order_by("-submitted_at", "-id")
    ):
        found[request.object_id].append(request)
    return found


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class PdfRenderer(BaseRenderer):
    """Lets a client ask for ``Accept: application/pdf``; errors still answer JSON text."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else json.dumps(data, default=str).encode()


PDF_LANGUAGE = OpenApiParameter(
    "language", str, enum=[code for code, _label in settings.LANGUAGES], description="The document's own if not given."
)


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}.pdf"'
    return response


def _pdf_language(request) -> str | None:
    language = request.query_params.get("language")
    return language if language in dict(settings.LANGUAGES) else None


class ScopedViewSet(viewsets.GenericViewSet):
    """Permission per action from the permission module's predicates (``PREDICATES``), keyed by
    the action or, where reading and writing differ, by (action, method)."""

    PREDICATES: dict[str | tuple[str, str], Callable] = {}
    default_predicate: Callable = staticmethod(can_view_sales)

    def get_permissions(self):
        method = getattr(self.request, "method", "GET")
        predicate = self.PREDICATES.get((self.action, method)) or self.PREDICATES.get(self.action)
        return [allow(predicate or self.default_predicate)()]


# --- approval history (shown with quotations and orders) ---------------------------------------


class ApprovalReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ApprovalStepRecordSerializer(serializers.ModelSerializer):
    role = serializers.CharField(source="role.code", read_only=True)
    role_name = serializers.CharField(source="role.display_name", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    reasons = ApprovalReasonSerializer(many=True, read_only=True)
    decided_by_name = serializers.CharField(
        source="decided_by.display_name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = ApprovalStep
        fields = [
            "id",
            "sequence",
            "level",
            "role",
            "role_name",
            "state",
            "state_label",
            "reasons",
            "decided_by",
            "decided_by_name",
            "decided_at",
            "comment",
        ]
        read_only_fields = fields


class ApprovalRequestSerializer(serializers.ModelSerializer):
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    submitted_by_name = serializers.CharField(
        source="submitted_by.display_name", read_only=True, default=None, allow_null=True
    )
    steps = ApprovalStepRecordSerializer(many=True, read_only=True)

    class Meta:
        model = ApprovalRequest
        fields = [
            "id",
            "doc_type",
            "object_id",
            "document_label",
            "state",
            "state_label",
            "amount",
            "submitted_by",
            "submitted_by_name",
            "submitted_at",
            "decided_at",
            "note",
            "steps",
        ]
        read_only_fields = fields


def approval_histories_data(doc_type: str, docs: Iterable) -> dict[int, list]:
    """The approval histories of many documents, serialized by one serializer for all of them
    (a serializer per document would build its fields again for each: most of a list's time)."""
    histories = _approval_histories(doc_type, docs)
    owners = [pk for pk, requests in histories.items() for _ in requests]
    data = ApprovalRequestSerializer([r for requests in histories.values() for r in requests], many=True).data
    found: dict[int, list] = defaultdict(list)
    for pk, item in zip(owners, data, strict=True):
        found[pk].append(item)
    return found


class HistoryMixin:
    """``approval_history``: from the histories the view serialized for the page, else queried."""

    doc_type = ""

    @extend_schema_field(ApprovalRequestSerializer(many=True))
    def get_approval_history(self, doc) -> list:
        histories = self.context.get("histories")
        if histories is None:
            histories = approval_histories_data(self.doc_type, [doc])
        return histories.get(doc.pk, [])


# --- quotations and orders: lines ------------------------------------------------------------------

LINE_FIELDS = [
    "id",
    "position",
    "product",
    "sku",
    "product_name",
    "quantity",
    "list_price",
    "price_rule",
    "unit_price",
    "discount",
    "net_unit_price",
    "vat_rate",
    "amount",
    "tax",
]


class QuotationLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.display_name", read_only=True)
    net_unit_price = _money(read_only=True, help_text="unit_price × (1 − discount)")

    class Meta:
        model = QuotationLine
        fields = LINE_FIELDS
        read_only_fields = LINE_FIELDS


class OrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.display_name", read_only=True)
    net_unit_price = _money(read_only=True, help_text="unit_price × (1 − discount)")
    open_quantity = _quantity(read_only=True, help_text="Still to deliver.")

    class Meta:
        model = OrderLine
        fields = [*LINE_FIELDS, "delivered_quantity", "returned_quantity", "short_closed", "open_quantity"]
        read_only_fields = fields


class LineInputSerializer(RefuseReadOnlyMixin, serializers.Serializer):
    """A line as the caller enters it; prices, amounts and VAT are the services' to compute."""

    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = _quantity()
    unit_price = _money(required=False, allow_null=True, help_text="The resolved list price if not given.")
    discount = serializers.DecimalField(
        max_digits=5, decimal_places=4, required=False, help_text="A fraction: 0.05 for 5 %. 0 if not given."
    )
    refused_extra = ("cost",)


class QuotationLineInputSerializer(LineInputSerializer):
    shown_by = QuotationLineSerializer


class OrderLineInputSerializer(LineInputSerializer):
    shown_by = OrderLineSerializer


def _line_inputs(lines: list[dict] | None) -> list[services.LineInput] | None:
    if lines is None:
        return None
    return [
        services.LineInput(
            product=line["product"],
            quantity=line["quantity"],
            unit_price=line.get("unit_price"),
            discount=line.get("discount") or 0,
        )
        for line in lines
    ]


# --- documents: what quotations and orders share -------------------------------------------------

DOC_FIELDS = [
    "id",
    "number",
    "version",
    "is_current",
    "customer",
    "customer_name",
    "owner",
    "owner_name",
    "state",
    "state_label",
    "payment_terms_days",
    "delivery_terms",
    "wanted_date",
    "notes",
    "total",
    "tax_total",
    "lock_version",
    "created_at",
    "updated_at",
]


class DocumentViewSet(ScopedViewSet):
    """List, retrieve (with ``ETag``) and PATCH (with a precondition) of a versioned document."""

    model: type = SalesOrder
    line_model: type = OrderLine
    doc_type = ""

    @classmethod
    def document_queryset(cls):
        lines = cls.line_model.objects.select_related("product")
        return cls.model.objects.select_related("customer", "owner").prefetch_related(Prefetch("lines", queryset=lines))

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return docs_in_scope(self.request.user, self.document_queryset())

    @classmethod
    def serialize(cls, request, docs, *, many: bool = False):
        items = docs if many else [docs]
        context = {"request": request, "histories": approval_histories_data(cls.doc_type, items)}
        return cls.serializer_class(docs, many=many, context=context).data

    @classmethod
    def document_response(cls, request, doc, status_code: int = status.HTTP_200_OK) -> Response:
        """The document as it is now (read again: services return bare rows), with its ETag."""
        doc = cls.document_queryset().get(pk=doc.pk)
        return Response(cls.serialize(request, doc), status=status_code, headers={"ETag": etag_of(doc)})

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.serialize(request, page, many=True))

    def retrieve(self, request, *args, **kwargs):
        doc = self.get_object()
        return Response(self.serialize(request, doc), headers={"ETag": etag_of(doc)})

    def edit(self, request, serializer_class, service) -> Response:
        """PATCH: validate the body, require the edited version, call the one service."""
        doc = self.get_object()
        data = serializer_class(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        version = expected_version(request, fields.pop("lock_version", None))
        lines = _line_inputs(fields.pop("lines", None))
        doc = service(request.user, doc, expected_version=version, lines=lines, **fields)
        return self.document_response(request, doc)

    def step(self, request, service, serializer_class=None, status_code=status.HTTP_200_OK) -> Response:
        """An action: parse the body (if any), call the one service, answer the document."""
        doc = self.get_object()
        fields = {}
        if serializer_class is not None:
            data = serializer_class(data=request.data, context=self.get_serializer_context())
            data.is_valid(raise_exception=True)
            fields = data.validated_data
        return self.document_response(request, service(request.user, doc, **fields), status_code)


# --- quotations --------------------------------------------------------------------------------


class QuotationSerializer(HistoryMixin, serializers.ModelSerializer):
    doc_type = DocType.QUOTATION
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    lines = QuotationLineSerializer(many=True, read_only=True)
    approval_history = serializers.SerializerMethodField()

    class Meta:
        model = Quotation
        fields = [
            *DOC_FIELDS,
            "inquiry",
            "copied_from",
            "valid_until",
            "language",
            "sent_at",
            "decided_at",
            "decline_reason",
            "lines",
            "approval_history",
        ]
        read_only_fields = fields


class QuotationTermsSerializer(BoundedTextMixin, RefuseReadOnlyMixin, serializers.Serializer):
    shown_by = QuotationSerializer
    refused_extra = ("credit_override",)

    payment_terms_days = serializers.IntegerField(
        min_value=0, max_value=365, required=False, help_text="The customer's standard if not given."
    )
    delivery_terms = serializers.CharField(max_length=200, required=False, allow_blank=True)
    wanted_date = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    valid_until = serializers.DateField(required=False, help_text="30 days from today if not given.")
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)


class QuotationCreateSerializer(QuotationTermsSerializer):
    customer = VisibleCustomerField()
    lines = QuotationLineInputSerializer(many=True)


class QuotationEditSerializer(QuotationTermsSerializer):
    """A PATCH: the terms given change; ``lines``, if given, replace all lines."""

    lock_version = serializers.IntegerField(
        min_value=1, required=False, help_text="The version edited, if no If-Match header is sent."
    )
    lines = QuotationLineInputSerializer(many=True, required=False)


class QuotationCopySerializer(serializers.Serializer):
    customer = VisibleCustomerField(required=False, help_text="The same customer if not given.")


class OrderFromQuotationSerializer(serializers.Serializer):
    customer_reference = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class SalesOrderSerializer(HistoryMixin, serializers.ModelSerializer):
    doc_type = DocType.ORDER
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)
    approval_history = serializers.SerializerMethodField()

    class Meta:
        model = SalesOrder
        fields = [
            *DOC_FIELDS,
            "quotation",
            "previous",
            "customer_reference",
            "source_number",
            "delivery_address",
            "ordered_on",
            "promised_date",
            "credit_override",
            "cancel_reason",
            "return_reason",
            "short_reason",
            "lines",
            "approval_history",
        ]
        read_only_fields = fields


class OrderTermsSerializer(BoundedTextMixin, RefuseReadOnlyMixin, serializers.Serializer):
    shown_by = SalesOrderSerializer

    payment_terms_days = serializers.IntegerField(
        min_value=0, max_value=365, required=False, help_text="The customer's standard if not given."
    )
    delivery_terms = serializers.CharField(max_length=200, required=False, allow_blank=True)
    wanted_date = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    customer_reference = serializers.CharField(max_length=64, required=False, allow_blank=True)
    delivery_address = serializers.CharField(
        max_length=300, required=False, allow_blank=True, help_text="The customer's default address if not given."
    )


class OrderCreateSerializer(OrderTermsSerializer):
    customer = VisibleCustomerField()
    lines = OrderLineInputSerializer(many=True)


class OrderEditSerializer(OrderTermsSerializer):
    """A PATCH (or an amendment): the terms given change; ``lines``, if given, replace all lines."""

    lock_version = serializers.IntegerField(
        min_value=1, required=False, help_text="The version edited, if no If-Match header is sent."
    )
    lines = OrderLineInputSerializer(many=True, required=False)


class ReviewDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=OrderReview.Decision.choices)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    promised_date = serializers.DateField(required=False, allow_null=True, default=None)


class ReviewShelfLifeSerializer(serializers.Serializer):
    min_days = serializers.IntegerField(allow_null=True)
    min_percent = serializers.IntegerField(allow_null=True)


class ReviewLineSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The order line.")
    sku = serializers.CharField()
    needed = _quantity()
    reserved = _quantity()
    available = _quantity()
    short = _quantity()
    lots = serializers.ListField(child=serializers.DictField(), help_text="The lots that would serve it, FEFO.")
    ready_date = serializers.DateField(allow_null=True)
    capacity_error = serializers.CharField(allow_blank=True)


class ReviewFindingsSerializer(serializers.Serializer):
    stock_ok = serializers.BooleanField()
    credit_ok = serializers.BooleanField()
    exposure = _money()
    credit_limit = _money()
    promised_date = serializers.DateField(allow_null=True)
    shelf_life = ReviewShelfLifeSerializer()
    lines = ReviewLineSerializer(many=True)


class CreditReleaseResultSerializer(serializers.Serializer):
    order = SalesOrderSerializer()
    approval_request = ApprovalRequestSerializer(allow_null=True, help_text="None: lifted at once (no policy).")


@extend_schema_view(
    list=extend_schema(responses={200: QuotationSerializer(many=True), 400: ErrorSerializer}),
    retrieve=extend_schema(parameters=[ETAG], responses={200: QuotationSerializer, **READ_ERRORS}),
)
class QuotationViewSet(DocumentViewSet):
    """Quotations in the caller's scope, every version (``is_current`` filters the current ones)."""

    model = Quotation
    line_model = QuotationLine
    doc_type = DocType.QUOTATION
    serializer_class = QuotationSerializer
    queryset = Quotation.objects.none()  # for the schema; get_queryset asks the scope
    filterset_fields = ["state", "customer", "is_current"]
    search_fields = ["number", "customer__name", "customer__code", "notes"]
    ordering_fields = ["created_at", "valid_until", "total", "number"]
    WRITES = ("create", "partial_update", "submit", "send", "accept", "decline", "revise", "copy", "cancel", "order")
    PREDICATES = dict.fromkeys(WRITES, can_create_docs)

    @extend_schema(
        request=QuotationCreateSerializer,
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED, ETAG_CREATED],
        responses={201: QuotationSerializer, 422: ErrorSerializer, **WRITE_ERRORS},
    )
    def create(self, request, *args, **kwargs):
        """A draft quotation; prices from the price service unless given."""
        return idempotent(request, "quotations.create", lambda: self._create(request))

    def _create(self, request) -> Response:
        data = QuotationCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        lines = _line_inputs(fields.pop("lines"))
        quotation = services.quotation_create(by=request.user, customer=fields.pop("customer"), lines=lines, **fields)
        return self.document_response(request, quotation, status.HTTP_201_CREATED)

    @extend_schema(
        request=QuotationEditSerializer,
        parameters=[IF_MATCH, ETAG],
        responses={200: QuotationSerializer, 428: ErrorSerializer, **WRITE_ERRORS},
    )
    def partial_update(self, request, pk=None):
        """Edit a quotation not yet sent. Under or after approval the edit voids the approval and
        takes the quotation back to draft."""
        return self.edit(
            request,
            QuotationEditSerializer,
            lambda by, doc, **fields: services.quotation_update(by=by, quotation=doc, **fields),
        )

    @extend_schema(request=None, responses={200: QuotationSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """To the approvers the policies name; approved at once when none applies."""
        return self.step(request, lambda by, doc: services.quotation_submit(by=by, quotation=doc))

    @extend_schema(request=None, responses={200: QuotationSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Mark sent to the customer: only with a valid approval of the current content."""
        return self.step(request, lambda by, doc: services.quotation_send(by=by, quotation=doc))

    @extend_schema(request=None, responses={200: QuotationSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self.step(request, lambda by, doc: services.quotation_accept(by=by, quotation=doc))

    @extend_schema(request=ReasonSerializer, responses={200: QuotationSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """The customer declined, with the reason they gave."""
        return self.step(
            request,
            lambda by, doc, reason: services.quotation_decline(by=by, quotation=doc, reason=reason),
            ReasonSerializer,
        )

    @extend_schema(request=None, responses={201: QuotationSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def revise(self, request, pk=None):
        """A new version (draft) with the same number; answers the new version."""
        return self.step(
            request,
            lambda by, doc: services.quotation_revise(by=by, quotation=doc),
            status_code=status.HTTP_201_CREATED,
        )

    @extend_schema(request=QuotationCopySerializer, responses={201: QuotationSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def copy(self, request, pk=None):
        """A new quotation (new number, draft) with the same lines; never with the approval."""
        return self.step(
            request,
            lambda by, doc, **fields: services.quotation_copy(by=by, quotation=doc, **fields),
            QuotationCopySerializer,
            status.HTTP_201_CREATED,
        )

    @extend_schema(request=ReasonSerializer, responses={200: QuotationSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self.step(
            request,
            lambda by, doc, reason: services.quotation_cancel(by=by, quotation=doc, reason=reason),
            ReasonSerializer,
        )

    @extend_schema(
        request=OrderFromQuotationSerializer,
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
        responses={201: SalesOrderSerializer, 422: ErrorSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def order(self, request, pk=None):
        """The order (draft) of an accepted quotation: same lines, prices and terms."""
        return idempotent(request, f"quotations.{pk}.order", lambda: self._order(request))

    def _order(self, request) -> Response:
        quotation = self.get_object()
        data = OrderFromQuotationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_from_quotation(by=request.user, quotation=quotation, **data.validated_data)
        return OrderViewSet.document_response(request, order, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[PDF_LANGUAGE],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: ErrorSerializer},
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PdfRenderer])
    def pdf(self, request, pk=None):
        """The quotation as PDF, in its language (or ``language``)."""
        quotation = self.get_object()
        content = pdf.quotation_pdf(quotation, language=_pdf_language(request))
        return _pdf_response(content, str(quotation).replace(" ", "-"))


# --- orders ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses={200: SalesOrderSerializer(many=True), 400: ErrorSerializer}),
    retrieve=extend_schema(parameters=[ETAG], responses={200: SalesOrderSerializer, **READ_ERRORS}),
)
class OrderViewSet(DocumentViewSet):
    """Sales orders in the caller's scope, every version (``is_current`` filters the current ones)."""

    model = SalesOrder
    line_model = OrderLine
    doc_type = DocType.ORDER
    serializer_class = SalesOrderSerializer
    queryset = SalesOrder.objects.none()  # for the schema; get_queryset asks the scope
    filterset_fields = ["state", "customer", "is_current", "quotation"]
    search_fields = ["number", "customer__name", "customer__code", "customer_reference", "source_number"]
    ordering_fields = ["ordered_on", "promised_date", "total", "number"]
    PREDICATES = {
        "create": can_create_docs,
        "partial_update": can_create_docs,
        "submit": can_create_docs,
        "amend": can_create_docs,
        "cancel": can_create_docs,
        ("review", "GET"): can_open_review,  # finance reads it to ask for a credit release, as on the page
        "review": can_review_orders,
        "reserve_rest": can_review_orders,
        "close_short": can_manage_deliveries,
        "credit_release": can_manage_receivables,
    }

    @extend_schema(
        request=OrderCreateSerializer,
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED, ETAG_CREATED],
        responses={201: SalesOrderSerializer, 422: ErrorSerializer, **WRITE_ERRORS},
    )
    def create(self, request, *args, **kwargs):
        """A draft order entered directly; it goes through the same policies on submission."""
        return idempotent(request, "orders.create", lambda: self._create(request))

    def _create(self, request) -> Response:
        data = OrderCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        lines = _line_inputs(fields.pop("lines"))
        order = services.order_create(by=request.user, customer=fields.pop("customer"), lines=lines, **fields)
        return self.document_response(request, order, status.HTTP_201_CREATED)

    @extend_schema(
        request=OrderEditSerializer,
        parameters=[IF_MATCH, ETAG],
        responses={200: SalesOrderSerializer, 428: ErrorSerializer, **WRITE_ERRORS},
    )
    def partial_update(self, request, pk=None):
        """Edit an order not yet confirmed; a confirmed order is amended instead."""
        return self.edit(
            request, OrderEditSerializer, lambda by, doc, **fields: services.order_update(by=by, order=doc, **fields)
        )

    @extend_schema(request=None, responses={200: SalesOrderSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Confirmed at once when no policy applies; otherwise to the approvers."""
        return self.step(request, lambda by, doc: services.order_submit(by=by, order=doc))

    @extend_schema(
        request=OrderEditSerializer,
        parameters=[IF_MATCH_OPTIONAL],
        responses={201: SalesOrderSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def amend(self, request, pk=None):
        """A new version (draft) of a confirmed order, with the changes given; it binds once it is
        submitted and confirmed. Answers the new version."""
        order = self.get_object()
        data = OrderEditSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        version = expected_version(request, fields.pop("lock_version", None), required=False)
        lines = _line_inputs(fields.pop("lines", None))
        amendment = services.order_amend(by=request.user, order=order, expected_version=version, lines=lines, **fields)
        return self.document_response(request, amendment, status.HTTP_201_CREATED)

    @extend_schema(request=ReasonSerializer, responses={200: SalesOrderSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel with the reason; reservations go back to stock."""
        return self.step(
            request, lambda by, doc, reason: services.order_cancel(by=by, order=doc, reason=reason), ReasonSerializer
        )

    @extend_schema(methods=["get"], request=None, responses={200: ReviewFindingsSerializer, **READ_ERRORS})
    @extend_schema(
        methods=["post"], request=ReviewDecisionSerializer, responses={200: SalesOrderSerializer, **ACTION_ERRORS}
    )
    @action(detail=True, methods=["get", "post"])
    def review(self, request, pk=None):
        """GET: what the reviewer sees (stock by FEFO, capacity, credit). POST: the decision."""
        order = self.get_object()
        if request.method == "GET":
            return Response(review.order_review_check(order=order).as_dict())
        data = ReviewDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = review.order_review_decide(by=request.user, order=order, **data.validated_data)
        return self.document_response(request, order)

    @extend_schema(request=None, responses={200: SalesOrderSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"], url_path="reserve-rest")
    def reserve_rest(self, request, pk=None):
        """Reserve what came in since for the open, unreserved rest of the order."""
        return self.step(request, lambda by, doc: review.order_reserve_rest(by=by, order=doc))

    @extend_schema(request=ReasonSerializer, responses={200: SalesOrderSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"], url_path="close-short")
    def close_short(self, request, pk=None):
        """Short shipment: what was not delivered will not be."""
        return self.step(
            request,
            lambda by, doc, reason: fulfilment.order_close_short(by=by, order=doc, reason=reason),
            ReasonSerializer,
        )

    @extend_schema(request=ReasonSerializer, responses={200: CreditReleaseResultSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"], url_path="credit-release")
    def credit_release(self, request, pk=None):
        """Finance asks to lift the credit block, with the reason; the approvers decide."""
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = self.get_object()
        approval = review.credit_release_request(by=request.user, order=order, reason=data.validated_data["reason"])
        body = {
            "order": self.serialize(request, self.document_queryset().get(pk=order.pk)),
            "approval_request": ApprovalRequestSerializer(approval).data if approval is not None else None,
        }
        return Response(body)


# --- inquiries ---------------------------------------------------------------------------------


class InquiryLineSerializer(RefuseReadOnlyMixin, serializers.ModelSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(), required=False, allow_null=True)
    sku = serializers.CharField(source="product.sku", read_only=True, default=None, allow_null=True)

    class Meta:
        model = InquiryLine
        fields = ["id", "position", "product", "sku", "description", "quantity"]
        read_only_fields = ["position"]


class InquirySerializer(BoundedTextMixin, RefuseReadOnlyMixin, serializers.ModelSerializer):
    customer = VisibleCustomerField()
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    # "channel" is the customer's sales channel elsewhere in the API: this is how the inquiry came in
    contact_channel = serializers.ChoiceField(source="channel", choices=ContactChannel.choices)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    lines = InquiryLineSerializer(many=True)
    quotations = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Inquiry
        fields = [
            "id",
            "number",
            "customer",
            "customer_name",
            "owner",
            "owner_name",
            "contact_channel",
            "received_on",
            "wanted_date",
            "notes",
            "state",
            "state_label",
            "lost_reason",
            "lines",
            "quotations",
            "created_at",
        ]
        read_only_fields = ["number", "owner", "state", "lost_reason", "created_at"]
        extra_kwargs = {"received_on": {"required": False, "help_text": "Today if not given."}}


class InquiryQuoteSerializer(BoundedTextMixin, serializers.Serializer):
    """Terms of the quotation made from an inquiry; the customer's standard where not given."""

    payment_terms_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    delivery_terms = serializers.CharField(max_length=200, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    valid_until = serializers.DateField(required=False)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)


@extend_schema_view(create=extend_schema(responses={201: InquirySerializer, **WRITE_ERRORS}))
class InquiryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    """Inquiries of the customers in the caller's scope; ``quote`` turns one into a quotation."""

    serializer_class = InquirySerializer
    queryset = Inquiry.objects.none()  # for the schema; get_queryset asks the scope
    filterset_fields = ["state", "customer"]
    search_fields = ["number", "customer__name", "customer__code", "notes"]
    ordering_fields = ["received_on", "wanted_date", "created_at"]
    PREDICATES = {"create": can_create_docs, "lose": can_create_docs, "quote": can_create_docs}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Inquiry.objects.none()
        lines = InquiryLine.objects.select_related("product")
        queryset = Inquiry.objects.select_related("customer", "owner").prefetch_related(
            Prefetch("lines", queryset=lines), "quotations"
        )
        return docs_in_scope(self.request.user, queryset)

    def perform_create(self, serializer):
        fields = dict(serializer.validated_data)
        lines = [
            services.InquiryLineInput(
                quantity=line["quantity"], product=line.get("product"), description=line.get("description", "")
            )
            for line in fields.pop("lines")
        ]
        serializer.instance = services.inquiry_create(by=self.request.user, lines=lines, **fields)

    @extend_schema(request=ReasonSerializer, responses={200: InquirySerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def lose(self, request, pk=None):
        """Mark the inquiry lost, with the reason."""
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.inquiry_lose(by=request.user, inquiry=self.get_object(), reason=data.validated_data["reason"])
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(request=InquiryQuoteSerializer, responses={201: QuotationSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def quote(self, request, pk=None):
        """A quotation (draft) from the inquiry's product lines; answers the quotation."""
        data = InquiryQuoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        quotation = services.inquiry_to_quotation(by=request.user, inquiry=self.get_object(), **data.validated_data)
        return QuotationViewSet.document_response(request, quotation, status.HTTP_201_CREATED)


# --- approvals ---------------------------------------------------------------------------------


class ApprovalTaskSerializer(serializers.ModelSerializer):
    """One pending step the caller may decide, with the document it is about and why."""

    request = serializers.IntegerField(source="request_id", read_only=True)
    doc_type = serializers.ChoiceField(source="request.doc_type", choices=DocType.choices, read_only=True)
    object_id = serializers.IntegerField(source="request.object_id", read_only=True)
    document = serializers.CharField(source="request.document_label", read_only=True)
    amount = _money(source="request.amount", read_only=True)
    owner = serializers.IntegerField(source="request.owner_id", read_only=True)
    owner_name = serializers.CharField(source="request.owner.display_name", read_only=True)
    region = serializers.CharField(source="request.unit.code", read_only=True, default=None, allow_null=True)
    submitted_at = serializers.DateTimeField(source="request.submitted_at", read_only=True)
    note = serializers.CharField(source="request.note", read_only=True)
    role = serializers.CharField(source="role.code", read_only=True)
    role_name = serializers.CharField(source="role.display_name", read_only=True)
    reasons = ApprovalReasonSerializer(many=True, read_only=True)

    class Meta:
        model = ApprovalStep
        fields = [
            "id",
            "request",
            "doc_type",
            "object_id",
            "document",
            "amount",
            "owner",
            "owner_name",
            "region",
            "submitted_at",
            "note",
            "sequence",
            "level",
            "role",
            "role_name",
            "reasons",
        ]
        read_only_fields = fields


class ApprovalDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField(help_text="true to approve, false to reject (a comment is then required).")
    comment = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ApprovalViewSet(mixins.ListModelMixin, ScopedViewSet):
    """The caller's queue: pending steps of their roles, in their scope, not of their own
    documents, oldest first. ``decide`` approves or rejects one step."""

    serializer_class = ApprovalTaskSerializer
    queryset = ApprovalStep.objects.none()  # for the schema; get_queryset asks the engine
    filter_backends = []
    default_predicate = staticmethod(can_approve)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApprovalStep.objects.none()
        if self.action == "list":
            return approvals.approval_queue(self.request.user)
        # deciding: any step in the caller's approval scope, so that the engine answers why not
        # (own_document, wrong_role, above_limit, step_closed) instead of a bare 404
        # (document types reviewed under another permission, contracts, are decided in their area)
        commercial = [code for code, item in approvals.APPROVABLES.items() if item.permission == APPROVE]
        steps = ApprovalStep.objects.filter(request__doc_type__in=commercial).select_related("request", "role")
        return scoped(self.request.user, APPROVE, steps, owner="request__owner", unit="request__unit")

    @extend_schema(request=ApprovalDecisionSerializer, responses={200: ApprovalRequestSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """Approve or reject the step; answers the approval request as it stands."""
        step = self.get_object()
        data = ApprovalDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decided = approvals.approval_decide(step=step, by=request.user, **data.validated_data)
        steps = ApprovalStep.objects.select_related("role", "decided_by").order_by("sequence")
        decided = (
            ApprovalRequest.objects.select_related("submitted_by")
            .prefetch_related(Prefetch("steps", queryset=steps))
            .get(pk=decided.pk)
        )
        return Response(ApprovalRequestSerializer(decided).data)


class ApprovalPolicySerializer(RefuseReadOnlyMixin, serializers.ModelSerializer):
    approver_role = serializers.PrimaryKeyRelatedField(queryset=Role.objects.all())
    approver_role_code = serializers.CharField(source="approver_role.code", read_only=True)

    class Meta:
        model = ApprovalPolicy
        fields = [
            "id",
            "name",
            "doc_type",
            "condition",
            "threshold",
            "approver_role",
            "approver_role_code",
            "level",
            "is_active",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]


@extend_schema_view(
    create=extend_schema(responses={201: ApprovalPolicySerializer, **WRITE_ERRORS}),
    partial_update=extend_schema(responses={200: ApprovalPolicySerializer, **WRITE_ERRORS}),
)
class ApprovalPolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    """The approval policies (administrators). A change applies from the next submission on;
    deactivating is a PATCH of ``is_active`` (a policy stays on record)."""

    serializer_class = ApprovalPolicySerializer
    queryset = ApprovalPolicy.objects.select_related("approver_role").order_by("doc_type", "level", "name", "pk")
    filterset_fields = ["doc_type", "condition", "is_active"]
    default_predicate = staticmethod(can_manage_policies)

    def perform_create(self, serializer):
        serializer.instance = services_policies.policy_save(by=self.request.user, **serializer.validated_data)

    def partial_update(self, request, pk=None):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        policy = services_policies.policy_save(by=request.user, policy=serializer.instance, **serializer.validated_data)
        return Response(self.get_serializer(policy).data)


# --- deliveries --------------------------------------------------------------------------------


class DeliveryLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="order_line.product.sku", read_only=True)
    product_name = serializers.CharField(source="order_line.product.display_name", read_only=True)
    lot_number = serializers.CharField(source="lot.lot_number", read_only=True, default=None, allow_null=True)
    expiry_date = serializers.DateField(source="lot.expiry_date", read_only=True, default=None, allow_null=True)

    class Meta:
        model = DeliveryLine
        fields = [
            "id",
            "order_line",
            "sku",
            "product_name",
            "lot",
            "lot_number",
            "expiry_date",
            "warehouse",
            "quantity",
            "amount",
        ]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    order_number = serializers.StringRelatedField(source="order", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    lines = DeliveryLineSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "number",
            "order",
            "order_number",
            "customer",
            "customer_name",
            "state",
            "state_label",
            "planned_date",
            "address",
            "carrier",
            "shipped_at",
            "received_on",
            "signed_by",
            "total",
            "created_at",
            "lines",
        ]
        read_only_fields = fields


class DeliveryQuantitySerializer(RefuseReadOnlyMixin, serializers.Serializer):
    shown_by = DeliveryLineSerializer

    order_line = serializers.IntegerField(min_value=1)
    quantity = _quantity()


class DeliveryCreateSerializer(RefuseReadOnlyMixin, serializers.Serializer):
    shown_by = DeliverySerializer

    order = ScopedRelatedField(SalesOrder, _orders_visible)
    planned_date = serializers.DateField()
    quantities = DeliveryQuantitySerializer(
        many=True, required=False, help_text="Per order line; all that is reserved and not yet on a note if not given."
    )
    carrier = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    address = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default="", help_text="The order's if not given."
    )

    def validate(self, attrs):
        quantities = attrs.get("quantities")
        if quantities is not None:
            lines = set(attrs["order"].lines.values_list("pk", flat=True))
            unknown = [index for index, item in enumerate(quantities) if item["order_line"] not in lines]
            if unknown:
                message = _("Not a line of this order.")
                raise serializers.ValidationError({f"quantities.{index}.order_line": [message] for index in unknown})
            attrs["quantities"] = {item["order_line"]: item["quantity"] for item in quantities}
        return attrs


class DeliveryReceiptSerializer(serializers.Serializer):
    received_on = serializers.DateField(required=False, allow_null=True, default=None, help_text="Today if not given.")
    signed_by = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


@extend_schema_view(retrieve=extend_schema(responses={200: DeliverySerializer, **READ_ERRORS}))
class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Delivery notes of the orders in the caller's scope."""

    serializer_class = DeliverySerializer
    queryset = Delivery.objects.none()  # for the schema; get_queryset asks the scope
    filterset_fields = ["state", "order", "customer", "planned_date"]
    search_fields = ["number", "order__number", "customer__name", "carrier"]
    ordering_fields = ["planned_date", "created_at"]
    PREDICATES = {
        "create": can_manage_deliveries,
        "ship": can_manage_deliveries,
        "receive": can_manage_deliveries,
        "cancel": can_manage_deliveries,
    }

    @staticmethod
    def delivery_queryset():
        lines = DeliveryLine.objects.select_related("order_line__product", "lot")
        return Delivery.objects.select_related("order", "customer").prefetch_related(Prefetch("lines", queryset=lines))

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Delivery.objects.none()
        return _deliveries_visible(self.request.user, self.delivery_queryset())

    def delivery_response(self, delivery, status_code=status.HTTP_200_OK) -> Response:
        delivery = self.delivery_queryset().get(pk=delivery.pk)
        return Response(self.get_serializer(delivery).data, status=status_code)

    @extend_schema(request=DeliveryCreateSerializer, responses={201: DeliverySerializer, **WRITE_ERRORS})
    def create(self, request):
        """A delivery note for the order's reserved stock, lots by earliest expiry."""
        data = DeliveryCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        delivery = fulfilment.delivery_create(by=request.user, **data.validated_data)
        return self.delivery_response(delivery, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: DeliverySerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def ship(self, request, pk=None):
        """Issue the picked lots; the order moves and the receivable is raised."""
        delivery = fulfilment.delivery_ship(by=request.user, delivery=self.get_object())
        return self.delivery_response(delivery)

    @extend_schema(request=DeliveryReceiptSerializer, responses={200: DeliverySerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        """The customer's receipt: who signed and when."""
        data = DeliveryReceiptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        delivery = fulfilment.delivery_receive(by=request.user, delivery=self.get_object(), **data.validated_data)
        return self.delivery_response(delivery)

    @extend_schema(request=ReasonSerializer, responses={200: DeliverySerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a planned note; its reservations stay with the order."""
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        delivery = fulfilment.delivery_cancel(by=request.user, delivery=self.get_object(), **data.validated_data)
        return self.delivery_response(delivery)

    @extend_schema(
        parameters=[PDF_LANGUAGE],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: ErrorSerializer},
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PdfRenderer])
    def pdf(self, request, pk=None):
        """The delivery note as PDF, with the lots shipped."""
        delivery = self.get_object()
        content = pdf.delivery_note_pdf(delivery, language=_pdf_language(request))
        return _pdf_response(content, delivery.number)


# --- receivables -------------------------------------------------------------------------------


class ReceivableSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    order_number = serializers.StringRelatedField(source="order", read_only=True)
    delivery_number = serializers.CharField(source="delivery.number", read_only=True, default=None, allow_null=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    open_amount = _money(read_only=True, help_text="amount − paid − credited − written off")

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "customer",
            "customer_name",
            "order",
            "order_number",
            "delivery",
            "delivery_number",
            "owner",
            "owner_name",
            "state",
            "state_label",
            "invoice_date",
            "due_date",
            "amount",
            "tax",
            "paid_amount",
            "credited_amount",
            "written_off_amount",
            "open_amount",
            "vat_type",
            "vat_number",
            "vat_date",
            "created_at",
        ]
        read_only_fields = fields


class VatInvoiceSerializer(RefuseReadOnlyMixin, serializers.Serializer):
    shown_by = ReceivableSerializer

    vat_type = serializers.ChoiceField(choices=Invoice.VatType.choices)
    vat_number = serializers.CharField(max_length=32, help_text="8 to 20 digits.")
    vat_date = serializers.DateField(required=False, allow_null=True, default=None, help_text="Today if not given.")


class WriteOffSerializer(serializers.ModelSerializer):
    state_label = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = WriteOff
        fields = ["id", "invoice", "amount", "reason", "state", "state_label", "created_at"]
        read_only_fields = fields


class WriteOffRequestSerializer(RefuseReadOnlyMixin, serializers.Serializer):
    shown_by = ReceivableSerializer

    amount = _money(help_text="The part of the open amount to write off.")
    reason = serializers.CharField(max_length=300, allow_blank=True)


class AgingTotalsSerializer(serializers.Serializer):
    buckets = serializers.DictField(
        child=_money(), help_text='Open amounts by age in days: "0-30", "31-60", "61-90", "90+".'
    )
    overdue = _money(help_text="The part past its due date.")
    total = _money()


class AgingRowSerializer(AgingTotalsSerializer):
    customer = serializers.IntegerField(source="customer_id")
    customer_name = serializers.CharField()


class AgingReportSerializer(serializers.Serializer):
    on = serializers.DateField()
    rows = AgingRowSerializer(many=True)
    total = AgingTotalsSerializer()


class AgingQuerySerializer(serializers.Serializer):
    on = serializers.DateField(required=False, help_text="Today if not given.")


@extend_schema_view(retrieve=extend_schema(responses={200: ReceivableSerializer, **READ_ERRORS}))
class ReceivableViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Receivables: finance sees all, a rep those of their own documents."""

    serializer_class = ReceivableSerializer
    queryset = Invoice.objects.none()  # for the schema; get_queryset asks the scope
    filterset_fields = ["state", "customer", "order", "delivery", "vat_type"]
    search_fields = ["number", "vat_number", "customer__name", "order__number"]
    ordering_fields = ["invoice_date", "due_date", "amount"]
    default_predicate = staticmethod(can_view_receivables)
    PREDICATES = {"issue": can_manage_receivables, "write_off": can_manage_receivables}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invoice.objects.none()
        invoices = Invoice.objects.select_related("customer", "order", "delivery", "owner")
        return _invoices_visible(self.request.user, invoices)

    @extend_schema(request=VatInvoiceSerializer, responses={200: ReceivableSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        """Record the VAT invoice (专票 / 普票) finance issued for the receivable."""
        invoice = self.get_object()
        data = VatInvoiceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        receivables.invoice_issue(by=request.user, invoice=invoice, **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=invoice.pk)).data)

    @extend_schema(request=WriteOffRequestSerializer, responses={201: WriteOffSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"], url_path="write-off")
    def write_off(self, request, pk=None):
        """Ask to write off part of the open amount; the approvers decide."""
        invoice = self.get_object()
        data = WriteOffRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        writeoff = receivables.writeoff_request(by=request.user, invoice=invoice, **data.validated_data)
        writeoff.refresh_from_db()
        return Response(WriteOffSerializer(writeoff).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[AgingQuerySerializer], responses={200: AgingReportSerializer, 400: ErrorSerializer})
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def aging(self, request):
        """Open receivables in the caller's scope by age (0–30, 31–60, 61–90, 90+ days), per customer."""
        params = AgingQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        on = params.validated_data.get("on") or timezone.localdate()
        rows, total = ar_aging(invoices=_invoices_visible(request.user, Invoice.objects.all()), on=on)
        return Response(AgingReportSerializer({"on": on, "rows": rows, "total": total}).data)


# --- payments ----------------------------------------------------------------------------------


class PaymentAllocationSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)

    class Meta:
        model = PaymentAllocation
        fields = ["id", "invoice", "invoice_number", "amount", "at"]
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    allocations = PaymentAllocationSerializer(many=True, read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "number",
            "customer",
            "customer_name",
            "received_on",
            "amount",
            "unallocated",
            "method",
            "reference",
            "allocations",
            "created_at",
        ]
        read_only_fields = fields


class AllocationInputSerializer(RefuseReadOnlyMixin, serializers.Serializer):
    shown_by = PaymentAllocationSerializer
    refused_extra = ("paid_amount", "open_amount")

    invoice = ScopedRelatedField(Invoice, _invoices_visible)
    amount = _money()


class AllocationsSerializer(RefuseReadOnlyMixin, serializers.Serializer):
    shown_by = PaymentSerializer
    refused_extra = ("paid_amount",)

    allocations = AllocationInputSerializer(many=True, required=False, help_text="To these receivables.")
    auto = serializers.BooleanField(required=False, default=False, help_text="Oldest due first, as far as it goes.")
    allocation_required = True  # a payment may be recorded without allocating it; an allocation not

    def validate(self, attrs):
        named, auto = bool(attrs.get("allocations")), attrs["auto"]
        if (named and auto) or (self.allocation_required and not named and not auto):
            raise serializers.ValidationError({"auto": [_("Either name the receivables or allocate automatically.")]})
        return attrs


class PaymentCreateSerializer(AllocationsSerializer):
    allocation_required = False
    customer = VisibleCustomerField()
    amount = _money()
    received_on = serializers.DateField(required=False, help_text="Today if not given.")
    method = serializers.ChoiceField(choices=Payment.Method.choices, required=False, default=Payment.Method.TRANSFER)
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


@extend_schema_view(retrieve=extend_schema(responses={200: PaymentSerializer, **READ_ERRORS}))
class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Money received; what is not allocated stays with the customer as credit."""

    serializer_class = PaymentSerializer
    queryset = Payment.objects.none()  # for the schema; get_queryset asks the scope
    filterset_fields = ["customer", "method", "received_on"]
    search_fields = ["number", "reference", "customer__name"]
    ordering_fields = ["received_on", "amount"]
    default_predicate = staticmethod(can_view_receivables)
    PREDICATES = {"create": can_manage_receivables, "allocate": can_manage_receivables}

    @staticmethod
    def payment_queryset():
        allocations = PaymentAllocation.objects.select_related("invoice")
        return Payment.objects.select_related("customer").prefetch_related(
            Prefetch("allocations", queryset=allocations)
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Payment.objects.none()
        return payments_in_scope(self.request.user, self.payment_queryset())

    def payment_response(self, payment, status_code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.payment_queryset().get(pk=payment.pk)).data, status=status_code)

    @extend_schema(
        request=PaymentCreateSerializer,
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
        responses={201: PaymentSerializer, 422: ErrorSerializer, **WRITE_ERRORS},
    )
    def create(self, request):
        """Record a payment; allocate it to named receivables, or oldest first (``auto``), or not."""
        return idempotent(request, "payments.create", lambda: self._create(request))

    def _create(self, request) -> Response:
        data = PaymentCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        allocations = [(item["invoice"], item["amount"]) for item in fields.pop("allocations", None) or ()]
        payment = receivables.payment_record(
            by=request.user, allocations=allocations or None, auto_allocate=fields.pop("auto"), **fields
        )
        return self.payment_response(payment, status.HTTP_201_CREATED)

    @extend_schema(request=AllocationsSerializer, responses={200: PaymentSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def allocate(self, request, pk=None):
        """Allocate what is left of the payment: to the receivables named, or oldest first."""
        payment = self.get_object()
        data = AllocationsSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        if data.validated_data["auto"]:
            receivables.payment_allocate_auto(by=request.user, payment=payment)
        else:
            allocations = [(item["invoice"], item["amount"]) for item in data.validated_data.get("allocations", [])]
            receivables.payment_allocate(by=request.user, payment=payment, allocations=allocations)
        return self.payment_response(payment)


# --- returns and credit notes ------------------------------------------------------------------


class ReturnLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="delivery_line.order_line.product.sku", read_only=True)
    lot_number = serializers.CharField(
        source="delivery_line.lot.lot_number", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = ReturnLine
        fields = ["id", "delivery_line", "sku", "lot_number", "quantity", "disposition", "amount"]
        read_only_fields = fields


class CustomerReturnSerializer(serializers.ModelSerializer):
    delivery_number = serializers.CharField(source="delivery.number", read_only=True)
    order = serializers.IntegerField(source="delivery.order_id", read_only=True)
    credit_note_number = serializers.CharField(
        source="credit_note.number", read_only=True, default=None, allow_null=True
    )
    lines = ReturnLineSerializer(many=True, read_only=True)

    class Meta:
        model = CustomerReturn
        fields = [
            "id",
            "number",
            "delivery",
            "delivery_number",
            "order",
            "reason",
            "received_on",
            "total",
            "credit_note_number",
            "lines",
            "created_at",
        ]
        read_only_fields = fields


class ReturnLineInputSerializer(RefuseReadOnlyMixin, serializers.Serializer):
    shown_by = ReturnLineSerializer

    delivery_line = serializers.IntegerField(min_value=1)
    quantity = _quantity()
    disposition = serializers.ChoiceField(choices=ReturnLine.Disposition.choices)


class ReturnCreateSerializer(RefuseReadOnlyMixin, serializers.Serializer):
    shown_by = CustomerReturnSerializer

    delivery = ScopedRelatedField(Delivery, _deliveries_visible)
    reason = serializers.CharField(max_length=300, allow_blank=True)
    received_on = serializers.DateField(required=False, allow_null=True, default=None, help_text="Today if not given.")
    lines = ReturnLineInputSerializer(many=True)

    def validate(self, attrs):
        lines = {line.pk: line for line in attrs["delivery"].lines.all()}
        unknown = [index for index, item in enumerate(attrs["lines"]) if item["delivery_line"] not in lines]
        if unknown:
            message = _("Not a line of this delivery.")
            raise serializers.ValidationError({f"lines.{index}.delivery_line": [message] for index in unknown})
        attrs["lines"] = [
            (lines[item["delivery_line"]], item["quantity"], item["disposition"]) for item in attrs["lines"]
        ]
        return attrs


@extend_schema_view(retrieve=extend_schema(responses={200: CustomerReturnSerializer, **READ_ERRORS}))
class ReturnViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Goods back from customers, to their lots, with the credit note that follows."""

    serializer_class = CustomerReturnSerializer
    queryset = CustomerReturn.objects.none()  # for the schema; get_queryset asks the scope
    filterset_fields = ["delivery", "received_on"]
    search_fields = ["number", "delivery__number", "reason"]
    ordering_fields = ["received_on", "total"]
    PREDICATES = {"create": can_manage_returns}

    @staticmethod
    def return_queryset():
        lines = ReturnLine.objects.select_related("delivery_line__order_line__product", "delivery_line__lot")
        return CustomerReturn.objects.select_related("delivery", "credit_note").prefetch_related(
            Prefetch("lines", queryset=lines)
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CustomerReturn.objects.none()
        visible = _deliveries_visible(self.request.user, Delivery.objects.all())
        return self.return_queryset().filter(delivery__in=visible)

    @extend_schema(request=ReturnCreateSerializer, responses={201: CustomerReturnSerializer, **WRITE_ERRORS})
    def create(self, request):
        """Record goods back from a shipped delivery: restocked or scrapped, credited."""
        data = ReturnCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        customer_return = receivables.return_create(by=request.user, **data.validated_data)
        body = self.get_serializer(self.return_queryset().get(pk=customer_return.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)


class CreditNoteSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    order_number = serializers.StringRelatedField(source="order", read_only=True)
    invoice_number = serializers.CharField(source="invoice.number", read_only=True, default=None, allow_null=True)

    class Meta:
        model = CreditNote
        fields = [
            "id",
            "number",
            "customer",
            "customer_name",
            "order",
            "order_number",
            "invoice",
            "invoice_number",
            "customer_return",
            "amount",
            "applied_amount",
            "unapplied",
            "reason",
            "created_at",
        ]
        read_only_fields = fields


class CreditNoteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Credit notes of the orders whose receivables the caller sees."""

    serializer_class = CreditNoteSerializer
    queryset = CreditNote.objects.none()  # for the schema; get_queryset asks the scope
    filterset_fields = ["customer", "order", "invoice"]
    search_fields = ["number", "reason", "customer__name"]
    ordering_fields = ["created_at", "amount"]
    default_predicate = staticmethod(can_view_receivables)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CreditNote.objects.none()
        orders = receivables_in_scope(self.request.user, SalesOrder.objects.all())
        return CreditNote.objects.select_related("customer", "order", "invoice").filter(order__in=orders)


# --- reconciliation ----------------------------------------------------------------------------


class ReconciliationRowSerializer(serializers.Serializer):
    order = serializers.IntegerField(source="order.pk")
    order_number = serializers.CharField(source="order.__str__")
    customer = serializers.IntegerField(source="order.customer_id")
    customer_name = serializers.CharField(source="order.customer.name")
    order_state = serializers.CharField(source="order.state", help_text="The order's state code.")
    order_state_label = serializers.CharField(source="order.get_state_display")
    ordered = _money()
    delivered = _money()
    invoiced = _money()
    credited = _money()
    paid = _money()
    written_off = _money()
    reasons = serializers.ListField(child=serializers.CharField(), help_text="Why the amounts disagree.")


class ReconciliationViewSet(ScopedViewSet):
    """Orders whose ordered, delivered, invoiced and paid amounts disagree, with why."""

    serializer_class = ReconciliationRowSerializer
    filter_backends = []
    # as the reconciliation page: finance and the approvers, not everyone who sees receivables
    default_predicate = staticmethod(can_reconcile)

    def list(self, request):
        orders = receivables_in_scope(request.user, SalesOrder.objects.all())
        page = self.paginate_queryset(reconciliation(orders=orders))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
