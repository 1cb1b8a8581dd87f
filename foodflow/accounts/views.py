from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from foodflow.core.errors import DomainError
from foodflow.core.exports import capped_xlsx_response
from foodflow.core.forms import form_show_error
from foodflow.core.notifications import KINDS, preferences_set, wants_email
from foodflow.core.views import client_ip, paginate, require, safe_next

from . import services
from .forms import (
    LoginForm,
    OrgUnitForm,
    PasswordChangeForm,
    ProfileForm,
    RoleForm,
    SetPasswordForm,
    UserForm,
)
from .models import Role, User
from .permissions import can_manage_users, can_view_user, can_view_user_directory
from .selectors import org_units_tree, roles_all, users_search, users_visible_to


@sensitive_post_parameters("password")
def login_view(request):
    if request.user.is_authenticated:
        return redirect("web:home")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.login_attempt(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                request=request,
                ip_address=client_ip(request),
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            login(request, user, backend="foodflow.accounts.backends.RoleBackend")
            return redirect(safe_next(request, reverse("web:home")))
    return render(request, "accounts/login.html", {"form": form, "next": request.GET.get("next", "")})


@require_POST
def logout_view(request):
    if request.user.is_authenticated:
        services.logout_record(user=request.user, ip_address=client_ip(request))
    logout(request)
    return redirect("accounts:login")


@require_POST
def language_view(request):
    """Switch the language: remembered on the user (it follows them to any device) and in a
    cookie (for the login page)."""
    language = request.POST.get("language", "")
    response = redirect(safe_next(request, reverse("web:home")))
    if language not in dict(settings.LANGUAGES):
        messages.error(request, _("Unknown language."))
        return response
    if request.user.is_authenticated:
        services.user_set_language(user=request.user, language=language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=settings.LANGUAGE_COOKIE_SECURE,
    )
    return response


@login_required
@sensitive_post_parameters()
def password_change_view(request):
    form = PasswordChangeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_password(user=request.user, password=form.cleaned_data["new_password"], by=request.user)
        except DomainError as error:
            form.add_error("new_password", error.message)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password was changed."))
            return redirect("accounts:profile")
    return render(request, "accounts/password_change.html", {"form": form})


@login_required
def profile_view(request):
    kinds = list(KINDS.values())
    initial = {
        "language": request.user.language,
        "email_kinds": [kind.code for kind in kinds if wants_email(request.user, kind)],
    }
    form = ProfileForm(request.POST or None, kinds=kinds, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.user_set_language(user=request.user, language=form.cleaned_data["language"])
        preferences_set(user=request.user, email_kinds=form.cleaned_data["email_kinds"])
        messages.success(request, _("Your settings were saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form, "has_email": bool(request.user.email)})


USER_SORTS = {"username", "full_name", "last_login", "date_joined"}


def _user_search(request):
    """The directory's search, status and sort, read the same way by the page and by its export."""
    query = request.GET.get("q", "")
    users = users_search(users_visible_to(request.user), query)
    status = request.GET.get("status", "")
    if status == "locked":
        users = users.filter(locked_at__isnull=False)
    elif status == "inactive":
        users = users.filter(is_active=False)
    else:
        status = ""
    sort = request.GET.get("sort", "username")
    if sort.lstrip("-") not in USER_SORTS:
        sort = "username"
    return query, status, sort, users.order_by(sort, "pk")


@require(can_view_user_directory)
def user_list_view(request):
    query, status, sort, users = _user_search(request)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "accounts/user_list.html",
        {
            "page": paginate(request, users),
            "query": query,
            "status": status,
            "sort": sort,
            "can_manage": can_manage_users(request.user),
            "export_query": params.urlencode(),
        },
    )


def _local(moment):
    """A moment as the company's wall-clock time (a spreadsheet cell has no time zone)."""
    return timezone.localtime(moment).replace(tzinfo=None) if moment is not None else None


def _status(user: User) -> str:
    if user.is_locked:
        return _("Locked")
    return _("Active") if user.is_active else _("Inactive")


USER_EXPORT_COLUMNS = (
    (gettext_lazy("User name"), lambda user: user.username),
    (gettext_lazy("Full name"), lambda user: user.full_name),
    (gettext_lazy("Org unit"), lambda user: str(user.org_unit) if user.org_unit else ""),
    # prefetched with the users: no query per row
    (gettext_lazy("Roles"), lambda user: "、".join(role.display_name for role in user.roles.all())),
    (gettext_lazy("Status"), _status),
    (gettext_lazy("Last login"), lambda user: _local(user.last_login)),
    (gettext_lazy("Joined"), lambda user: _local(user.date_joined)),
)


@require(can_view_user_directory)
def user_export_view(request):
    query, status, sort, users = _user_search(request)
    used = {key: value for key, value in (("q", query.strip()), ("status", status)) if value}
    return capped_xlsx_response(
        request,
        title=_("Users"),
        columns=USER_EXPORT_COLUMNS,
        rows=users,
        filename="users",
        audit_action="accounts.users_exported",
        filters={**used, "sort": sort},
    )


@login_required
def user_detail_view(request, pk: int):
    other = get_object_or_404(User.objects.select_related("org_unit").prefetch_related("roles"), pk=pk)
    if not can_view_user(request.user, other):
        raise PermissionDenied
    can_manage = can_manage_users(request.user)
    form = None
    if can_manage:
        form = UserForm(
            request.POST or None,
            editing=other,
            initial={
                "username": other.username,
                "full_name": other.full_name,
                "email": other.email,
                "phone": other.phone,
                "org_unit": other.org_unit,
                "roles": list(other.roles.all()),
                "is_active": other.is_active,
            },
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.user_update(
                    by=request.user,
                    user=other,
                    full_name=data["full_name"],
                    email=data["email"],
                    phone=data["phone"],
                    org_unit=data["org_unit"],
                    roles=list(data["roles"]),
                    is_active=data["is_active"],
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("The user was saved."))
                return redirect("accounts:user_detail", pk=other.pk)
    return render(
        request,
        "accounts/user_detail.html",
        {
            "other": other,
            "form": form,
            "can_manage": can_manage,
            "password_form": SetPasswordForm(),
        },
    )


@require(can_manage_users)
def user_create_view(request):
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_create(
                by=request.user,
                username=data["username"],
                password=data["password"],
                full_name=data["full_name"],
                email=data["email"],
                phone=data["phone"],
                org_unit=data["org_unit"],
                roles=list(data["roles"]),
            )
        except DomainError as error:
            form_show_error(form, error)
        else:
            messages.success(request, _("The user %(name)s was created.") % {"name": user.display_name})
            return redirect("accounts:user_detail", pk=user.pk)
    return render(request, "accounts/user_form.html", {"form": form})


@require_POST
@require(can_manage_users)
def user_unlock_view(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    services.user_unlock(user=user, by=request.user)
    messages.success(request, _("The account %(name)s is unlocked.") % {"name": user.username})
    return redirect("accounts:user_detail", pk=pk)


@require_POST
@require(can_manage_users)
@sensitive_post_parameters("password")
def user_set_password_view(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    form = SetPasswordForm(request.POST)
    if form.is_valid():
        try:
            services.user_set_password(user=user, password=form.cleaned_data["password"], by=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The password was reset."))
    else:
        messages.error(request, _("Enter a new password."))
    return redirect("accounts:user_detail", pk=pk)


@require(can_manage_users)
def role_list_view(request):
    return render(request, "accounts/role_list.html", {"roles": roles_all().prefetch_related("users")})


@require(can_manage_users)
def role_edit_view(request, pk: int | None = None):
    role = get_object_or_404(Role, pk=pk) if pk else None
    initial = {}
    if role is not None:
        initial = {
            field: getattr(role, field)
            for field in (
                "code",
                "name",
                "name_en",
                "description",
                "scope",
                "permissions",
                "approval_amount_limit",
                "max_discount",
            )
        }
    form = RoleForm(request.POST or None, editing=role, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            role = services.role_save(
                by=request.user,
                role=role,
                code=data["code"] or (role.code if role else ""),
                name=data["name"],
                name_en=data["name_en"],
                description=data["description"],
                scope=data["scope"],
                permissions=data["permissions"],
                approval_amount_limit=data["approval_amount_limit"],
                max_discount=data["max_discount"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The role was saved."))
            return redirect("accounts:roles")
    return render(request, "accounts/role_form.html", {"form": form, "role": role})


@require(can_manage_users)
def org_units_view(request):
    form = OrgUnitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.org_unit_create(
                by=request.user,
                code=data["code"],
                name=data["name"],
                kind=data["kind"],
                parent=data["parent"],
                manager=data["manager"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The org unit was created."))
            return redirect("accounts:org_units")
    return render(request, "accounts/org_units.html", {"units": org_units_tree(), "form": form})
