"""Forms of the after-sales pages: the complaint ledger's filters, logging a complaint, the
actions of the complaint page and of the recall page.

They only parse input: every rule (states, what must be said, who may act, quantities) is
checked by ``services`` and ``recalls``, whose refusals the views show. The one thing a form
does beyond parsing is to resolve what a user types by number (an order, a delivery, a lot)
into the object the service takes; a number that names nothing is a field error here."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from foodflow.accounts.models import User
from foodflow.catalog.models import Product
from foodflow.core.forms import StyledFormMixin
from foodflow.crm.models import Customer
from foodflow.sales.forms_docs import CustomerChoiceField, ProductChoiceField, UserChoiceField, active_products
from foodflow.sales.models import Delivery, SalesOrder

from . import selectors
from .models import Complaint, ComplaintAction, Severity
from .permissions import can_log_complaints
from .workflows import COMPLAINT_FLOW

TEXTAREA = forms.Textarea(attrs={"rows": 3})
REQUIRED_TEXTAREA = forms.Textarea(attrs={"rows": 3, "required": True})


def complaint_handlers():
    """The active users who handle complaints (the owners a complaint may be given to)."""
    users = User.objects.filter(is_active=True).prefetch_related("roles").order_by("username")
    return User.objects.filter(pk__in=[user.pk for user in users if can_log_complaints(user)]).order_by("username")


def customers_to_complain():
    return Customer.objects.exclude(status=Customer.Status.BLOCKED).order_by("name", "pk")


# --- the ledger ----------------------------------------------------------------------------------


def _lot_from_number(form, data):
    """The lot the typed number names (with the product when several share it); an error on
    the field otherwise. None when no number was typed."""
    number = (data.get("lot") or "").strip()
    if not number:
        return None
    found = selectors.lots_numbered(number, product=data.get("product"))
    if not found:
        form.add_error("lot", _("No lot has this number."))
    elif len(found) > 1:
        form.add_error("lot", _("Several products have a lot with this number: choose the product."))
    else:
        return found[0]
    return None


class ComplaintFilterForm(StyledFormMixin, forms.Form):
    """The ledger's search row; a value that does not parse is ignored."""

    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("Number, customer, contact or description")}),
    )
    customer = CustomerChoiceField(
        label=_("Customer"), queryset=Customer.objects.none(), required=False, empty_label=_("All customers")
    )
    product = ProductChoiceField(
        label=_("Product"), queryset=Product.objects.none(), required=False, empty_label=_("All products")
    )
    lot = forms.CharField(
        label=_("Lot number"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Lot number")}),
    )
    category = forms.ChoiceField(label=_("Category"), required=False)
    severity = forms.ChoiceField(label=_("Severity"), required=False)
    state = forms.ChoiceField(label=_("State"), required=False)
    owner = UserChoiceField(
        label=_("Handled by"), queryset=User.objects.none(), required=False, empty_label=_("All handlers")
    )

    def __init__(self, *args, customers, products, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers
        self.fields["product"].queryset = products
        self.fields["owner"].queryset = owners
        self.fields["category"].choices = [("", _("All categories")), *Complaint.Category.choices]
        self.fields["severity"].choices = [("", _("All severities")), *Severity.choices]
        self.fields["state"].choices = [("", _("All states")), ("open", _("Open")), *COMPLAINT_FLOW.choices()]
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", field.label)

    def values(self) -> dict:
        self.is_valid()
        data = self.cleaned_data
        return {
            "q": (data.get("q") or "").strip(),
            "customer": data.get("customer"),
            "product": data.get("product"),
            "lot": (data.get("lot") or "").strip(),
            "category": data.get("category") or "",
            "severity": data.get("severity") or "",
            "state": data.get("state") or "",
            "owner": data.get("owner"),
        }


# --- logging ------------------------------------------------------------------------------------


class ComplaintForm(StyledFormMixin, forms.Form):
    channel = forms.ChoiceField(label=_("Received by"), choices=Complaint.Channel.choices, initial="phone")
    category = forms.ChoiceField(label=_("Category"), choices=Complaint.Category.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial=Severity.MEDIUM)
    customer = CustomerChoiceField(
        label=_("Customer"), queryset=Customer.objects.none(), required=False, empty_label=_("— not a customer —")
    )
    contact_name = forms.CharField(label=_("Contact"), max_length=64, required=False)
    contact_phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    order = forms.CharField(label=_("Order number"), max_length=32, required=False)
    delivery = forms.CharField(label=_("Delivery number"), max_length=32, required=False)
    product = ProductChoiceField(
        label=_("Product"), queryset=Product.objects.none(), required=False, empty_label=_("— the lot's product —")
    )
    lot = forms.CharField(
        label=_("Lot number"),
        max_length=40,
        required=False,
        help_text=_("As printed on the package; QA can hold or recall the lot from the complaint."),
    )
    description = forms.CharField(label=_("What the customer says"), widget=forms.Textarea(attrs={"rows": 5}))
    owner = UserChoiceField(
        label=_("Handled by"), queryset=User.objects.none(), required=False, empty_label=_("— nobody yet —")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers_to_complain()
        self.fields["product"].queryset = active_products()
        self.fields["owner"].queryset = complaint_handlers()

    def clean_order(self):
        number = (self.cleaned_data.get("order") or "").strip()
        if not number:
            return None
        order = SalesOrder.objects.filter(number=number, is_current=True).select_related("customer").first()
        if order is None:
            raise forms.ValidationError(_("No order has this number."))
        return order

    def clean_delivery(self):
        number = (self.cleaned_data.get("delivery") or "").strip()
        if not number:
            return None
        delivery = Delivery.objects.filter(number=number).select_related("order", "customer").first()
        if delivery is None:
            raise forms.ValidationError(_("No delivery has this number."))
        return delivery

    def clean(self):
        data = super().clean()
        data["lot"] = _lot_from_number(self, data)
        return data


# --- the complaint page -------------------------------------------------------------------------


class AssignForm(StyledFormMixin, forms.Form):
    owner = UserChoiceField(label=_("Handled by"), queryset=User.objects.none(), empty_label=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = complaint_handlers()


class ActionForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(value, label) for value, label in ComplaintAction.Kind.choices if value != "escalation"],
    )
    note = forms.CharField(label=_("What was done"), max_length=4000, required=False, widget=REQUIRED_TEXTAREA)


class ResolveForm(StyledFormMixin, forms.Form):
    # required by the service, which says so in the user's language
    resolution = forms.CharField(label=_("Resolution"), required=False, widget=REQUIRED_TEXTAREA)
    root_cause = forms.CharField(label=_("Root cause"), required=False, widget=REQUIRED_TEXTAREA)
    corrective_action = forms.CharField(label=_("Corrective action"), required=False, widget=REQUIRED_TEXTAREA)


class ConfirmForm(StyledFormMixin, forms.Form):
    feedback = forms.CharField(label=_("What the customer said"), max_length=300, required=False, widget=TEXTAREA)


class ReopenForm(StyledFormMixin, forms.Form):
    feedback = forms.CharField(
        label=_("What the customer disagrees with"), max_length=300, required=False, widget=REQUIRED_TEXTAREA
    )


class ReasonForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False, widget=TEXTAREA)


# --- recalls ------------------------------------------------------------------------------------


class DrillForm(StyledFormMixin, forms.Form):
    lot = forms.CharField(label=_("Lot number"), max_length=40)
    product = ProductChoiceField(
        label=_("Product"),
        queryset=Product.objects.none(),
        required=False,
        empty_label=_("— the lot's product —"),
        help_text=_("Only needed when several products have a lot with this number."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False, widget=REQUIRED_TEXTAREA)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.order_by("sku")

    def clean(self):
        data = super().clean()
        if (data.get("lot") or "").strip():
            data["lot"] = _lot_from_number(self, data)
        return data


class ReturnForm(StyledFormMixin, forms.Form):
    quantity = forms.DecimalField(
        label=_("Returned"),
        max_digits=14,
        decimal_places=3,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0", "aria-label": _("Quantity returned")}),
    )


class CloseForm(StyledFormMixin, forms.Form):
    note = forms.CharField(
        label=_("Closing note"),
        max_length=4000,
        required=False,
        widget=TEXTAREA,
        help_text=_("Required while goods are still out: say why the recall closes anyway."),
    )
