"""REST API of the catalog: categories, products, price lists and prices, price resolution and
the price policy. Views parse input and call one service (writes) or selector (reads); every
rule lives in ``services`` / ``pricing``."""

from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404  # a malformed id is a 404, not an error
from rest_framework.response import Response
from rest_framework.views import APIView

from foodflow.core.api import ErrorSerializer, allow, id_field
from foodflow.core.money import net_of_tax
from foodflow.core.vocab import Channel, Tier

from . import pricing, services
from .models import Allergen, Brand, Category, PriceList, PriceListItem, Product
from .permissions import can_manage_prices, can_manage_products, can_view_products
from .selectors import PRODUCT_SORTS, price_lists_list, products_list

WRITE_ERRORS = {400: ErrorSerializer, 403: ErrorSerializer}


def _no_unique_validators(*names: str) -> dict:
    # The services check uniqueness themselves and answer with a stable code (sku_taken,
    # category_code_taken); the serializer's own unique check would answer first without it.
    return {name: {"validators": []} for name in names}


# --- categories ------------------------------------------------------------------------------


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)
    depth = serializers.IntegerField(read_only=True)

    class Meta:
        model = Category
        fields = ["id", "code", "name", "name_en", "parent", "path", "depth", "expiry_warning_days"]
        read_only_fields = ["path"]
        extra_kwargs = _no_unique_validators("code")


class CategoryViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    queryset = Category.objects.select_related("parent").order_by("path")
    serializer_class = CategorySerializer
    search_fields = ["code", "name", "name_en"]
    filterset_fields = ["parent"]

    def get_permissions(self):
        return [allow(can_manage_products if self.action == "create" else can_view_products)()]

    @extend_schema(responses={201: CategorySerializer, **WRITE_ERRORS})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.category_create(by=self.request.user, **serializer.validated_data)


# --- products --------------------------------------------------------------------------------


class ProductSerializer(serializers.ModelSerializer):
    """Read and write shape of a product. ``sku`` is given on creation and never changes."""

    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all())
    category_name = serializers.CharField(source="category.display_name", read_only=True)
    brand = serializers.PrimaryKeyRelatedField(queryset=Brand.objects.all(), required=False, allow_null=True)
    brand_name = serializers.CharField(source="brand.name", read_only=True, default=None, allow_null=True)
    allergens = serializers.ListField(child=serializers.ChoiceField(choices=Allergen.choices), required=False)
    allergen_labels = serializers.ListField(child=serializers.CharField(), read_only=True)
    floor_price_net_of_tax = serializers.SerializerMethodField(help_text="The floor price without VAT (for display).")

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "name_en",
            "specification",
            "sales_unit",
            "base_unit",
            "units_per_sales_unit",
            "barcode",
            "category",
            "category_name",
            "brand",
            "brand_name",
            "family",
            "storage",
            "shelf_life_days",
            "allergens",
            "allergens_other",
            "allergen_labels",
            "quality_standard",
            "vat_rate",
            "floor_price",
            "floor_price_net_of_tax",
            "standard_cost",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = _no_unique_validators("sku")

    def get_fields(self):
        fields = super().get_fields()
        view = self.context.get("view")
        if getattr(view, "action", None) == "partial_update":
            fields["sku"].read_only = True
        return fields

    @extend_schema_field(serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True))
    def get_floor_price_net_of_tax(self, product) -> str | None:
        if product.floor_price is None:
            return None
        return str(net_of_tax(amount=product.floor_price, rate=product.vat_rate))


class ProductQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Search in SKU, name, barcode, specification and brand.",
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, help_text="A category and its subcategories."
    )
    brand = id_field(required=False)
    storage = serializers.ChoiceField(choices=Product._meta.get_field("storage").choices, required=False)
    status = serializers.ChoiceField(choices=Product.Status.choices, required=False)
    ordering = serializers.ChoiceField(choices=sorted(PRODUCT_SORTS), required=False)


class ProductViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = ProductSerializer
    queryset = Product.objects.none()  # for the schema; get_queryset asks the selector
    # the selector searches, filters and sorts (a category includes its subcategories)
    filter_backends = []

    def get_permissions(self):
        writes = self.action in ("create", "partial_update")
        return [allow(can_manage_products if writes else can_view_products)()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Product.objects.none()
        if self.action != "list":
            return products_list()
        params = ProductQuerySerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        return products_list(
            query=data.get("q", ""),
            category=data.get("category"),
            brand_id=data.get("brand"),
            storage=data.get("storage", ""),
            status=data.get("status", ""),
            sort=data.get("ordering", "sku"),
        )

    @extend_schema(
        parameters=[ProductQuerySerializer], responses={200: ProductSerializer(many=True), 400: ErrorSerializer}
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={201: ProductSerializer, **WRITE_ERRORS})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.product_create(by=self.request.user, **serializer.validated_data)

    @extend_schema(request=ProductSerializer, responses={200: ProductSerializer, **WRITE_ERRORS})
    def partial_update(self, request, pk=None):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        product = services.product_update(by=request.user, product=serializer.instance, **serializer.validated_data)
        return Response(self.get_serializer(product).data)


# --- price lists and prices ------------------------------------------------------------------


class PriceListItemSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.display_name", read_only=True)

    class Meta:
        model = PriceListItem
        fields = ["id", "price_list", "product", "sku", "product_name", "min_quantity", "unit_price"]
        read_only_fields = fields


class PriceListSerializer(serializers.ModelSerializer):
    class Meta:
        model = PriceList
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "channel",
            "tier",
            "customer_id",
            "valid_from",
            "valid_to",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["is_active", "created_at"]
        extra_kwargs = _no_unique_validators("code")


class PriceListDetailSerializer(PriceListSerializer):
    items = PriceListItemSerializer(many=True, read_only=True)

    class Meta(PriceListSerializer.Meta):
        fields = [*PriceListSerializer.Meta.fields, "items"]


class PriceListDetailSchema(OpenApiSerializerExtension):
    """The detail is the list's shape plus its prices: ``allOf`` instead of a second copy, so
    that the kind of a list stays one enum in the schema."""

    target_class = PriceListDetailSerializer

    def map_serializer(self, auto_schema, direction):
        base = auto_schema.resolve_serializer(PriceListSerializer, direction)
        item = auto_schema.resolve_serializer(PriceListItemSerializer, direction)
        items = {"type": "array", "items": item.ref, "readOnly": True}
        return {"allOf": [base.ref, {"type": "object", "properties": {"items": items}, "required": ["items"]}]}


class PriceSetSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="Tax-inclusive.")
    min_quantity = serializers.DecimalField(
        max_digits=14, decimal_places=3, default=Decimal("0"), help_text="The price holds from this quantity on."
    )


class PriceListViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = PriceListSerializer
    search_fields = ["code", "name"]
    filterset_fields = ["kind", "channel", "tier", "customer_id", "is_active"]
    ordering_fields = ["code", "valid_from", "kind"]

    def get_permissions(self):
        writes = self.action in ("create", "prices")
        return [allow(can_manage_prices if writes else can_view_products)()]

    def get_queryset(self):
        price_lists = price_lists_list()
        if self.action == "retrieve":
            items = PriceListItem.objects.select_related("product").order_by("product__sku", "min_quantity")
            price_lists = price_lists.prefetch_related(Prefetch("items", queryset=items))
        return price_lists

    def get_serializer_class(self):
        return PriceListDetailSerializer if self.action == "retrieve" else PriceListSerializer

    @extend_schema(responses={201: PriceListSerializer, **WRITE_ERRORS})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.price_list_create(by=self.request.user, **serializer.validated_data)

    @extend_schema(request=PriceSetSerializer, responses={200: PriceListItemSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def prices(self, request, pk=None):
        """Set (or change) the price of a product in this list from a quantity on."""
        price_list = get_object_or_404(PriceList, pk=pk)
        data = PriceSetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.price_set(by=request.user, price_list=price_list, **data.validated_data)
        return Response(PriceListItemSerializer(item).data)


class PriceViewSet(mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """One price of a list; removing it lets the next break or a more general list apply."""

    queryset = PriceListItem.objects.select_related("price_list", "product")
    serializer_class = PriceListItemSerializer
    permission_classes = [allow(can_manage_prices)]

    @extend_schema(responses={204: None, 403: ErrorSerializer, 404: ErrorSerializer})
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.price_remove(by=self.request.user, item=instance)


# --- price resolution and policy -------------------------------------------------------------


class PriceResolveQuerySerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, default=Decimal("1"))
    date = serializers.DateField(required=False, help_text="Today if not given.")
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    tier = serializers.ChoiceField(choices=Tier.choices, required=False)
    customer_id = id_field(required=False)


def _money(**kwargs):
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


def _quantity(**kwargs):
    return serializers.DecimalField(max_digits=14, decimal_places=3, **kwargs)


PriceResolutionSerializer = inline_serializer(
    "PriceResolution",
    {
        "product": serializers.CharField(help_text="SKU"),
        "quantity": _quantity(),
        "on": serializers.DateField(),
        "unit_price": _money(),
        "unit_net_of_tax": _money(),
        "unit_tax": _money(),
        "vat_rate": serializers.DecimalField(max_digits=4, decimal_places=2),
        "amount": _money(),
        "price_list": serializers.CharField(help_text="Code of the list the price comes from."),
        "price_list_kind": serializers.CharField(help_text="base, channel, tier or customer"),
        "from_quantity": _quantity(),
        "rule": serializers.CharField(help_text="In words: which list, which kind, which break."),
    },
)


class PriceResolveView(APIView):
    """The price of a product for a quantity, a date and a customer, and the rule that gave it."""

    permission_classes = [allow(can_view_products)]

    @extend_schema(
        parameters=[PriceResolveQuerySerializer],
        responses={200: PriceResolutionSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request):
        params = PriceResolveQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        resolution = pricing.price_resolve(
            product=data["product"],
            quantity=data["quantity"],
            on=data.get("date") or timezone.localdate(),
            channel=data.get("channel", ""),
            tier=data.get("tier", ""),
            customer_id=data.get("customer_id"),
        )
        return Response(resolution.as_dict())


class PricePolicyCheckSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="Tax-inclusive.")
    discount = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        min_value=Decimal("0"),
        max_value=Decimal("1"),
        default=Decimal("0"),
        help_text="A fraction: 0.05 for 5 %.",
    )


PricePolicyResultSerializer = inline_serializer(
    "PricePolicyResult",
    {
        "violations": serializers.ListField(
            child=inline_serializer(
                "PricePolicyViolation",
                {
                    "code": serializers.CharField(),
                    "message": serializers.CharField(),
                    "limit": serializers.CharField(),
                    "actual": serializers.CharField(),
                },
            )
        ),
        "within_policy": serializers.BooleanField(),
    },
)


class PricePolicyCheckView(APIView):
    """What a sale at this price would break for the caller: the floor price, their discount ceiling."""

    permission_classes = [allow(can_view_products)]

    @extend_schema(
        request=PricePolicyCheckSerializer,
        responses={200: PricePolicyResultSerializer, 400: ErrorSerializer},
    )
    def post(self, request):
        params = PricePolicyCheckSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        violations = pricing.price_policy_check(user=request.user, **params.validated_data)
        return Response({"violations": [v.as_dict() for v in violations], "within_policy": not violations})
