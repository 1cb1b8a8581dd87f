"""REST API of the feedback channel: suggestions (list, read, submit), the manager's actions
on one (take under review, decide, mark implemented), and the monthly summary.

Everyone with the feedback area reads and submits; taking under review, deciding, marking
implemented and the summary need the permission to manage suggestions (403 otherwise).
Every write parses its input and calls one service of ``feedback``, which checks the rules
(400 with a code, 409 for an action the state does not allow)."""

from __future__ import annotations

from datetime import date, datetime

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from foodflow.accounts.models import User
from foodflow.contracts.api import EnumField
from foodflow.core.api import QUERY_MAX_LENGTH, BoundedTextMixin, ErrorSerializer, id_field
from foodflow.crm.api import VisibleCustomerField
from foodflow.sales.api import (
    ACTION_ERRORS,
    IDEMPOTENCY_KEY,
    IDEMPOTENT_REPLAYED,
    READ_ERRORS,
    WRITE_ERRORS,
    RefuseReadOnlyMixin,
    ScopedViewSet,
    idempotent,
)

from . import feedback
from .models import Suggestion
from .permissions import can_manage_suggestions, can_suggest
from .selectors_feedback import (
    DEFAULT_SORT,
    SUGGESTION_SORTS,
    last_month,
    suggestion_timeline,
    suggestions_filtered,
    suggestions_listed,
)
from .workflows import SUGGESTION_FLOW

MONTH_FORMAT = "%Y-%m"
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
SORTS = [key for name in SUGGESTION_SORTS for key in (name, f"-{name}")]


def _source_field(**kwargs):
    return EnumField(Suggestion.Source.choices, enum_name="SuggestionSourceEnum", **kwargs)


def _category_field(**kwargs):
    return EnumField(Suggestion.Category.choices, enum_name="SuggestionCategoryEnum", **kwargs)


# --- what is shown ----------------------------------------------------------------------------------


class SuggestionTimelineSerializer(serializers.Serializer):
    action = serializers.CharField(help_text='"create", or the workflow action that changed the state.')
    label = serializers.CharField()
    state = EnumField(SUGGESTION_FLOW.choices(), enum_name="SuggestionStateEnum")
    state_label = serializers.CharField()
    at = serializers.DateTimeField()
    by = serializers.IntegerField(source="by.pk", default=None, allow_null=True)
    by_name = serializers.CharField(source="by.display_name", default=None, allow_null=True)


SUGGESTION_FIELDS = [
    "id",
    "number",
    "source",
    "source_label",
    "category",
    "category_label",
    "title",
    "customer",
    "customer_name",
    "contact_name",
    "created_by",
    "created_by_name",
    "created_at",
    "owner",
    "owner_name",
    "state",
    "state_label",
    "decided_at",
    "implemented_at",
]


class SuggestionSerializer(serializers.ModelSerializer):
    """A row of the suggestion list."""

    source = _source_field(read_only=True)
    source_label = serializers.CharField(source="get_source_display", read_only=True)
    category = _category_field(read_only=True)
    category_label = serializers.CharField(source="get_category_display", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True, default=None, allow_null=True)
    created_by_name = serializers.CharField(
        source="created_by.display_name", read_only=True, default=None, allow_null=True
    )
    owner_name = serializers.CharField(source="owner.display_name", read_only=True, default=None, allow_null=True)
    state = EnumField(SUGGESTION_FLOW.choices(), enum_name="SuggestionStateEnum", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = Suggestion
        fields = SUGGESTION_FIELDS
        read_only_fields = fields


class SuggestionDetailSerializer(SuggestionSerializer):
    """One suggestion with its text, the decision and the changes of state."""

    timeline = serializers.SerializerMethodField(help_text="The changes of state, oldest first.")

    class Meta:
        model = Suggestion
        fields = [*SUGGESTION_FIELDS, "text", "decision", "timeline"]
        read_only_fields = fields

    @extend_schema_field(SuggestionTimelineSerializer(many=True))
    def get_timeline(self, suggestion):
        return SuggestionTimelineSerializer(suggestion_timeline(suggestion), many=True).data


class SummaryCountSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class SuggestionSummarySerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM.")
    received = serializers.IntegerField(help_text="Submitted during the month.")
    by_category = SummaryCountSerializer(many=True, help_text="Received, per category (every category).")
    by_source = SummaryCountSerializer(many=True, help_text="Received, staff and customers.")
    accepted = serializers.IntegerField(help_text="Accepted during the month (implemented since or not).")
    rejected = serializers.IntegerField(help_text="Rejected during the month.")
    implemented = serializers.IntegerField(help_text="Marked implemented during the month.")
    waiting = serializers.IntegerField(help_text="Received by the month's end and not decided by then.")
    decisions = SuggestionSerializer(many=True, help_text="Decided during the month, in the order decided.")


# --- what the caller sends --------------------------------------------------------------------------


class SuggestionSubmitSerializer(RefuseReadOnlyMixin, serializers.Serializer):
    """A suggestion of the caller, or one a customer gave them (``source`` customer, with the
    customer or a contact named)."""

    shown_by = SuggestionDetailSerializer

    source = _source_field(required=False, default=Suggestion.Source.STAFF)
    category = _category_field()
    title = serializers.CharField(max_length=120, allow_blank=True)
    text = serializers.CharField(max_length=4000, allow_blank=True)
    customer = VisibleCustomerField(required=False, allow_null=True, default=None)
    contact_name = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class SuggestionReviewSerializer(serializers.Serializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="Who sees it to a decision (someone who may decide suggestions); the caller if not given.",
    )


class SuggestionDecideSerializer(BoundedTextMixin, serializers.Serializer):
    accept = serializers.BooleanField(help_text="true: accepted; false: rejected.")
    decision = serializers.CharField(allow_blank=True, help_text="The decision and why (required).")


class SuggestionImplementedSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=2000, allow_blank=True, required=False, default="", help_text="Added to the decision."
    )


class SuggestionQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=QUERY_MAX_LENGTH, default="", help_text="Number, title or text."
    )
    state = serializers.ChoiceField(
        choices=[("open", "open"), *SUGGESTION_FLOW.choices()],
        required=False,
        allow_blank=True,
        default="",
        help_text='A state, or "open": new or under review.',
    )
    category = serializers.ChoiceField(
        choices=Suggestion.Category.choices, required=False, allow_blank=True, default=""
    )
    source = serializers.ChoiceField(choices=Suggestion.Source.choices, required=False, allow_blank=True, default="")
    owner = id_field(required=False)
    sort = serializers.ChoiceField(choices=SORTS, required=False, default=DEFAULT_SORT)


class SummaryQuerySerializer(serializers.Serializer):
    month = serializers.RegexField(MONTH_PATTERN, required=False, help_text="YYYY-MM; last month if not given.")

    def validate_month(self, value: str) -> date:
        return datetime.strptime(value, MONTH_FORMAT).date()


# --- the viewset ------------------------------------------------------------------------------------

MANAGE_ACTIONS = ("review", "decide", "implemented", "summary")


@extend_schema_view(retrieve=extend_schema(responses={200: SuggestionDetailSerializer, **READ_ERRORS}))
class SuggestionViewSet(mixins.RetrieveModelMixin, ScopedViewSet):
    """Suggestions from staff and customers, newest first, with their decisions."""

    serializer_class = SuggestionDetailSerializer
    queryset = Suggestion.objects.none()  # for the schema; get_queryset reads them
    filter_backends = []  # the list's own filters
    default_predicate = staticmethod(can_suggest)
    PREDICATES = dict.fromkeys(MANAGE_ACTIONS, can_manage_suggestions)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Suggestion.objects.none()
        return suggestions_listed()

    def suggestion_response(self, suggestion, status_code=status.HTTP_200_OK) -> Response:
        """The suggestion as it is now (read again: services return bare rows)."""
        return Response(SuggestionDetailSerializer(self.get_queryset().get(pk=suggestion.pk)).data, status=status_code)

    def step(self, request, service, serializer_class) -> Response:
        """An action: parse the body, call the one service, answer the suggestion."""
        suggestion = self.get_object()
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        service(by=request.user, suggestion=suggestion, **data.validated_data)
        return self.suggestion_response(suggestion)

    @extend_schema(
        parameters=[SuggestionQuerySerializer],
        responses={200: SuggestionSerializer(many=True), 400: ErrorSerializer},
    )
    def list(self, request):
        params = SuggestionQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        values = dict(params.validated_data)
        sort = values.pop("sort")
        ordering = SUGGESTION_SORTS[sort.lstrip("-")]
        if sort.startswith("-"):
            ordering = tuple(f"-{name}" for name in ordering)
        suggestions = suggestions_filtered(self.get_queryset(), **values).order_by(*ordering)
        page = self.paginate_queryset(suggestions)
        return self.get_paginated_response(SuggestionSerializer(page, many=True).data)

    @extend_schema(
        request=SuggestionSubmitSerializer,
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
        responses={201: SuggestionDetailSerializer, 422: ErrorSerializer, **WRITE_ERRORS},
    )
    def create(self, request):
        """Submit a suggestion; it starts new, waiting to be taken under review."""
        return idempotent(request, "suggestions.create", lambda: self._create(request))

    def _create(self, request) -> Response:
        data = SuggestionSubmitSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        suggestion = feedback.suggestion_submit(by=request.user, **data.validated_data)
        return self.suggestion_response(suggestion, status.HTTP_201_CREATED)

    @extend_schema(request=SuggestionReviewSerializer, responses={200: SuggestionDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """Take it under review; the owner sees it to a decision."""
        return self.step(request, feedback.suggestion_review, SuggestionReviewSerializer)

    @extend_schema(request=SuggestionDecideSerializer, responses={200: SuggestionDetailSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """Accept or reject it, with the decision and why."""
        return self.step(request, feedback.suggestion_decide, SuggestionDecideSerializer)

    @extend_schema(
        request=SuggestionImplementedSerializer, responses={200: SuggestionDetailSerializer, **ACTION_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def implemented(self, request, pk=None):
        """An accepted suggestion is done."""
        return self.step(request, feedback.suggestion_implemented, SuggestionImplementedSerializer)

    @extend_schema(
        parameters=[SummaryQuerySerializer],
        responses={200: SuggestionSummarySerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def summary(self, request):
        """The month's summary (months of the company's calendar, Asia/Shanghai)."""
        params = SummaryQuerySerializer(data=request.query_params)
        if not params.is_valid():
            raise serializers.ValidationError({"month": [gettext("Give the month as YYYY-MM.")]})
        summary = feedback.suggestions_monthly_summary(params.validated_data.get("month") or last_month())
        return Response(SuggestionSummarySerializer({**summary, "month": f"{summary['month']:%Y-%m}"}).data)


def register(router) -> None:
    """Add this part's viewsets to the API router."""
    router.register("suggestions", SuggestionViewSet, basename="suggestion")
