"""Forms of the rep's and approver's pages. They only parse input: every rule (prices,
discount bounds, reasons, who may act) is checked by the services, whose errors the views put
back on these forms. A discount is typed in percent here and handed to the services as a
fraction (8 → 0.08)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodflow.accounts.models import Role, User
from foodflow.catalog.models import Product
from foodflow.core.forms import StyledFormMixin

from .models import ApprovalPolicy, ContactChannel, DocType
from .services import InquiryLineInput, LineInput

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXTAREA = forms.Textarea(attrs={"rows": 3})
HUNDRED = Decimal(100)


def plain(value: Decimal | None) -> str:
    """A decimal as a user types it: no trailing zeros, no exponent (100.000 → "100")."""
    return "" if value is None else f"{value.normalize():f}"


def percent_of(fraction: Decimal | None) -> str:
    """A stored fraction as the percent a user types (0.0800 → "8"); empty for none."""
    if not fraction:
        return ""
    return plain((fraction * HUNDRED).quantize(Decimal("0.01")))


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class CustomerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.code})"


class ProductChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Product) -> str:
        return f"{obj.sku} {obj.display_name} {obj.specification}"


def active_products():
    return Product.objects.filter(status=Product.Status.ACTIVE).order_by("sku")


# --- lists ----------------------------------------------------------------------------------------


class DocFilterForm(StyledFormMixin, forms.Form):
    """The search row of a pipeline list; a value that does not parse is ignored."""

    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("Number or customer name")}),
    )
    state = forms.ChoiceField(label=_("State"), required=False)
    owner = UserChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("All owners"))
    versions = forms.BooleanField(label=_("All versions"), required=False)

    def __init__(self, *args, flow, owners=None, with_versions: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("All states")), *flow.choices()]
        if owners is None:
            del self.fields["owner"]
        else:
            self.fields["owner"].queryset = owners
        if not with_versions:
            del self.fields["versions"]
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", field.label)

    def values(self) -> dict:
        self.is_valid()
        owner = self.cleaned_data.get("owner")
        return {
            "query": (self.cleaned_data.get("q") or "").strip(),
            "state": self.cleaned_data.get("state") or "",
            "owner_id": owner.pk if owner else None,
            "all_versions": bool(self.cleaned_data.get("versions")),
        }


# --- lines ----------------------------------------------------------------------------------------


class InquiryLineForm(StyledFormMixin, forms.Form):
    product = ProductChoiceField(label=_("Product"), queryset=active_products(), required=False)
    description = forms.CharField(
        label=_("Or: what the customer asked for"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Free text when no product fits")}),
    )
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=14, decimal_places=3)

    def line_input(self) -> InquiryLineInput:
        data = self.cleaned_data
        return InquiryLineInput(
            quantity=data["quantity"], product=data.get("product"), description=data.get("description") or ""
        )


class CommercialLineForm(StyledFormMixin, forms.Form):
    product = ProductChoiceField(label=_("Product"), queryset=active_products())
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=14, decimal_places=3)
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        max_digits=14,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"placeholder": _("List price"), "step": "0.01"}),
    )
    discount_percent = forms.DecimalField(
        label=_("Discount (%)"),
        max_digits=5,
        decimal_places=2,
        # the service's bound (0 ≤ discount < 1) said in percent, as the user typed it
        min_value=Decimal(0),
        max_value=Decimal("99.99"),
        required=False,
        widget=forms.NumberInput(attrs={"placeholder": "0", "step": "0.01"}),
    )

    # a service names a line's field by its own name; the form shows it under this one
    SERVICE_FIELDS = {"discount": "discount_percent"}

    def line_input(self) -> LineInput:
        data = self.cleaned_data
        percent = data.get("discount_percent")
        return LineInput(
            product=data["product"],
            quantity=data["quantity"],
            unit_price=data.get("unit_price"),
            discount=(percent / HUNDRED) if percent is not None else Decimal(0),
        )

    @staticmethod
    def initial_of(line) -> dict:
        return {
            "product": line.product_id,
            "quantity": plain(line.quantity),
            "unit_price": line.unit_price,
            "discount_percent": percent_of(line.discount),
        }


InquiryLineFormSet = forms.formset_factory(InquiryLineForm, extra=1, can_delete=True, max_num=200)
CommercialLineFormSet = forms.formset_factory(CommercialLineForm, extra=1, can_delete=True, max_num=200)


def filled_line_forms(formset) -> list:
    """The forms of a valid formset that hold a line: not left empty, not marked deleted."""
    return [form for form in formset.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]


def show_line_errors(form, line_forms: list, error) -> None:
    """A service's refusal on a page with lines: ``lines.<n>.<field>`` errors under the n-th
    filled line, every other field's under the header form's field, the rest on top."""
    for key, messages in error.fields.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit() and int(parts[1]) < len(line_forms):
            target = line_forms[int(parts[1])]
            field = getattr(target, "SERVICE_FIELDS", {}).get(parts[2], parts[2])
        else:
            target, field = form, key
        for message in messages:
            target.add_error(field if field in target.fields else None, str(message))
    if not error.fields:
        form.add_error(None, error.message)


# --- inquiries ------------------------------------------------------------------------------------


class InquiryForm(StyledFormMixin, forms.Form):
    customer = CustomerChoiceField(label=_("Customer"), queryset=None)
    channel = forms.ChoiceField(label=_("Received by"), choices=ContactChannel.choices, initial=ContactChannel.PHONE)
    received_on = forms.DateField(label=_("Received on"), widget=DATE)
    wanted_date = forms.DateField(label=_("Wanted delivery date"), required=False, widget=DATE)
    notes = forms.CharField(label=_("Notes"), required=False, widget=TEXTAREA)

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers
        self.fields["received_on"].initial = timezone.localdate()


class ReasonForm(StyledFormMixin, forms.Form):
    """A reason the service requires (it says so when it is missing, in the user's language)."""

    reason = forms.CharField(
        label=_("Reason"), max_length=200, required=False, widget=forms.Textarea(attrs={"rows": 3, "required": True})
    )


class DeclineForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason given by the customer"), max_length=200, required=False, widget=TEXTAREA)


# --- quotations and orders ------------------------------------------------------------------------


class CommercialForm(StyledFormMixin, forms.Form):
    """The header both documents share; ``lock_version`` travels with an edit so that a
    stale one is refused instead of overwriting someone else's change."""

    customer = CustomerChoiceField(label=_("Customer"), queryset=None)
    payment_terms_days = forms.IntegerField(
        label=_("Payment terms (days)"),
        min_value=0,
        max_value=365,
        required=False,
        help_text=_("Leave empty for the customer's standard terms."),
    )
    delivery_terms = forms.CharField(label=_("Delivery terms"), max_length=200, required=False)
    wanted_date = forms.DateField(label=_("Wanted delivery date"), required=False, widget=DATE)
    notes = forms.CharField(label=_("Notes"), required=False, widget=TEXTAREA)
    lock_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, customers=None, document=None, **kwargs):
        if document is not None:
            kwargs.setdefault("initial", self.initial_of(document))
        super().__init__(*args, **kwargs)
        if document is None:
            self.fields["customer"].queryset = customers
            del self.fields["lock_version"]
        else:
            del self.fields["customer"]

    def initial_of(self, document) -> dict:
        return {
            "payment_terms_days": document.payment_terms_days,
            "delivery_terms": document.delivery_terms,
            "wanted_date": document.wanted_date,
            "notes": document.notes,
            "lock_version": document.lock_version,
        }

    def service_fields(self) -> dict:
        """The header as the services take it (no customer, no lock version)."""
        data = {name: value for name, value in self.cleaned_data.items() if name not in ("customer", "lock_version")}
        for name in ("delivery_terms", "notes"):
            data[name] = data.get(name) or ""
        return data

    def stale(self, current_version: int) -> None:
        """After a conflict: keep what the user typed, but carry the version they now saw,
        so that saving again is a decision, not an accident."""
        self.data = self.data.copy()
        self.data[self.add_prefix("lock_version")] = str(current_version)


class QuotationForm(CommercialForm):
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=DATE, help_text=_("Leave empty for 30 days from today.")
    )
    language = forms.ChoiceField(label=_("Language of the PDF"), choices=settings.LANGUAGES, initial="zh-hans")

    field_order = ("customer", "valid_until", "payment_terms_days", "delivery_terms", "wanted_date", "language")

    def __init__(self, *args, document=None, **kwargs):
        super().__init__(*args, document=document, **kwargs)
        if document is not None:
            self.fields["valid_until"].required = True
            self.fields["valid_until"].help_text = ""

    def initial_of(self, document) -> dict:
        return {**super().initial_of(document), "valid_until": document.valid_until, "language": document.language}

    def service_fields(self) -> dict:
        data = super().service_fields()
        if data.get("valid_until") is None:
            data.pop("valid_until", None)  # the service's default validity
        return data


class OrderForm(CommercialForm):
    customer_reference = forms.CharField(label=_("Customer's PO number"), max_length=64, required=False)
    delivery_address = forms.CharField(
        label=_("Delivery address"),
        max_length=300,
        required=False,
        help_text=_("Leave empty for the customer's default delivery address."),
    )

    field_order = ("customer", "customer_reference", "delivery_address", "payment_terms_days", "delivery_terms")

    def initial_of(self, document) -> dict:
        return {
            **super().initial_of(document),
            "customer_reference": document.customer_reference,
            "delivery_address": document.delivery_address,
        }

    def service_fields(self) -> dict:
        data = super().service_fields()
        for name in ("customer_reference", "delivery_address"):
            data[name] = data.get(name) or ""
        return data


class CopyForm(StyledFormMixin, forms.Form):
    customer = CustomerChoiceField(
        label=_("For the customer"), queryset=None, required=False, empty_label=_("The same customer")
    )

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers


class OrderFromQuotationForm(StyledFormMixin, forms.Form):
    customer_reference = forms.CharField(label=_("Customer's PO number"), max_length=64, required=False)


class VersionForm(forms.Form):
    """The edit version an action on a document page was offered for."""

    lock_version = forms.IntegerField(widget=forms.HiddenInput, required=False)


# --- approvals ------------------------------------------------------------------------------------


class ApproveForm(StyledFormMixin, forms.Form):
    comment = forms.CharField(label=_("Comment (optional)"), max_length=300, required=False, widget=TEXTAREA)


class RejectForm(StyledFormMixin, forms.Form):
    # required by the approval service, which says so in the user's language
    comment = forms.CharField(
        label=_("Why do you reject it?"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "required": True}),
    )


class PolicyForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    doc_type = forms.ChoiceField(label=_("Document type"), choices=DocType.choices)
    condition = forms.ChoiceField(label=_("Condition"), choices=ApprovalPolicy.Condition.choices)
    threshold = forms.DecimalField(
        label=_("Threshold"),
        max_digits=14,
        decimal_places=4,
        required=False,
        help_text=_(
            "An amount in CNY for “total above”; a fraction for a discount (0.10 for 10 %); a number of days"
            " for payment terms; a margin in CNY above the credit limit."
        ),
    )
    approver_role = forms.ModelChoiceField(label=_("Approver role"), queryset=Role.objects.order_by("id"))
    level = forms.IntegerField(label=_("Level"), min_value=1, initial=1, help_text=_("Level 1 decides before level 2."))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, policy: ApprovalPolicy | None = None, **kwargs):
        if policy is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": policy.name,
                    "doc_type": policy.doc_type,
                    "condition": policy.condition,
                    "threshold": plain(policy.threshold),
                    "approver_role": policy.approver_role_id,
                    "level": policy.level,
                    "is_active": policy.is_active,
                },
            )
        super().__init__(*args, **kwargs)
