"""Authentication that checks lockout and derives permissions from the staff role."""

from django.contrib.auth.backends import ModelBackend

from caravane.core.access import Role, scope_of


class RoleBackend(ModelBackend):
    """Argon2-checked login (via ModelBackend); permissions come from the user's role, through their scope."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not user.is_locked()

    def has_perm(self, user_obj, perm, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous:
            return False
        scope = scope_of(user_obj)
        # The administrator also holds the admin site's model permissions ("network.view_deployment"...).
        return scope.allows(perm) or scope.role == Role.ADMINISTRATOR

    def has_module_perms(self, user_obj, app_label):
        return user_obj.is_active and user_obj.role == Role.ADMINISTRATOR
