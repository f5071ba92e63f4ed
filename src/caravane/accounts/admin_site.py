"""The Django admin, opened to administrators only, signing in through the app's login and auditing changes."""

from __future__ import annotations

from functools import update_wrapper

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from caravane.core.access import Perm

# Held by the administrator role only (it holds every permission).


class AuditedAdminMixin:
    """Every change made through the admin leaves an audit row, like any other state change."""

    def _audit(self, request, action, obj, message=""):
        from caravane.audit.actions import do_record_audit

        detail = {"via": "admin"}
        if message:
            detail["message"] = str(message)[:500]
        do_record_audit(actor=request.user, action=action, target=obj, detail=detail)

    def log_addition(self, request, obj, message):
        self._audit(request, "create", obj, message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._audit(request, "change", obj, message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._audit(request, "delete", obj)
        return super().log_deletions(request, queryset)


class CaravaneAdminSite(admin.AdminSite):
    """Reference data and accounts, for administrators; others get 403 and a denied audit row."""

    site_header = _("Caravane administration")
    site_title = _("Caravane administration")
    index_title = _("Reference data and accounts")

    def has_permission(self, request):
        user = request.user
        return user.is_authenticated and user.is_active and user.has_perm(Perm.USE_ADMIN)

    def register(self, model_or_iterable, admin_class=None, **options):
        """Register as usual, with the change auditing mixed into the model admin."""
        base = admin_class or admin.ModelAdmin
        audited = type(base.__name__, (AuditedAdminMixin, base), {"__module__": base.__module__})
        return super().register(model_or_iterable, audited, **options)

    def refuse(self, request):
        """Audit and refuse a signed-in user who is not an administrator."""
        from caravane.audit import gate

        gate.refuse(request.user, Perm.USE_ADMIN, ("admin.site", ""), audit_action="view",
                    reason="not an administrator", message=_("The administration pages are for administrators only."))

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def guarded(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                self.refuse(request)
            return inner(request, *args, **kwargs)

        return update_wrapper(guarded, inner)

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request, extra_context=None):
        """No second login form: the app's own login counts failures, locks and audits."""
        target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
            target = reverse("admin:index", current_app=self.name)
        if not request.user.is_authenticated:
            return redirect_to_login(target, reverse("accounts:login"))
        if not self.has_permission(request):
            self.refuse(request)
        return redirect(target)

    def logout(self, request, extra_context=None):
        """Sign out through the app's logout, which audits it."""
        from caravane.accounts.views import logout_view

        return logout_view(request)

    def password_change(self, request, extra_context=None):
        """The app's own page, which audits the change."""
        return redirect("accounts:password_change")
