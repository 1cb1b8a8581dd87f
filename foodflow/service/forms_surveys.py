"""Forms of the survey, revisit and quality pages. They only parse input: the rules (how many
questions, how long, who may be asked, when a revisit is done) live in ``surveys`` and
``revisits``, whose refusals the views put back on these forms."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodflow.core.forms import StyledFormMixin
from foodflow.crm.models import Activity
from foodflow.sales.forms_docs import CustomerChoiceField

from .models import Revisit, Survey
from .selectors_surveys import RATE_GROUPS, RESULT_GROUPS, REVISIT_STATES, default_range
from .surveys import MAX_QUESTION_LENGTH, MAX_QUESTIONS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _FilterForm(StyledFormMixin, forms.Form):
    """A GET form of a list: labels kept for screen readers; a value that does not parse is
    ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("aria-label", field.label)
            field.widget.attrs.setdefault("data-testid", f"filter-{name}")

    def value(self, name: str, default=None):
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        value = self.cleaned_data.get(name)
        return default if value in (None, "") else value


# --- surveys -----------------------------------------------------------------------------------------


class SurveyFilterForm(_FilterForm):
    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("Survey name")}),
    )
    trigger = forms.ChoiceField(label=_("Sent"), required=False)
    active = forms.ChoiceField(
        label=_("Active"),
        required=False,
        choices=[("", _("Active and inactive")), ("1", _("Active")), ("0", _("Inactive"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trigger"].choices = [("", _("Any trigger")), *Survey.Trigger.choices]


class SurveyForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    trigger = forms.ChoiceField(
        label=_("Sent"),
        choices=Survey.Trigger.choices,
        help_text=_("Deliveries and closed complaints send the newest active survey of their trigger."),
    )
    valid_days = forms.IntegerField(label=_("A link stays valid for (days)"), min_value=1, max_value=365, initial=14)
    questions = forms.CharField(
        label=_("Free questions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "One question per line, at most %(count)s questions of at most %(length)s characters each. "
            "Satisfaction (1–5) and would-recommend (0–10) are always asked."
        )
        % {"count": MAX_QUESTIONS, "length": MAX_QUESTION_LENGTH},
    )

    def clean_questions(self) -> list[str]:
        # the service checks the number and length; here only lines become a list
        return [line.strip() for line in (self.cleaned_data.get("questions") or "").splitlines() if line.strip()]

    @staticmethod
    def initial_of(survey: Survey) -> dict:
        return {
            "name": survey.name,
            "trigger": survey.trigger,
            "valid_days": survey.valid_days,
            "questions": "\n".join(str(question) for question in survey.questions),
        }


class SurveySendForm(StyledFormMixin, forms.Form):
    survey = forms.ModelChoiceField(label=_("Survey"), queryset=Survey.objects.none(), empty_label=None)
    customer = CustomerChoiceField(label=_("Customer"), queryset=None, empty_label=_("— choose the customer —"))
    email = forms.BooleanField(
        label=_("Also e-mail the link to the customer's primary contact"), required=False, initial=True
    )

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["survey"].queryset = Survey.objects.filter(is_active=True).order_by("name", "pk")
        self.fields["customer"].queryset = customers


# --- results and rates -------------------------------------------------------------------------------


class RangeForm(_FilterForm):
    """A date range (both days included), the last three months if not given."""

    date_from = forms.DateField(label=_("From"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE)
    by = forms.ChoiceField(label=_("Group by"), required=False)

    groups: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["by"].choices = [(group, group) for group in self.groups]

    def range(self) -> tuple:
        default_from, default_to = default_range()
        date_from = self.value("date_from", default_from)
        date_to = self.value("date_to", default_to)
        if date_from > date_to:
            date_from, date_to = date_to, date_from
        return date_from, date_to

    def group(self) -> str:
        return self.value("by", self.groups[0])


class ResultsForm(RangeForm):
    groups = RESULT_GROUPS


class RatesForm(RangeForm):
    groups = RATE_GROUPS


# --- revisits ----------------------------------------------------------------------------------------


class RevisitFilterForm(_FilterForm):
    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("Customer name or code")}),
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            (state, label)
            for state, label in zip(
                REVISIT_STATES, (_("Open"), _("Due, not late"), _("Overdue"), _("Done"), _("All")), strict=True
            )
        ],
    )
    reason = forms.ChoiceField(label=_("Reason"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", _("Every reason")), *Revisit.Reason.choices]


class RevisitDoneForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("How"),
        choices=[(Activity.Kind.CALL, Activity.Kind.CALL.label), (Activity.Kind.VISIT, Activity.Kind.VISIT.label)],
        initial=Activity.Kind.CALL,
    )
    on = forms.DateField(label=_("On"), widget=DATE, required=False)
    # required by the service, which says so in the user's language
    outcome = forms.CharField(
        label=_("What the customer said"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "required": True}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["on"].initial = timezone.localdate()
