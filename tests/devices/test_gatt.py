"""The GATT decoder against byte vectors built from the specifications' field layouts, malformed ones and fuzz."""

from __future__ import annotations

import datetime
import random
import struct
from decimal import Decimal

import pytest

from caravane.devices import gatt
from caravane.devices.gatt import GattError, decode


def sf(mantissa: int, exponent: int = 0) -> bytes:
    """An SFLOAT built field by field: 4-bit exponent over a 12-bit mantissa, two's complement, little-endian."""
    return struct.pack("<H", ((exponent & 0xF) << 12) | (mantissa & 0xFFF))


def fl(mantissa: int, exponent: int = 0) -> bytes:
    return struct.pack("<I", ((exponent & 0xFF) << 24) | (mantissa & 0xFFFFFF))


def stamp(y, mo, d, h, mi, s) -> bytes:
    return struct.pack("<HBBBBB", y, mo, d, h, mi, s)


# An Omron-style upper-arm monitor: mmHg, time stamp, pulse, status with irregular pulse.
BP = bytes([0x16]) + sf(128) + sf(82) + sf(97) + stamp(2026, 12, 1, 9, 30, 5) + sf(72) + struct.pack("<H", 0b100)


def test_sfloat_and_float_values_and_special_values():
    assert gatt.sfloat(0x0072) == Decimal(114)
    assert gatt.sfloat(0xF16D) == Decimal("36.5")  # exponent -1, mantissa 365
    assert gatt.sfloat(0xFFFF) == Decimal("-0.1")  # mantissa -1, exponent -1
    assert gatt.sfloat(0x2001) == Decimal(100)
    assert [gatt.sfloat(v) for v in (0x07FF, 0x0800, 0x07FE, 0x0802, 0x0801)] == [
        gatt.NAN, gatt.NRES, gatt.PLUS_INF, gatt.MINUS_INF, gatt.RESERVED]
    assert gatt.float32(0xFF00016D) == Decimal("36.5")
    assert gatt.float32(0xFE000E7B) == Decimal("37.07")
    assert gatt.float32(0x00FFFFFF) == Decimal(-1)
    assert [gatt.float32(v) for v in (0x007FFFFF, 0x00800000, 0x007FFFFE, 0x00800002, 0x00800001)] == [
        gatt.NAN, gatt.NRES, gatt.PLUS_INF, gatt.MINUS_INF, gatt.RESERVED]


def test_blood_pressure_with_every_field():
    m = decode(0x2A35, BP)
    assert m.characteristic == "blood_pressure"
    assert m.values == {"systolic": 128, "diastolic": 82, "heart_rate": 72}
    assert m.measured_at == datetime.datetime(2026, 12, 1, 9, 30, 5)
    assert m.status == ("irregular_pulse",)
    assert m.details["mean_arterial_pressure"] == "97"


def test_blood_pressure_kpa_converted_and_status_bits():
    payload = bytes([0x19]) + sf(171, -1) + sf(109, -1) + sf(0x7FF) + bytes([3]) + struct.pack("<H", 0b10011)
    m = decode("0x2A35", payload)
    assert round(m.values["systolic"]) == 128 and round(m.values["diastolic"]) == 82
    assert m.details["unit"] == "kPa" and m.details["user"] == 3 and "mean_arterial_pressure" not in m.details
    assert m.status == ("body_movement", "cuff_too_loose", "pulse_below_range")
    assert m.measured_at is None


def test_blood_pressure_pulse_unavailable_is_left_out():
    m = decode("blood_pressure", bytes([0x04]) + sf(120) + sf(80) + sf(93) + sf(0x7FF))
    assert "heart_rate" not in m.values and m.details["unavailable"] == ["pulse rate: NaN"]


@pytest.mark.parametrize("payload, message", [
    (b"", "flags needs 1"),
    (bytes([0x00]) + sf(120) + sf(80), "mean arterial pressure needs 2"),
    (BP[:-1], "measurement status needs 2"),
    (BP[:10], "time stamp needs 7"),
    (BP + b"\x00", "1 unexpected byte"),
    (bytes([0x80]) + sf(120) + sf(80) + sf(93), "reserved flag bits"),
    (bytes([0x00]) + struct.pack("<H", 0x07FF) + sf(80) + sf(93), "no systolic pressure (IEEE 11073 NaN)"),
    (bytes([0x00]) + sf(120) + struct.pack("<H", 0x0802) + sf(93), "no diastolic pressure (IEEE 11073 -INF)"),
    (bytes([0x02]) + sf(120) + sf(80) + sf(93) + stamp(2026, 13, 1, 0, 0, 0), "is not a valid date"),
    (bytes([0x02]) + sf(120) + sf(80) + sf(93) + stamp(2026, 2, 30, 0, 0, 0), "is not a valid date"),
    (bytes([0x02]) + sf(120) + sf(80) + sf(93) + stamp(2026, 1, 1, 24, 0, 0), "is not a valid date"),
    (bytes([0x02]) + sf(120) + sf(80) + sf(93) + stamp(1000, 1, 1, 0, 0, 0), "outside 1582"),
])
def test_malformed_blood_pressure_refused_with_a_reason(payload, message):
    with pytest.raises(GattError, match=message.replace("(", r"\(").replace(")", r"\)")):
        decode(0x2A35, payload)


def test_unknown_time_stamp_is_none():
    m = decode(0x2A35, bytes([0x02]) + sf(120) + sf(80) + sf(93) + stamp(0, 0, 0, 0, 0, 0))
    assert m.measured_at is None


def test_temperature_celsius_fahrenheit_and_site():
    m = decode(0x2A1C, bytes([0x06]) + fl(372, -1) + stamp(2026, 12, 1, 8, 0, 0) + bytes([3]))
    assert m.values == {"temperature": Decimal("37.2")} and m.details["site"] == "ear"
    assert m.measured_at == datetime.datetime(2026, 12, 1, 8, 0)
    m = decode(0x2A1C, bytes([0x01]) + fl(986, -1))
    assert m.values["temperature"] == Decimal(37) and m.details["unit"] == "°F"
    with pytest.raises(GattError, match="temperature type 10 is reserved"):
        decode(0x2A1C, bytes([0x04]) + fl(372, -1) + bytes([10]))
    with pytest.raises(GattError, match=r"no temperature \(IEEE 11073 NRes\)"):
        decode(0x2A1C, bytes([0x00]) + struct.pack("<I", 0x00800000))
    with pytest.raises(GattError, match="temperature needs 4"):
        decode(0x2A1C, bytes([0x00, 0x6D, 0x01]))


def test_plx_spot_check_with_statuses():
    payload = (bytes([0x0F]) + sf(97) + sf(64) + stamp(2026, 12, 1, 10, 0, 0) + struct.pack("<H", 1 << 7)
               + (1 << 5).to_bytes(3, "little") + sf(35, -1))
    m = decode(0x2A5E, payload)
    assert m.values == {"spo2": 97, "heart_rate": 64}
    assert m.status == ("validated", "low_perfusion") and m.reliable
    assert m.details["pulse_amplitude_index"] == "3.5"
    m = decode(0x2A5E, bytes([0x13]) + sf(97) + sf(64) + stamp(2026, 12, 1, 10, 0, 0) + struct.pack("<H", 1 << 15))
    assert m.measured_at is None and "device_clock_not_set" in m.status and not m.reliable


def test_plx_continuous_with_fast_and_slow():
    payload = bytes([0x1F]) + sf(96) + sf(70) + sf(95) + sf(71) + sf(96) + sf(69) + b"\x00\x00" + b"\x00\x00\x00" + sf(2)
    m = decode(0x2A5F, payload)
    assert m.values == {"spo2": 96, "heart_rate": 70}
    assert m.details["fast"] == ["95", "71"] and m.details["slow"] == ["96", "69"]
    with pytest.raises(GattError, match="truncated"):
        decode(0x2A5F, payload[:-3])
    with pytest.raises(GattError, match="no SpO2"):
        decode(0x2A5F, bytes([0]) + struct.pack("<H", 0x07FF) + sf(70))


def test_weight_si_and_imperial_with_height():
    m = decode(0x2A9D, bytes([0x0E]) + struct.pack("<H", 13000) + stamp(2026, 12, 1, 7, 0, 0) + bytes([1])
               + struct.pack("<HH", 254, 1600))
    assert m.values == {"weight": Decimal("65.000"), "height": Decimal("160.0")}
    assert m.details["bmi"] == "25.4"
    m = decode(0x2A9D, bytes([0x09]) + struct.pack("<H", 15000) + struct.pack("<HH", 0, 630))
    assert round(m.values["weight"], 2) == Decimal("68.04") and m.values["height"] == Decimal("160.020")
    with pytest.raises(GattError, match="unsuccessful"):
        decode(0x2A9D, bytes([0]) + b"\xff\xff")


def test_glucose_mass_and_molar_with_offset_and_status():
    payload = (bytes([0x0B]) + struct.pack("<H", 7) + stamp(2026, 12, 1, 6, 50, 0) + struct.pack("<h", 10)
               + sf(110, -5) + bytes([0x11]) + struct.pack("<H", 1))
    m = decode(0x2A18, payload)
    assert m.values == {"glucose": Decimal(110)}
    assert m.measured_at == datetime.datetime(2026, 12, 1, 7, 0)
    assert m.details["sequence"] == 7 and m.details["type"] == "capillary_whole_blood"
    assert m.status == ("battery_low",) and m.reliable
    m = decode(0x2A18, bytes([0x06]) + struct.pack("<H", 8) + stamp(2026, 12, 1, 7, 0, 0) + sf(61, -4) + bytes([0x12]))
    assert m.values == {"glucose_mmol": Decimal("6.1")}
    high = bytes([0x0A]) + struct.pack("<H", 9) + stamp(2026, 12, 1, 7, 0, 0) + sf(600, -5) + b"\x11" + struct.pack("<H", 1 << 5)
    assert not decode(0x2A18, high).reliable
    with pytest.raises(GattError, match="no glucose concentration"):
        decode(0x2A18, bytes([0x00]) + struct.pack("<H", 9) + stamp(2026, 12, 1, 7, 0, 0))
    with pytest.raises(GattError, match="base time needs 7"):
        decode(0x2A18, bytes([0x02, 0x01, 0x00, 0xEA]))


@pytest.mark.parametrize("characteristic", ["0x2A37", "heart", 0x1234, None, "0000xxxx-0000-1000-8000-00805f9b34fb"])
def test_unknown_characteristics_refused(characteristic):
    with pytest.raises(GattError):
        decode(characteristic, BP)


def test_full_uuid_accepted_and_oversized_or_non_bytes_refused():
    assert decode("00002a35-0000-1000-8000-00805f9b34fb", BP).values["systolic"] == 128
    with pytest.raises(GattError, match="longer than"):
        decode(0x2A35, BP * 4)
    with pytest.raises(GattError, match="must be bytes"):
        decode(0x2A35, "abc")


def test_bounded_fuzz_raises_only_gatt_errors():
    """Random and mutated payloads: each either decodes to finite values or raises GattError, nothing else."""
    rng = random.Random(2026)
    seeds = [BP, bytes([0x06]) + fl(372, -1) + stamp(2026, 12, 1, 8, 0, 0) + bytes([3])]
    decoded = 0
    for _ in range(4000):
        uuid = rng.choice(list(gatt.NAMES))
        if rng.random() < 0.5:
            payload = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 32)))
        else:
            payload = bytearray(rng.choice(seeds))
            for _ in range(rng.randrange(1, 4)):
                payload[rng.randrange(len(payload))] = rng.randrange(256)
            payload = bytes(payload[:rng.randrange(len(payload) + 1)])
        try:
            m = decode(uuid, payload)
        except GattError as error:
            assert str(error)
        else:
            decoded += 1
            assert all(v.is_finite() for v in m.values.values())
    assert decoded > 20  # the mutated seeds keep some payloads valid
