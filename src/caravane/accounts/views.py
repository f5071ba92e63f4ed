"""Login and logout pages."""

from django.contrib import auth, messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import PasswordChangeForm
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from caravane.accounts.actions import do_change_password, do_record_logout
from caravane.accounts.forms import LoginForm


@login_not_required
@require_http_methods(["GET", "POST"])
def login_view(request):
    """Sign in; repeated failures lock the account for a while (counted and audited by the backend)."""
    form = LoginForm(request, data=request.POST if request.method == "POST" else None)
    error = None
    if form.is_bound:
        if form.is_valid():
            auth.login(request, form.get_user())
            target = request.POST.get("next") or request.GET.get("next") or ""
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
                target = "home"
            return redirect(target or "home")
        # A blank field never reaches the backend; it gets the same answer as a wrong password.
        error = next(iter(form.non_field_errors()), form.error_messages["invalid_login"])
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
