"""The public complaint form (no login): what a consumer or a shop can tell us."""

from django import forms
from django.utils.translation import gettext_lazy as _

from foodflow.core.forms import StyledFormMixin

from .models import Complaint

PUBLIC_CATEGORIES = Complaint.Category.choices


class PublicComplaintForm(StyledFormMixin, forms.Form):
    contact_name = forms.CharField(label=_("Your name"), max_length=64)
    contact_phone = forms.CharField(label=_("Phone"), max_length=32)
    company = forms.CharField(label=_("Shop or company (if any)"), max_length=100, required=False)
    lot_number = forms.CharField(label=_("Lot number (printed on the package)"), max_length=64, required=False)
    category = forms.ChoiceField(label=_("What is wrong"), choices=PUBLIC_CATEGORIES)
    description = forms.CharField(
        label=_("Tell us what happened"), widget=forms.Textarea(attrs={"rows": 5}), max_length=4000
    )
    # a field people never see: a bot that fills it is ignored
    website = forms.CharField(required=False, widget=forms.HiddenInput)


class ComplaintFromDeliveryNoteForm(PublicComplaintForm):
    """The public complaint form with the delivery note's number, which the QR code on a
    delivery note fills in (``?delivery=…&lot=…``) and a person may type."""

    delivery_number = forms.CharField(label=_("Delivery note number (if you have it)"), max_length=32, required=False)
    field_order = ["contact_name", "contact_phone", "company", "delivery_number", "lot_number"]
