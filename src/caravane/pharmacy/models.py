"""Essential medicines: the catalogue, the stock ledger per site and lot, and what is dispensed to patients.

The quantity on hand is the sum of a site's ledger (``StockMovement``, append-only); ``LotBalance`` holds that
sum per site and lot, updated in the transaction that appends the movement, and can never go below zero.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from caravane.core.models import AppendOnly, LocalizedNameMixin, RestrictedQuerySet, UUIDModel
from caravane.core.text import SHORT_TEXT_MAX, ShortTextField
from caravane.network.models import Site


def stock_scope(scope, path: str) -> Q:
    """Sites whose stock ``scope`` reaches: its own sites and territories, and for a provincial depot's staff,
    every site of the depot's province."""
    prefix = f"{path}__" if path else ""
    depots = Site.objects.filter(pk__in=list(scope.site_ids), kind=Site.Kind.PROVINCIAL_DEPOT)
    condition = scope.site_q(path)
    if scope.site_ids:
        condition |= Q(**{f"{prefix}commune__province__in": depots.values("commune__province")})
    return condition


class SiteStockQuerySet(RestrictedQuerySet):
    """Rows that belong to a site are in scope with their site (a depot's staff: with its province)."""

    site_path = "site"

    def scope_filter(self, scope, perm):
        return stock_scope(scope, self.site_path)


class StockSiteQuerySet(RestrictedQuerySet):
    def scope_filter(self, scope, perm):
        return stock_scope(scope, "")


class StockSite(Site):
    """A site seen as a holder of stock: in a user's reach as ``stock_scope`` says (the gate's rows for it)."""

    objects = StockSiteQuerySet.as_manager()

    class Meta:
        proxy = True
        verbose_name = _("site holding stock")


class Category(LocalizedNameMixin, models.Model):
    """A therapeutic category of the WHO Model List (e.g. 6.2.1 Beta-lactam medicines), nested."""

    code = models.SlugField(max_length=40, primary_key=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    name_en = models.CharField(max_length=200)
    name_fr = models.CharField(max_length=200, blank=True)
    name_ar = models.CharField(max_length=200, blank=True)

    localized_name_fields = {"fr": "name_fr", "ar": "name_ar", "en": "name_en"}

    class Meta:
        ordering = ["code"]
        verbose_name = _("therapeutic category")
        verbose_name_plural = _("therapeutic categories")

    @property
    def localized_name(self) -> str:
        from django.utils.translation import get_language

        field = self.localized_name_fields.get((get_language() or "fr")[:2], "name_en")
        return getattr(self, field) or self.name_en


class Medicine(models.Model):
    """An essential medicine by international non-proprietary name (DCI), as a list names it."""

    class Source(models.TextChoices):
        WHO = "who", _("WHO Model List")
        NATIONAL = "national", _("National list")

    code = models.SlugField(max_length=60, primary_key=True)
    inn = models.CharField(_("international non-proprietary name"), max_length=200)
    name_fr = models.CharField(max_length=200, blank=True)
    name_ar = models.CharField(max_length=200, blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, null=True, blank=True, related_name="medicines")
    atc_code = models.CharField(_("ATC code"), max_length=8, blank=True, db_index=True)
    presentations = models.TextField(blank=True, help_text=_("Forms and strengths as the list gives them"))
    source = models.CharField(max_length=10, choices=Source.choices)

    class Meta:
        ordering = ["inn"]
        verbose_name = _("medicine")

    def __str__(self):
        return self.localized_name

    @property
    def localized_name(self) -> str:
        from django.utils.translation import get_language

        language = (get_language() or "fr")[:2]
        return {"fr": self.name_fr, "ar": self.name_ar}.get(language, "") or self.inn


class Product(UUIDModel):
    """A presentation that is stocked and issued: a medicine in one form and strength, counted in a unit of issue."""

    class Form(models.TextChoices):
        TABLET = "tablet", _("Tablet")
        CAPSULE = "capsule", _("Capsule")
        ORAL_SUSPENSION = "oral_suspension", _("Oral suspension")
        SYRUP = "syrup", _("Syrup")
        SACHET = "sachet", _("Oral powder (sachet)")
        INJECTION = "injection", _("Injection")
        CREAM = "cream", _("Cream or ointment")
        EYE_DROPS = "eye_drops", _("Eye drops")
        INHALER = "inhaler", _("Inhaler")
        SUPPOSITORY = "suppository", _("Suppository")

    class Unit(models.TextChoices):
        TABLET = "tablet", _("tablet")
        CAPSULE = "capsule", _("capsule")
        SACHET = "sachet", _("sachet")
        BOTTLE = "bottle", _("bottle")
        AMPOULE = "ampoule", _("ampoule")
        VIAL = "vial", _("vial")
        TUBE = "tube", _("tube")
        INHALER = "inhaler", _("inhaler")
        SUPPOSITORY = "suppository", _("suppository")

    code = models.SlugField(max_length=60, unique=True)
    medicine = models.ForeignKey(Medicine, on_delete=models.PROTECT, related_name="products")
    form = models.CharField(max_length=20, choices=Form.choices)
    strength = models.CharField(max_length=60, blank=True)
    unit = models.CharField(_("unit of issue"), max_length=16, choices=Unit.choices)
    # How much of a prescription's dose one unit of issue holds: 1 tablet per tablet, 100 mL per bottle.
    dose_unit = models.CharField(max_length=16, blank=True, help_text=_("The prescription's dose unit it serves"))
    dose_per_unit = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    atc_code = models.CharField(_("ATC code"), max_length=8, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("product")

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        """``Amoxicilline 500 mg · Gélule`` in the reader's language (lists write DCIs in lower case)."""
        name = self.medicine.localized_name
        return " ".join(filter(None, [name[:1].upper() + name[1:], self.strength])) + f" · {self.get_form_display()}"


class StockedProduct(models.Model):
    """A product the programme stocks at a level of the network, with its minimum and maximum in months of stock."""

    class Level(models.TextChoices):
        DEPOT = "provincial_depot", _("Provincial depot")
        CENTRE = "rural_health_centre", _("Rural health centre")
        UNIT = "mobile_unit", _("Mobile medical unit")

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stocked_at")
    level = models.CharField(max_length=24, choices=Level.choices)
    min_months = models.DecimalField(max_digits=4, decimal_places=1, default=1)
    max_months = models.DecimalField(max_digits=4, decimal_places=1, default=3)

    class Meta:
        ordering = ["level", "product__code"]
        constraints = [
            models.UniqueConstraint(fields=["product", "level"], name="pharmacy_stocked_once_per_level"),
            models.CheckConstraint(name="pharmacy_stock_levels_ordered",
                                   condition=Q(min_months__gte=0) & Q(max_months__gte=models.F("min_months"))),
        ]

    def __str__(self):
        return f"{self.product} @ {self.level}"


class Lot(UUIDModel):
    """A batch of a product (batch number and expiry date), wherever it lies."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    batch_number = models.CharField(max_length=40)
    expiry_date = models.DateField()

    class Meta:
        ordering = ["expiry_date", "batch_number"]
        verbose_name = _("lot")
        constraints = [models.UniqueConstraint(fields=["product", "batch_number"], name="pharmacy_lot_unique")]

    def __str__(self):
        return f"{self.batch_number} ({self.expiry_date:%d/%m/%Y})"


class LotBalance(models.Model):
    """The quantity of a lot on hand at a site: the sum of its ledger, kept in the movement's transaction."""

    site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="balances")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SiteStockQuerySet.as_manager()

    class Meta:
        ordering = ["lot__expiry_date"]
        constraints = [
            models.UniqueConstraint(fields=["site", "lot"], name="pharmacy_one_balance_per_site_lot"),
            # The last line of defence: a movement that would leave less than nothing fails to commit.
            models.CheckConstraint(name="pharmacy_balance_never_negative", condition=Q(quantity__gte=0)),
        ]
        indexes = [models.Index(fields=["site", "product"], name="pharmacy_balance_site_product")]


class Delivery(UUIDModel):
    """A delivery received at a site, by its delivery note's number (entered once per site)."""

    site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="+")
    note_number = models.CharField(_("delivery note number"), max_length=40)
    supplier = ShortTextField(_("supplier"), max_length=120)
    received_on = models.DateField()
    received_by = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="+")

    objects = SiteStockQuerySet.as_manager()

    class Meta:
        ordering = ["-received_on"]
        verbose_name = _("delivery")
        constraints = [models.UniqueConstraint(fields=["site", "note_number"], name="pharmacy_delivery_note_once")]


class Requisition(UUIDModel):
    """A centre's or unit's order to its provincial depot: requested, approved, shipped (in transit), received."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        SHIPPED = "shipped", _("In transit")
        RECEIVED = "received", _("Received")
        REJECTED = "rejected", _("Rejected")

    site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="+")
    depot = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    note = ShortTextField(max_length=SHORT_TEXT_MAX, blank=True)

    objects = SiteStockQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("requisition")


class RequisitionLine(models.Model):
    requisition = models.ForeignKey(Requisition, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    approved_quantity = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["requisition", "product"], name="pharmacy_requisition_line")]


class TransferQuerySet(SiteStockQuerySet):
    """A transfer is in the reach of the staff of the site that takes it in."""

    site_path = "to_site"


class Transfer(UUIDModel):
    """Stock sent from one site to another: out of the sender's ledger when shipped, into the receiver's when
    received (in transit between the two)."""

    class Status(models.TextChoices):
        IN_TRANSIT = "in_transit", _("In transit")
        RECEIVED = "received", _("Received")

    from_site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="+")
    to_site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_TRANSIT)
    requisition = models.OneToOneField(Requisition, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="transfer")
    shipped_by = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="+")
    received_by = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    received_at = models.DateTimeField(null=True, blank=True)

    objects = TransferQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("transfer")


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()


class MedicationDispense(AppendOnly):
    """Medicine handed to a patient against a prescription line (FHIR MedicationDispense), with the coverage
    relied on: RAMED and AMO-Tadamon patients with a valid card are served free from the programme's stock."""

    class Status(models.TextChoices):
        COMPLETED = "completed", _("Dispensed")

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    encounter = models.ForeignKey("care.Encounter", on_delete=models.PROTECT, related_name="+")
    prescription = models.ForeignKey("care.MedicationRequest", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.COMPLETED)
    quantity = models.PositiveIntegerField()
    prescribed_quantity = models.PositiveIntegerField(help_text=_("The whole course, in units of issue"))
    owed = models.PositiveIntegerField(default=0, help_text=_("Still owed to the patient after this dispense"))
    coverage_type = models.CharField(max_length=12)
    coverage_number = models.CharField(max_length=40, blank=True)
    coverage_state = models.CharField(max_length=16)
    free_of_charge = models.BooleanField()
    dispenser = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="+")
    handed_over_at = models.DateTimeField()

    objects = SiteStockQuerySet.as_manager()

    class Meta:
        ordering = ["handed_over_at"]
        verbose_name = _("medication dispense")
        constraints = [models.CheckConstraint(name="pharmacy_dispense_positive", condition=Q(quantity__gte=1))]
        indexes = [models.Index(fields=["patient", "handed_over_at"], name="pharmacy_dispense_patient"),
                   models.Index(fields=["site", "handed_over_at"], name="pharmacy_dispense_site")]


class StockMovement(AppendOnly):
    """One line of a site's stock ledger: a signed quantity of a lot, and the lot's balance after it."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")
        DISPENSE = "dispense", _("Dispensing")
        TRANSFER_OUT = "transfer_out", _("Transfer out")
        TRANSFER_IN = "transfer_in", _("Transfer in")
        RETURN = "return", _("Return")
        LOSS = "loss", _("Loss")
        EXPIRY = "expiry", _("Expiry write-off")
        ADJUSTMENT = "adjustment", _("Count adjustment")

    INCOMING = (Kind.RECEIPT, Kind.TRANSFER_IN, Kind.RETURN)
    # What the stock was consumed by (average monthly consumption counts these).
    CONSUMPTION = (Kind.DISPENSE,)

    site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    quantity = models.IntegerField(help_text=_("Positive into the site's stock, negative out of it"))
    balance_after = models.IntegerField()
    occurred_at = models.DateTimeField()
    recorded_by = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="+")
    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, null=True, blank=True, related_name="movements")
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="movements")
    dispense = models.ForeignKey(MedicationDispense, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="movements")
    counted_quantity = models.IntegerField(null=True, blank=True, help_text=_("Adjustments: what was counted"))
    reason = ShortTextField(max_length=SHORT_TEXT_MAX, blank=True)

    objects = SiteStockQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "created_at"]
        verbose_name = _("stock movement")
        constraints = [
            models.CheckConstraint(name="pharmacy_movement_not_zero", condition=~Q(quantity=0)),
            models.CheckConstraint(name="pharmacy_movement_balance_never_negative", condition=Q(balance_after__gte=0)),
        ]
        indexes = [
            models.Index(fields=["site", "occurred_at"], name="pharmacy_movement_site_time"),
            # Consumption over the last months, per product, read from the index alone (PostgreSQL).
            models.Index(fields=["site", "kind", "occurred_at"], include=["product", "quantity"],
                         name="pharmacy_movement_consumption"),
            models.Index(fields=["lot", "site"], name="pharmacy_movement_lot_site"),
        ]
