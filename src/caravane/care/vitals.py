"""Vital signs: the one table of codes, units and physiological limits, and the checks built on it.

A value outside ``possible`` cannot be a real measurement (a systolic of 400 mm[Hg]) and is refused;
a value outside ``normal`` or ``critical`` is kept and flagged with a FHIR Observation.interpretation code.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# FHIR v3 ObservationInterpretation codes.
NORMAL, HIGH, LOW, CRITICAL_HIGH, CRITICAL_LOW = "N", "H", "L", "HH", "LL"
INTERPRETATION_LABELS = {
    NORMAL: gettext_lazy("Normal"),
    HIGH: gettext_lazy("High"),
    LOW: gettext_lazy("Low"),
    CRITICAL_HIGH: gettext_lazy("Critical high"),
    CRITICAL_LOW: gettext_lazy("Critical low"),
}

BLOOD_PRESSURE_PANEL = ("85354-9", "Blood pressure panel with all children optional")
LOCAL_SYSTEM = "urn:caravane:observation"


@dataclass(frozen=True)
class Band:
    """Normal and critical ranges (None = no bound) that apply up to an age in years."""

    up_to_years: float
    normal: tuple[float | None, float | None]
    critical: tuple[float | None, float | None] = (None, None)


@dataclass(frozen=True)
class VitalSign:
    """One measurable sign: its form field, LOINC code, UCUM unit and limits."""

    key: str
    label: object
    code: str
    display: str
    unit: str
    possible: tuple[float, float]
    bands: tuple[Band, ...] = ()
    decimals: int = 0
    system: str = "http://loinc.org"
    entered: bool = True  # False for values the system computes (BMI, z-score)
    panel: str = ""

    def band_for(self, age_years: float | None) -> Band | None:
        """The ranges for a patient's age (adult ranges when the age is unknown)."""
        for band in self.bands:
            if age_years is not None and age_years <= band.up_to_years:
                return band
        return self.bands[-1] if self.bands else None

    def interpret(self, value: Decimal | float, age_years: float | None = None) -> str:
        """The interpretation code of a value that lies within the possible range."""
        band = self.band_for(age_years)
        if band is None or set(band.normal + band.critical) == {None}:
            return ""  # no reference range applies at this age
        value = float(value)
        (low, high), (critical_low, critical_high) = band.normal, band.critical
        if critical_low is not None and value < critical_low:
            return CRITICAL_LOW
        if critical_high is not None and value > critical_high:
            return CRITICAL_HIGH
        if low is not None and value < low:
            return LOW
        if high is not None and value > high:
            return HIGH
        return NORMAL

    @property
    def unit_symbol(self) -> str:
        return UNIT_SYMBOLS.get(self.unit, self.unit)

    def quantize(self, value: Decimal) -> Decimal:
        return value.quantize(Decimal(1).scaleb(-self.decimals), rounding=ROUND_HALF_UP)


ADULT = 200  # "up to 200 years": the last band of every sign

SIGNS: tuple[VitalSign, ...] = (
    VitalSign("systolic", gettext_lazy("Systolic blood pressure"), "8480-6", "Systolic blood pressure", "mm[Hg]",
              possible=(40, 300), panel=BLOOD_PRESSURE_PANEL[0],
              bands=(Band(12, (80, 120), (60, 160)), Band(ADULT, (90, 139), (70, 180)))),
    VitalSign("diastolic", gettext_lazy("Diastolic blood pressure"), "8462-4", "Diastolic blood pressure", "mm[Hg]",
              possible=(20, 200), panel=BLOOD_PRESSURE_PANEL[0],
              bands=(Band(12, (45, 80), (35, 100)), Band(ADULT, (60, 89), (40, 120)))),
    VitalSign("heart_rate", gettext_lazy("Heart rate"), "8867-4", "Heart rate", "/min", possible=(20, 300),
              bands=(Band(1, (100, 160), (80, 200)), Band(5, (80, 140), (60, 180)), Band(12, (70, 120), (50, 160)),
                     Band(ADULT, (60, 100), (40, 140)))),
    VitalSign("temperature", gettext_lazy("Body temperature"), "8310-5", "Body temperature", "Cel",
              possible=(25, 45), decimals=1, bands=(Band(ADULT, (36.0, 37.9), (35.0, 40.0)),)),
    VitalSign("spo2", gettext_lazy("Oxygen saturation"), "59408-5",
              "Oxygen saturation in Arterial blood by Pulse oximetry", "%", possible=(40, 100),
              bands=(Band(ADULT, (94, None), (88, None)),)),
    VitalSign("respiratory_rate", gettext_lazy("Respiratory rate"), "9279-1", "Respiratory rate", "/min",
              possible=(4, 90), bands=(Band(1, (30, 60), (20, 70)), Band(5, (20, 40), (15, 50)),
                                        Band(12, (16, 30), (12, 40)), Band(ADULT, (12, 20), (8, 30)))),
    VitalSign("weight", gettext_lazy("Body weight"), "29463-7", "Body weight", "kg", possible=(0.3, 350), decimals=1),
    VitalSign("height", gettext_lazy("Body height"), "8302-2", "Body height", "cm", possible=(20, 250), decimals=1),
    VitalSign("glucose", gettext_lazy("Capillary glucose"), "2339-0", "Glucose [Mass/volume] in Blood", "mg/dL",
              possible=(10, 1500), bands=(Band(ADULT, (70, 140), (54, 400)),)),
    VitalSign("glucose_mmol", gettext_lazy("Capillary glucose"), "14743-9",
              "Glucose [Moles/volume] in Capillary blood by Glucometer", "mmol/L", possible=(0.5, 85), decimals=1,
              bands=(Band(ADULT, (3.9, 7.8), (3.0, 22.2)),)),
    VitalSign("muac", gettext_lazy("Mid-upper arm circumference"), "56072-2", "Circumference Mid upper arm", "cm",
              possible=(5, 50), decimals=1, bands=(Band(5, (12.5, None), (11.5, None)), Band(ADULT, (None, None)))),
    VitalSign("bmi", gettext_lazy("Body mass index"), "39156-5", "Body mass index (BMI) [Ratio]", "kg/m2",
              possible=(5, 150), decimals=1, entered=False,
              bands=(Band(17.99, (None, None)), Band(ADULT, (18.5, 24.9), (16.0, 40.0)))),
    VitalSign("weight_for_age_z", gettext_lazy("Weight-for-age z-score (WHO)"), "weight-for-age-z",
              "Weight-for-age z-score, WHO Child Growth Standards 2006", "{z-score}", possible=(-10, 10), decimals=2,
              system=LOCAL_SYSTEM, entered=False, bands=(Band(ADULT, (-2, 2), (-3, None)),)),
)
BY_KEY = {sign.key: sign for sign in SIGNS}
# UCUM codes are for machines; people read these symbols.
UNIT_SYMBOLS = {"Cel": "°C", "mm[Hg]": "mmHg", "kg/m2": "kg/m²", "{z-score}": "z"}
SIGN_ORDER = {sign.code: position for position, sign in enumerate(SIGNS)}
BY_CODE = {sign.code: sign for sign in SIGNS}
ENTERED = tuple(sign for sign in SIGNS if sign.entered)


class VitalsError(ValueError):
    """Refused vital signs: ``errors`` maps each field to a message that names it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _number(text) -> Decimal:
    # French keyboards type a decimal comma.
    return Decimal(str(text).strip().replace(",", ".").replace(" ", ""))


def parse_vitals(raw: dict) -> dict[str, Decimal]:
    """Entered signs as numbers within their possible ranges; raises VitalsError naming each bad field."""
    values: dict[str, Decimal] = {}
    errors: dict[str, str] = {}
    for sign in ENTERED:
        text = raw.get(sign.key)
        if text is None or str(text).strip() == "":
            continue
        try:
            value = _number(text)
            if not value.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            errors[sign.key] = _("%(field)s: “%(value)s” is not a number.") % {"field": sign.label, "value": text}
            continue
        low, high = sign.possible
        if not low <= value <= high:
            errors[sign.key] = _(
                "%(field)s: %(value)s %(unit)s is not physiologically possible (accepted %(low)s–%(high)s %(unit)s)."
            ) % {"field": sign.label, "value": value, "unit": sign.unit_symbol, "low": low, "high": high}
            continue
        values[sign.key] = sign.quantize(value)
    if ("systolic" in values) != ("diastolic" in values) and not errors.keys() & {"systolic", "diastolic"}:
        missing = "diastolic" if "systolic" in values else "systolic"
        errors[missing] = _("%(field)s: blood pressure needs both the systolic and the diastolic value.") % {
            "field": BY_KEY[missing].label}
    elif "systolic" in values and "diastolic" in values and values["diastolic"] >= values["systolic"]:
        errors["diastolic"] = _("%(field)s: it must be lower than the systolic pressure (%(systolic)s mm[Hg]).") % {
            "field": BY_KEY["diastolic"].label, "systolic": values["systolic"]}
    if "glucose" in values and "glucose_mmol" in values:
        errors["glucose_mmol"] = _("%(field)s: enter the glucose in one unit only.") % {
            "field": BY_KEY["glucose_mmol"].label}
    if errors:
        raise VitalsError(errors)
    if not values:
        raise VitalsError({"__all__": _("Enter at least one vital sign.")})
    return values


def in_sign_order(observations) -> list:
    """Observations in the table's order (blood pressure first), latest measurement last."""
    return sorted(observations, key=lambda o: (SIGN_ORDER.get(o.code, len(SIGN_ORDER)), o.effective_at))


def body_mass_index(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    """BMI in kg/m2 from weight and height, to one decimal."""
    metres = Decimal(height_cm) / 100
    return BY_KEY["bmi"].quantize(Decimal(weight_kg) / (metres * metres))
