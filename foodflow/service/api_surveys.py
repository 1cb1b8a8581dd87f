"""REST API of satisfaction and key-account care: the surveys (the service desk writes them
and sends one by hand, answering the link once), their results grouped by customer, rep,
region or product, the revisits owed to key accounts (done with an outcome), and the
complaint rates per product or lot.

Like the complaints API: reads go through the same scope as the pages (an object out of the
caller's scope is not found), every write parses its input and calls one service, which
checks the rules (403, 409, 400 with a code). The revisits live under ``service-revisits``:
``revisits`` is the CRM's list of activities to follow up."""

from __future__ import annotations

from django.db.models import Count, Q
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from foodflow.accounts.permissions import scoped
from foodflow.contracts.api import EnumField
from foodflow.core.api import QUERY_MAX_LENGTH, BoundedTextMixin, ErrorSerializer, allow
from foodflow.core.errors import PermissionDeniedError
from foodflow.crm.models import Activity, Customer
from foodflow.sales.api import ACTION_ERRORS, READ_ERRORS, WRITE_ERRORS, RefuseReadOnlyMixin, ScopedRelatedField

from . import revisits, selectors_surveys, surveys
from .models import Revisit, Survey
from .permissions import MANAGE, can_do_revisit, can_manage_surveys, can_view_complaints, revisits_in_scope
from .selectors_surveys import RATE_GROUPS, RESULT_GROUPS, REVISIT_STATES

# --- surveys ----------------------------------------------------------------------------------------


def _trigger_field(**kwargs):
    return EnumField(Survey.Trigger.choices, enum_name="SurveyTriggerEnum", **kwargs)


class SurveySerializer(serializers.ModelSerializer):
    """A questionnaire: CSAT (1–5) and NPS (0–10) always, then its free questions."""

    trigger = _trigger_field(read_only=True)
    trigger_label = serializers.CharField(source="get_trigger_display", read_only=True)
    questions = serializers.ListField(child=serializers.CharField(), read_only=True)
    sent = serializers.IntegerField(read_only=True, help_text="Invitations sent.")
    answered = serializers.IntegerField(read_only=True, help_text="Invitations answered.")

    class Meta:
        model = Survey
        fields = [
            "id",
            "name",
            "trigger",
            "trigger_label",
            "questions",
            "valid_days",
            "is_active",
            "sent",
            "answered",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SurveyWriteSerializer(BoundedTextMixin, RefuseReadOnlyMixin, serializers.Serializer):
    """A survey as the desk writes it; the number and length of the questions are the
    service's to check (400 ``survey_invalid`` naming ``questions``)."""

    shown_by = SurveySerializer

    name = serializers.CharField(allow_blank=True, max_length=120)  # the column's length
    trigger = _trigger_field(help_text="When the survey is sent.")
    questions = serializers.ListField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        default=list,
        help_text=(
            f"The free questions, at most {surveys.MAX_QUESTIONS} of at most "
            f"{surveys.MAX_QUESTION_LENGTH} characters each; blank ones are dropped."
        ),
    )
    valid_days = serializers.IntegerField(required=False, default=14, help_text="A link stays valid this many days.")
    is_active = serializers.BooleanField(required=False, help_text="Active when created if not given.")


class SurveySendSerializer(serializers.Serializer):
    customer = ScopedRelatedField(
        Customer, lambda user, customers: scoped(user, MANAGE, customers, owner="owner", unit="region")
    )
    email = serializers.BooleanField(
        required=False, default=True, help_text="Also e-mail the link to the customer's primary contact."
    )


class SurveyLinkSerializer(serializers.Serializer):
    """The invitation made by hand. ``link`` is answered this once: only its hash is kept."""

    invitation = serializers.IntegerField(source="invitation.pk")
    survey = serializers.IntegerField(source="invitation.survey_id")
    customer = serializers.IntegerField(source="invitation.customer_id")
    link = serializers.URLField()
    sent_to = serializers.CharField(source="emailed_to", help_text="The e-mail it was sent to; empty if none.")
    expires_at = serializers.DateTimeField(source="invitation.expires_at")


class SurveyQuerySerializer(serializers.Serializer):
    trigger = _trigger_field(required=False)
    active = serializers.BooleanField(required=False, allow_null=True, default=None)


@extend_schema_view(retrieve=extend_schema(responses={200: SurveySerializer, **READ_ERRORS}))
class SurveyViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The satisfaction surveys with how many invitations were sent and answered."""

    serializer_class = SurveySerializer
    queryset = Survey.objects.none()  # for the schema
    filter_backends = []
    permission_classes = [allow(can_manage_surveys)]

    def get_queryset(self):
        return Survey.objects.annotate(
            sent=Count("invitations"),
            answered=Count("invitations", filter=Q(invitations__answered_at__isnull=False)),
        ).order_by("-created_at", "-id")

    def _answer(self, survey, status_code=status.HTTP_200_OK) -> Response:
        return Response(SurveySerializer(self.get_queryset().get(pk=survey.pk)).data, status=status_code)

    @extend_schema(
        parameters=[SurveyQuerySerializer], responses={200: SurveySerializer(many=True), 400: ErrorSerializer}
    )
    def list(self, request):
        params = SurveyQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = self.get_queryset()
        if params.validated_data.get("trigger"):
            rows = rows.filter(trigger=params.validated_data["trigger"])
        if params.validated_data.get("active") is not None:
            rows = rows.filter(is_active=params.validated_data["active"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(SurveySerializer(page, many=True).data)

    @extend_schema(request=SurveyWriteSerializer, responses={201: SurveySerializer, **WRITE_ERRORS})
    def create(self, request):
        data = SurveyWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        survey = surveys.survey_save(by=request.user, **data.validated_data)
        return self._answer(survey, status.HTTP_201_CREATED)

    def _save(self, request, partial: bool) -> Response:
        survey = self.get_object()
        data = SurveyWriteSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = {
            "name": survey.name,
            "trigger": survey.trigger,
            "questions": list(survey.questions),
            "valid_days": survey.valid_days,
            **data.validated_data,
        }
        survey = surveys.survey_save(by=request.user, survey=survey, **values)
        return self._answer(survey)

    @extend_schema(request=SurveyWriteSerializer, responses={200: SurveySerializer, **WRITE_ERRORS})
    def update(self, request, pk=None):
        """Replace the survey's name, trigger, questions and validity (and ``is_active`` if given)."""
        return self._save(request, partial=False)

    @extend_schema(request=SurveyWriteSerializer, responses={200: SurveySerializer, **WRITE_ERRORS})
    def partial_update(self, request, pk=None):
        """Change some of the survey's fields."""
        return self._save(request, partial=True)

    @extend_schema(request=SurveySendSerializer, responses={201: SurveyLinkSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Invite one customer by hand: the answer carries the link once (it is never shown
        again), which is also e-mailed unless ``email`` is false. A customer asked in the last
        30 days is refused (400 ``survey_quiet_period``)."""
        survey = self.get_object()
        data = SurveySendSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        sent = surveys.survey_send_manual(by=request.user, survey=survey, **data.validated_data)
        response = Response(SurveyLinkSerializer(sent).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


# --- results and rates ------------------------------------------------------------------------------


class RangeQuerySerializer(serializers.Serializer):
    """``from`` and ``to`` (local dates, both included): the last 90 days if not given."""

    groups: tuple[str, ...] = ()
    enum_name = ""

    def get_fields(self):
        fields = super().get_fields()
        fields["by"] = EnumField(
            [(group, group) for group in self.groups],
            enum_name=self.enum_name,
            required=False,
            default=self.groups[0],
        )
        fields["from"] = serializers.DateField(required=False, help_text="First day (included).")
        fields["to"] = serializers.DateField(required=False, help_text="Last day (included); today if not given.")
        return fields

    def range(self) -> tuple:
        default_from, default_to = selectors_surveys.default_range()
        date_from = self.validated_data.get("from") or default_from
        date_to = self.validated_data.get("to") or default_to
        return (date_to, date_from) if date_from > date_to else (date_from, date_to)


class ResultQuerySerializer(RangeQuerySerializer):
    groups = RESULT_GROUPS
    enum_name = "SurveyResultGroupEnum"


class RateQuerySerializer(RangeQuerySerializer):
    groups = RATE_GROUPS
    enum_name = "ComplaintRateGroupEnum"


def _ratio(help_text: str):
    return serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True, help_text=help_text)


class SurveyResultSerializer(serializers.Serializer):
    key = serializers.IntegerField(help_text="The id of the customer, rep (user), region (org unit) or product.")
    label = serializers.CharField()
    code = serializers.CharField(help_text="Customer code, username, region code or SKU.")
    sent = serializers.IntegerField()
    answered = serializers.IntegerField()
    response_rate = _ratio("Percent of the sent invitations answered; null if none was sent.")
    csat = _ratio("Average satisfaction 1–5 of the answers; null without answers.")
    nps = _ratio("% promoters (9–10) − % detractors (0–6) of the answers; null without answers.")
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()


class SurveyResultViewSet(viewsets.GenericViewSet):
    """Survey results of the invitations sent in the range, one row per customer, rep
    (the customer's owner), region (the customer's region) or product (each distinct product
    of the invitation's delivery; a complaint survey's product), most invitations first."""

    serializer_class = SurveyResultSerializer
    permission_classes = [allow(can_view_complaints)]
    filter_backends = []

    @extend_schema(
        parameters=[ResultQuerySerializer], responses={200: SurveyResultSerializer(many=True), 400: ErrorSerializer}
    )
    def list(self, request):
        params = ResultQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        date_from, date_to = params.range()
        results = selectors_surveys.survey_results(
            request.user, by=params.validated_data["by"], date_from=date_from, date_to=date_to
        )
        page = self.paginate_queryset(results.rows)
        return self.get_paginated_response(SurveyResultSerializer(page, many=True).data)


class ComplaintRateSerializer(serializers.Serializer):
    key = serializers.IntegerField(help_text="The id of the product, or of the lot.")
    product = serializers.IntegerField(source="product_id")
    sku = serializers.CharField(source="code")
    product_name = serializers.CharField(source="label")
    lot_number = serializers.CharField(help_text="Empty per product.")
    complaints = serializers.IntegerField(help_text="Complaints received in the range.")
    delivered = serializers.DecimalField(max_digits=14, decimal_places=3, help_text="Quantity shipped in the range.")
    rate = _ratio("Complaints per 1,000 units delivered; null when nothing was delivered.")


class ComplaintRateViewSet(viewsets.GenericViewSet):
    """Complaints per 1,000 units delivered, per product or per lot, highest rate first."""

    serializer_class = ComplaintRateSerializer
    permission_classes = [allow(can_view_complaints)]
    filter_backends = []

    @extend_schema(
        parameters=[RateQuerySerializer], responses={200: ComplaintRateSerializer(many=True), 400: ErrorSerializer}
    )
    def list(self, request):
        params = RateQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        date_from, date_to = params.range()
        rows = selectors_surveys.complaint_rates(
            request.user, by=params.validated_data["by"], date_from=date_from, date_to=date_to
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ComplaintRateSerializer(page, many=True).data)


# --- revisits ---------------------------------------------------------------------------------------


class RevisitSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    customer_code = serializers.CharField(source="customer.code", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    reason = EnumField(Revisit.Reason.choices, enum_name="RevisitReasonEnum", read_only=True)
    reason_label = serializers.CharField(source="get_reason_display", read_only=True)
    complaint_number = serializers.CharField(source="complaint.number", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Revisit
        fields = [
            "id",
            "customer",
            "customer_name",
            "customer_code",
            "owner",
            "owner_name",
            "reason",
            "reason_label",
            "complaint",
            "complaint_number",
            "due_on",
            "done_on",
            "outcome",
            "created_at",
        ]
        read_only_fields = fields


class RevisitQuerySerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=REVISIT_STATES,
        required=False,
        default="open",
        help_text="open (not done), due (not done, date not passed), overdue, done, or all.",
    )
    mine = serializers.BooleanField(required=False, default=False, help_text="Only the caller's revisits.")
    reason = EnumField(
        Revisit.Reason.choices, enum_name="RevisitReasonEnum", required=False, allow_blank=True, default=""
    )
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=QUERY_MAX_LENGTH, default="", help_text="Customer name or code."
    )


class RevisitDoneSerializer(BoundedTextMixin, serializers.Serializer):
    outcome = serializers.CharField(allow_blank=True, help_text="What the customer said.")
    kind = EnumField(
        [(Activity.Kind.CALL, Activity.Kind.CALL.label), (Activity.Kind.VISIT, Activity.Kind.VISIT.label)],
        enum_name="RevisitKindEnum",
        required=False,
        default=Activity.Kind.CALL,
    )
    on = serializers.DateField(required=False, allow_null=True, default=None, help_text="Today if not given.")


@extend_schema_view(retrieve=extend_schema(responses={200: RevisitSerializer, **READ_ERRORS}))
class ServiceRevisitViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Revisits owed to key accounts (after a complaint, after a poor survey answer, each
    quarter): a rep's own, a manager's team's, all for the service desk; earliest due first."""

    serializer_class = RevisitSerializer
    queryset = Revisit.objects.none()  # for the schema
    permission_classes = [allow(can_view_complaints)]
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Revisit.objects.none()
        return revisits_in_scope(
            self.request.user, Revisit.objects.select_related("customer", "owner", "complaint")
        ).order_by("due_on", "id")

    @extend_schema(
        parameters=[RevisitQuerySerializer], responses={200: RevisitSerializer(many=True), 400: ErrorSerializer}
    )
    def list(self, request):
        params = RevisitQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = selectors_surveys.revisits_filtered(
            request.user,
            Revisit.objects.select_related("customer", "owner", "complaint"),
            **params.validated_data,
        ).order_by("due_on", "id")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(RevisitSerializer(page, many=True).data)

    @extend_schema(request=RevisitDoneSerializer, responses={200: RevisitSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        """The revisit happened: its outcome is kept and a call or visit is recorded with the
        customer. Only its owner (or the service desk) may; a second time is 400 ``revisit_done``."""
        revisit = self.get_object()
        if not can_do_revisit(request.user, revisit):
            raise PermissionDeniedError()  # before the body is read (the service asks again)
        data = RevisitDoneSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        revisits.revisit_done(by=request.user, revisit=revisit, **data.validated_data)
        return Response(RevisitSerializer(self.get_queryset().get(pk=revisit.pk)).data)


def register(router) -> None:
    """Add this part's viewsets to the API router."""
    router.register("surveys", SurveyViewSet, basename="survey")
    router.register("survey-results", SurveyResultViewSet, basename="survey-result")
    router.register("service-revisits", ServiceRevisitViewSet, basename="service-revisit")
    router.register("complaint-rates", ComplaintRateViewSet, basename="complaint-rate")
