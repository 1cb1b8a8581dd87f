"""Form helpers shared by every domain's forms."""

from django import forms


class StyledFormMixin:
    """Gives every widget the Tabler (Bootstrap) class it needs, so templates stay plain."""

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


def form_show_error(form, error) -> None:
    """A service's refusal (a DomainError) in a form: each field's messages under the field,
    the rest on top."""
    for field, messages in error.fields.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, str(message))
    if not error.fields:
        form.add_error(None, error.message)
