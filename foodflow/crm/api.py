"""REST API of the CRM: customers and their contacts, leads and their conversion, activities and
overdue revisits, development plans, market research. Reads start from the scoped selectors, so
another team's customer is not found (404) here as on the pages; writes call one service each,
and the services check the object-level rules (403)."""

from django.db.models import prefetch_related_objects
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404  # a malformed id is a 404, not an error
from rest_framework.response import Response
from rest_framework.views import APIView

from foodflow.accounts.models import OrgUnit, User
from foodflow.core.api import BoundedTextMixin, ErrorSerializer, allow, id_field
from foodflow.core.vocab import Channel, Tier

from . import services
from .models import (
    Activity,
    Competitor,
    Contact,
    Customer,
    DemandRecord,
    DevelopmentPlan,
    IntelEntry,
    Lead,
    ResearchReport,
)
from .permissions import (
    can_create_customers,
    can_manage_market,
    can_manage_plans,
    can_see_phone,
    can_set_credit,
    can_view_customers,
    can_view_market,
    mask_phone,
)
from .selectors import (
    CUSTOMER_SORTS,
    activities_visible,
    customers_search,
    customers_visible,
    leads_visible,
    plan_progress,
    plans_visible,
    revisits_overdue,
    stale_records,
)

WRITE_ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}
ACTION_ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


def _active_users():
    return User.objects.filter(is_active=True)


def _no_unique_validators(*names: str) -> dict:
    # The services check uniqueness themselves and answer with a stable code (credit_code_taken).
    return {name: {"validators": []} for name in names}


class VisibleCustomerField(serializers.PrimaryKeyRelatedField):
    """A customer id among those the caller may see: another team's customer "does not exist",
    as it does on retrieve (its existence is not disclosed by a 403)."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Customer.objects.all(), **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return customers_visible(request.user) if request else Customer.objects.none()


class VisibleLeadField(serializers.PrimaryKeyRelatedField):
    def __init__(self, **kwargs):
        super().__init__(queryset=Lead.objects.all(), **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return leads_visible(request.user) if request else Lead.objects.none()


class MaskedPhoneMixin:
    """Whoever may see the customer but not call it (an analyst) gets ``138****5678``.
    Without a request in the context the phone is masked: the safe default."""

    def phone_holder(self, instance):
        """The customer (or lead) whose scope decides whether the phone shows."""
        return instance

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if not (request and can_see_phone(request.user, self.phone_holder(instance))):
            for field in ("phone", "wechat"):  # a WeChat id is often the phone number
                if data.get(field):
                    data[field] = mask_phone(data[field])
        return data


# --- customers -------------------------------------------------------------------------------


class CustomerSerializer(BoundedTextMixin, serializers.ModelSerializer):
    """Read and write shape of a customer. Tier, credit and payment terms have their own actions."""

    region = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.all())
    region_code = serializers.CharField(source="region.code", read_only=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=_active_users(), default=serializers.CurrentUserDefault(), help_text="The caller if not given."
    )
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=32), required=False)
    confirm_duplicate = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text="Save although a customer with a similar name exists (after a 409 possible_duplicate).",
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "code",
            "name",
            "credit_code",
            "channel",
            "region",
            "region_code",
            "owner",
            "owner_name",
            "status",
            "tier",
            "tier_overridden",
            "tier_reason",
            "credit_limit",
            "payment_terms_days",
            "invoice_per_order",
            "min_shelf_life_days",
            "min_shelf_life_percent",
            "invoice_title",
            "invoice_bank",
            "invoice_account",
            "invoice_address_phone",
            "preferences",
            "tags",
            "first_order_at",
            "created_at",
            "updated_at",
            "confirm_duplicate",
        ]
        read_only_fields = [
            "code",
            "tier",
            "tier_overridden",
            "tier_reason",
            "credit_limit",
            "payment_terms_days",
            "invoice_per_order",
            "first_order_at",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = _no_unique_validators("credit_code")


class CustomerQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Search in name, code, contacts' names; the exact credit code.",
    )
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    tier = serializers.ChoiceField(choices=Tier.choices, required=False)
    status = serializers.ChoiceField(choices=Customer.Status.choices, required=False)
    region = id_field(required=False)
    owner = id_field(required=False)
    tag = serializers.CharField(required=False, allow_blank=True, max_length=32)
    ordering = serializers.ChoiceField(choices=sorted(CUSTOMER_SORTS), required=False)


class CustomerCreditSerializer(serializers.Serializer):
    credit_limit = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    payment_terms_days = serializers.IntegerField(min_value=0, max_value=365)
    invoice_per_order = serializers.BooleanField(
        required=False, help_text="One receivable per order instead of one per delivery."
    )


class CustomerTierSerializer(serializers.Serializer):
    tier = serializers.ChoiceField(choices=Tier.choices)
    reason = serializers.CharField(max_length=200, help_text="Why the tier is set by hand.")


class ContactSerializer(MaskedPhoneMixin, serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "customer", "name", "role", "title", "phone", "email", "wechat", "is_primary", "updated_at"]
        read_only_fields = ["customer", "updated_at"]

    def phone_holder(self, contact):
        return contact.customer


CONTACT_ID = OpenApiParameter("contact_id", int, OpenApiParameter.PATH)


class CustomerViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = CustomerSerializer
    queryset = Customer.objects.none()  # for the schema; get_queryset asks the selectors
    # the selector searches, filters and sorts within the caller's scope
    filter_backends = []

    PREDICATES = {
        "create": can_create_customers,
        "partial_update": can_create_customers,
        "contact": can_create_customers,
        "credit": can_set_credit,
        "tier": can_manage_plans,
    }

    def get_permissions(self):
        predicate = self.PREDICATES.get(self.action, can_view_customers)
        if self.action == "contacts" and self.request.method == "POST":
            predicate = can_create_customers
        return [allow(predicate)()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Customer.objects.none()
        if self.action != "list":
            return customers_visible(self.request.user)
        params = CustomerQuerySerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        return customers_search(
            self.request.user,
            query=data.get("q", ""),
            channel=data.get("channel", ""),
            tier=data.get("tier", ""),
            status=data.get("status", ""),
            region_id=data.get("region"),
            owner_id=data.get("owner"),
            tag=data.get("tag", ""),
            sort=data.get("ordering", "name"),
        )

    @extend_schema(
        parameters=[CustomerQuerySerializer], responses={200: CustomerSerializer(many=True), 400: ErrorSerializer}
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={201: CustomerSerializer, **WRITE_ERRORS})
    def create(self, request, *args, **kwargs):
        """A similar name answers 409 ``possible_duplicate``: check, then send ``confirm_duplicate``."""
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.customer_create(by=self.request.user, **serializer.validated_data)

    @extend_schema(request=CustomerSerializer, responses={200: CustomerSerializer, **WRITE_ERRORS})
    def partial_update(self, request, pk=None):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = {key: value for key, value in serializer.validated_data.items() if key != "confirm_duplicate"}
        customer = services.customer_update(by=request.user, customer=serializer.instance, **fields)
        return Response(self.get_serializer(customer).data)

    @extend_schema(request=CustomerCreditSerializer, responses={200: CustomerSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def credit(self, request, pk=None):
        """Set the credit limit and the payment terms (finance)."""
        customer = self.get_object()  # out of scope: 404 before the body is read
        data = CustomerCreditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = services.customer_set_credit(by=request.user, customer=customer, **data.validated_data)
        return Response(self.get_serializer(customer).data)

    @extend_schema(request=CustomerTierSerializer, responses={200: CustomerSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def tier(self, request, pk=None):
        """Set the tier by hand, with the reason; the monthly recomputation leaves it alone."""
        customer = self.get_object()  # out of scope: 404 before the body is read
        data = CustomerTierSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = services.customer_override_tier(by=request.user, customer=customer, **data.validated_data)
        return Response(self.get_serializer(customer).data)

    @extend_schema(methods=["get"], responses={200: ContactSerializer(many=True), 404: ErrorSerializer})
    @extend_schema(methods=["post"], request=ContactSerializer, responses={201: ContactSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def contacts(self, request, pk=None):
        """The customer's contacts (phones masked for whom may not call them), or add one."""
        customer = self.get_object()
        if request.method == "GET":
            contacts = customer.contacts.all()  # the related manager sets contact.customer: no query each
            return Response(ContactSerializer(contacts, many=True, context=self.get_serializer_context()).data)
        data = ContactSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        contact = services.contact_save(by=request.user, customer=customer, **data.validated_data)
        return Response(ContactSerializer(contact, context=data.context).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[CONTACT_ID], request=ContactSerializer, responses={200: ContactSerializer, **WRITE_ERRORS}
    )
    @action(detail=True, methods=["patch"], url_path=r"contacts/(?P<contact_id>[0-9]+)")
    def contact(self, request, pk=None, contact_id=None):
        customer = self.get_object()
        contact = get_object_or_404(customer.contacts.all(), pk=contact_id)
        data = ContactSerializer(contact, data=request.data, partial=True, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        contact = services.contact_save(by=request.user, customer=customer, contact=contact, **data.validated_data)
        return Response(ContactSerializer(contact, context=data.context).data)


# --- leads -----------------------------------------------------------------------------------


class LeadSerializer(BoundedTextMixin, MaskedPhoneMixin, serializers.ModelSerializer):
    region = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.all())
    region_code = serializers.CharField(source="region.code", read_only=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=_active_users(), default=serializers.CurrentUserDefault(), help_text="The caller if not given."
    )
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    customer_code = serializers.CharField(source="customer.code", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            "company",
            "credit_code",
            "contact_name",
            "phone",
            "source",
            "channel",
            "region",
            "region_code",
            "owner",
            "owner_name",
            "stage",
            "notes",
            "lost_reason",
            "customer",
            "customer_code",
            "created_at",
        ]
        read_only_fields = ["stage", "lost_reason", "customer", "created_at"]


class LeadStepSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class LeadLoseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="Why the lead was lost.")


class LeadConvertSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, help_text="The lead's company if not given.")
    credit_code = serializers.CharField(
        max_length=18, required=False, allow_blank=True, help_text="The lead's credit code if not given."
    )
    confirm_duplicate = serializers.BooleanField(
        required=False, default=False, help_text="Convert although a customer with a similar name exists."
    )


class LeadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = LeadSerializer
    queryset = Lead.objects.none()  # for the schema; get_queryset asks the selector
    filterset_fields = ["stage", "source", "channel", "region", "owner"]
    search_fields = ["company", "contact_name", "credit_code"]
    ordering_fields = ["created_at", "company"]

    def get_permissions(self):
        writes = self.action in ("create", "contact", "qualify", "lose", "convert")
        return [allow(can_create_customers if writes else can_view_customers)()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Lead.objects.none()
        # the owner's unit decides whether the phone shows (``can_see_phone``): loaded with the page
        return leads_visible(self.request.user).select_related("owner__org_unit")

    @extend_schema(responses={201: LeadSerializer, **WRITE_ERRORS})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.lead_create(by=self.request.user, **serializer.validated_data)

    def _step(self, request, service, serializer_class):
        lead = self.get_object()  # out of scope: 404 before the body is read
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        lead = service(by=request.user, lead=lead, **data.validated_data)
        return Response(self.get_serializer(lead).data)

    @extend_schema(request=LeadStepSerializer, responses={200: LeadSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def contact(self, request, pk=None):
        return self._step(request, services.lead_contact, LeadStepSerializer)

    @extend_schema(request=LeadStepSerializer, responses={200: LeadSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def qualify(self, request, pk=None):
        return self._step(request, services.lead_qualify, LeadStepSerializer)

    @extend_schema(request=LeadLoseSerializer, responses={200: LeadSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def lose(self, request, pk=None):
        return self._step(request, services.lead_lose, LeadLoseSerializer)

    @extend_schema(request=LeadConvertSerializer, responses={201: CustomerSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def convert(self, request, pk=None):
        """Make the customer of a qualified lead; answers the customer. A similar name: 409
        ``possible_duplicate`` until ``confirm_duplicate``."""
        lead = self.get_object()
        data = LeadConvertSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = services.lead_convert(by=request.user, lead=lead, **data.validated_data)
        body = CustomerSerializer(customer, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)


# --- activities and revisits -----------------------------------------------------------------


class ActivitySerializer(BoundedTextMixin, serializers.ModelSerializer):
    customer = VisibleCustomerField(required=False, allow_null=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True, default=None, allow_null=True)
    lead = VisibleLeadField(required=False, allow_null=True)
    lead_company = serializers.CharField(source="lead.company", read_only=True, default=None, allow_null=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)

    class Meta:
        model = Activity
        fields = [
            "id",
            "kind",
            "customer",
            "customer_name",
            "lead",
            "lead_company",
            "owner",
            "owner_name",
            "happened_on",
            "subject",
            "outcome",
            "next_revisit",
            "revisit_done_at",
            "created_at",
        ]
        read_only_fields = ["owner", "revisit_done_at", "created_at"]


class ActivityViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Visits, calls, tastings… of the customers and leads the caller may see, newest first."""

    serializer_class = ActivitySerializer
    queryset = Activity.objects.none()  # for the schema; get_queryset asks the selector
    filterset_fields = ["kind", "customer", "lead", "owner"]
    search_fields = ["subject", "outcome"]
    ordering_fields = ["happened_on", "next_revisit", "created_at"]

    def get_permissions(self):
        return [allow(can_create_customers if self.action == "create" else can_view_customers)()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Activity.objects.none()
        return activities_visible(self.request.user).order_by("-happened_on", "-id")

    @extend_schema(responses={201: ActivitySerializer, **WRITE_ERRORS})
    def create(self, request, *args, **kwargs):
        """Log an activity with a customer or a lead; it follows up their open revisits."""
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.activity_log(by=self.request.user, **serializer.validated_data)


class RevisitQuerySerializer(serializers.Serializer):
    mine = serializers.BooleanField(required=False, default=False, help_text="Only the caller's own activities.")


class RevisitViewSet(viewsets.GenericViewSet):
    """Revisits whose date has come and that no later activity has followed up, oldest first."""

    serializer_class = ActivitySerializer
    permission_classes = [allow(can_view_customers)]
    filter_backends = []

    @extend_schema(
        parameters=[RevisitQuerySerializer], responses={200: ActivitySerializer(many=True), 400: ErrorSerializer}
    )
    def list(self, request):
        params = RevisitQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        page = self.paginate_queryset(revisits_overdue(request.user, mine_only=params.validated_data["mine"]))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# --- development plans -----------------------------------------------------------------------


class PlanProgressSerializer(serializers.Serializer):
    new_customers = serializers.IntegerField()
    new_customers_rate = serializers.IntegerField(help_text="Percent of the target.")
    first_orders = serializers.IntegerField()
    first_orders_rate = serializers.IntegerField(help_text="Percent of the target.")


class DevelopmentPlanSerializer(serializers.ModelSerializer):
    rep = serializers.PrimaryKeyRelatedField(queryset=_active_users(), required=False, allow_null=True)
    rep_name = serializers.CharField(source="rep.display_name", read_only=True, default=None, allow_null=True)
    team = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.all(), required=False, allow_null=True)
    team_code = serializers.CharField(source="team.code", read_only=True, default=None, allow_null=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = DevelopmentPlan
        fields = [
            "id",
            "name",
            "rep",
            "rep_name",
            "team",
            "team_code",
            "channel",
            "period_start",
            "period_end",
            "target_new_customers",
            "target_first_orders",
            "progress",
        ]

    @extend_schema_field(PlanProgressSerializer)
    def get_progress(self, plan) -> dict:
        return PlanProgressSerializer(plan_progress(plan)).data


class DevelopmentPlanViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Targets of new customers and first orders for a rep or a team, with the progress so far
    (two counts per plan: the page size bounds them)."""

    serializer_class = DevelopmentPlanSerializer
    queryset = DevelopmentPlan.objects.none()  # for the schema; get_queryset asks the selector
    filterset_fields = ["rep", "team", "channel"]
    ordering_fields = ["period_start", "period_end", "name"]

    def get_permissions(self):
        return [allow(can_manage_plans if self.action == "create" else can_view_customers)()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DevelopmentPlan.objects.none()
        return plans_visible(self.request.user).order_by("-period_start", "name", "pk")

    @extend_schema(responses={201: DevelopmentPlanSerializer, **WRITE_ERRORS})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.plan_create(by=self.request.user, **serializer.validated_data)


# --- market research -------------------------------------------------------------------------


class CompetitorSerializer(BoundedTextMixin, serializers.ModelSerializer):
    class Meta:
        model = Competitor
        fields = ["id", "name", "products", "strengths", "positioning", "updated_at"]
        read_only_fields = ["updated_at"]


class MarketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Market research is read by whoever may view it and written by whoever may record it."""

    def get_permissions(self):
        writes = self.action in ("create", "partial_update")
        return [allow(can_manage_market if writes else can_view_market)()]

    def save_record(self, serializer, record=None):
        """Call the one service that creates (``record`` None) or updates the record."""
        raise NotImplementedError

    def perform_create(self, serializer):
        serializer.instance = self.save_record(serializer)

    def partial_update(self, request, pk=None):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return Response(self.get_serializer(self.save_record(serializer, record=serializer.instance)).data)


def _market_schema(serializer_class):
    return extend_schema_view(
        create=extend_schema(responses={201: serializer_class, **WRITE_ERRORS}),
        partial_update=extend_schema(request=serializer_class, responses={200: serializer_class, **WRITE_ERRORS}),
    )


@_market_schema(CompetitorSerializer)
class CompetitorViewSet(MarketViewSet):
    queryset = Competitor.objects.order_by("name")
    serializer_class = CompetitorSerializer
    filterset_fields = ["positioning"]
    search_fields = ["name", "products"]
    ordering_fields = ["name", "updated_at"]

    def save_record(self, serializer, record=None):
        fields = dict(serializer.validated_data)
        name = fields.pop("name", record.name if record else "")
        return services.competitor_save(by=self.request.user, name=name, competitor=record, **fields)


class MarketRecordSerializer(BoundedTextMixin, serializers.ModelSerializer):
    """What every research record has: who keeps it current, how often, and when it goes stale.
    Saving a record refreshes it (today if ``refreshed_on`` is not given)."""

    owner = serializers.PrimaryKeyRelatedField(
        queryset=_active_users(), required=False, help_text="Who keeps it current; the caller if not given."
    )
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    refreshed_on = serializers.DateField(required=False, help_text="Today if not given.")

    BASE_FIELDS = ["id", "owner", "owner_name", "refresh_days", "refreshed_on", "stale_on", "attachment", "updated_at"]

    class Meta:
        read_only_fields = ["stale_on", "attachment", "updated_at"]


class IntelEntrySerializer(MarketRecordSerializer):
    competitor_name = serializers.CharField(source="competitor.name", read_only=True)
    region_code = serializers.CharField(source="region.code", read_only=True)

    class Meta(MarketRecordSerializer.Meta):
        model = IntelEntry
        fields = [
            *MarketRecordSerializer.BASE_FIELDS,
            "competitor",
            "competitor_name",
            "product",
            "observed_price",
            "unit",
            "channel",
            "region",
            "region_code",
            "observed_on",
            "source",
            "notes",
        ]


class DemandRecordSerializer(MarketRecordSerializer):
    customer = VisibleCustomerField(required=False, allow_null=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True, default=None, allow_null=True)

    class Meta(MarketRecordSerializer.Meta):
        model = DemandRecord
        fields = [
            *MarketRecordSerializer.BASE_FIELDS,
            "customer",
            "customer_name",
            "who",
            "need",
            "volume",
            "timing",
            "price_sensitivity",
            "notes",
        ]


class ResearchReportSerializer(MarketRecordSerializer):
    class Meta(MarketRecordSerializer.Meta):
        model = ResearchReport
        fields = [*MarketRecordSerializer.BASE_FIELDS, "title", "period_start", "period_end", "summary"]


class MarketRecordViewSet(MarketViewSet):
    kind = ""  # the key of services.MARKET_MODELS

    def save_record(self, serializer, record=None):
        return services.market_record_save(
            by=self.request.user, kind=self.kind, record=record, **serializer.validated_data
        )


@_market_schema(IntelEntrySerializer)
class IntelEntryViewSet(MarketRecordViewSet):
    kind = "intel"
    queryset = IntelEntry.objects.select_related("competitor", "region", "owner").order_by("-observed_on", "-id")
    serializer_class = IntelEntrySerializer
    filterset_fields = ["competitor", "channel", "region", "owner"]
    search_fields = ["product", "competitor__name", "source", "notes"]
    ordering_fields = ["observed_on", "stale_on", "observed_price"]


@_market_schema(DemandRecordSerializer)
class DemandRecordViewSet(MarketRecordViewSet):
    kind = "demand"
    queryset = DemandRecord.objects.select_related("customer", "owner").order_by("-refreshed_on", "-id")
    serializer_class = DemandRecordSerializer
    filterset_fields = ["customer", "price_sensitivity", "owner"]
    search_fields = ["who", "need", "notes"]
    ordering_fields = ["refreshed_on", "stale_on"]


@_market_schema(ResearchReportSerializer)
class ResearchReportViewSet(MarketRecordViewSet):
    kind = "report"
    queryset = ResearchReport.objects.select_related("owner").order_by("-period_end", "-id")
    serializer_class = ResearchReportSerializer
    filterset_fields = ["owner"]
    search_fields = ["title", "summary"]
    ordering_fields = ["period_end", "stale_on"]


class StaleRecordSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.SerializerMethodField()
    owner = serializers.IntegerField(source="owner_id")
    owner_name = serializers.CharField(source="owner.display_name")
    refreshed_on = serializers.DateField()
    stale_on = serializers.DateField()

    def get_title(self, record) -> str:
        return str(record)


class StaleRecordsSerializer(serializers.Serializer):
    intel = StaleRecordSerializer(many=True)
    demand = StaleRecordSerializer(many=True)
    report = StaleRecordSerializer(many=True)


class StaleQuerySerializer(serializers.Serializer):
    mine = serializers.BooleanField(required=False, default=False, help_text="Only the records the caller keeps.")


class MarketStaleView(APIView):
    """Research records past their refresh period, by kind, the longest stale first."""

    permission_classes = [allow(can_view_market)]

    @extend_schema(parameters=[StaleQuerySerializer], responses={200: StaleRecordsSerializer, 400: ErrorSerializer})
    def get(self, request):
        params = StaleQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        found = stale_records(request.user, owner=request.user if params.validated_data["mine"] else None)
        prefetch_related_objects(found["intel"], "competitor")  # an entry's title names its competitor
        return Response(StaleRecordsSerializer(found).data)
