"""Forms of the reviewer's, planner's and finance's pages. They only parse input: every rule
(what may be reserved, delivered, allocated or written off) is checked by the services, whose
field errors the views put back here. Forms with one row per order line, delivery line or
receivable name their fields after the row's id (``qty_12``, ``alloc_7``)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodflow.core.forms import StyledFormMixin
from foodflow.crm.models import Customer

from .models import Invoice, OrderReview, Payment, ReturnLine
from .workflows import DELIVERY_FLOW, INVOICE_FLOW

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXTAREA = forms.Textarea(attrs={"rows": 2})
QUANTITY = {"max_digits": 14, "decimal_places": 3, "min_value": Decimal("0")}
MONEY = {"max_digits": 14, "decimal_places": 2}


class FilterForm(StyledFormMixin, forms.Form):
    """A GET form of a list: fields in one row without labels (each keeps its label for
    screen readers); a value that does not parse is ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", field.label)

    def values(self) -> dict:
        self.is_valid()
        return {name: self.cleaned_data.get(name) for name in self.fields}


def _search(placeholder) -> forms.CharField:
    return forms.CharField(
        label=_("Search"), max_length=100, required=False, widget=forms.SearchInput(attrs={"placeholder": placeholder})
    )


class CustomerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Customer) -> str:
        return f"{obj.name} ({obj.code})"


# --- review --------------------------------------------------------------------------------------


class ReviewQueueFilterForm(FilterForm):
    q = _search(_("Order number, customer or PO number"))
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            ("", _("All states")),
            ("confirmed", _("Awaiting review")),
            ("production", _("Awaiting production")),
            ("credit_hold", _("Credit hold")),
        ],
    )


class ReviewDecisionForm(StyledFormMixin, forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=OrderReview.Decision.choices, widget=forms.RadioSelect)
    promised_date = forms.DateField(
        label=_("Promised delivery date"),
        required=False,
        widget=DATE,
        help_text=_("Proposed from stock and production; needed when part is delivered later."),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=300,
        required=False,
        widget=TEXTAREA,
        help_text=_("Required when the order goes back to sales."),
    )


class CreditReleaseForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why the block can be lifted"),
        max_length=300,
        widget=TEXTAREA,
        help_text=_("The request goes through approval; the order is reviewed again once it is approved."),
    )


# --- deliveries ----------------------------------------------------------------------------------


class DeliveryBoardFilterForm(FilterForm):
    q = _search(_("Order number or customer"))
    week = forms.DateField(label=_("Week of"), required=False, widget=DATE)
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All but cancelled")), *DELIVERY_FLOW.choices()]
    )


class DeliveryCreateForm(StyledFormMixin, forms.Form):
    """One quantity field per open order line (``qty_<line id>``), then the note's header."""

    planned_date = forms.DateField(label=_("Delivery date"), widget=DATE)
    carrier = forms.CharField(label=_("Carrier"), max_length=100, required=False)
    address = forms.CharField(label=_("Delivery address"), max_length=300, required=False)

    def __init__(self, *args, lines, deliverable: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[self.field_name(line)] = forms.DecimalField(
                label=f"{line.position}. {line.product}",
                required=False,
                initial=deliverable.get(line.pk, Decimal("0")).normalize(),
                max_value=line.open_quantity,
                widget=forms.NumberInput(attrs={"step": "any", "class": "form-control text-end"}),
                **QUANTITY,
            )
        for name in ("planned_date", "carrier", "address"):
            self.fields[name] = self.fields.pop(name)

    @staticmethod
    def field_name(line) -> str:
        return f"qty_{line.pk}"

    def rows(self):
        return [(line, self[self.field_name(line)]) for line in self.lines]

    def header_fields(self):
        return [self[name] for name in ("planned_date", "carrier", "address")]

    def quantities(self) -> dict[int, Decimal]:
        return {line.pk: self.cleaned_data.get(self.field_name(line)) or Decimal("0") for line in self.lines}


class DeliveryReceiveForm(StyledFormMixin, forms.Form):
    received_on = forms.DateField(label=_("Received on"), widget=DATE)
    signed_by = forms.CharField(label=_("Signed by"), max_length=64)


class ReasonForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, widget=TEXTAREA)


class OptionalReasonForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False, widget=TEXTAREA)


# --- receivables ---------------------------------------------------------------------------------


class ReceivableFilterForm(FilterForm):
    q = _search(_("Number, order, customer or VAT invoice number"))
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All states")), *INVOICE_FLOW.choices()]
    )
    customer = CustomerChoiceField(
        label=_("Customer"), queryset=Customer.objects.none(), required=False, empty_label=_("All customers")
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers


class VatInvoiceForm(StyledFormMixin, forms.Form):
    vat_type = forms.ChoiceField(label=_("VAT invoice type"), choices=Invoice.VatType.choices)
    vat_number = forms.CharField(label=_("VAT invoice number"), max_length=20)
    vat_date = forms.DateField(label=_("VAT invoice date"), widget=DATE)


class WriteOffForm(StyledFormMixin, forms.Form):
    amount = forms.DecimalField(label=_("Amount to write off"), min_value=Decimal("0.01"), **MONEY)
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=TEXTAREA)


# --- payments ------------------------------------------------------------------------------------


class PaymentFilterForm(FilterForm):
    q = _search(_("Number, bank reference or customer"))
    method = forms.ChoiceField(
        label=_("Method"), required=False, choices=[("", _("All methods")), *Payment.Method.choices]
    )
    unallocated = forms.BooleanField(label=_("With unallocated credit"), required=False)


class AllocationMixin:
    """One amount field per open receivable (``alloc_<receivable id>``) and "oldest first"."""

    def add_allocation_fields(self, receivables) -> None:
        self.receivables = list(receivables)
        for invoice in self.receivables:
            self.fields[self.allocation_name(invoice)] = forms.DecimalField(
                label=invoice.number,
                required=False,
                min_value=Decimal("0"),
                widget=forms.NumberInput(attrs={"step": "0.01", "class": "form-control text-end"}),
                **MONEY,
            )

    @staticmethod
    def allocation_name(invoice) -> str:
        return f"alloc_{invoice.pk}"

    def allocation_rows(self):
        return [(invoice, self[self.allocation_name(invoice)]) for invoice in self.receivables]

    def allocations(self) -> list[tuple[Invoice, Decimal]]:
        return [
            (invoice, amount)
            for invoice in self.receivables
            if (amount := self.cleaned_data.get(self.allocation_name(invoice))) and amount > 0
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("auto_allocate") and self.allocations():
            raise forms.ValidationError(_("Either give amounts per receivable or allocate oldest first, not both."))
        return cleaned


class PaymentForm(AllocationMixin, StyledFormMixin, forms.Form):
    customer = CustomerChoiceField(label=_("Customer"), queryset=Customer.objects.order_by("name"))
    amount = forms.DecimalField(label=_("Amount received"), min_value=Decimal("0.01"), **MONEY)
    received_on = forms.DateField(label=_("Received on"), widget=DATE)
    method = forms.ChoiceField(label=_("Method"), choices=Payment.Method.choices)
    reference = forms.CharField(label=_("Bank reference"), max_length=64, required=False)
    auto_allocate = forms.BooleanField(label=_("Allocate oldest first"), required=False)

    def __init__(self, *args, receivables=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate()
        self.add_allocation_fields(receivables)

    def header_fields(self):
        return [self[name] for name in ("customer", "amount", "received_on", "method", "reference")]


class AllocateForm(AllocationMixin, StyledFormMixin, forms.Form):
    auto_allocate = forms.BooleanField(label=_("Allocate oldest first"), required=False)

    def __init__(self, *args, receivables=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.add_allocation_fields(receivables)

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("auto_allocate") and not self.allocations():
            raise forms.ValidationError(_("Give an amount for at least one receivable, or allocate oldest first."))
        return cleaned


# --- returns -------------------------------------------------------------------------------------


class ReturnForm(StyledFormMixin, forms.Form):
    """Per delivery line a quantity back (``qty_<line id>``) and what becomes of it (``disp_<line id>``)."""

    reason = forms.CharField(label=_("Reason"), max_length=300, widget=TEXTAREA)
    received_on = forms.DateField(label=_("Received back on"), widget=DATE)

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate()
        self.lines = list(lines)
        for line in self.lines:
            self.fields[f"qty_{line.pk}"] = forms.DecimalField(
                label=_("Quantity back"),
                required=False,
                max_value=line.quantity - line.returned,
                widget=forms.NumberInput(attrs={"step": "any", "class": "form-control text-end"}),
                **QUANTITY,
            )
            self.fields[f"disp_{line.pk}"] = forms.ChoiceField(
                label=_("Disposition"),
                choices=ReturnLine.Disposition.choices,
                initial=ReturnLine.Disposition.RESTOCK,
                widget=forms.Select(attrs={"class": "form-select"}),
            )
        for name in ("reason", "received_on"):
            self.fields[name] = self.fields.pop(name)

    def rows(self):
        return [(line, self[f"qty_{line.pk}"], self[f"disp_{line.pk}"]) for line in self.lines]

    def header_fields(self):
        return [self["reason"], self["received_on"]]

    def chosen(self) -> list[tuple]:
        """(delivery line, quantity, disposition) of the lines with something coming back."""
        return [
            (line, quantity, self.cleaned_data[f"disp_{line.pk}"])
            for line in self.lines
            if (quantity := self.cleaned_data.get(f"qty_{line.pk}")) and quantity > 0
        ]

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.chosen():
            raise forms.ValidationError(_("Give the quantity that came back on at least one line."))
        return cleaned


# --- reconciliation ------------------------------------------------------------------------------


class ReconciliationFilterForm(FilterForm):
    q = _search(_("Order number or customer"))
    start = forms.DateField(label=_("Ordered from"), required=False, widget=DATE)
    end = forms.DateField(label=_("Ordered until"), required=False, widget=DATE)
