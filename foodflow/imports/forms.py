"""Forms of the import pages: they parse what the user chose and hand it to the import services,
which hold every rule (file types and sizes, required columns, presets of the right kind)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from foodflow.core.forms import StyledFormMixin

from .kinds import REGISTRY, Kind
from .models import MappingPreset

FIELD_PREFIX = "map_"


def kinds_for(user) -> list[Kind]:
    """The kinds of import this user may run, in the order they were registered."""
    return [kind for kind in REGISTRY.values() if kind.allowed(user)]


class PresetChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        kind = REGISTRY.get(obj.kind)
        return f"{kind.label if kind else obj.kind} · {obj.name}"


class NewImportForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("What to import"), widget=forms.RadioSelect)
    preset = PresetChoiceField(
        label=_("Saved column mapping"),
        queryset=MappingPreset.objects.none(),
        required=False,
        empty_label=_("None: guess from the column names"),
    )
    file = forms.FileField(
        label=_("File"),
        help_text=_("Excel (.xlsx) or CSV (UTF-8 or GBK), at most 30 MB; the first row names the columns."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv,text/csv"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = kinds_for(user)
        self.fields["kind"].choices = [(kind.code, kind.label) for kind in self.kinds]
        if len(self.kinds) == 1:
            self.initial["kind"] = self.kinds[0].code
        self.fields["preset"].queryset = MappingPreset.objects.filter(kind__in=[kind.code for kind in self.kinds])


class MappingForm(StyledFormMixin, forms.Form):
    """One choice of column per field of the kind (``map_<field>``), and a name to save the
    mapping as a preset."""

    preset_name = forms.CharField(
        label=_("Save this mapping as"),
        required=False,
        max_length=100,
        help_text=_("A name, to choose the same mapping for the next file of this kind."),
    )

    def __init__(self, *args, kind: Kind, headers: list[str], mapping: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        columns = [("", _("— not in the file —")), *((header, header) for header in headers if header)]
        for item in kind.fields:
            # Not required here: the import service says which fields need a column (with its code).
            self.fields[FIELD_PREFIX + item.name] = forms.ChoiceField(
                label=item.label,
                choices=columns,
                required=False,
                initial=mapping.get(item.name, ""),
                widget=forms.Select(attrs={"class": "form-select"}),  # added after the mixin styled the form
            )
            self.fields[FIELD_PREFIX + item.name].kind_field = item
        self.order_fields([*(FIELD_PREFIX + item.name for item in kind.fields), "preset_name"])

    def mapping_fields(self):
        """The bound fields of the mapping, each with its kind field (``.field.kind_field``)."""
        return [self[FIELD_PREFIX + item.name] for item in self.kind.fields]

    def mapping(self) -> dict[str, str]:
        chosen = {item.name: self.cleaned_data.get(FIELD_PREFIX + item.name) for item in self.kind.fields}
        return {name: header for name, header in chosen.items() if header}

    def show_error(self, error) -> None:
        """A refusal of the mapping or checking service: its message on top, and each mapped
        field's own message under its select."""
        self.add_error(None, error.message)
        for name, messages in error.fields.items():
            if FIELD_PREFIX + name in self.fields:
                for message in messages:
                    self.add_error(FIELD_PREFIX + name, str(message))


class RunForm(forms.Form):
    """Import the checked file; ``valid_only`` (explicit) skips the rows with problems."""

    valid_only = forms.BooleanField(required=False, widget=forms.HiddenInput)
