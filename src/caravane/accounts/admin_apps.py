"""The admin app, configured to use Caravane's administrators-only admin site."""

from django.contrib.admin.apps import AdminConfig


class CaravaneAdminConfig(AdminConfig):
    default_site = "caravane.accounts.admin_site.CaravaneAdminSite"
