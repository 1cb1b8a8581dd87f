"""Forms of legal's and the contract admin's pages: templates and their clauses, disputes, the
risk board and the risk policy. They only parse input: every rule (placeholders, states,
reasons, who may act) is checked by the services, whose errors the views put back on these
forms under the field they name."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from foodflow.core.forms import StyledFormMixin

from .models import ClauseKey, ContractKind, Dispute, RiskPolicy, RiskWarning, Severity
from .risk import POLICY_FIELDS, RULES
from .services import ClauseInput
from .workflows import DISPUTE_FLOW

TEXTAREA = forms.Textarea(attrs={"rows": 3})
REQUIRED_TEXTAREA = forms.Textarea(attrs={"rows": 3, "required": True})

# --- templates ---------------------------------------------------------------------------------------


class TemplateForm(StyledFormMixin, forms.Form):
    """The header of a template. A new one takes its code and kind; a revision keeps them and
    says what changed."""

    code = forms.SlugField(
        label=_("Code"), max_length=40, help_text=_("Letters, digits and hyphens; it never changes.")
    )
    kind = forms.ChoiceField(label=_("Contract kind"), choices=ContractKind.choices)
    name = forms.CharField(label=_("Name"), max_length=120)
    name_en = forms.CharField(label=_("Name in English"), max_length=120, required=False)
    # required by the revision service, which says so in the user's language
    change_note = forms.CharField(
        label=_("What changed"), max_length=300, required=False, widget=forms.TextInput(attrs={"required": True})
    )

    def __init__(self, *args, revising: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if revising:
            del self.fields["code"]
            del self.fields["kind"]
        else:
            del self.fields["change_note"]


class ClauseForm(StyledFormMixin, forms.Form):
    key = forms.ChoiceField(label=_("Clause"), choices=[("", "—"), *ClauseKey.choices])
    title = forms.CharField(label=_("Title"), max_length=120)
    title_en = forms.CharField(label=_("Title in English"), max_length=120, required=False)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 5}))
    body_en = forms.CharField(label=_("Text in English"), required=False, widget=forms.Textarea(attrs={"rows": 5}))
    editable = forms.BooleanField(label=_("Free clause (the contract admin may edit it)"), required=False)

    def clause_input(self) -> ClauseInput:
        data = self.cleaned_data
        return ClauseInput(
            key=data["key"],
            title=data["title"],
            body=data["body"],
            title_en=data.get("title_en") or "",
            body_en=data.get("body_en") or "",
            editable=bool(data.get("editable")),
        )

    @staticmethod
    def initial_of(clause) -> dict:
        return {
            "key": clause.key,
            "title": clause.title,
            "title_en": clause.title_en,
            "body": clause.body,
            "body_en": clause.body_en,
            "editable": clause.editable,
        }


class BaseClauseFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        # the position and removal fields come after the form styled its own
        super().add_fields(form, index)
        if "ORDER" in form.fields:
            form.fields["ORDER"].widget.attrs.update({"class": "form-control", "min": "1"})
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget.attrs.update({"class": "form-check-input"})


def _clause_formset(extra: int):
    return forms.formset_factory(
        ClauseForm, formset=BaseClauseFormSet, extra=extra, can_delete=True, can_order=True, max_num=60
    )


# a revision starts from the current clauses; a new template from one empty clause
ClauseFormSet = _clause_formset(extra=0)
NewClauseFormSet = _clause_formset(extra=1)


def filled_clause_forms(formset) -> list[ClauseForm]:
    """The clauses of a valid formset in the order the user gave them, without the empty and
    the deleted ones: the list the service numbers its ``clauses.<n>`` errors by."""
    return [form for form in formset.ordered_forms if form.cleaned_data]


def show_template_errors(form, clause_forms: list, error) -> None:
    """A service's refusal on the template page: ``clauses.<n>.<field>`` under that field of
    the n-th clause, every other field's under the header form's field, the rest on top."""
    for key, messages in error.fields.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "clauses" and parts[1].isdigit() and int(parts[1]) < len(clause_forms):
            target, field = clause_forms[int(parts[1])], parts[2]
        else:
            target, field = form, key
        for message in messages:
            target.add_error(field if field in target.fields else None, str(message))
    if not error.fields:
        form.add_error(None, error.message)


# --- disputes ----------------------------------------------------------------------------------------


class DisputeFilterForm(StyledFormMixin, forms.Form):
    """The search row of the dispute list; a value that does not parse is ignored."""

    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("Number, contract, customer or complaint")}),
    )
    state = forms.ChoiceField(label=_("State"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("All states")), *DISPUTE_FLOW.choices()]
        self.fields["category"].choices = [("", _("All categories")), *Dispute.Category.choices]
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", field.label)

    def values(self) -> dict:
        self.is_valid()
        return {
            "q": (self.cleaned_data.get("q") or "").strip(),
            "state": self.cleaned_data.get("state") or "",
            "category": self.cleaned_data.get("category") or "",
        }


class DisputeForm(StyledFormMixin, forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=Dispute.Category.choices)
    amount = forms.DecimalField(
        label=_("Amount in dispute"),
        max_digits=14,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.01", "placeholder": "0.00"}),
    )
    description = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 5}))
    complaint_reference = forms.CharField(
        label=_("Related complaint"),
        max_length=64,
        required=False,
        help_text=_("The number of the customer's complaint, if there is one."),
    )


class DisputeActionForm(StyledFormMixin, forms.Form):
    note = forms.CharField(label=_("Action taken"), max_length=4000, widget=REQUIRED_TEXTAREA, required=False)


class DisputeResolveForm(StyledFormMixin, forms.Form):
    resolution = forms.CharField(label=_("Resolution"), widget=REQUIRED_TEXTAREA, required=False)
    settled_amount = forms.DecimalField(
        label=_("Settled amount"),
        max_digits=14,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
        help_text=_("What the settlement costs or brings; leave empty when no money is involved."),
    )


class DisputeReopenForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=REQUIRED_TEXTAREA, required=False)


# --- risks -------------------------------------------------------------------------------------------

RISK_STATES = [
    ("live", _("Open and acknowledged")),
    (RiskWarning.State.OPEN, RiskWarning.State.OPEN.label),
    (RiskWarning.State.ACKNOWLEDGED, RiskWarning.State.ACKNOWLEDGED.label),
    (RiskWarning.State.RESOLVED, RiskWarning.State.RESOLVED.label),
]


class RiskFilterForm(StyledFormMixin, forms.Form):
    state = forms.ChoiceField(label=_("State"), choices=RISK_STATES, required=False)
    rule = forms.ChoiceField(label=_("Rule"), required=False)
    severity = forms.TypedChoiceField(
        label=_("Severity"),
        choices=[("", _("All severities")), *Severity.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    mine = forms.BooleanField(label=_("Only mine"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [("", _("All rules")), *((code, rule.label) for code, rule in RULES.items())]
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", field.label)

    def values(self) -> dict:
        self.is_valid()
        return {
            "state": self.cleaned_data.get("state") or "live",
            "rule": self.cleaned_data.get("rule") or "",
            "severity": self.cleaned_data.get("severity"),
            "mine": bool(self.cleaned_data.get("mine")),
        }


class AcknowledgeForm(StyledFormMixin, forms.Form):
    # required by the service, which says so in the user's language
    note = forms.CharField(
        label=_("What is being done about it?"), max_length=300, widget=REQUIRED_TEXTAREA, required=False
    )
    next = forms.CharField(widget=forms.HiddenInput, required=False)  # the board with its filters


class RiskPolicyForm(StyledFormMixin, forms.Form):
    """The limits of the risk rules, with the labels and bounds of the policy's fields."""

    def __init__(self, *args, policy: RiskPolicy, **kwargs):
        kwargs.setdefault("initial", {name: getattr(policy, name) for name in POLICY_FIELDS})
        super().__init__(*args, **kwargs)
        # added after the mixin styled the (then empty) form: every one is a number input
        self.fields.update(forms.fields_for_model(RiskPolicy, fields=POLICY_FIELDS))
        for field in self.fields.values():
            field.widget.attrs.update({"class": "form-control", "min": "0"})
