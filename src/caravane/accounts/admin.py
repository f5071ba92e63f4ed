"""Accounts in the admin: see who is locked out, unlock them, revoke API tokens."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from caravane.accounts.actions import do_revoke_api_token, do_unlock_user
from caravane.accounts.models import ApiToken, User


class CaravaneUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


class CaravaneUserCreationForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User


class LockedFilter(admin.SimpleListFilter):
    title = _("locked")
    parameter_name = "locked"

    def lookups(self, request, model_admin):
        return [("yes", _("Locked now")), ("no", _("Not locked"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(locked_until__gt=now)
        if self.value() == "no":
            return queryset.exclude(locked_until__gt=now)
        return queryset


@admin.register(User)
class CaravaneUserAdmin(UserAdmin):
    form = CaravaneUserChangeForm
    add_form = CaravaneUserCreationForm
    list_display = ("username", "first_name", "last_name", "is_active", "locked", "failed_login_count", "last_login")
    list_filter = (LockedFilter, "is_active", "is_superuser")
    readonly_fields = ("failed_login_count", "locked_until", "last_login", "date_joined")
    fieldsets = UserAdmin.fieldsets + ((_("Login protection"), {"fields": ("failed_login_count", "locked_until")}),)
    actions = ["unlock"]

    @admin.display(boolean=True, description=_("locked"))
    def locked(self, obj):
        return obj.is_locked()

    @admin.action(description=_("Unlock the selected accounts"))
    def unlock(self, request, queryset):
        users = list(queryset)
        for user in users:
            do_unlock_user(actor=request.user, user=user)
        self.message_user(request, ngettext("%(count)d account unlocked.", "%(count)d accounts unlocked.",
                                            len(users)) % {"count": len(users)}, messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created by the ``create_api_token`` command (the raw value is shown once); here they are revoked."""

    list_display = ("name", "prefix", "user", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("user", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    exclude = ("digest",)
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            do_revoke_api_token(actor=request.user, token=token)
        self.message_user(request, ngettext("%(count)d token revoked.", "%(count)d tokens revoked.",
                                            len(tokens)) % {"count": len(tokens)}, messages.SUCCESS)
