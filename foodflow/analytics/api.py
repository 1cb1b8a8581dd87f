"""API of the sales figures: the same numbers as the analysis pages, for other tools.

``GET /api/v1/analytics/revenue/?by=region&date_from=2026-01-01&date_to=2026-06-30`` — revenue and
the other measures by one dimension (or by period with ``grain``), with the total; filters narrow
the orders; the caller's data scope always applies. ``…/analytics/trend/`` adds month-on-month and
year-on-year growth; ``…/analytics/customers/`` counts new and returning customers per month."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from foodflow.core.api import ErrorSerializer, allow, row_id

from . import figures
from .figures import DEFINITIONS, DIMENSIONS, GRAINS
from .permissions import can_view_sales
from .query import slice_from

MAX_ROWS = 1000

FILTERS = [
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="First order date (included); default 1 January."),
    OpenApiParameter(
        "date_to", OpenApiTypes.DATE, description="Last order date (included); default end of this month."
    ),
    OpenApiParameter("rep", OpenApiTypes.INT, description="Only this rep's orders (user id)."),
    OpenApiParameter("team", OpenApiTypes.INT, description="Only this team's orders (org unit id)."),
    OpenApiParameter("region", OpenApiTypes.INT, description="Only customers of this region (org unit id)."),
    OpenApiParameter("channel", OpenApiTypes.STR, description="Only customers of this channel (code)."),
    OpenApiParameter("tier", OpenApiTypes.STR, description="Only customers of this tier (A, B, C)."),
    OpenApiParameter("category", OpenApiTypes.INT, description="Only products of this category or product line."),
    OpenApiParameter("product", OpenApiTypes.INT, description="Only this product."),
    OpenApiParameter("customer", OpenApiTypes.INT, description="Only this customer."),
]
BY = OpenApiParameter("by", OpenApiTypes.STR, enum=list(DIMENSIONS), description="The dimension of the rows.")
GRAIN = OpenApiParameter(
    "grain", OpenApiTypes.STR, enum=list(GRAINS), description="The period of the rows (by=period)."
)
LIMIT = OpenApiParameter(
    "limit", OpenApiTypes.INT, description=f"At most this many rows, largest first (≤ {MAX_ROWS})."
)


def _money(help_text: str = ""):
    return serializers.DecimalField(max_digits=16, decimal_places=2, help_text=help_text)


class FigureSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True, help_text="The period's first day, or the id/code of the dimension.")
    label = serializers.CharField()
    revenue = _money("Net amount of the lines, VAT included.")
    vat = _money()
    revenue_net = _money("Revenue without VAT.")
    cost = _money("Standard cost × quantity of the lines.")
    gross_margin = _money("Revenue without VAT less cost.")
    margin_rate = serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True)
    quantity = serializers.DecimalField(max_digits=18, decimal_places=3)
    order_lines = serializers.IntegerField()
    orders = serializers.IntegerField(allow_null=True, help_text="Null per product or category.")
    customers = serializers.IntegerField(allow_null=True, help_text="Null per product or category.")


class TrendSerializer(FigureSerializer):
    mom_pct = serializers.DecimalField(max_digits=9, decimal_places=1, allow_null=True)
    yoy_pct = serializers.DecimalField(max_digits=9, decimal_places=1, allow_null=True)
    revenue_year_ago = _money()


class CustomersSerializer(FigureSerializer):
    new_customers = serializers.IntegerField()
    returning_customers = serializers.IntegerField()
    new_revenue = _money("Revenue of the month's new customers.")


# ``list`` answers one object with rows: without many=False the schema documented an array
@extend_schema_serializer(many=False)
class FiguresSerializer(serializers.Serializer):
    by = serializers.CharField()
    grain = serializers.CharField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    total = FigureSerializer()
    rows = FigureSerializer(many=True)
    definitions = serializers.ListField(child=serializers.CharField())


class SeriesSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    rows = serializers.ListField(child=serializers.DictField())


@extend_schema_serializer(many=False)
class TrendListSerializer(SeriesSerializer):
    rows = TrendSerializer(many=True)


@extend_schema_serializer(many=False)
class CustomersListSerializer(SeriesSerializer):
    rows = CustomersSerializer(many=True)


def _limit(request) -> int:
    return min(row_id(request.query_params.get("limit", "")) or MAX_ROWS, MAX_ROWS)


class _FiguresViewSet(viewsets.GenericViewSet):
    permission_classes = [allow(can_view_sales)]
    filter_backends = []
    pagination_class = None


class RevenueViewSet(_FiguresViewSet):
    """Revenue, VAT, margin, quantity, lines, orders and customers by one dimension, with the total."""

    serializer_class = FiguresSerializer

    @extend_schema(
        parameters=[BY, GRAIN, LIMIT, *FILTERS],
        responses={200: FiguresSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def list(self, request):
        slice_, dimension, grain = slice_from(request.query_params, request.user)
        rows = figures.revenue(slice_, dimension, grain=grain, limit=None if dimension == "period" else _limit(request))
        body = {
            "by": dimension,
            "grain": grain,
            "date_from": slice_.date_from,
            "date_to": slice_.date_to,
            "total": figures.totals(slice_).as_dict(),
            "rows": [row.as_dict() for row in rows],
            "definitions": [str(text) for text in DEFINITIONS],
        }
        return Response(FiguresSerializer(body).data)


class TrendViewSet(_FiguresViewSet):
    """Revenue per month (or quarter, year) with growth on the period before and a year earlier."""

    serializer_class = TrendListSerializer

    @extend_schema(
        parameters=[GRAIN, *FILTERS], responses={200: TrendListSerializer, 400: ErrorSerializer, 403: ErrorSerializer}
    )
    def list(self, request):
        slice_, _dimension, grain = slice_from(request.query_params, request.user)
        rows = figures.trend(slice_, grain=grain)
        body = {"date_from": slice_.date_from, "date_to": slice_.date_to, "rows": [row.as_dict() for row in rows]}
        return Response(TrendListSerializer(body).data)


class CustomersViewSet(_FiguresViewSet):
    """Per month: customers who bought, new (first confirmed order ever) and returning."""

    serializer_class = CustomersListSerializer

    @extend_schema(
        parameters=FILTERS, responses={200: CustomersListSerializer, 400: ErrorSerializer, 403: ErrorSerializer}
    )
    def list(self, request):
        slice_, _dimension, _grain = slice_from(request.query_params, request.user)
        rows = figures.customers_new_returning(slice_)
        body = {"date_from": slice_.date_from, "date_to": slice_.date_to, "rows": [row.as_dict() for row in rows]}
        return Response(CustomersListSerializer(body).data)


def register(router) -> None:
    router.register("analytics/revenue", RevenueViewSet, basename="analytics-revenue")
    router.register("analytics/trend", TrendViewSet, basename="analytics-trend")
    router.register("analytics/customers", CustomersViewSet, basename="analytics-customers")
