"""Form helpers shared by every domain's forms."""

from django import forms
from django.core.validators import MaxLengthValidator
from django.forms.utils import pretty_name

# The most one free-text field of a form or of an API body takes. A model's TextField has no
# limit of its own: without this one request could store megabytes in a note, then every page,
# export and PDF showing it would carry them. Fields with a limit of their own keep it.
TEXT_MAX_LENGTH = 10_000

# Widgets whose inputs carry a label of their own (each choice; the checkbox's text beside it).
LABELLED_BY_CHOICES = (forms.CheckboxInput, forms.CheckboxSelectMultiple, forms.RadioSelect)


def text_fields_bound(fields) -> None:
    """Give each text field of ``fields`` that has no length limit ``TEXT_MAX_LENGTH``: the
    validator refusing longer text, and the ``maxlength`` the browser keeps to."""
    for field in fields.values():
        if isinstance(field, forms.CharField) and field.max_length is None:
            field.max_length = TEXT_MAX_LENGTH
            field.validators.append(MaxLengthValidator(TEXT_MAX_LENGTH))
            field.widget.attrs.setdefault("maxlength", str(TEXT_MAX_LENGTH))


class BoundedTextMixin:
    """Every text field of the form has a length limit (``text_fields_bound``), the fields a
    form adds after ``__init__`` included: they are bound again before each validation."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        text_fields_bound(self.fields)

    def full_clean(self):
        text_fields_bound(self.fields)
        super().full_clean()


class StyledFormMixin(BoundedTextMixin):
    """Gives every widget the Tabler (Bootstrap) class it needs, so templates stay plain (and
    every text field a length limit: ``BoundedTextMixin``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple | forms.RadioSelect):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
        if self.prefix and not self.use_required_attribute:
            # A formset's form (formsets turn the required attribute off) is a table row whose
            # column headers name its fields: each field is named for assistive technology.
            for name, field in self.fields.items():
                widget = field.widget
                if not isinstance(widget, LABELLED_BY_CHOICES) and not widget.is_hidden:
                    widget.attrs.setdefault("aria-label", pretty_name(name) if field.label is None else field.label)


def form_show_error(form, error) -> None:
    """A service's refusal (a DomainError) in a form: each field's messages under the field,
    the rest on top."""
    for field, messages in error.fields.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, str(message))
    if not error.fields:
        form.add_error(None, error.message)
