"""API of the receivables and service figures: read only, the same figures, definitions and data
scope as the pages (``finance_figures``; ``scope_reps`` with the finance or the service
permission). ``date_from`` / ``date_to`` are local dates, both included, the last three full
months if not given; a date that does not parse is refused (400 ``invalid_date``), a start after
the end too (400 ``invalid_range``)."""

from __future__ import annotations

from datetime import date

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from foodflow.contracts.api import EnumField
from foodflow.core.api import ErrorSerializer, allow
from foodflow.core.errors import ValidationFailed

from . import finance_figures as ff
from .permissions import VIEW_FINANCE, VIEW_SERVICE, can_view_finance, can_view_service, scope_reps

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer}


def _money(help_text: str = ""):
    return serializers.DecimalField(max_digits=16, decimal_places=2, help_text=help_text)


def _ratio(places: int, help_text: str):
    return serializers.DecimalField(max_digits=8, decimal_places=places, allow_null=True, help_text=help_text)


class FigureQuerySerializer(serializers.Serializer):
    """The period (both days included) and the grouping of the rows."""

    groups: tuple[str, ...] = ()
    enum_name = ""

    date_from = serializers.DateField(required=False, help_text="First day; the last three full months if not given.")
    date_to = serializers.DateField(required=False, help_text="Last day (included).")

    def get_fields(self):
        fields = super().get_fields()
        fields["by"] = EnumField(
            [(group, group) for group in self.groups],
            enum_name=self.enum_name,
            required=False,
            default=self.groups[0],
            help_text="How the rows are grouped.",
        )
        return fields

    def parsed(self) -> tuple[date, date, str]:
        """(date_from, date_to, by), or a 400 with a stable code."""
        if not self.is_valid():
            dates = {name: errors for name, errors in self.errors.items() if name in ("date_from", "date_to")}
            raise ValidationFailed(code="invalid_date" if dates else "invalid", fields=dates or dict(self.errors))
        default_from, default_to = ff.default_range()
        date_from = self.validated_data.get("date_from") or default_from
        date_to = self.validated_data.get("date_to") or default_to
        ff.check_range(date_from, date_to)
        return date_from, date_to, self.validated_data["by"]


class ReceivableQuerySerializer(FigureQuerySerializer):
    groups = tuple(ff.COLLECTION_GROUPS)
    enum_name = "ReceivableFigureGroupEnum"


class ServiceQuerySerializer(FigureQuerySerializer):
    groups = tuple(ff.SERVICE_GROUPS)
    enum_name = "ServiceFigureGroupEnum"


class _Group(serializers.Serializer):
    key = serializers.IntegerField(help_text="The id of the rep (user), region (org unit) or customer.")
    label = serializers.CharField()
    code = serializers.CharField(help_text="Username, region code or customer code.")


# --- receivables ---------------------------------------------------------------------------------------


class FigureCollectionSerializer(serializers.Serializer):
    receivables = serializers.IntegerField(help_text="Receivables falling due in the period.")
    amount = _money("Their amounts, tax included.")
    credited = _money("Credit notes set against them by the period's last day.")
    due = _money("Owed: amount − credited.")
    collected = _money("Payments received by the period's last day and allocated to them.")
    outstanding = _money("Owed − collected (written-off amounts stay in).")
    rate = _ratio(1, "Collected ÷ owed, percent; null when nothing was owed.")


class FigureCollectionRowSerializer(_Group, FigureCollectionSerializer):
    pass


class FigureDsoSerializer(serializers.Serializer):
    on = serializers.DateField(help_text="The day: the period's last day.")
    days = serializers.IntegerField(help_text="The window of the receivables raised, in days.")
    open = _money("Receivables open at the end of the day.")
    raised = _money("Receivables raised in the window up to the day, tax included.")
    value = _ratio(1, "Days sales outstanding: open ÷ raised × days; null when nothing was raised.")


class FigureAgingBucketSerializer(serializers.Serializer):
    bucket = EnumField(
        [(name, name) for name, *_rest in ff.AGING_BUCKETS],
        enum_name="AgingBucketEnum",
        help_text="Days past due: not yet due (current), 1–30, 31–60, 61–90, over 90.",
    )
    label = serializers.CharField()
    amount = _money()
    count = serializers.IntegerField(help_text="Receivables.")


class FigureAgingSerializer(serializers.Serializer):
    buckets = FigureAgingBucketSerializer(many=True)
    amount = _money("All the open receivables.")
    overdue = _money("The part past its due date.")
    count = serializers.IntegerField(help_text="Open receivables.")


class FigureAgingRowSerializer(_Group, FigureAgingSerializer):
    pass


@extend_schema_serializer(many=False)
class ReceivableFiguresSerializer(serializers.Serializer):
    """The receivables figures of the period within the caller's data scope; the rows grouped by
    ``by``."""

    date_from = serializers.DateField()
    date_to = serializers.DateField()
    by = serializers.CharField(help_text="The grouping of the rows.")
    collection = FigureCollectionSerializer(help_text="Of the receivables falling due in the period.")
    dso = FigureDsoSerializer()
    aging = FigureAgingSerializer(help_text="The receivables open at the end of the period's last day.")
    collection_rows = FigureCollectionRowSerializer(
        many=True, help_text="Collection per group, most outstanding first."
    )
    aging_rows = FigureAgingRowSerializer(many=True, help_text="Aging per group, most overdue first.")
    definitions = serializers.ListField(child=serializers.CharField(), help_text="How the figures are counted.")


def _aging(row: ff.AgingRow) -> dict:
    labels = {name: label for name, label, *_rest in ff.AGING_BUCKETS}
    return {
        "key": row.key,
        "label": row.label,
        "code": row.code,
        "buckets": [
            {"bucket": name, "label": labels[name], "amount": cell.amount, "count": cell.count}
            for name, cell in row.cells
        ],
        "amount": row.amount,
        "overdue": row.overdue,
        "count": row.count,
    }


class ReceivableFiguresViewSet(viewsets.ViewSet):
    """Collection rate, DSO and receivables aging."""

    permission_classes = [allow(can_view_finance)]

    @extend_schema(parameters=[ReceivableQuerySerializer], responses={200: ReceivableFiguresSerializer, **ERRORS})
    def list(self, request):
        """Collection rate of the receivables falling due in the period, DSO and aging at its last
        day, and both per rep, region or customer (``by``)."""
        date_from, date_to, by = ReceivableQuerySerializer(data=request.query_params).parsed()
        reps = scope_reps(request.user, VIEW_FINANCE)
        aging = ff.aging(reps, date_to, by=by)
        data = {
            "date_from": date_from,
            "date_to": date_to,
            "by": by,
            "collection": ff.collection_totals(reps, date_from, date_to),
            "dso": ff.dso_detail(reps, date_to),
            "aging": _aging(aging.total),
            "collection_rows": ff.collection_by(reps, date_from, date_to, by=by),
            "aging_rows": [_aging(row) for row in aging.rows],
            "definitions": [str(text) for text in ff.RECEIVABLES_DEFINITIONS],
        }
        return Response(ReceivableFiguresSerializer(data).data)


# --- service -------------------------------------------------------------------------------------------


class FigureComplaintSerializer(serializers.Serializer):
    complaints = serializers.IntegerField(help_text="Complaints received in the period.")
    delivered = serializers.DecimalField(
        max_digits=16, decimal_places=3, help_text="Units delivered (deliveries shipped in the period)."
    )
    rate = _ratio(2, "Complaints per 1,000 units delivered; null when nothing was delivered.")


class FigureComplaintRowSerializer(_Group, FigureComplaintSerializer):
    pass


class FigureSatisfactionSerializer(serializers.Serializer):
    answered = serializers.IntegerField(help_text="Survey answers received in the period.")
    csat = _ratio(2, "Average satisfaction 1–5; null without answers.")
    nps = _ratio(1, "% promoters (9–10) − % detractors (0–6); null without answers.")
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()


class FigureSatisfactionRowSerializer(_Group, FigureSatisfactionSerializer):
    pass


@extend_schema_serializer(many=False)
class ServiceFiguresSerializer(serializers.Serializer):
    """The service figures of the period within the caller's data scope; the rows grouped by
    ``by``."""

    date_from = serializers.DateField()
    date_to = serializers.DateField()
    by = serializers.CharField(help_text="The grouping of the rows.")
    complaints = FigureComplaintSerializer()
    satisfaction = FigureSatisfactionSerializer()
    complaint_rows = FigureComplaintRowSerializer(many=True, help_text="Per group, highest rate first.")
    satisfaction_rows = FigureSatisfactionRowSerializer(many=True, help_text="Per group, most answers first.")
    definitions = serializers.ListField(child=serializers.CharField(), help_text="How the figures are counted.")


class ServiceFiguresViewSet(viewsets.ViewSet):
    """Complaint rate, CSAT and NPS."""

    permission_classes = [allow(can_view_service)]

    @extend_schema(parameters=[ServiceQuerySerializer], responses={200: ServiceFiguresSerializer, **ERRORS})
    def list(self, request):
        """Complaint rate, CSAT and NPS of the period, and per rep or region (``by``)."""
        date_from, date_to, by = ServiceQuerySerializer(data=request.query_params).parsed()
        reps = scope_reps(request.user, VIEW_SERVICE)
        data = {
            "date_from": date_from,
            "date_to": date_to,
            "by": by,
            "complaints": ff.complaint_totals(reps, date_from, date_to),
            "satisfaction": ff.satisfaction_totals(reps, date_from, date_to),
            "complaint_rows": ff.complaint_rate_by(reps, date_from, date_to, by=by),
            "satisfaction_rows": ff.satisfaction_by(reps, date_from, date_to, by=by),
            "definitions": [str(text) for text in ff.SERVICE_DEFINITIONS],
        }
        return Response(ServiceFiguresSerializer(data).data)


def register(router) -> None:
    router.register("analytics/receivables", ReceivableFiguresViewSet, basename="analytics-receivables")
    router.register("analytics/service", ServiceFiguresViewSet, basename="analytics-service")
