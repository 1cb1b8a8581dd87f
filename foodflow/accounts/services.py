"""Writes of the accounts domain: sign-in with lock-out, users, roles, org units, language."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodflow.core.audit import audit_record
from foodflow.core.errors import DomainError, PermissionDeniedError, ValidationFailed
from foodflow.core.notifications import ACCOUNT_LOCKED, notify
from foodflow.core.permissions import PERMISSIONS, Scope
from foodflow.core.tree import tree_path

from .models import OrgUnit, Role, User
from .permissions import USERS_MANAGE, can_manage_users


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    default_message = _("The user name or password is wrong.")
    status = 401


class AccountLocked(DomainError):
    code = "account_locked"
    default_message = _("This account is locked after too many failed logins. Ask an administrator to unlock it.")
    status = 403


def _require_manager(by) -> None:
    if not can_manage_users(by):
        raise PermissionDeniedError()


def login_attempt(*, username: str, password: str, request=None, ip_address: str | None = None) -> User:
    """Check a password; count failures and lock the account at the limit.

    The count is kept on the user row under a lock so that parallel guesses cannot slip past
    the limit. The failure is committed before the error is raised: an exception inside the
    transaction would roll the count back. Unknown user names fail like wrong passwords.
    """
    username = (username or "").strip()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username__iexact=username).first()
        if user is None:
            error = InvalidCredentials()
        elif user.is_locked:
            audit_record(action="auth.login_refused_locked", obj=user, ip_address=ip_address)
            error = AccountLocked()
        elif authenticate(request, username=user.username, password=password) is None:
            error = _login_failed(user, ip_address)
        else:
            if user.failed_logins:
                user.failed_logins = 0
                user.save(update_fields=["failed_logins"])
            audit_record(action="auth.login", actor=user, obj=user, ip_address=ip_address)
            return user
    raise error


def _login_failed(user: User, ip_address: str | None) -> DomainError:
    user.failed_logins += 1
    if user.failed_logins >= settings.FOODFLOW_LOGIN_MAX_FAILURES:
        user.locked_at = timezone.now()
    user.save(update_fields=["failed_logins", "locked_at"])
    audit_record(
        action="auth.login_failed", obj=user, ip_address=ip_address, changes={"failed_logins": user.failed_logins}
    )
    if not user.is_locked:
        return InvalidCredentials()
    audit_record(action="auth.account_locked", obj=user, ip_address=ip_address)
    notify(
        recipients=user_managers(),
        kind=ACCOUNT_LOCKED,
        params={"username": user.username, "failures": user.failed_logins},
        url=reverse("accounts:user_detail", args=[user.pk]),
    )
    return AccountLocked()


def logout_record(*, user: User, ip_address: str | None = None) -> None:
    audit_record(action="auth.logout", actor=user, obj=user, ip_address=ip_address)


def users_with_perm(code: str):
    """Active users whose roles grant ``code`` (roles are few: filter them in Python, portably)."""
    role_ids = [role.pk for role in Role.objects.all() if code in (role.permissions or ())]
    return User.objects.filter(is_active=True, roles__in=role_ids).distinct()


def user_managers():
    """Active users who may manage users."""
    return users_with_perm(USERS_MANAGE)


def user_unlock(*, user: User, by) -> User:
    _require_manager(by)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.locked_at = None
        locked.failed_logins = 0
        locked.save(update_fields=["locked_at", "failed_logins"])
        audit_record(action="accounts.user_unlocked", actor=by, obj=locked)
    return locked


def user_set_language(*, user: User, language: str) -> User:
    if language not in dict(settings.LANGUAGES):
        raise ValidationFailed(_("Unknown language."), code="unknown_language")
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user


def user_create(
    *,
    by,
    username: str,
    password: str,
    full_name: str = "",
    email: str = "",
    phone: str = "",
    org_unit: OrgUnit | None = None,
    roles: list[Role] = (),
    language: str = settings.LANGUAGE_CODE,
) -> User:
    _require_manager(by)
    username = username.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationFailed(
            _("The user name %(username)s is taken."),
            code="username_taken",
            fields={"username": [_("This user name is taken.")]},
            username=username,
        )
    user = User(username=username, full_name=full_name, email=email, phone=phone, org_unit=org_unit, language=language)
    _check_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save()
        user.roles.set(roles)
        audit_record(
            action="accounts.user_created",
            actor=by,
            obj=user,
            changes={"roles": sorted(r.code for r in roles), "org_unit": org_unit.code if org_unit else None},
        )
    return user


def user_update(
    *,
    by,
    user: User,
    full_name: str,
    email: str,
    phone: str,
    org_unit: OrgUnit | None,
    roles: list[Role],
    is_active: bool,
) -> User:
    _require_manager(by)
    if user.pk == by.pk and not is_active:
        raise ValidationFailed(_("You cannot deactivate your own account."), code="cannot_deactivate_self")
    if user.pk == by.pk and not by.is_superuser and not any(USERS_MANAGE in (r.permissions or ()) for r in roles):
        # otherwise the last administrator could lock everyone out of user management
        raise ValidationFailed(_("You cannot take away your own right to manage users."), code="cannot_demote_self")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before_roles = sorted(locked.roles.values_list("code", flat=True))
        changes = {}
        for name, value in (
            ("full_name", full_name),
            ("email", email),
            ("phone", phone),
            ("org_unit_id", org_unit.pk if org_unit else None),
            ("is_active", is_active),
        ):
            if getattr(locked, name) != value:
                changes[name] = [getattr(locked, name), value]
                setattr(locked, name, value)
        if changes:
            locked.save(update_fields=list(changes))
        after_roles = sorted(r.code for r in roles)
        if after_roles != before_roles:
            locked.roles.set(roles)
            changes["roles"] = [before_roles, after_roles]
        if changes:
            audit_record(action="accounts.user_updated", actor=by, obj=locked, changes=changes)
    return locked


def _check_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailed(
            " ".join(exc.messages), code="weak_password", fields={"password": list(exc.messages)}
        ) from exc


def user_set_password(*, user: User, password: str, by) -> User:
    """A user changing their own password, or an administrator resetting one."""
    if by.pk != user.pk:
        _require_manager(by)
    _check_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(
            action="accounts.password_changed" if by.pk == user.pk else "accounts.password_reset", actor=by, obj=user
        )
    return user


def role_save(
    *,
    by,
    role: Role | None,
    code: str,
    name: str,
    name_en: str,
    description: str,
    scope: str,
    permissions: list[str],
    approval_amount_limit,
    max_discount,
) -> Role:
    _require_manager(by)
    unknown = set(permissions) - set(PERMISSIONS)
    if unknown:
        raise ValidationFailed(
            _("Unknown permissions: %(codes)s."), code="unknown_permission", codes=", ".join(sorted(unknown))
        )
    if scope not in Scope.values:
        raise ValidationFailed(_("Unknown data scope."), code="unknown_scope")
    with transaction.atomic():
        if role is None:
            if Role.objects.filter(code=code).exists():
                raise ValidationFailed(
                    _("The role code %(role_code)s is taken."),
                    code="role_code_taken",
                    role_code=code,
                    fields={"code": [_("This code is taken.")]},
                )
            role = Role(code=code)
            before = {}
        else:
            role = Role.objects.select_for_update().get(pk=role.pk)
            before = {
                "scope": role.scope,
                "permissions": role.permissions,
                "approval_amount_limit": str(role.approval_amount_limit),
                "max_discount": str(role.max_discount),
            }
        role.name, role.name_en, role.description, role.scope = name, name_en, description, scope
        role.permissions = sorted(set(permissions))
        role.approval_amount_limit, role.max_discount = approval_amount_limit, max_discount
        role.save()
        after = {
            "scope": role.scope,
            "permissions": role.permissions,
            "approval_amount_limit": str(role.approval_amount_limit),
            "max_discount": str(role.max_discount),
        }
        changes = {key: [before.get(key), value] for key, value in after.items() if before.get(key) != value}
        audit_record(action="accounts.role_saved", actor=by, obj=role, changes=changes)
    return role


def org_unit_create(
    *, by, code: str, name: str, kind: str, parent: OrgUnit | None, manager: User | None = None
) -> OrgUnit:
    if by is not None:  # None: the system itself (the demo seed, a migration)
        _require_manager(by)
    if parent is None and kind != OrgUnit.Kind.COMPANY:
        raise ValidationFailed(_("Only a company can be at the top of the tree."), code="org_unit_needs_parent")
    with transaction.atomic():
        unit = OrgUnit.objects.create(code=code, name=name, kind=kind, parent=parent, manager=manager)
        unit.path = tree_path(parent=parent, pk=unit.pk)
        unit.save(update_fields=["path"])
        audit_record(
            action="accounts.org_unit_created",
            actor=by,
            obj=unit,
            changes={"parent": parent.code if parent else None, "kind": kind},
        )
    return unit
