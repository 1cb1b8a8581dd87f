"""Forms of the market-research pages. They only parse input; the records are written by
``crm.services.market_record_save`` and ``crm.services.competitor_save``, and an upload's type
is judged by ``core.attachments.attachment_create`` from its content, never here."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodflow.accounts.models import OrgUnit, User
from foodflow.core.forms import StyledFormMixin
from foodflow.core.vocab import Channel

from .models import Competitor, Customer, DemandRecord, IntelEntry, MarketRecord, ResearchReport

MONEY = {"max_digits": 14, "decimal_places": 2}
DATE = {"attrs": {"type": "date"}, "format": "%Y-%m-%d"}
DEFAULT_REFRESH_DAYS = 90
MAX_REFRESH_DAYS = 3650
STALE_CHOICES = [("", _("Current and stale")), ("1", _("Stale only"))]


def regions():
    return OrgUnit.objects.filter(kind=OrgUnit.Kind.REGION).order_by("path")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class CustomerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Customer) -> str:
        return f"{obj.name} ({obj.code})"


# --- filters of the lists -----------------------------------------------------------------------


class FilterFormMixin(StyledFormMixin):
    """A GET form of a list page: its fields stand in one row without labels, so each one
    carries its label for screen readers; a value that does not parse is ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", field.label)

    def values(self) -> dict:
        self.is_valid()
        return {name: self.cleaned_data.get(name) for name in self.fields}


class CompetitorFilterForm(FilterFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("Name, products or strengths")}),
    )
    positioning = forms.ChoiceField(
        label=_("Price positioning"),
        required=False,
        choices=[("", _("All price positionings")), *Competitor.Positioning.choices],
    )


class IntelFilterForm(FilterFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("Product or competitor")}),
    )
    competitor = forms.ModelChoiceField(
        label=_("Competitor"),
        queryset=Competitor.objects.order_by("name"),
        required=False,
        empty_label=_("All competitors"),
    )
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=[("", _("All channels")), *Channel.choices])
    region = forms.ModelChoiceField(label=_("Region"), queryset=regions(), required=False, empty_label=_("All regions"))
    stale = forms.ChoiceField(label=_("Stale"), required=False, choices=STALE_CHOICES)


class DemandFilterForm(FilterFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("Who, what or customer")}),
    )
    price_sensitivity = forms.ChoiceField(
        label=_("Price sensitivity"),
        required=False,
        choices=[("", _("All price sensitivities")), *DemandRecord.Sensitivity.choices],
    )
    stale = forms.ChoiceField(label=_("Stale"), required=False, choices=STALE_CHOICES)


class ReportFilterForm(FilterFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("Title or summary")}),
    )
    stale = forms.ChoiceField(label=_("Stale"), required=False, choices=STALE_CHOICES)


# --- competitors -----------------------------------------------------------------------------------


class CompetitorForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    products = forms.CharField(label=_("Products"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    strengths = forms.CharField(label=_("Strengths"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    positioning = forms.ChoiceField(
        label=_("Price positioning"), choices=Competitor.Positioning.choices, initial=Competitor.Positioning.MID
    )

    def __init__(self, *args, competitor: Competitor | None = None, **kwargs):
        if competitor is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": competitor.name,
                    "products": competitor.products,
                    "strengths": competitor.strengths,
                    "positioning": competitor.positioning,
                },
            )
        super().__init__(*args, **kwargs)
        self.competitor = competitor

    def clean_name(self) -> str:
        # The name is unique in the table; competitor_save does not check it, so without this the
        # database would refuse the row with an error page instead of a message under the field.
        name = self.cleaned_data["name"].strip()
        others = Competitor.objects.filter(name__iexact=name)
        if self.competitor is not None:
            others = others.exclude(pk=self.competitor.pk)
        if others.exists():
            raise forms.ValidationError(_("A competitor with this name exists already."), code="competitor_taken")
        return name


# --- market records ----------------------------------------------------------------------------------


class MarketRecordForm(StyledFormMixin, forms.Form):
    """What every market record's form has: its refresh period, who keeps it current and,
    when ``with_attachment``, an optional document. ``service_fields()`` is what
    ``market_record_save`` takes; the upload is not among them (the view stores it first)."""

    record_fields: tuple[str, ...] = ()
    with_attachment = False

    refresh_days = forms.IntegerField(
        label=_("Refresh every (days)"),
        min_value=1,
        max_value=MAX_REFRESH_DAYS,
        initial=DEFAULT_REFRESH_DAYS,
        help_text=_("The record is listed as stale when it has not been updated for this many days."),
    )
    owner = UserChoiceField(label=_("Responsible"), queryset=User.objects.none())

    def __init__(self, *args, record: MarketRecord | None = None, user=None, **kwargs):
        initial = kwargs.pop("initial", None) or {}
        if record is not None:
            initial = {**self.initial_of(record), **initial}
        else:
            initial = {"owner": getattr(user, "pk", None), **initial}
        super().__init__(*args, initial=initial, **kwargs)
        self.record = record
        # A record may stay with a user who has left since: keep that user choosable.
        keep = Q(is_active=True) | Q(pk=record.owner_id) if record is not None else Q(is_active=True)
        self.fields["owner"].queryset = User.objects.filter(keep).order_by("username")
        if self.with_attachment:
            # added after StyledFormMixin has styled the declared fields: these carry their own class
            self.fields["attachment"] = forms.FileField(
                label=_("Attachment"),
                required=False,
                widget=forms.FileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,.webp", "class": "form-control"}),
                help_text=_("Optional: a PDF or a picture (PNG, JPEG, WebP)."),
            )
            if record is not None and record.attachment_id:
                self.fields["attachment"].help_text = _(
                    "Optional: a PDF or a picture (PNG, JPEG, WebP). A new file replaces the current one."
                )
                self.fields["remove_attachment"] = forms.BooleanField(
                    label=_("Remove the current attachment"),
                    required=False,
                    widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
                )
        # The refresh period and the responsible person close the form, after the record's own fields.
        self.order_fields([*self.record_fields, "attachment", "remove_attachment", "refresh_days", "owner"])

    def initial_of(self, record: MarketRecord) -> dict:
        return {
            **{name: getattr(record, name) for name in self.record_fields},
            "refresh_days": record.refresh_days,
            "owner": record.owner_id,
        }

    def service_fields(self) -> dict:
        data = self.cleaned_data
        fields = {name: data[name] for name in (*self.record_fields, "refresh_days", "owner")}
        if data.get("remove_attachment") and not data.get("attachment"):
            fields["attachment"] = None
        return fields


class IntelForm(MarketRecordForm):
    record_fields = (
        "competitor",
        "product",
        "observed_price",
        "unit",
        "channel",
        "region",
        "observed_on",
        "source",
        "notes",
    )
    with_attachment = True

    competitor = forms.ModelChoiceField(label=_("Competitor"), queryset=Competitor.objects.order_by("name"))
    product = forms.CharField(label=_("Competitor product"), max_length=200)
    observed_price = forms.DecimalField(
        label=_("Observed price"),
        required=False,
        min_value=0,
        **MONEY,
        help_text=_("In yuan, as seen on the shelf or in the offer."),
    )
    unit = forms.CharField(
        label=_("Per"), max_length=32, required=False, help_text=_("The unit the price is for, e.g. box or bottle.")
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    region = forms.ModelChoiceField(label=_("Region"), queryset=regions())
    observed_on = forms.DateField(label=_("Observed on"), widget=forms.DateInput(**DATE), initial=timezone.localdate)
    source = forms.CharField(
        label=_("Source"), max_length=200, help_text=_("Where it was seen: a store, a distributor, a website…")
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def initial_of(self, record: IntelEntry) -> dict:
        return {**super().initial_of(record), "competitor": record.competitor_id, "region": record.region_id}


class DemandForm(MarketRecordForm):
    record_fields = ("customer", "who", "need", "volume", "timing", "price_sensitivity", "notes")

    customer = CustomerChoiceField(
        label=_("Customer"),
        queryset=Customer.objects.none(),
        required=False,
        empty_label=_("No customer (yet)"),
        help_text=_("When the demand comes from a customer of ours."),
    )
    who = forms.CharField(label=_("Who needs it"), max_length=200)
    need = forms.CharField(label=_("What"), max_length=200)
    volume = forms.CharField(label=_("Volume"), max_length=100, required=False)
    timing = forms.CharField(label=_("Timing"), max_length=100, required=False)
    price_sensitivity = forms.ChoiceField(
        label=_("Price sensitivity"),
        choices=DemandRecord.Sensitivity.choices,
        initial=DemandRecord.Sensitivity.MEDIUM,
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, customers=None, record: DemandRecord | None = None, **kwargs):
        super().__init__(*args, record=record, **kwargs)
        choosable = Q(pk__in=customers.values("pk")) if customers is not None else Q(pk__in=[])
        if record is not None and record.customer_id:
            # the record's customer stays choosable even when out of the editor's scope
            choosable |= Q(pk=record.customer_id)
        self.fields["customer"].queryset = (
            Customer.objects.filter(choosable).only("pk", "name", "code").order_by("name", "pk")
        )

    def initial_of(self, record: DemandRecord) -> dict:
        return {**super().initial_of(record), "customer": record.customer_id}


class ReportForm(MarketRecordForm):
    record_fields = ("title", "period_start", "period_end", "summary")
    with_attachment = True

    title = forms.CharField(label=_("Title"), max_length=200)
    period_start = forms.DateField(label=_("Period from"), widget=forms.DateInput(**DATE))
    period_end = forms.DateField(label=_("Period to"), widget=forms.DateInput(**DATE))
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea(attrs={"rows": 6}))

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The period ends before it starts."))
        return data


FORMS = {"intel": IntelForm, "demand": DemandForm, "report": ReportForm}
MODELS = {"intel": IntelEntry, "demand": DemandRecord, "report": ResearchReport}
