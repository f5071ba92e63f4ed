"""Authentication that counts attempts against the lockout and derives permissions from the staff role."""

from django.contrib.auth.backends import ModelBackend

from caravane.accounts.actions import do_record_login_failure, do_record_login_success, do_reserve_login_attempt
from caravane.accounts.models import User
from caravane.core.access import Role, scope_of


class RoleBackend(ModelBackend):
    """Argon2-checked login within the lockout limit; permissions come from the user's role."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        """The user if the password is right and the account may sign in; every outcome is counted and audited."""
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        # Reserved before the slow hash: parallel guesses cannot all pass a lock check that precedes the count.
        attempt = do_reserve_login_attempt(username=username)
        if attempt.refused:
            return None
        user = attempt.user
        if user is None:
            # The hashing work of a real check, so the time taken does not reveal which accounts exist.
            User().set_password(password)
        elif user.check_password(password) and super().user_can_authenticate(user):
            # The lock this very attempt may have set is not checked here: a right password lifts it.
            do_record_login_success(user=user)
            return user
        do_record_login_failure(attempt=attempt)
        return None

    def get_user(self, user_id):
        """The signed-in user with their staff record, read in one query (every page asks for both)."""
        user = User._default_manager.select_related("staff").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

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
