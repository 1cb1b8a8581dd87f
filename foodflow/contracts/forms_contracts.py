"""Forms of the contract pages: the ledger's filters, drafting, editing (terms, lines, free
clauses, payment milestones), signing, review comments and the reasons of the actions.

They only parse input: every rule (dates, prices, which clause may change, the scan's type
and size, who may act) is checked by ``services``, whose errors the views put back on these
forms. A discount is typed in percent here and handed to the services as a fraction
(8 → 0.08), as on the sales pages."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodflow.accounts.models import User
from foodflow.core.forms import BoundedTextMixin, StyledFormMixin
from foodflow.crm.models import Customer
from foodflow.sales.forms_docs import (
    DATE,
    HUNDRED,
    TEXTAREA,
    CustomerChoiceField,
    ProductChoiceField,
    UserChoiceField,
    active_products,
    percent_of,
    plain,
)
from foodflow.sales.models import SalesOrder

from .models import ContractKind, ContractTemplate, Language
from .services import ContractLineInput, MilestoneInput
from .workflows import CONTRACT_FLOW

SCAN_ACCEPT = ".pdf,.png,.jpg,.jpeg,.webp"


# --- the ledger -----------------------------------------------------------------------------------


class LedgerFilterForm(StyledFormMixin, forms.Form):
    """The ledger's filters (the page and its Excel export read them alike); a value that
    does not parse is ignored."""

    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("Number, title or customer")}),
    )
    customer = CustomerChoiceField(
        label=_("Customer"), queryset=Customer.objects.none(), required=False, empty_label=_("All customers")
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *ContractKind.choices])
    state = forms.ChoiceField(label=_("State"), required=False)
    owner = UserChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("All owners"))
    amount_min = forms.DecimalField(
        label=_("Amount from"),
        max_digits=14,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"placeholder": _("Amount from"), "step": "0.01"}),
    )
    amount_max = forms.DecimalField(
        label=_("Amount up to"),
        max_digits=14,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"placeholder": _("Amount up to"), "step": "0.01"}),
    )
    signed_from = forms.DateField(label=_("Signed from"), required=False, widget=DATE)
    signed_to = forms.DateField(label=_("Signed until"), required=False, widget=DATE)
    ends_from = forms.DateField(label=_("Ends from"), required=False, widget=DATE)
    ends_to = forms.DateField(label=_("Ends until"), required=False, widget=DATE)

    def __init__(self, *args, customers, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("All states")), *CONTRACT_FLOW.choices()]
        self.fields["customer"].queryset = customers
        self.fields["owner"].queryset = owners
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", field.label)

    def arguments(self) -> dict:
        """The keyword arguments of ``selectors.ledger`` (without the sort)."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "q": (data.get("q") or "").strip(),
            "customer": data.get("customer"),
            "kind": data.get("kind") or "",
            "state": data.get("state") or "",
            "owner": data.get("owner"),
            "amount_min": data.get("amount_min"),
            "amount_max": data.get("amount_max"),
            "signed_from": data.get("signed_from"),
            "signed_to": data.get("signed_to"),
            "ends_from": data.get("ends_from"),
            "ends_to": data.get("ends_to"),
        }


# --- drafting ---------------------------------------------------------------------------------------


class TemplateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ContractTemplate) -> str:
        return f"{obj.name} (v{obj.version}) · {obj.get_kind_display()}"


def templates_offered():
    """The templates a new contract may start from: the current version, still offered."""
    return ContractTemplate.objects.filter(is_current=True, is_active=True).order_by("kind", "code")


class DraftForm(StyledFormMixin, forms.Form):
    template = TemplateChoiceField(label=_("Template"), queryset=ContractTemplate.objects.none(), empty_label=None)
    language = forms.ChoiceField(label=_("Language of the contract"), choices=Language.choices, initial=Language.ZH)
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        required=False,
        help_text=_("Leave empty for the customer's name and the kind of contract."),
    )
    start_date = forms.DateField(
        label=_("Valid from"), required=False, widget=DATE, help_text=_("Leave empty for today.")
    )
    end_date = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=DATE,
        help_text=_("Leave empty for the template's usual term (90 days after delivery, or one year)."),
    )

    def __init__(self, *args, default_kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        offered = templates_offered()
        self.fields["template"].queryset = offered
        default = next((template for template in offered if template.kind == default_kind), None)
        if default is not None:
            self.fields["template"].initial = default.pk

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "template": data["template"],
            "language": data["language"],
            "title": (data.get("title") or "").strip(),
            "start_date": data.get("start_date"),
            "end_date": data.get("end_date"),
        }


class DraftForCustomerForm(StyledFormMixin, forms.Form):
    """The "framework or distribution agreement for a customer" box of the to-draft page
    (a GET form that opens the drafting page)."""

    customer = CustomerChoiceField(label=_("Customer"), queryset=Customer.objects.none())

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers


# --- editing ----------------------------------------------------------------------------------------


class ContractForm(StyledFormMixin, forms.Form):
    """The terms of a contract (``services.CONTRACT_FIELDS``); ``lock_version`` travels with
    the edit so that a stale one is refused instead of overwriting someone else's change."""

    title = forms.CharField(label=_("Title"), max_length=200)
    language = forms.ChoiceField(label=_("Language of the contract"), choices=Language.choices)
    start_date = forms.DateField(label=_("Valid from"), widget=DATE)
    end_date = forms.DateField(label=_("Valid until"), widget=DATE)
    payment_terms_days = forms.IntegerField(label=_("Payment terms (days)"), min_value=0, max_value=32767)
    delivery_terms = forms.CharField(label=_("Delivery terms"), max_length=200, required=False)
    delivery_address = forms.CharField(label=_("Delivery address"), max_length=300, required=False)
    quality_standard = forms.CharField(label=_("Quality standard"), max_length=300, required=False)
    liability_cap_percent = forms.DecimalField(
        label=_("Our liability cap, percent of the contract amount"),
        max_digits=6,
        decimal_places=2,
        required=False,
        help_text=_("Leave empty for unlimited liability."),
    )
    late_penalty_per_day = forms.DecimalField(
        label=_("Late delivery penalty, percent of the late amount per day"), max_digits=6, decimal_places=3
    )
    dispute_venue = forms.CharField(label=_("Dispute resolution"), max_length=200, required=False)
    lock_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    TEXT_FIELDS = ("delivery_terms", "delivery_address", "quality_standard", "dispute_venue")

    def __init__(self, *args, contract, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "title": contract.title,
                "language": contract.language,
                "start_date": contract.start_date,
                "end_date": contract.end_date,
                "payment_terms_days": contract.payment_terms_days,
                "delivery_terms": contract.delivery_terms,
                "delivery_address": contract.delivery_address,
                "quality_standard": contract.quality_standard,
                "liability_cap_percent": plain(contract.liability_cap_percent),
                "late_penalty_per_day": plain(contract.late_penalty_per_day),
                "dispute_venue": contract.dispute_venue,
                "lock_version": contract.lock_version,
            },
        )
        super().__init__(*args, **kwargs)

    def service_fields(self) -> dict:
        """The terms as ``contract_update`` takes them (without the lock version)."""
        data = {name: value for name, value in self.cleaned_data.items() if name != "lock_version"}
        for name in self.TEXT_FIELDS:
            data[name] = (data.get(name) or "").strip()
        return data

    def stale(self, current_version: int) -> None:
        """After a conflict: keep what the user typed, but carry the version they now saw,
        so that saving again is a decision, not an accident."""
        self.data = self.data.copy()
        self.data[self.add_prefix("lock_version")] = str(current_version)


class ContractLineForm(StyledFormMixin, forms.Form):
    product = ProductChoiceField(label=_("Product"), queryset=active_products())
    quantity = forms.DecimalField(
        label=_("Quantity"),
        max_digits=14,
        decimal_places=3,
        required=False,
        widget=forms.NumberInput(attrs={"placeholder": _("Open")}),
    )
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
        min_value=Decimal(0),
        max_value=Decimal("99.99"),
        required=False,
        widget=forms.NumberInput(attrs={"placeholder": "0", "step": "0.01"}),
    )

    # a service names a line's field by its own name; the form shows it under this one
    SERVICE_FIELDS = {"discount": "discount_percent"}

    def line_input(self) -> ContractLineInput:
        data = self.cleaned_data
        percent = data.get("discount_percent")
        return ContractLineInput(
            product=data["product"],
            quantity=data.get("quantity"),
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


class MilestoneForm(StyledFormMixin, forms.Form):
    label = forms.CharField(label=_("Milestone"), max_length=120)
    due_date = forms.DateField(label=_("Due on"), widget=DATE)
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=14, decimal_places=2, widget=forms.NumberInput(attrs={"step": "0.01"})
    )

    def milestone_input(self) -> MilestoneInput:
        data = self.cleaned_data
        return MilestoneInput(label=data["label"], due_date=data["due_date"], amount=data["amount"])

    @staticmethod
    def initial_of(milestone) -> dict:
        return {"label": milestone.label, "due_date": milestone.due_date, "amount": milestone.amount}


ContractLineFormSet = forms.formset_factory(ContractLineForm, extra=1, can_delete=True, max_num=200)
MilestoneFormSet = forms.formset_factory(MilestoneForm, extra=1, can_delete=True, max_num=50)


def filled_forms(formset) -> list:
    """The forms of a valid formset that hold a row: not left empty, not marked deleted."""
    return [form for form in formset.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]


class ClausesForm(BoundedTextMixin, forms.Form):
    """One textarea per free clause of the contract (``clause_<id>``); fixed clauses are the
    template's wording and are not offered."""

    def __init__(self, *args, clauses, **kwargs):
        super().__init__(*args, **kwargs)
        self.clauses = [clause for clause in clauses if clause.editable]
        for clause in self.clauses:
            self.fields[self.field_name(clause.pk)] = forms.CharField(
                label=clause.title,
                required=False,
                initial=clause.body,
                strip=False,
                widget=forms.Textarea(
                    attrs={"rows": 4, "class": "form-control", "data-testid": f"clause-input-{clause.key}"}
                ),
            )

    @staticmethod
    def field_name(clause_id) -> str:
        return f"clause_{clause_id}"

    def bodies(self) -> dict[int, str]:
        """{clause id: text} of every free clause, as ``contract_update`` takes them."""
        return {clause.pk: self.cleaned_data.get(self.field_name(clause.pk)) or "" for clause in self.clauses}


# --- signing ----------------------------------------------------------------------------------------


class SignForm(StyledFormMixin, forms.Form):
    # the signing service says what is missing (in the user's language): nothing required here
    signed_on = forms.DateField(label=_("Signed on"), required=False, widget=DATE)
    our_signatory = forms.CharField(label=_("Signed for us by"), max_length=100, required=False)
    customer_signatory = forms.CharField(label=_("Signed for the customer by"), max_length=100, required=False)
    scan = forms.FileField(
        label=_("Signed scan"),
        required=False,
        help_text=_("The signed and sealed contract as a PDF or an image (PNG, JPEG, WebP)."),
        widget=forms.FileInput(attrs={"accept": SCAN_ACCEPT}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["signed_on"].initial = timezone.localdate()


# --- review, actions, orders ---------------------------------------------------------------------------


class CommentForm(StyledFormMixin, forms.Form):
    """A reviewer's comment on a clause (``clause``: its id) or on the whole contract."""

    clause = forms.IntegerField(widget=forms.HiddenInput, required=False)
    text = forms.CharField(
        label=_("Comment"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2, "required": True})
    )


class ApproveForm(StyledFormMixin, forms.Form):
    approve = forms.CharField(widget=forms.HiddenInput, initial="1", required=False)
    comment = forms.CharField(label=_("Comment (optional)"), max_length=300, required=False, widget=TEXTAREA)


class ReturnForm(StyledFormMixin, forms.Form):
    approve = forms.CharField(widget=forms.HiddenInput, initial="0", required=False)
    # the service requires a reason unless this round has comments on clauses
    comment = forms.CharField(
        label=_("Why do you return it?"),
        max_length=300,
        required=False,
        widget=TEXTAREA,
        help_text=_("May stay empty when you commented on the clauses in this round."),
    )


class ReasonForm(StyledFormMixin, forms.Form):
    """A reason the service requires (it says so when it is missing, in the user's language)."""

    reason = forms.CharField(
        label=_("Reason"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 3, "required": True})
    )


class OrderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: SalesOrder) -> str:
        return f"{obj.number} · {obj.ordered_on:%Y-%m-%d} · ¥{obj.total}"


class LinkOrderForm(StyledFormMixin, forms.Form):
    order = OrderChoiceField(label=_("Order"), queryset=SalesOrder.objects.none())

    def __init__(self, *args, orders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["order"].queryset = orders
