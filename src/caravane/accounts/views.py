"""Login and logout pages."""

from django.contrib import auth, messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from caravane.accounts.actions import (
    do_change_password,
    do_record_login_failure,
    do_record_login_success,
    do_record_logout,
)


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


@require_http_methods(["GET", "POST"])
def password_change_view(request):
    """Change one's own password (the old one is asked again); the session stays signed in."""
    form = PasswordChangeForm(request.user, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = do_change_password(user=request.user, new_password=form.cleaned_data["new_password1"])
        auth.update_session_auth_hash(request, user)
        messages.success(request, _("Your password has been changed."))
        return redirect("home")
    return render(request, "accounts/password_change.html", {"form": form},
                  status=400 if form.is_bound and form.errors else 200)
