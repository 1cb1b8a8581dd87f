"""Forms of the customer-development pages. They only parse input: the rules (credit code check
character, duplicates, lead stages, who may set credit or a tier) are checked by
``crm.services``, whose field errors the views put back here."""

from __future__ import annotations

import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodflow.accounts.models import OrgUnit, User
from foodflow.core.forms import StyledFormMixin
from foodflow.core.vocab import Channel, Tier

from . import selectors
from .models import Activity, Contact, Customer, Lead
from .permissions import mask_phone
from .workflows import LEAD_FLOW

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXTAREA = forms.Textarea(attrs={"rows": 3})
# Tags are typed as one line; Chinese keyboards give "，" and "、" as often as ",".
TAG_SEPARATORS = re.compile(r"[,，、;；]")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


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


def regions():
    return OrgUnit.objects.filter(kind=OrgUnit.Kind.REGION).order_by("path")


def active_users():
    return User.objects.filter(is_active=True).order_by("username")


# --- customers -----------------------------------------------------------------------------------


class CustomerFilterForm(FilterFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("Code, name, credit code or contact")}),
    )
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=[("", _("All channels")), *Channel.choices])
    tier = forms.ChoiceField(label=_("Tier"), required=False, choices=[("", _("All tiers")), *Tier.choices])
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *Customer.Status.choices]
    )
    region = forms.ModelChoiceField(label=_("Region"), queryset=regions(), required=False, empty_label=_("All regions"))
    owner = UserChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("All owners"))
    tag = forms.CharField(
        label=_("Tag"), max_length=32, required=False, widget=forms.TextInput(attrs={"placeholder": _("Tag")})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the owners of customers the user may see: the filter does not list the company.
        self.fields["owner"].queryset = active_users().filter(
            pk__in=selectors.customers_visible(user).values("owner_id")
        )

    def search_arguments(self) -> dict:
        """The keyword arguments of ``selectors.customers_search`` (without the sort)."""
        values = self.values()
        return {
            "query": (values["q"] or "").strip(),
            "channel": values["channel"] or "",
            "tier": values["tier"] or "",
            "status": values["status"] or "",
            "region_id": values["region"].pk if values["region"] else None,
            "owner_id": values["owner"].pk if values["owner"] else None,
            "tag": (values["tag"] or "").strip(),
        }


class DuplicateConfirmMixin:
    """The checkbox shown once the service warned of a possible duplicate customer: the user
    confirms that it is another company, and the form is sent again with it ticked."""

    def offer_duplicate_confirm(self) -> None:
        self.fields["confirm_duplicate"] = forms.BooleanField(
            label=_("Save anyway: it is a different company"),
            required=False,
            widget=forms.CheckboxInput(attrs={"class": "form-check-input", "data-testid": "confirm-duplicate"}),
        )

    @property
    def duplicate_confirmed(self) -> bool:
        return bool(self.cleaned_data.get("confirm_duplicate"))


class CustomerForm(DuplicateConfirmMixin, StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    credit_code = forms.CharField(
        label=_("Unified social credit code"),
        max_length=18,
        required=False,
        help_text=_("18 characters, on the business licence."),
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    region = forms.ModelChoiceField(label=_("Region"), queryset=regions())
    owner = UserChoiceField(label=_("Owner"), queryset=active_users())
    status = forms.ChoiceField(label=_("Status"), choices=Customer.Status.choices, initial=Customer.Status.PROSPECT)
    min_shelf_life_days = forms.IntegerField(
        label=_("Minimum days of shelf life left"),
        min_value=0,
        required=False,
        help_text=_("The customer accepts no lot with fewer days left."),
    )
    min_shelf_life_percent = forms.IntegerField(
        label=_("Minimum share of shelf life left (%)"), min_value=1, max_value=100, required=False
    )
    invoice_title = forms.CharField(label=_("Invoice title"), max_length=200, required=False)
    invoice_bank = forms.CharField(label=_("Bank"), max_length=100, required=False)
    invoice_account = forms.CharField(label=_("Bank account"), max_length=64, required=False)
    invoice_address_phone = forms.CharField(label=_("Invoice address and phone"), max_length=200, required=False)
    preferences = forms.CharField(label=_("Preferences"), required=False, widget=TEXTAREA)
    tags = forms.CharField(
        label=_("Tags"), max_length=500, required=False, help_text=_("Separated by commas, for example: 连锁, 华东")
    )

    def __init__(self, *args, customer: Customer | None = None, offer_duplicate_confirm: bool = False, **kwargs):
        if customer is not None:
            kwargs.setdefault("initial", self.initial_of(customer))
        super().__init__(*args, **kwargs)
        if offer_duplicate_confirm:
            self.offer_duplicate_confirm()

    @staticmethod
    def initial_of(customer: Customer) -> dict:
        return {
            "name": customer.name,
            "credit_code": customer.credit_code or "",
            "channel": customer.channel,
            "region": customer.region_id,
            "owner": customer.owner_id,
            "status": customer.status,
            "min_shelf_life_days": customer.min_shelf_life_days,
            "min_shelf_life_percent": customer.min_shelf_life_percent,
            "invoice_title": customer.invoice_title,
            "invoice_bank": customer.invoice_bank,
            "invoice_account": customer.invoice_account,
            "invoice_address_phone": customer.invoice_address_phone,
            "preferences": customer.preferences,
            "tags": ", ".join(customer.tags or []),
        }

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("confirm_duplicate", None)
        data["tags"] = [tag.strip() for tag in TAG_SEPARATORS.split(data.get("tags") or "") if tag.strip()]
        return data


class CreditForm(StyledFormMixin, forms.Form):
    credit_limit = forms.DecimalField(label=_("Credit limit"), max_digits=14, decimal_places=2)
    payment_terms_days = forms.IntegerField(label=_("Payment terms (days)"))
    invoice_per_order = forms.BooleanField(
        label=_("One receivable per order"),
        required=False,
        help_text=_("Otherwise each delivery makes its own receivable."),
    )


class TierOverrideForm(StyledFormMixin, forms.Form):
    tier = forms.ChoiceField(label=_("Tier"), choices=Tier.choices)
    reason = forms.CharField(label=_("Reason"), max_length=200, widget=TEXTAREA)


class ContactForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=64)
    role = forms.ChoiceField(label=_("Role"), choices=Contact.Role.choices, initial=Contact.Role.PURCHASING)
    title = forms.CharField(label=_("Job title"), max_length=64, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    email = forms.EmailField(label=_("E-mail"), max_length=254, required=False)  # the column's length
    wechat = forms.CharField(label=_("WeChat"), max_length=64, required=False)
    is_primary = forms.BooleanField(label=_("Primary contact"), required=False)

    def __init__(self, *args, contact: Contact | None = None, phone_hidden: bool = False, **kwargs):
        if contact is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": contact.name,
                    "role": contact.role,
                    "title": contact.title,
                    # A user who may not see the number does not get it in the form either.
                    "phone": "" if phone_hidden else contact.phone,
                    "email": contact.email,
                    "wechat": contact.wechat,
                    "is_primary": contact.is_primary,
                },
            )
        super().__init__(*args, **kwargs)
        self.phone_hidden = phone_hidden and contact is not None and bool(contact.phone)
        if self.phone_hidden:
            self.fields["phone"].help_text = _("Now %(phone)s. Leave empty to keep it.") % {
                "phone": mask_phone(contact.phone)
            }

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        if self.phone_hidden and not data["phone"]:
            del data["phone"]  # keeps the number the user was not shown
        return data


class ActivityForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Activity.Kind.choices, initial=Activity.Kind.VISIT)
    happened_on = forms.DateField(label=_("Date"), widget=DATE)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    outcome = forms.CharField(label=_("Outcome"), required=False, widget=TEXTAREA)
    next_revisit = forms.DateField(label=_("Next revisit"), required=False, widget=DATE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["happened_on"].initial = timezone.localdate()


# --- leads ---------------------------------------------------------------------------------------


class LeadFilterForm(FilterFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("Company, contact or phone")}),
    )
    stage = forms.ChoiceField(label=_("Stage"), required=False, choices=[("", _("All stages")), *LEAD_FLOW.choices()])
    source = forms.ChoiceField(
        label=_("Source"), required=False, choices=[("", _("All sources")), *Lead.Source.choices]
    )


class LeadForm(StyledFormMixin, forms.Form):
    company = forms.CharField(label=_("Company"), max_length=200)
    credit_code = forms.CharField(label=_("Unified social credit code"), max_length=18, required=False)
    contact_name = forms.CharField(label=_("Contact"), max_length=64, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    source = forms.ChoiceField(label=_("Source"), choices=Lead.Source.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    region = forms.ModelChoiceField(label=_("Region"), queryset=regions())
    notes = forms.CharField(label=_("Notes"), required=False, widget=TEXTAREA)


class LoseForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("Why was the lead lost?"), max_length=200, widget=TEXTAREA)


class ConvertForm(DuplicateConfirmMixin, StyledFormMixin, forms.Form):
    """Converting asks nothing but, after a duplicate warning, the user's confirmation."""

    def __init__(self, *args, offer_duplicate_confirm: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if offer_duplicate_confirm:
            self.offer_duplicate_confirm()


# --- revisits and plans --------------------------------------------------------------------------


class PlanForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    rep = UserChoiceField(
        label=_("Rep"), queryset=active_users(), required=False, help_text=_("A plan is for one rep or for one team.")
    )
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=OrgUnit.objects.filter(kind=OrgUnit.Kind.TEAM).order_by("path"), required=False
    )
    period_start = forms.DateField(label=_("From"), widget=DATE)
    period_end = forms.DateField(label=_("To"), widget=DATE)
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=[("", _("All channels")), *Channel.choices])
    target_new_customers = forms.IntegerField(label=_("New customers (target)"), min_value=0, initial=0)
    target_first_orders = forms.IntegerField(label=_("First orders (target)"), min_value=0, initial=0)
