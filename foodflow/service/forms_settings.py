"""Forms of the service settings page: one row of the SLA table, the desk's hours, a holiday,
and the holiday list's filters. They parse input only: the rules (more than 0, resolution not
before response, closing after opening, one entry per day) are ``settings_services``'."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from foodflow.core.forms import StyledFormMixin

WEEKDAY_CHOICES = [
    (0, pgettext_lazy("weekday", "Monday")),
    (1, pgettext_lazy("weekday", "Tuesday")),
    (2, pgettext_lazy("weekday", "Wednesday")),
    (3, pgettext_lazy("weekday", "Thursday")),
    (4, pgettext_lazy("weekday", "Friday")),
    (5, pgettext_lazy("weekday", "Saturday")),
    (6, pgettext_lazy("weekday", "Sunday")),
]


class SlaPolicyForm(StyledFormMixin, forms.Form):
    """One severity's row of the SLA table. Its inputs sit in the table's cells and belong to
    the row's form through the ``form`` attribute (a form cannot span table cells)."""

    response_hours = forms.DecimalField(
        label=_("First response within (business hours)"),
        max_digits=6,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.25", "min": "0"}),
    )
    resolution_hours = forms.DecimalField(
        label=_("Resolution within (business hours)"),
        max_digits=6,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.25", "min": "0"}),
    )
    warn_minutes = forms.IntegerField(
        label=_("Warn this many business minutes before"),
        widget=forms.NumberInput(attrs={"step": "1", "min": "1"}),
    )

    def __init__(self, *args, severity: str, severity_label="", **kwargs):
        super().__init__(*args, prefix=f"sla-{severity}", auto_id=f"id_sla_{severity}_%s", **kwargs)
        self.severity = severity
        for field in self.fields.values():
            field.widget.attrs["form"] = self.html_id
            field.widget.attrs["aria-label"] = f"{severity_label} · {field.label}" if severity_label else field.label

    @property
    def html_id(self) -> str:
        return f"sla-form-{self.severity}"


class ServiceHoursForm(StyledFormMixin, forms.Form):
    opens = forms.TimeField(label=_("Opens at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    closes = forms.TimeField(label=_("Closes at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    # required by the service, which says so in the user's language
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Working days"),
        choices=WEEKDAY_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_hours_%s")
        super().__init__(*args, **kwargs)


class HolidayForm(StyledFormMixin, forms.Form):
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    name = forms.CharField(
        label=_("Name"), max_length=64, widget=forms.TextInput(attrs={"placeholder": _("e.g. National Day")})
    )
    is_workday = forms.BooleanField(
        label=_("Make-up working day: the desk works on this day although it is a weekend"), required=False
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_holiday_%s")
        super().__init__(*args, **kwargs)


class HolidayFilterForm(StyledFormMixin, forms.Form):
    """The holiday list's filters; a value that does not parse is ignored."""

    year = forms.TypedChoiceField(label=_("Year"), coerce=int, required=False, empty_value=None)
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[
            ("", _("Holidays and make-up working days")),
            ("holiday", _("Holidays")),
            ("workday", _("Make-up working days")),
        ],
    )

    def __init__(self, *args, years, **kwargs):
        kwargs.setdefault("auto_id", "id_holidays_%s")
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", _("All years")), *((year, str(year)) for year in years)]
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", field.label)

    def values(self) -> dict:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"year": data.get("year"), "kind": data.get("kind") or ""}
