"""How many units of issue a prescription line needs: dose × times a day × days, in the product's unit."""

from __future__ import annotations

import math
from decimal import Decimal

# Doses a day for each coded timing (care.dosage.TIMING_CHOICES); "when needed" has no fixed count.
TIMES_A_DAY = {"1/d": 1, "2/d": 2, "3/d": 3, "4/d": 4, "q4h": 6, "q6h": 4, "q8h": 3, "q12h": 2,
               "morning": 1, "evening": 1, "bedtime": 1}
# Dose units that are a measure of another (a spoonful is 5 mL).
IN_OTHER_UNIT = {"spoon": ("mL", Decimal(5))}


def doses_in_course(prescription) -> Decimal | None:
    """The number of doses in the whole course, or None when the timing is not coded (or as needed)."""
    days = prescription.duration_days or 0
    if prescription.timing == "once":
        return Decimal(1)
    if prescription.timing == "1/wk":
        return Decimal(math.ceil(days / 7))
    per_day = TIMES_A_DAY.get(prescription.timing)
    return None if per_day is None else Decimal(per_day * days)


def proposed_quantity(prescription, product) -> int | None:
    """Units of issue of ``product`` covering the course, or None when the line or the product cannot say."""
    doses = doses_in_course(prescription)
    if doses is None or prescription.dose_value is None or not prescription.dose_unit:
        return None
    amount, unit = prescription.dose_value * doses, prescription.dose_unit
    if unit in IN_OTHER_UNIT:
        unit, factor = IN_OTHER_UNIT[unit]
        amount *= factor
    per_unit = product.dose_per_unit or (Decimal(1) if product.unit == unit else None)
    if unit != (product.dose_unit or product.unit) or not per_unit:
        return None
    return max(1, math.ceil(amount / per_unit))
