"""Read-only admin for the reference geography: it is loaded by `caravane load_geography`, not edited."""

from django.contrib import admin

from caravane.geo.models import Commune, Province, Region


class ReferenceDataAdmin(admin.ModelAdmin):
    """Viewable by administrators (the only role with admin module access); never editable here."""

    def has_view_permission(self, request, obj=None):
        return request.user.has_module_perms(self.opts.app_label)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Region)
class RegionAdmin(ReferenceDataAdmin):
    list_display = ["code", "name_fr", "name_ar", "population_2024", "households_2024"]
    search_fields = ["code", "name_fr", "name_ar"]


@admin.register(Province)
class ProvinceAdmin(ReferenceDataAdmin):
    list_display = ["code", "name_fr", "name_ar", "kind", "region", "population_2024"]
    list_filter = ["kind", "region"]
    search_fields = ["code", "name_fr", "name_ar"]
    list_select_related = ["region"]


@admin.register(Commune)
class CommuneAdmin(ReferenceDataAdmin):
    list_display = ["code", "name_fr", "name_ar", "kind", "province", "population_2024", "population_2014",
                    "geometry_source"]
    list_filter = ["kind", "geometry_source", "region"]
    search_fields = ["code", "code_digits", "name_fr", "name_ar"]
    list_select_related = ["province"]
    # The boundary is a large GeoJSON document: shown on the map pages, not in a form.
    exclude = ["geometry"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("geometry")
