from django.contrib.auth.backends import ModelBackend

from .permissions import has_perm, perm_codes


class RoleBackend(ModelBackend):
    """Authenticates by password (the lock-out lives in ``services.login_attempt``) and answers
    ``user.has_perm(code)`` from the user's roles, so Django and DRF checks see the same codes
    as the permission module. Object-level scope is the predicates' job."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous:
            return set()
        return perm_codes(user_obj) | super().get_all_permissions(user_obj)

    def has_perm(self, user_obj, perm, obj=None):
        return has_perm(user_obj, perm) or (user_obj.is_active and perm in super().get_all_permissions(user_obj))
