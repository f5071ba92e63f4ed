"""Admin views of the catalogue and the stock: read-only, since changes go through the audited actions."""

from django.contrib import admin

from caravane.network.admin import ReadOnlyAdmin
from caravane.pharmacy.models import (
    Category, Delivery, LotBalance, Lot, MedicationDispense, Medicine, Product, Requisition, StockedProduct,
    StockMovement, Transfer,
)


@admin.register(Medicine)
class MedicineAdmin(ReadOnlyAdmin):
    list_display = ("code", "inn", "name_fr", "name_ar", "category", "atc_code", "source")
    search_fields = ("inn", "name_fr", "name_ar", "atc_code")
    list_filter = ("source",)


@admin.register(Product)
class ProductAdmin(ReadOnlyAdmin):
    list_display = ("code", "medicine", "form", "strength", "unit", "atc_code", "active")
    search_fields = ("code", "medicine__inn")


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "site", "product", "lot", "kind", "quantity", "balance_after")
    list_filter = ("kind",)


@admin.register(MedicationDispense)
class MedicationDispenseAdmin(ReadOnlyAdmin):
    list_display = ("handed_over_at", "site", "patient", "product", "quantity", "owed", "coverage_type",
                    "free_of_charge")


for model in (Category, StockedProduct, Lot, LotBalance, Delivery, Transfer, Requisition):
    admin.site.register(model, ReadOnlyAdmin)
