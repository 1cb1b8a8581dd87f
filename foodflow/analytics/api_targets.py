"""API of targets and KPI appraisal. (Helper B.)

- ``targets``: the targets of one period the caller may see with their progress (actual revenue,
  completion, gap, time elapsed, pace, forecast); managers set (create or change), change and
  delete them within their scope.
- ``scorecards``: the KPI scorecards the caller may see; appraisers compute one (``compute``) and
  move it on (``review``, ``finalise``).
- ``kpi-schemes``: the schemes with their weights and bands, read only.

Reads go through the same scopes as the pages (an object out of the caller's scope is not
found); every write calls one service of ``targets`` or ``kpi``, which checks the rules."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from foodflow.accounts.models import OrgUnit, User
from foodflow.catalog.models import Category
from foodflow.contracts.api import EnumField
from foodflow.core.api import ErrorSerializer, allow, id_field

from . import kpi, targets
from .models import KpiMetric, KpiScheme, KpiSchemeItem, PeriodKind, SalesTarget, Scorecard
from .permissions import can_appraise, can_manage_schemes, can_manage_targets, can_view_sales

READ_ERRORS = {404: ErrorSerializer}
WRITE_ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


def _period_field(**kwargs):
    return EnumField(PeriodKind.choices, enum_name="PeriodKindEnum", **kwargs)


def _holder_field(**kwargs):
    return EnumField(SalesTarget.Holder.choices, enum_name="TargetHolderEnum", **kwargs)


def _money(**kwargs):
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


def _pct(help_text: str, **kwargs):
    return serializers.DecimalField(max_digits=10, decimal_places=1, help_text=help_text, **kwargs)


# --- targets ----------------------------------------------------------------------------------------


class TargetProgressSerializer(serializers.Serializer):
    """A target and its progress (see the definitions printed on the targets page)."""

    id = serializers.IntegerField(source="target.pk")
    holder = _holder_field(source="target.holder")
    holder_label = serializers.CharField(source="label", help_text="The rep, unit or product line, or the company.")
    period = _period_field(source="target.period")
    period_start = serializers.DateField(source="target.period_start")
    period_end = serializers.SerializerMethodField()
    rep = serializers.IntegerField(source="target.rep_id", allow_null=True)
    unit = serializers.IntegerField(source="target.unit_id", allow_null=True, help_text="The team or region.")
    category = serializers.IntegerField(source="target.category_id", allow_null=True, help_text="The product line.")
    amount = _money(source="target.amount", help_text="The revenue target, VAT included.")
    note = serializers.CharField(source="target.note")
    actual = _money(help_text="The revenue of the period, VAT included, as on the sales figures.")
    completion_pct = _pct("Actual ÷ target × 100.")
    gap = _money(help_text="Target − actual; negative when exceeded.")
    elapsed_pct = _pct("Days of the period up to and including today ÷ its days × 100.")
    pace_pct = _pct("Completion ÷ time elapsed × 100; null before the period.", allow_null=True)
    on_track = serializers.BooleanField(allow_null=True, help_text="Pace of at least 100 %; null before the period.")
    forecast = _money(allow_null=True, help_text="Actual ÷ time elapsed: the revenue at the end at the same rate.")
    forecast_pct = _pct("The forecast ÷ target × 100.", allow_null=True)

    def get_period_end(self, row) -> str:
        return targets.period_end(row.target.period, row.target.period_start).isoformat()


class TargetQuerySerializer(serializers.Serializer):
    period = _period_field(required=False, default=PeriodKind.MONTH)
    period_start = serializers.DateField(
        required=False, help_text="The first day of the month, quarter or year; the current one if not given."
    )
    today = serializers.DateField(required=False, help_text="Count the time elapsed up to this day (default today).")


class TargetWriteSerializer(serializers.Serializer):
    """A target to set: the one of the same holder and period is changed if it exists."""

    holder = _holder_field()
    period = _period_field()
    period_start = serializers.DateField(help_text="The first day of the month, quarter or year.")
    amount = serializers.DecimalField(max_digits=20, decimal_places=4, help_text="Above 0, to the cent.")
    rep = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    unit = serializers.PrimaryKeyRelatedField(
        queryset=OrgUnit.objects.all(), required=False, allow_null=True, help_text="A team or a region."
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True, help_text="A top-level category."
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class TargetChangeSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=20, decimal_places=4, help_text="Above 0, to the cent.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)


@extend_schema_view(destroy=extend_schema(responses={204: None, **WRITE_ERRORS}))
class TargetViewSet(mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Sales targets with their progress, within the caller's sales scope."""

    serializer_class = TargetProgressSerializer
    queryset = SalesTarget.objects.none()  # for the schema
    filter_backends = []

    def get_permissions(self):
        # who may not set targets hears 403 before the body is read (the service asks again)
        writes = self.action in ("create", "update", "destroy")
        return [allow(can_manage_targets if writes else can_view_sales)()]

    def get_queryset(self):
        return targets.targets_visible(self.request.user).select_related("rep", "unit", "category")

    def _answer(self, target, status_code=status.HTTP_200_OK) -> Response:
        (row,) = targets.progress([target])
        return Response(TargetProgressSerializer(row).data, status=status_code)

    @extend_schema(
        parameters=[TargetQuerySerializer],
        responses={200: TargetProgressSerializer(many=True), 400: ErrorSerializer},
    )
    def list(self, request):
        """The targets of one period, company first, then regions, teams, reps and product lines."""
        params = TargetQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        period = params.validated_data["period"]
        start = params.validated_data.get("period_start") or targets.period_of(timezone.localdate(), period)
        rows = targets.targets_progress(request.user, period, start, today=params.validated_data.get("today"))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(TargetProgressSerializer(page, many=True).data)

    @extend_schema(request=TargetWriteSerializer, responses={201: TargetProgressSerializer, **WRITE_ERRORS})
    def create(self, request):
        """Set a target (or change the one of the same holder and period). Out of the caller's
        scope: 403 ``target_out_of_scope``."""
        data = TargetWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = targets.target_set(by=request.user, **data.validated_data)
        return self._answer(target, status.HTTP_201_CREATED)

    @extend_schema(request=TargetChangeSerializer, responses={200: TargetProgressSerializer, **WRITE_ERRORS})
    def update(self, request, pk=None):
        """Change the target's amount (and note)."""
        target = self.get_object()
        data = TargetChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = targets.target_set(
            by=request.user,
            holder=target.holder,
            period=target.period,
            period_start=target.period_start,
            amount=data.validated_data["amount"],
            rep=target.rep,
            unit=target.unit,
            category=target.category,
            note=data.validated_data.get("note", target.note),
        )
        return self._answer(target)

    def perform_destroy(self, instance):
        targets.target_delete(by=self.request.user, target=instance)


# --- KPI schemes -------------------------------------------------------------------------------------


def _metric_field(**kwargs):
    return EnumField(KpiMetric.choices, enum_name="KpiMetricEnum", **kwargs)


class KpiSchemeItemSerializer(serializers.ModelSerializer):
    metric = _metric_field()
    bands = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        help_text="[lowest value, score] pairs from the highest band down.",
    )

    class Meta:
        model = KpiSchemeItem
        fields = ["metric", "weight", "bands"]


class KpiSchemeSerializer(serializers.ModelSerializer):
    period = _period_field()
    items = KpiSchemeItemSerializer(many=True)

    class Meta:
        model = KpiScheme
        fields = ["id", "name", "period", "is_active", "note", "items", "created_at", "updated_at"]
        read_only_fields = fields


def can_see_schemes(user) -> bool:
    return can_manage_schemes(user) or can_appraise(user)


@extend_schema_view(
    list=extend_schema(responses={200: KpiSchemeSerializer(many=True)}),
    retrieve=extend_schema(responses={200: KpiSchemeSerializer, **READ_ERRORS}),
)
class KpiSchemeViewSet(viewsets.ReadOnlyModelViewSet):
    """The KPI schemes: the metrics each weighs and the bands that score them."""

    serializer_class = KpiSchemeSerializer
    queryset = KpiScheme.objects.none()  # for the schema
    filter_backends = []
    permission_classes = [allow(can_see_schemes)]

    def get_queryset(self):
        return KpiScheme.objects.prefetch_related("items").order_by("name", "pk")


# --- scorecards --------------------------------------------------------------------------------------


class ScorecardResultSerializer(serializers.Serializer):
    metric = _metric_field()
    value = serializers.CharField(allow_null=True, help_text="The metric's value; null: no data (scored 0).")
    no_data = serializers.BooleanField()
    score = serializers.DecimalField(max_digits=6, decimal_places=2)
    weight = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="Weight in %.")
    weighted = serializers.DecimalField(max_digits=6, decimal_places=2, help_text="Score × weight ÷ 100.")


class ScorecardSerializer(serializers.ModelSerializer):
    period = _period_field()
    state = EnumField(Scorecard.State.choices, enum_name="ScorecardStateEnum")
    rep_name = serializers.CharField(source="rep.display_name")
    scheme_name = serializers.CharField(source="scheme.name")
    results = serializers.SerializerMethodField()

    class Meta:
        model = Scorecard
        fields = [
            "id",
            "rep",
            "rep_name",
            "scheme",
            "scheme_name",
            "period",
            "period_start",
            "state",
            "results",
            "total",
            "computed_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ScorecardResultSerializer(many=True))
    def get_results(self, card) -> list:
        # through the serializer: decimals as strings, as the schema says (not JSON numbers)
        rows = [
            {
                "metric": row.metric,
                "value": row.value,
                "no_data": row.no_data,
                "score": row.score,
                "weight": row.weight,
                "weighted": row.weighted,
            }
            for row in kpi.result_rows(card)
        ]
        return ScorecardResultSerializer(rows, many=True).data


class ScorecardQuerySerializer(serializers.Serializer):
    period = _period_field(required=False)
    period_start = serializers.DateField(required=False)
    rep = id_field(required=False)
    state = EnumField(Scorecard.State.choices, enum_name="ScorecardStateEnum", required=False)


class ScorecardComputeSerializer(serializers.Serializer):
    rep = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    scheme = serializers.PrimaryKeyRelatedField(queryset=KpiScheme.objects.all())
    period_start = serializers.DateField(help_text="The first day of a period of the scheme's kind.")


def can_see_scorecards(user) -> bool:
    return can_view_sales(user) or can_appraise(user)


@extend_schema_view(retrieve=extend_schema(responses={200: ScorecardSerializer, **READ_ERRORS}))
class ScorecardViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """KPI scorecards of the reps the caller may see (a rep: their own, read only)."""

    serializer_class = ScorecardSerializer
    queryset = Scorecard.objects.none()  # for the schema
    filter_backends = []
    permission_classes = [allow(can_see_scorecards)]

    def get_queryset(self):
        return kpi.scorecards_visible(self.request.user).order_by("-period_start", "rep_id", "pk")

    @extend_schema(
        parameters=[ScorecardQuerySerializer],
        responses={200: ScorecardSerializer(many=True), 400: ErrorSerializer},
    )
    def list(self, request):
        params = ScorecardQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = self.get_queryset().filter(**params.validated_data)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ScorecardSerializer(page, many=True).data)

    def _answer(self, card, status_code=status.HTTP_200_OK) -> Response:
        card = self.get_queryset().get(pk=card.pk)
        return Response(ScorecardSerializer(card).data, status=status_code)

    @extend_schema(request=ScorecardComputeSerializer, responses={200: ScorecardSerializer, **WRITE_ERRORS})
    @action(detail=False, methods=["post"], permission_classes=[allow(can_appraise)])
    def compute(self, request):
        """Compute the rep's scorecard for the period with the scheme (created, or computed again
        and back to draft). A final one: 409 ``scorecard_final``."""
        data = ScorecardComputeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        card = kpi.scorecard_compute(by=request.user, **data.validated_data)
        return self._answer(card)

    @extend_schema(request=None, responses={200: ScorecardSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """Draft → reviewed."""
        return self._answer(kpi.scorecard_review(by=request.user, scorecard=self.get_object()))

    @extend_schema(request=None, responses={200: ScorecardSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def finalise(self, request, pk=None):
        """Reviewed → final; the rep is told."""
        return self._answer(kpi.scorecard_finalise(by=request.user, scorecard=self.get_object()))


def register(router) -> None:
    router.register("targets", TargetViewSet, basename="sales-target")
    router.register("scorecards", ScorecardViewSet, basename="scorecard")
    router.register("kpi-schemes", KpiSchemeViewSet, basename="kpi-scheme")
