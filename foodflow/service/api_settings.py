"""REST API of the service settings: the SLA of each severity (``sla-policies``, by severity),
the desk's working hours (``service-hours/current``, one object) and the holiday calendar
(``holidays``).

Everyone who sees complaints reads them (the desk plans by them); only ``service.manage_sla``
changes them. Every write parses its input and calls one service of ``settings_services``,
which checks the rules (400 with a code and the fields: ``resolution_before_response``,
``closes_before_opens``, ``no_working_day``, ``holiday_exists`` …). A change applies to
complaints logged afterwards; deadlines already set never move."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from foodflow.contracts.api import EnumField
from foodflow.core.api import ErrorSerializer
from foodflow.sales.api import READ_ERRORS, WRITE_ERRORS, RefuseReadOnlyMixin, ScopedViewSet

from . import settings_services
from .models import Holiday, ServiceHours, Severity, SlaPolicy
from .permissions import can_manage_sla, can_view_complaints

WRITES = ("create", "update", "partial_update", "destroy")


def _hours_field(**kwargs):
    return serializers.DecimalField(max_digits=6, decimal_places=2, **kwargs)


# --- service levels ---------------------------------------------------------------------------------


class SlaPolicySerializer(serializers.ModelSerializer):
    severity = EnumField(Severity.choices, enum_name="ComplaintSeverityEnum", read_only=True)
    severity_label = serializers.CharField(source="get_severity_display", read_only=True)

    class Meta:
        model = SlaPolicy
        fields = ["severity", "severity_label", "response_hours", "resolution_hours", "warn_minutes"]
        read_only_fields = fields


class SlaPolicyWriteSerializer(RefuseReadOnlyMixin, serializers.Serializer):
    """More than 0 each; the resolution not due before the first response."""

    shown_by = SlaPolicySerializer

    response_hours = _hours_field(help_text="First response within this many business hours.")
    resolution_hours = _hours_field(help_text="Resolution within this many business hours.")
    warn_minutes = serializers.IntegerField(help_text="Escalate this many business minutes before a deadline.")


@extend_schema_view(
    list=extend_schema(responses={200: SlaPolicySerializer(many=True), 403: ErrorSerializer}),
    retrieve=extend_schema(responses={200: SlaPolicySerializer, **READ_ERRORS}),
)
class SlaPolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The service level of each severity, in business hours."""

    serializer_class = SlaPolicySerializer
    queryset = SlaPolicy.objects.order_by("pk")
    lookup_field = "severity"
    lookup_value_regex = "[a-z]+"
    pagination_class = None
    filter_backends: list = []
    default_predicate = staticmethod(can_view_complaints)
    PREDICATES = dict.fromkeys(WRITES, can_manage_sla)

    @extend_schema(request=SlaPolicyWriteSerializer, responses={200: SlaPolicySerializer, **WRITE_ERRORS})
    def update(self, request, severity=None):
        """Set the severity's deadlines; complaints logged from now on get them."""
        return self._save(request, partial=False)

    @extend_schema(request=SlaPolicyWriteSerializer, responses={200: SlaPolicySerializer, **WRITE_ERRORS})
    def partial_update(self, request, severity=None):
        """Change some of the severity's values."""
        return self._save(request, partial=True)

    def _save(self, request, *, partial: bool) -> Response:
        policy = self.get_object()
        data = SlaPolicyWriteSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = {
            "response_hours": policy.response_hours,
            "resolution_hours": policy.resolution_hours,
            "warn_minutes": policy.warn_minutes,
            **data.validated_data,
        }
        saved = settings_services.sla_policy_save(by=request.user, severity=policy.severity, **values)
        return Response(SlaPolicySerializer(saved).data)


# --- service hours --------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2})?$", "example": "09:00"})
class ClockTimeField(serializers.TimeField):
    """A time of day as hours and minutes ("09:00"), which the schema's ``format: time`` (with
    seconds) would call invalid; seconds are accepted on input."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class ServiceHoursSerializer(RefuseReadOnlyMixin, serializers.Serializer):
    """The desk closes after it opens and works on at least one weekday (0 = Monday)."""

    opens = ClockTimeField()
    closes = ClockTimeField()
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), help_text="Working weekdays, 0 = Monday."
    )


@extend_schema_view(
    retrieve=extend_schema(responses={200: ServiceHoursSerializer, **READ_ERRORS}),
)
class ServiceHoursViewSet(mixins.RetrieveModelMixin, ScopedViewSet):
    """When the service desk works (one object, ``current``): SLA clocks run only then."""

    serializer_class = ServiceHoursSerializer
    queryset = ServiceHours.objects.none()  # for the schema
    lookup_value_regex = "current"
    pagination_class = None
    filter_backends: list = []
    default_predicate = staticmethod(can_view_complaints)
    PREDICATES = dict.fromkeys(WRITES, can_manage_sla)

    def get_object(self) -> ServiceHours:
        return settings_services.service_hours_current()

    @extend_schema(request=ServiceHoursSerializer, responses={200: ServiceHoursSerializer, **WRITE_ERRORS})
    def update(self, request, pk=None):
        """Set the service hours; complaints logged from now on count by them."""
        return self._save(request, partial=False)

    @extend_schema(request=ServiceHoursSerializer, responses={200: ServiceHoursSerializer, **WRITE_ERRORS})
    def partial_update(self, request, pk=None):
        return self._save(request, partial=True)

    def _save(self, request, *, partial: bool) -> Response:
        hours = self.get_object()
        data = ServiceHoursSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = {"opens": hours.opens, "closes": hours.closes, "weekdays": hours.weekdays, **data.validated_data}
        saved = settings_services.service_hours_save(by=request.user, **values)
        return Response(ServiceHoursSerializer(saved).data)


# --- holidays ---------------------------------------------------------------------------------------


class HolidaySerializer(RefuseReadOnlyMixin, serializers.ModelSerializer):
    """A public holiday, or with ``is_workday`` a make-up working day (the desk works)."""

    name = serializers.CharField(max_length=64, allow_blank=True)
    is_workday = serializers.BooleanField(required=False, default=False)

    class Meta:
        model = Holiday
        fields = ["id", "day", "name", "is_workday"]
        read_only_fields = ["id"]
        # one entry per day is the service's rule (400 holiday_exists), not DRF's
        extra_kwargs = {"day": {"validators": []}}


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("year", int, description="Only the days of this year.")],
        responses={200: HolidaySerializer(many=True), 400: ErrorSerializer, 403: ErrorSerializer},
    ),
    retrieve=extend_schema(responses={200: HolidaySerializer, **READ_ERRORS}),
    create=extend_schema(responses={201: HolidaySerializer, **WRITE_ERRORS}),
    destroy=extend_schema(responses={204: None, **WRITE_ERRORS}),
)
class HolidayViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, ScopedViewSet
):
    """The holiday calendar, by day."""

    serializer_class = HolidaySerializer
    queryset = Holiday.objects.order_by("day")
    filterset_fields = ["is_workday"]
    search_fields = ["name"]
    ordering_fields = ["day", "name"]
    default_predicate = staticmethod(can_view_complaints)
    PREDICATES = dict.fromkeys(WRITES, can_manage_sla)

    def get_queryset(self) -> QuerySet[Holiday]:
        queryset = super().get_queryset()
        year = self.request.query_params.get("year", "") if self.request else ""
        # a year a date can have ("²" is a digit to isdigit; 99999 is past datetime's years)
        if year.isascii() and year.isdigit() and 1 <= int(year) <= 9999:
            queryset = queryset.filter(day__year=int(year))
        return queryset

    def create(self, request):
        """Add a day (one entry per day: 400 ``holiday_exists``)."""
        data = HolidaySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        holiday = settings_services.holiday_add(by=request.user, **data.validated_data)
        return Response(HolidaySerializer(holiday).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        """Remove a day; deadlines already set stay."""
        settings_services.holiday_delete(by=request.user, holiday=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


def register(router) -> None:
    """Add this part's viewsets to the API router."""
    router.register("sla-policies", SlaPolicyViewSet, basename="sla-policy")
    router.register("service-hours", ServiceHoursViewSet, basename="service-hours")
    router.register("holidays", HolidayViewSet, basename="holiday")
