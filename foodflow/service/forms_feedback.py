"""Forms of the feedback pages: the suggestion list's filters, submitting a suggestion, the
manager's actions on a suggestion (take under review, decide, mark implemented), the summary's
month, and the public suggestion form.

They only parse input: every rule (what must be said, who may decide, which state allows
what) is checked by ``feedback``, whose refusals the views show."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from foodflow.accounts.models import User
from foodflow.core.forms import StyledFormMixin
from foodflow.crm.models import Customer
from foodflow.sales.forms_docs import CustomerChoiceField, UserChoiceField

from .models import Suggestion
from .selectors_feedback import suggestion_deciders
from .workflows import SUGGESTION_FLOW

TEXTAREA = forms.Textarea(attrs={"rows": 3})
MONTH_FORMAT = "%Y-%m"


class SuggestionFilterForm(StyledFormMixin, forms.Form):
    """The list's search row; a value that does not parse is ignored."""

    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("Number, title or text")}),
    )
    state = forms.ChoiceField(label=_("State"), required=False)
    category = forms.ChoiceField(label=pgettext_lazy("suggestion", "Category"), required=False)
    source = forms.ChoiceField(label=pgettext_lazy("suggestion source", "From"), required=False)
    owner = UserChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("All owners"))

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["state"].choices = [
            ("", _("All states")),
            ("open", _("Waiting for a decision")),
            *SUGGESTION_FLOW.choices(),
        ]
        self.fields["category"].choices = [("", _("All categories")), *Suggestion.Category.choices]
        self.fields["source"].choices = [("", _("Staff and customers")), *Suggestion.Source.choices]
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", field.label)

    def values(self) -> dict:
        self.is_valid()
        data = self.cleaned_data
        return {
            "q": (data.get("q") or "").strip(),
            "state": data.get("state") or "",
            "category": data.get("category") or "",
            "source": data.get("source") or "",
            "owner": data.get("owner"),
        }


class SuggestionForm(StyledFormMixin, forms.Form):
    """A suggestion of the staff member, or one a customer gave them."""

    source = forms.ChoiceField(
        label=pgettext_lazy("suggestion source", "From"),
        choices=Suggestion.Source.choices,
        initial=Suggestion.Source.STAFF,
    )
    category = forms.ChoiceField(label=pgettext_lazy("suggestion", "Category"), choices=Suggestion.Category.choices)
    title = forms.CharField(label=_("Title"), max_length=120)
    text = forms.CharField(
        label=_("Suggestion"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What should change, and why it helps."),
    )
    customer = CustomerChoiceField(
        label=_("Customer"), queryset=Customer.objects.none(), required=False, empty_label=_("— no customer —")
    )
    contact_name = forms.CharField(
        label=_("Contact"),
        max_length=64,
        required=False,
        help_text=_("For a customer's suggestion: the customer or the person who gave it."),
    )

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers


class ReviewForm(StyledFormMixin, forms.Form):
    owner = UserChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = suggestion_deciders()


class DecideForm(StyledFormMixin, forms.Form):
    outcome = forms.ChoiceField(choices=[("accept", "accept"), ("reject", "reject")], widget=forms.HiddenInput)
    # required by the service, which says so in the user's language
    decision = forms.CharField(
        label=_("Decision and why"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "required": True}),
    )


class ImplementedForm(StyledFormMixin, forms.Form):
    note = forms.CharField(label=_("What was done (optional)"), max_length=2000, required=False, widget=TEXTAREA)


class MonthForm(StyledFormMixin, forms.Form):
    month = forms.DateField(
        label=_("Month"),
        required=False,
        input_formats=[MONTH_FORMAT],
        widget=forms.DateInput(attrs={"type": "month"}, format=MONTH_FORMAT),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].widget.attrs.setdefault("aria-label", self.fields["month"].label)

    def chosen(self, default):
        """The first day of the chosen month; ``default`` when none (or a wrong one) is given."""
        if self.is_valid() and self.cleaned_data.get("month"):
            return self.cleaned_data["month"].replace(day=1)
        return default


# --- the public form (no login) ---------------------------------------------------------------------


# customers do not use this system: they suggest about everything else
PUBLIC_CATEGORIES = [(value, label) for value, label in Suggestion.Category.choices if value != "system"]


class PublicSuggestionForm(StyledFormMixin, forms.Form):
    contact_name = forms.CharField(label=_("Your name"), max_length=64)
    company = forms.CharField(label=_("Shop or company (if any)"), max_length=100, required=False)
    category = forms.ChoiceField(label=_("About"), choices=PUBLIC_CATEGORIES)
    title = forms.CharField(label=_("Your suggestion in a few words"), max_length=120)
    text = forms.CharField(label=_("Tell us more"), widget=forms.Textarea(attrs={"rows": 5}), max_length=4000)
    # a field people never see: a bot that fills it is ignored
    website = forms.CharField(required=False, widget=forms.HiddenInput)
