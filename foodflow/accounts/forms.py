from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from foodflow.core.forms import StyledFormMixin
from foodflow.core.permissions import PERMISSIONS, Scope

from .models import OrgUnit, Role, User

# Django's own message of the minimum password length (settings.AUTH_PASSWORD_VALIDATORS), which
# its Chinese catalogue lacks: named here so that makemessages keeps our translation of it.
PASSWORD_TOO_SHORT = ngettext_lazy(
    "This password is too short. It must contain at least %d character.",
    "This password is too short. It must contain at least %d characters.",
    "min_length",
)


class LoginForm(StyledFormMixin, forms.Form):
    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"), max_length=128, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class PasswordChangeForm(StyledFormMixin, forms.Form):
    old_password = forms.CharField(label=_("Current password"), widget=forms.PasswordInput, max_length=128)
    new_password = forms.CharField(label=_("New password"), widget=forms.PasswordInput, max_length=128)
    new_password_again = forms.CharField(label=_("New password again"), widget=forms.PasswordInput, max_length=128)

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_old_password(self):
        value = self.cleaned_data["old_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError(_("The current password is wrong."), code="wrong_password")
        return value

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error(
                "new_password_again", forms.ValidationError(_("The two passwords differ."), code="password_mismatch")
            )
        return data


class ProfileForm(StyledFormMixin, forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    email_kinds = forms.MultipleChoiceField(
        label=_("Send me e-mails about"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email_kinds"].choices = [(kind.code, kind.label) for kind in kinds]


class UserForm(StyledFormMixin, forms.Form):
    username = forms.RegexField(
        label=_("User name"),
        max_length=150,
        regex=r"^[\w.@+-]+\Z",
        error_messages={"invalid": _("Letters, digits and @/./+/-/_ only.")},
    )
    full_name = forms.CharField(label=_("Full name"), max_length=100, required=False)
    email = forms.EmailField(label=_("E-mail"), max_length=254, required=False)  # the column's length
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    org_unit = forms.ModelChoiceField(label=_("Org unit"), queryset=OrgUnit.objects.order_by("path"), required=False)
    roles = forms.ModelMultipleChoiceField(
        label=_("Roles"), queryset=Role.objects.order_by("id"), required=False, widget=forms.CheckboxSelectMultiple
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    password = forms.CharField(label=_("Initial password"), widget=forms.PasswordInput, max_length=128)

    def __init__(self, *args, editing: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if editing is not None:
            del self.fields["password"]
            self.fields["username"].disabled = True
            self.fields["username"].required = False


class SetPasswordForm(StyledFormMixin, forms.Form):
    password = forms.CharField(label=_("New password"), widget=forms.PasswordInput, max_length=128)


class RoleForm(StyledFormMixin, forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=64)
    name_en = forms.CharField(label=_("English name"), max_length=64, required=False)
    description = forms.CharField(label=_("Description"), max_length=255, required=False)
    scope = forms.ChoiceField(label=_("Data scope"), choices=Scope.choices)
    permissions = forms.MultipleChoiceField(label=_("Permissions"), required=False, widget=forms.CheckboxSelectMultiple)
    approval_amount_limit = forms.DecimalField(
        label=_("Approval amount limit (CNY)"),
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=2,
        initial=Decimal(0),
    )
    max_discount = forms.DecimalField(
        label=_("Maximum discount (fraction, 0.1 = 10 %)"),
        min_value=Decimal(0),
        max_value=Decimal(1),
        max_digits=5,
        decimal_places=4,
        initial=Decimal(0),
    )

    def __init__(self, *args, editing: Role | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permissions"].choices = [
            (code, f"{definition.area} · {definition.label}") for code, definition in sorted(PERMISSIONS.items())
        ]
        if editing is not None:
            self.fields["code"].disabled = True
            self.fields["code"].required = False


class OrgUnitForm(StyledFormMixin, forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=OrgUnit.Kind.choices)
    parent = forms.ModelChoiceField(label=_("Parent unit"), queryset=OrgUnit.objects.order_by("path"), required=False)
    manager = forms.ModelChoiceField(label=_("Manager"), queryset=User.objects.filter(is_active=True), required=False)

    def clean_code(self):
        code = self.cleaned_data["code"]
        if OrgUnit.objects.filter(code=code).exists():
            raise forms.ValidationError(_("This code is taken."), code="org_unit_code_taken")
        return code
