"""The physiological limits table: impossible values refused by name, abnormal ones flagged."""

from decimal import Decimal

import pytest

from caravane.care import vitals


def test_impossible_systolic_is_refused_naming_the_field():
    with pytest.raises(vitals.VitalsError) as refused:
        vitals.parse_vitals({"systolic": "400", "diastolic": "80"})
    assert set(refused.value.errors) == {"systolic"}
    assert "Systolic blood pressure" in refused.value.errors["systolic"]
    assert "400" in refused.value.errors["systolic"]


def test_impossible_temperature_is_refused_with_the_others_kept_out():
    with pytest.raises(vitals.VitalsError) as refused:
        vitals.parse_vitals({"temperature": "50", "heart_rate": "abc", "spo2": "97"})
    assert set(refused.value.errors) == {"temperature", "heart_rate"}
    assert "Body temperature" in refused.value.errors["temperature"]
    assert "not a number" in refused.value.errors["heart_rate"]


def test_decimal_comma_is_read():
    assert vitals.parse_vitals({"temperature": "38,46"}) == {"temperature": Decimal("38.5")}


def test_diastolic_must_be_below_systolic_and_come_with_it():
    with pytest.raises(vitals.VitalsError) as refused:
        vitals.parse_vitals({"systolic": "90", "diastolic": "95"})
    assert "diastolic" in refused.value.errors
    with pytest.raises(vitals.VitalsError) as refused:
        vitals.parse_vitals({"systolic": "120"})
    assert "diastolic" in refused.value.errors


def test_empty_set_is_refused():
    with pytest.raises(vitals.VitalsError):
        vitals.parse_vitals({"systolic": "", "weight": " "})


@pytest.mark.parametrize("key, value, age, expected", [
    ("systolic", 120, 40, vitals.NORMAL),
    ("systolic", 150, 40, vitals.HIGH),
    ("systolic", 190, 40, vitals.CRITICAL_HIGH),
    ("temperature", 38.5, 40, vitals.HIGH),
    ("temperature", 34.0, 40, vitals.CRITICAL_LOW),
    ("spo2", 91, 40, vitals.LOW),
    ("spo2", 85, 40, vitals.CRITICAL_LOW),
    ("heart_rate", 130, 0.5, vitals.NORMAL),  # an infant's normal is an adult's tachycardia
    ("heart_rate", 130, 40, vitals.HIGH),
    ("heart_rate", 130, None, vitals.HIGH),  # unknown age: adult ranges
])
def test_interpretation(key, value, age, expected):
    assert vitals.BY_KEY[key].interpret(value, age) == expected


def test_every_value_within_possible_limits_is_interpretable():
    for sign in vitals.SIGNS:
        low, high = sign.possible
        assert low < high, sign.key
        assert sign.interpret(low, 40) in ("", *vitals.INTERPRETATION_LABELS)
        assert sign.unit and sign.code


def test_bmi_is_weight_over_height_squared():
    weight, height = Decimal("72.5"), Decimal("168")
    expected = weight / (height / 100) ** 2
    assert vitals.body_mass_index(weight, height) == expected.quantize(Decimal("0.1"))


def test_glucose_in_either_unit_but_not_both():
    assert vitals.parse_vitals({"glucose_mmol": "5,6"}) == {"glucose_mmol": Decimal("5.6")}
    assert vitals.BY_KEY["glucose_mmol"].interpret(Decimal("12.0"), 50) == vitals.HIGH
    with pytest.raises(vitals.VitalsError) as refused:
        vitals.parse_vitals({"glucose": "100", "glucose_mmol": "5.6"})
    assert "glucose_mmol" in refused.value.errors
