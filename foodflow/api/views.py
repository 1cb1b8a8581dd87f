"""Cross-cutting endpoints: the caller's notifications, the audit log, global search."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from foodflow.accounts.permissions import can_view_audit
from foodflow.core.api import QUERY_MAX_LENGTH, allow, id_field, query_param_check
from foodflow.core.models import AuditEntry, Notification
from foodflow.core.notifications import notifications_mark_read, unread_count
from foodflow.core.search import search_everything


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "created_at", "read_at"]


class MarkReadSerializer(serializers.Serializer):
    # ids of rows only: a number past MAX_ID made the update fail on SQLite (OverflowError)
    ids = serializers.ListField(
        child=id_field(),
        required=False,
        error_messages={"not_a_list": _("A list of notification ids.")},
        help_text="Only these; all unread if not given.",
    )


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own inbox."""

    serializer_class = NotificationSerializer
    filterset_fields = ["kind"]
    queryset = Notification.objects.none()  # for the schema; get_queryset gives the caller's own

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return Notification.objects.filter(recipient=self.request.user)

    @extend_schema(responses=inline_serializer("UnreadCount", {"unread": serializers.IntegerField()}))
    @action(detail=False, methods=["get"])
    def unread(self, request):
        return Response({"unread": unread_count(request.user)})

    @extend_schema(
        request=MarkReadSerializer, responses=inline_serializer("Marked", {"marked": serializers.IntegerField()})
    )
    @action(detail=False, methods=["post"], url_path="mark-read")
    def mark_read(self, request):
        data = MarkReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response({"marked": notifications_mark_read(user=request.user, ids=data.validated_data.get("ids"))})


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = [
            "seq",
            "at",
            "actor",
            "actor_name",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "prev_hash",
            "hash",
        ]


class AuditEntryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = AuditEntry.objects.all()
    serializer_class = AuditEntrySerializer
    permission_classes = [allow(can_view_audit)]
    lookup_field = "seq"
    filterset_fields = ["action", "object_type", "object_id", "actor"]


class SearchView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("q", {"type": "string", "maxLength": QUERY_MAX_LENGTH}, required=True)],
        responses=inline_serializer(
            "SearchResults",
            {
                "results": serializers.ListField(
                    child=inline_serializer(
                        "SearchHit",
                        {
                            "group": serializers.CharField(),
                            "title": serializers.CharField(),
                            "subtitle": serializers.CharField(),
                            "url": serializers.CharField(),
                        },
                    )
                )
            },
        ),
    )
    def get(self, request):
        query_param_check(request, "q")
        query = request.query_params.get("q", "")[:100]
        results = [
            {"group": str(provider.label), "title": hit.title, "subtitle": hit.subtitle, "url": hit.url}
            for provider, hits in search_everything(user=request.user, query=query)
            for hit in hits
        ]
        return Response({"results": results})
