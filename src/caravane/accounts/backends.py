"""Authentication that checks lockout and derives permissions from the staff role."""

from django.contrib.auth.backends import ModelBackend

from caravane.accounts.roles import role_has_permission


class RoleBackend(ModelBackend):
    """Argon2-checked login (via ModelBackend); permissions come from the user's role."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not user.is_locked()

    def has_perm(self, user_obj, perm, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous:
            return False
        return role_has_permission(user_obj.role, perm)

    def has_module_perms(self, user_obj, app_label):
        return user_obj.is_active and user_obj.role == "administrator"
