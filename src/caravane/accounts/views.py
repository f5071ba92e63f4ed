"""Login and logout pages."""

from django.contrib import auth
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from caravane.accounts.actions import do_record_login_failure, do_record_login_success, do_record_logout


def _locked_message(user):
    until = formats.time_format(timezone.localtime(user.locked_until), "H:i")
    return _("This account is locked after too many failed logins, until %(time)s. "
             "Try again then, or ask an administrator to unlock it.") % {"time": until}


@login_not_required
@require_http_methods(["GET", "POST"])
def login_view(request):
    """Sign in; repeated failures lock the account for a while."""
    form = AuthenticationForm(request, data=request.POST or None)
    error = None
    if request.method == "POST":
        # The backend refuses a locked account even with the right password, so one path handles both.
        if form.is_valid():
            user = form.get_user()
            auth.login(request, user)
            do_record_login_success(user=user)
            target = request.POST.get("next") or request.GET.get("next") or ""
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
                target = "home"
            return redirect(target or "home")
        user = do_record_login_failure(username=request.POST.get("username", ""))
        error = _locked_message(user) if user is not None and user.is_locked() else _("Wrong username or password.")
    return render(request, "accounts/login.html", {"form": form, "error": error,
                                                   "next": request.GET.get("next", "")},
                  status=200 if error is None else 401)


@require_POST
def logout_view(request):
    """Sign out."""
    if request.user.is_authenticated:
        do_record_logout(user=request.user)
    auth.logout(request)
    return redirect("accounts:login")
