"""The login form."""

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from caravane.accounts.models import User


class LoginForm(AuthenticationForm):
    """Django's login form; a refusal says when the account is locked, and until when."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Wrong username or password."),
        "locked": _("This account is locked after too many failed logins, until %(time)s. "
                    "Try again then, or ask an administrator to unlock it."),
    }

    def get_invalid_login_error(self):
        locked_until = (User.objects.filter(username=self.cleaned_data.get("username"), locked_until__gt=timezone.now())
                        .values_list("locked_until", flat=True).first())
        if locked_until is None:
            return ValidationError(self.error_messages["invalid_login"], code="invalid_login")
        return ValidationError(self.error_messages["locked"], code="locked",
                               params={"time": formats.time_format(timezone.localtime(locked_until), "H:i")})
