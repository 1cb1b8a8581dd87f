"""REST API of process monitoring, read only: the time spent in each stage by the passages that
ended in a range, and the documents over their stage's target now. The same permission
(``analytics.view_process``) and data scope (``scope_reps``) as the monitoring page."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from foodflow.contracts.api import EnumField
from foodflow.core.api import ErrorSerializer, allow

from . import monitoring
from .permissions import VIEW_PROCESS, can_view_process, scope_reps


class MonitoringRangeQuerySerializer(serializers.Serializer):
    """``from`` and ``to`` (local dates, both included): the last 90 days if not given."""

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False, help_text="First day (included).")
        fields["to"] = serializers.DateField(required=False, help_text="Last day (included); today if not given.")
        return fields

    def range(self) -> tuple:
        default_from, default_to = monitoring.default_range()
        date_from = self.validated_data.get("from") or default_from
        date_to = self.validated_data.get("to") or default_to
        return (date_to, date_from) if date_from > date_to else (date_from, date_to)


def _hours(help_text: str, **kwargs):
    return serializers.DecimalField(max_digits=12, decimal_places=1, help_text=help_text, **kwargs)


class MonitoringStageSerializer(serializers.Serializer):
    stage = serializers.CharField(source="code", help_text="The stage's code: workflow.state, e.g. order.confirmed.")
    label = serializers.CharField(help_text="The stage's name in the caller's language.")
    workflow = serializers.CharField(source="stage.workflow")
    state = serializers.CharField(source="stage.state")
    target_hours = serializers.IntegerField(help_text="The target in force (set, or the default).")
    target_is_default = serializers.SerializerMethodField(help_text="True when no target was set for the stage.")
    passages = serializers.IntegerField(help_text="Passages through the stage that ended in the range.")
    within_target = serializers.IntegerField(source="within", help_text="Of which within the target.")
    within_rate = serializers.DecimalField(
        max_digits=5, decimal_places=1, allow_null=True, help_text="Percent within the target; null without passages."
    )
    median_hours = _hours("Median hours in the stage; null without passages.", allow_null=True)
    p90_hours = _hours("90th percentile of the hours in the stage; null without passages.", allow_null=True)
    overstay_hours = _hours("Hours spent over the target, summed over the passages.")

    def get_target_is_default(self, row) -> bool:
        return not row.setting.custom


class StageViewSet(viewsets.GenericViewSet):
    """Each stage of the order-to-cash and complaint flows, in flow order (not paginated), with
    the time spent in it by the passages that ended in the range, of the documents in the
    caller's scope. The compliance rate of the range is the sum of ``within_target`` over the
    sum of ``passages``."""

    serializer_class = MonitoringStageSerializer
    permission_classes = [allow(can_view_process)]
    filter_backends = []
    pagination_class = None

    @extend_schema(
        parameters=[MonitoringRangeQuerySerializer],
        responses={200: MonitoringStageSerializer(many=True), 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def list(self, request):
        params = MonitoringRangeQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        date_from, date_to = params.range()
        rows = monitoring.stage_durations(scope_reps(request.user, VIEW_PROCESS), date_from, date_to)
        return Response(MonitoringStageSerializer(rows, many=True).data)


class MonitoringBreachSerializer(serializers.Serializer):
    stage = serializers.CharField(source="stage.code")
    stage_label = serializers.CharField(source="stage.label")
    object_type = serializers.CharField(source="stage.object_type", help_text="e.g. sales.salesorder")
    object_id = serializers.IntegerField(source="document.pk")
    document = serializers.CharField(source="label", help_text="The document's number (and version).")
    url = serializers.CharField(help_text="The document's page.")
    customer = serializers.IntegerField(source="document.customer_id", allow_null=True)
    customer_name = serializers.CharField(source="customer.name", default=None, allow_null=True)
    owner = serializers.IntegerField(source="owner.pk", default=None, allow_null=True)
    owner_name = serializers.CharField(source="owner.display_name", default=None, allow_null=True)
    region = serializers.IntegerField(source="region.pk", default=None, allow_null=True)
    region_name = serializers.CharField(source="region.name", default=None, allow_null=True)
    entered_at = serializers.DateTimeField()
    hours = _hours("Hours in the stage so far.")
    target_hours = serializers.IntegerField()
    overstay_hours = _hours("Hours over the target so far.")


class MonitoringBreachQuerySerializer(serializers.Serializer):
    stage = EnumField(
        [(stage.code, stage.code) for stage in monitoring.STAGES],
        enum_name="MonitoringStageEnum",
        required=False,
        help_text="Only the documents in this stage.",
    )


class BreachViewSet(viewsets.GenericViewSet):
    """The documents in the caller's scope that are in a stage longer than its target now,
    most hours over the target first."""

    serializer_class = MonitoringBreachSerializer
    permission_classes = [allow(can_view_process)]
    filter_backends = []

    @extend_schema(
        parameters=[MonitoringBreachQuerySerializer],
        responses={200: MonitoringBreachSerializer(many=True), 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def list(self, request):
        params = MonitoringBreachQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        code = params.validated_data.get("stage")
        stages = [monitoring.STAGE_BY_CODE[code]] if code else None
        rows = monitoring.breaches_now(scope_reps(request.user, VIEW_PROCESS), stages=stages)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(MonitoringBreachSerializer(page, many=True).data)


def register(router) -> None:
    router.register("monitoring/stages", StageViewSet, basename="monitoring-stage")
    router.register("monitoring/breaches", BreachViewSet, basename="monitoring-breach")
