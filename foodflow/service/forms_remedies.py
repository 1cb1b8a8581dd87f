"""Forms of a complaint's remedies: a no-charge replacement (a few product rows), a refund or
compensation, a return of the delivery's goods, and the filters of finance's list of credits to
issue.

They only parse input. What may be given, how much, from which lot and by whom is checked by
``remedies``; the views show its refusals on these forms (``lines.<n>.quantity`` of the service
becomes the row's own field)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodflow.core.forms import StyledFormMixin
from foodflow.sales.forms_docs import ProductChoiceField, active_products
from foodflow.sales.models import ReturnLine

from .models import Remedy

REPLACE_ROWS = 3  # a replacement is a few products; a bigger one is an order of its own
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
REASON = forms.Textarea(attrs={"rows": 2, "required": True})
QUANTITY = {"max_digits": 14, "decimal_places": 3}


def _reason_field():
    # required by the service, which says so in the user's language
    return forms.CharField(label=_("Reason"), max_length=300, required=False, widget=REASON)


class RemedyReplaceForm(StyledFormMixin, forms.Form):
    """Rows ``product_<n>`` / ``quantity_<n>``; the first row starts with the complaint's product."""

    planned_date = forms.DateField(
        label=_("Delivery date"), required=False, widget=DATE, help_text=_("Today if left empty.")
    )
    reason = _reason_field()

    def __init__(self, *args, complaint, **kwargs):
        super().__init__(*args, **kwargs)
        products = active_products()
        rows = {}
        for index in range(REPLACE_ROWS):
            rows[f"product_{index}"] = ProductChoiceField(
                label=_("Product"),
                queryset=products,
                required=False,
                empty_label=_("— no product —"),
                initial=complaint.product_id if index == 0 else None,
                widget=forms.Select(attrs={"class": "form-select"}),
            )
            rows[f"quantity_{index}"] = forms.DecimalField(
                label=_("Quantity"),
                required=False,
                widget=forms.NumberInput(attrs={"step": "any", "min": "0", "class": "form-control text-end"}),
                **QUANTITY,
            )
        self.fields = {**rows, **self.fields}
        self.fields["planned_date"].initial = timezone.localdate()
        self.positions: list[int] = []

    def rows(self):
        return [(self[f"product_{index}"], self[f"quantity_{index}"]) for index in range(REPLACE_ROWS)]

    def header_fields(self):
        return [self["planned_date"], self["reason"]]

    def clean(self):
        data = super().clean()
        for index in range(REPLACE_ROWS):
            product, quantity = data.get(f"product_{index}"), data.get(f"quantity_{index}")
            if product is not None and quantity is None and f"quantity_{index}" not in self.errors:
                self.add_error(f"quantity_{index}", _("Enter the quantity."))
            elif product is None and quantity is not None and f"product_{index}" not in self.errors:
                self.add_error(f"product_{index}", _("Choose the product."))
        return data

    def lines(self) -> list[tuple]:
        """(product, quantity) of the filled rows; ``positions`` keeps each line's row."""
        lines, self.positions = [], []
        for index in range(REPLACE_ROWS):
            product, quantity = self.cleaned_data.get(f"product_{index}"), self.cleaned_data.get(f"quantity_{index}")
            if product is not None and quantity is not None:
                lines.append((product, quantity))
                self.positions.append(index)
        return lines

    def field_of(self, key: str) -> str:
        """The form field of a service's ``lines.<n>.<field>`` error."""
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit() and int(parts[1]) < len(self.positions):
            name = "quantity" if parts[2] == "quantity" else "product"
            return f"{name}_{self.positions[int(parts[1])]}"
        return "product_0" if key == "lines" else key


class RemedyCreditForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(value, label) for value, label in Remedy.Kind.choices if value in ("refund", "compensation")],
        initial=Remedy.Kind.REFUND,
        help_text=_("A refund is at most what the order is worth; a compensation is not tied to the order."),
    )
    amount = forms.DecimalField(
        label=_("Amount (tax incl.)"),
        required=False,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "required": True}),
        help_text=_("Approved by amount under the approval policies; finance then issues the credit note."),
    )
    reason = _reason_field()


class RemedyReturnForm(StyledFormMixin, forms.Form):
    """Per line of the complaint's delivery a quantity back (``qty_<line id>``) and what becomes
    of it (``disp_<line id>``)."""

    reason = _reason_field()

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        rows = {}
        for line in self.lines:
            rows[f"qty_{line.pk}"] = forms.DecimalField(
                label=_("Quantity back"),
                required=False,
                min_value=0,
                widget=forms.NumberInput(attrs={"step": "any", "min": "0", "class": "form-control text-end"}),
                **QUANTITY,
            )
            rows[f"disp_{line.pk}"] = forms.ChoiceField(
                label=_("Disposition"),
                required=False,  # asked only of the lines that come back: the service says so
                choices=ReturnLine.Disposition.choices,
                initial=ReturnLine.Disposition.RESTOCK,
                widget=forms.Select(attrs={"class": "form-select"}),
            )
        self.fields = {**rows, **self.fields}
        self.chosen_lines: list = []

    def rows(self):
        return [(line, self[f"qty_{line.pk}"], self[f"disp_{line.pk}"]) for line in self.lines]

    def header_fields(self):
        return [self["reason"]]

    def chosen(self) -> list[tuple]:
        """(delivery line, quantity, disposition) of the lines with a quantity entered."""
        chosen = [
            (line, quantity, self.cleaned_data.get(f"disp_{line.pk}") or "")
            for line in self.lines
            # the service numbers only what comes back (a quantity above zero): so do the errors
            if (quantity := self.cleaned_data.get(f"qty_{line.pk}")) is not None and quantity > 0
        ]
        self.chosen_lines = [line for line, _quantity, _disposition in chosen]
        return chosen

    def field_of(self, key: str) -> str:
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit() and int(parts[1]) < len(self.chosen_lines):
            prefix = "qty_" if parts[2] == "quantity" else "disp_"
            return f"{prefix}{self.chosen_lines[int(parts[1])].pk}"
        return key


class CreditFilterForm(StyledFormMixin, forms.Form):
    """The search row of finance's list; a value that does not parse is ignored."""

    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("Complaint number or customer")}),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[
            ("", _("Refunds and compensations")),
            *[(value, label) for value, label in Remedy.Kind.choices if value in ("refund", "compensation")],
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", field.label)

    def values(self) -> dict:
        self.is_valid()
        data = self.cleaned_data
        return {"q": (data.get("q") or "").strip(), "kind": data.get("kind") or ""}
