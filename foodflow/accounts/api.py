from collections.abc import Mapping

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404  # a malformed id is a 404, not an error
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from foodflow.core.api import ErrorSerializer, allow
from foodflow.core.views import client_ip

from . import services
from .models import OrgUnit, Role, User
from .permissions import can_manage_users, can_view_user_directory, perm_codes
from .selectors import users_visible_to


class RoleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Role
        fields = ["id", "code", "name", "name_en", "scope", "permissions", "approval_amount_limit", "max_discount"]


class OrgUnitSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = OrgUnit
        fields = ["id", "code", "name", "kind", "parent", "manager", "path"]


class UserSerializer(serializers.ModelSerializer):
    roles = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    org_unit = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "full_name",
            "email",
            "phone",
            "language",
            "org_unit",
            "roles",
            "is_active",
            "is_locked",
            "last_login",
        ]


class MeSerializer(UserSerializer):
    permissions = serializers.SerializerMethodField()

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "permissions"]

    def get_permissions(self, user) -> list[str]:
        return sorted(perm_codes(user))


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The user directory: all users for user managers, the caller's scope for the others."""

    serializer_class = UserSerializer
    permission_classes = [allow(can_view_user_directory)]
    search_fields = ["username", "full_name", "email"]
    ordering_fields = ["username", "full_name", "last_login"]
    filterset_fields = ["is_active", "org_unit"]

    def get_queryset(self):
        return users_visible_to(self.request.user)

    @extend_schema(responses=MeSerializer)
    @action(detail=False, methods=["get"], permission_classes=[IsAuthenticated])
    def me(self, request):
        return Response(MeSerializer(request.user).data)

    @extend_schema(request=None, responses={200: UserSerializer, 403: ErrorSerializer})
    @action(detail=True, methods=["post"], permission_classes=[allow(can_manage_users)])
    def unlock(self, request, pk=None):
        user = services.user_unlock(user=get_object_or_404(User, pk=pk), by=request.user)
        return Response(UserSerializer(user).data)


class RoleViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Role.objects.order_by("id")
    serializer_class = RoleSerializer
    permission_classes = [allow(can_manage_users)]
    pagination_class = None


class OrgUnitViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = OrgUnit.objects.select_related("parent").order_by("path")
    serializer_class = OrgUnitSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = None


class TokenView(APIView):
    """Exchange a user name and password for an API token (the same lock-out as the login page)."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        request=inline_serializer(
            "TokenRequest",
            # the view reads at most this much of each (what the login form takes)
            {"username": serializers.CharField(max_length=150), "password": serializers.CharField(max_length=128)},
        ),
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            401: ErrorSerializer,
            403: ErrorSerializer,
        },
    )
    def post(self, request):
        # a body that is no object (JSON null, a list) has no credentials: a wrong login, not an error
        data = request.data if isinstance(request.data, Mapping) else {}
        user = services.login_attempt(
            username=str(data.get("username", ""))[:150],
            password=str(data.get("password", ""))[:128],
            request=request,
            ip_address=client_ip(request),
        )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
