"""Decoding of Bluetooth SIG GATT health measurements, in pure Python (no Django).

Characteristics: Blood Pressure Measurement (0x2A35), Temperature Measurement (0x2A1C), PLX Spot-check (0x2A5E)
and Continuous (0x2A5F) Measurements, Weight Measurement (0x2A9D) and Glucose Measurement (0x2A18), laid out as
their GATT Specification Supplement defines them: a flags byte that says which fields follow and in which unit,
little-endian integers, IEEE 11073-20601 SFLOAT (16-bit) and FLOAT (32-bit) numbers, 7-byte date-times.

``decode(uuid, payload)`` validates a raw payload completely: a truncated, overlong or impossible one raises
``GattError`` with a message saying what is wrong and where; nothing else escapes. Values come back in the
units the record uses (mm[Hg], Cel, %, /min, kg, cm, mg/dL or mmol/L), keyed like ``care.vitals``' signs.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

BLOOD_PRESSURE, TEMPERATURE, PLX_SPOT_CHECK, PLX_CONTINUOUS, WEIGHT, GLUCOSE = (
    0x2A35, 0x2A1C, 0x2A5E, 0x2A5F, 0x2A9D, 0x2A18)
NAMES = {BLOOD_PRESSURE: "blood_pressure", TEMPERATURE: "temperature", PLX_SPOT_CHECK: "plx_spot_check",
         PLX_CONTINUOUS: "plx_continuous", WEIGHT: "weight", GLUCOSE: "glucose"}
BY_NAME = {name: uuid for uuid, name in NAMES.items()}
MAX_PAYLOAD = 64  # the longest of these characteristics is 31 bytes; anything far above is not one of them

# IEEE 11073-20601 special values (exponent 0, these mantissas).
NAN, NRES, PLUS_INF, MINUS_INF, RESERVED = "NaN", "NRes", "+INF", "-INF", "reserved"
_SFLOAT_SPECIAL = {0x07FF: NAN, 0x0800: NRES, 0x07FE: PLUS_INF, 0x0802: MINUS_INF, 0x0801: RESERVED}
_FLOAT_SPECIAL = {0x7FFFFF: NAN, 0x800000: NRES, 0x7FFFFE: PLUS_INF, 0x800002: MINUS_INF, 0x800001: RESERVED}

MMHG_PER_KPA = Decimal("7.50061683")
KG_PER_LB = Decimal("0.45359237")
CM_PER_INCH = Decimal("2.54")

BP_STATUS = {0: "body_movement", 1: "cuff_too_loose", 2: "irregular_pulse", 5: "improper_position"}
BP_PULSE_RANGE = {1: "pulse_above_range", 2: "pulse_below_range", 3: "pulse_range_reserved"}
PLX_MEASUREMENT_STATUS = {
    5: "measurement_ongoing", 6: "early_estimate", 7: "validated", 8: "fully_qualified", 9: "from_storage",
    10: "demonstration", 11: "testing", 12: "calibration_ongoing", 13: "measurement_unavailable",
    14: "questionable_measurement", 15: "invalid_measurement"}
PLX_SENSOR_STATUS = {
    0: "extended_display_update", 1: "equipment_malfunction", 2: "signal_processing_irregularity",
    3: "inadequate_signal", 4: "poor_signal", 5: "low_perfusion", 6: "erratic_signal", 7: "nonpulsatile_signal",
    8: "questionable_pulse", 9: "signal_analysis_ongoing", 10: "sensor_interference", 11: "sensor_unconnected",
    12: "unknown_sensor", 13: "sensor_displaced", 14: "sensor_malfunction", 15: "sensor_disconnected"}
GLUCOSE_SENSOR_STATUS = {
    0: "battery_low", 1: "sensor_malfunction", 2: "sample_size_insufficient", 3: "strip_insertion_error",
    4: "strip_type_incorrect", 5: "result_above_range", 6: "result_below_range", 7: "temperature_too_high",
    8: "temperature_too_low", 9: "read_interrupted", 10: "device_fault", 11: "time_fault"}
# Statuses that make a value untrustworthy: such a reading is refused rather than offered to the nurse.
UNRELIABLE = frozenset({"invalid_measurement", "measurement_unavailable", "equipment_malfunction",
                        "sensor_malfunction", "sensor_disconnected", "sensor_unconnected", "result_above_range",
                        "result_below_range", "sample_size_insufficient", "strip_insertion_error",
                        "strip_type_incorrect", "read_interrupted", "device_fault"})
TEMPERATURE_SITES = {1: "armpit", 2: "body", 3: "ear", 4: "finger", 5: "gastro_intestinal", 6: "mouth",
                     7: "rectum", 8: "toe", 9: "tympanum"}
GLUCOSE_TYPES = {1: "capillary_whole_blood", 2: "capillary_plasma", 3: "venous_whole_blood", 4: "venous_plasma",
                 5: "arterial_whole_blood", 6: "arterial_plasma", 7: "undetermined_whole_blood",
                 8: "undetermined_plasma", 9: "interstitial_fluid", 10: "control_solution"}


class GattError(ValueError):
    """A payload that is not a valid measurement of its characteristic; the message says why."""


@dataclass(frozen=True)
class Measurement:
    """One decoded measurement: values in the record's units, when it was taken (device clock), status flags."""

    characteristic: str
    values: dict[str, Decimal]
    measured_at: datetime.datetime | None = None
    status: tuple[str, ...] = ()
    details: dict[str, object] = field(default_factory=dict)

    @property
    def reliable(self) -> bool:
        """False when a status bit says the device itself distrusts the value."""
        return not UNRELIABLE & set(self.status)


class _Reader:
    """Reads little-endian fields in order, naming the field a truncated payload lacks."""

    def __init__(self, payload: bytes, characteristic: str):
        self.data, self.offset, self.characteristic = payload, 0, characteristic

    def take(self, size: int, what: str) -> bytes:
        if self.offset + size > len(self.data):
            raise GattError(f"{self.characteristic}: truncated at byte {self.offset}, {what} needs {size} "
                            f"byte(s) and {len(self.data) - self.offset} remain")
        chunk = self.data[self.offset:self.offset + size]
        self.offset += size
        return chunk

    def uint(self, size: int, what: str) -> int:
        return int.from_bytes(self.take(size, what), "little")

    def sint(self, size: int, what: str) -> int:
        return int.from_bytes(self.take(size, what), "little", signed=True)

    def sfloat(self, what: str) -> Decimal | str:
        return sfloat(self.uint(2, what))

    def float(self, what: str) -> Decimal | str:
        return float32(self.uint(4, what))

    def datetime(self, what: str = "time stamp") -> datetime.datetime | None:
        return date_time(self.take(7, what), f"{self.characteristic} {what}")

    def end(self) -> None:
        extra = len(self.data) - self.offset
        if extra:
            raise GattError(f"{self.characteristic}: {extra} unexpected byte(s) after the last field its flags announce")


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value & (1 << (bits - 1)) else value


def sfloat(raw: int) -> Decimal | str:
    """An IEEE 11073 16-bit SFLOAT (4-bit exponent, 12-bit mantissa) as a Decimal, or its special value's name."""
    if not 0 <= raw <= 0xFFFF:
        raise GattError(f"SFLOAT out of 16 bits: {raw}")
    if raw in _SFLOAT_SPECIAL:
        return _SFLOAT_SPECIAL[raw]
    return Decimal(_signed(raw & 0x0FFF, 12)).scaleb(_signed(raw >> 12, 4))


def float32(raw: int) -> Decimal | str:
    """An IEEE 11073 32-bit FLOAT (8-bit exponent, 24-bit mantissa) as a Decimal, or its special value's name."""
    if not 0 <= raw <= 0xFFFFFFFF:
        raise GattError(f"FLOAT out of 32 bits: {raw}")
    if raw in _FLOAT_SPECIAL:
        return _FLOAT_SPECIAL[raw]
    return Decimal(_signed(raw & 0xFFFFFF, 24)).scaleb(_signed(raw >> 24, 8))


def date_time(raw: bytes, what: str = "time stamp") -> datetime.datetime | None:
    """A GATT Date Time (year uint16, month, day, hours, minutes, seconds); None when the device left it unknown."""
    if len(raw) != 7:
        raise GattError(f"{what}: 7 bytes expected, {len(raw)} given")
    year = int.from_bytes(raw[:2], "little")
    month, day, hours, minutes, seconds = raw[2:]
    if year == 0 or month == 0 or day == 0:
        return None  # "not known" in the specification: the server's clock will stand in
    if not 1582 <= year <= 9999:
        raise GattError(f"{what}: year {year} outside 1582–9999")
    try:
        return datetime.datetime(year, month, day, hours, minutes, seconds)
    except ValueError:
        raise GattError(f"{what}: {year:04d}-{month:02d}-{day:02d} {hours:02d}:{minutes:02d}:{seconds:02d} "
                        "is not a valid date and time") from None


def _bits(value: int, names: dict[int, str]) -> list[str]:
    return [name for bit, name in names.items() if value >> bit & 1]


def _required(value, what: str, characteristic: str) -> Decimal:
    """A measurement's main value: a special value (NaN, NRes, ±INF) there means there is no measurement."""
    if isinstance(value, str):
        raise GattError(f"{characteristic}: the device sent no {what} (IEEE 11073 {value})")
    return value


def _optional(value, what: str, values: dict, key: str, unavailable: list) -> None:
    if isinstance(value, str):
        unavailable.append(f"{what}: {value}")
    else:
        values[key] = value


def _flags(reader: _Reader, reserved_mask: int) -> int:
    flags = reader.uint(1, "flags")
    if flags & reserved_mask:
        raise GattError(f"{reader.characteristic}: reserved flag bits set (flags 0x{flags:02x})")
    return flags


def _blood_pressure(r: _Reader) -> Measurement:
    flags = _flags(r, 0xE0)
    kpa = flags & 0x01
    unit = MMHG_PER_KPA if kpa else Decimal(1)
    values: dict[str, Decimal] = {}
    unavailable: list[str] = []
    systolic = _required(r.sfloat("systolic"), "systolic pressure", r.characteristic)
    diastolic = _required(r.sfloat("diastolic"), "diastolic pressure", r.characteristic)
    mean = r.sfloat("mean arterial pressure")
    values["systolic"], values["diastolic"] = systolic * unit, diastolic * unit
    details: dict[str, object] = {"unit": "kPa" if kpa else "mmHg"}
    if not isinstance(mean, str):
        details["mean_arterial_pressure"] = str(mean * unit)
    measured_at = r.datetime() if flags & 0x02 else None
    if flags & 0x04:
        _optional(r.sfloat("pulse rate"), "pulse rate", values, "heart_rate", unavailable)
    if flags & 0x08:
        details["user"] = r.uint(1, "user id")
    status: list[str] = []
    if flags & 0x10:
        bits = r.uint(2, "measurement status")
        status = _bits(bits, BP_STATUS)
        if bits >> 3 & 0x3:
            status.append(BP_PULSE_RANGE[bits >> 3 & 0x3])
    r.end()
    if unavailable:
        details["unavailable"] = unavailable
    return Measurement(r.characteristic, values, measured_at, tuple(status), details)


def _temperature(r: _Reader) -> Measurement:
    flags = _flags(r, 0xF8)
    value = _required(r.float("temperature"), "temperature", r.characteristic)
    fahrenheit = flags & 0x01
    if fahrenheit:
        value = (value - 32) * 5 / 9
    measured_at = r.datetime() if flags & 0x02 else None
    details: dict[str, object] = {"unit": "°F" if fahrenheit else "°C"}
    if flags & 0x04:
        kind = r.uint(1, "temperature type")
        if kind not in TEMPERATURE_SITES:
            raise GattError(f"{r.characteristic}: temperature type {kind} is reserved")
        details["site"] = TEMPERATURE_SITES[kind]
    r.end()
    return Measurement(r.characteristic, {"temperature": value}, measured_at, (), details)


def _plx_statuses(r: _Reader, measurement: bool, sensor: bool) -> list[str]:
    status: list[str] = []
    if measurement:
        status += _bits(r.uint(2, "measurement status"), PLX_MEASUREMENT_STATUS)
    if sensor:
        status += _bits(r.uint(3, "device and sensor status"), PLX_SENSOR_STATUS)
    return status


def _spo2_pair(r: _Reader, what: str, required: bool, values: dict, unavailable: list, details: dict) -> None:
    spo2, rate = r.sfloat(f"{what} SpO2"), r.sfloat(f"{what} pulse rate")
    if required:
        values["spo2"] = _required(spo2, "SpO2", r.characteristic)
        _optional(rate, "pulse rate", values, "heart_rate", unavailable)
    else:
        details[what] = [str(spo2), str(rate)]


def _plx_spot_check(r: _Reader) -> Measurement:
    flags = _flags(r, 0xE0)
    values: dict[str, Decimal] = {}
    unavailable: list[str] = []
    details: dict[str, object] = {}
    _spo2_pair(r, "normal", True, values, unavailable, details)
    measured_at = r.datetime() if flags & 0x01 else None
    status = _plx_statuses(r, flags & 0x02, flags & 0x04)
    if flags & 0x08:
        details["pulse_amplitude_index"] = str(r.sfloat("pulse amplitude index"))
    if flags & 0x10:
        status.append("device_clock_not_set")
        measured_at = None  # a clock never set gives a meaningless time
    r.end()
    if unavailable:
        details["unavailable"] = unavailable
    return Measurement(r.characteristic, values, measured_at, tuple(status), details)


def _plx_continuous(r: _Reader) -> Measurement:
    flags = _flags(r, 0xE0)
    values: dict[str, Decimal] = {}
    unavailable: list[str] = []
    details: dict[str, object] = {}
    _spo2_pair(r, "normal", True, values, unavailable, details)
    if flags & 0x01:
        _spo2_pair(r, "fast", False, values, unavailable, details)
    if flags & 0x02:
        _spo2_pair(r, "slow", False, values, unavailable, details)
    status = _plx_statuses(r, flags & 0x04, flags & 0x08)
    if flags & 0x10:
        details["pulse_amplitude_index"] = str(r.sfloat("pulse amplitude index"))
    r.end()
    if unavailable:
        details["unavailable"] = unavailable
    return Measurement(r.characteristic, values, None, tuple(status), details)


def _weight(r: _Reader) -> Measurement:
    flags = _flags(r, 0xF0)
    imperial = flags & 0x01
    raw = r.uint(2, "weight")
    if raw == 0xFFFF:
        raise GattError(f"{r.characteristic}: the scale reports the measurement unsuccessful")
    weight = raw * Decimal("0.01") * KG_PER_LB if imperial else raw * Decimal("0.005")
    values = {"weight": weight}
    measured_at = r.datetime() if flags & 0x02 else None
    details: dict[str, object] = {"unit": "lb" if imperial else "kg"}
    if flags & 0x04:
        details["user"] = r.uint(1, "user id")
    if flags & 0x08:
        details["bmi"] = str(r.uint(2, "BMI") * Decimal("0.1"))
        height = r.uint(2, "height")
        values["height"] = height * Decimal("0.1") * CM_PER_INCH if imperial else height * Decimal("0.1")
    r.end()
    return Measurement(r.characteristic, values, measured_at, (), details)


def _glucose(r: _Reader) -> Measurement:
    flags = _flags(r, 0xE0)
    details: dict[str, object] = {"sequence": r.uint(2, "sequence number")}
    measured_at = r.datetime("base time")
    if flags & 0x01:
        offset = r.sint(2, "time offset")
        if measured_at is not None:
            measured_at += datetime.timedelta(minutes=offset)
    values: dict[str, Decimal] = {}
    if flags & 0x02:
        concentration = _required(r.sfloat("glucose concentration"), "glucose concentration", r.characteristic)
        if flags & 0x04:  # mol/L
            values["glucose_mmol"] = concentration * 1000
        else:  # kg/L
            values["glucose"] = concentration * 100000
        kind_location = r.uint(1, "type and sample location")
        details["type"] = GLUCOSE_TYPES.get(kind_location & 0x0F, "reserved")
    elif flags & 0x04:
        raise GattError(f"{r.characteristic}: a concentration unit is flagged without a concentration")
    status = _bits(r.uint(2, "sensor status annunciation"), GLUCOSE_SENSOR_STATUS) if flags & 0x08 else []
    if flags & 0x10:
        details["context_follows"] = True
    r.end()
    if not values:
        raise GattError(f"{r.characteristic}: the record carries no glucose concentration")
    return Measurement(r.characteristic, values, measured_at, tuple(status), details)


_DECODERS = {BLOOD_PRESSURE: _blood_pressure, TEMPERATURE: _temperature, PLX_SPOT_CHECK: _plx_spot_check,
             PLX_CONTINUOUS: _plx_continuous, WEIGHT: _weight, GLUCOSE: _glucose}


def characteristic_of(name_or_uuid) -> int:
    """The 16-bit UUID named by a number, "0x2A35", a full 128-bit Bluetooth base UUID or a name ("blood_pressure")."""
    if isinstance(name_or_uuid, int) and not isinstance(name_or_uuid, bool):
        uuid = name_or_uuid
    elif isinstance(name_or_uuid, str):
        text = name_or_uuid.strip().lower()
        if text in BY_NAME:
            return BY_NAME[text]
        if len(text) == 36 and text.endswith("-0000-1000-8000-00805f9b34fb"):
            text = text[4:8]
        try:
            uuid = int(text, 16)
        except ValueError:
            raise GattError(f"unknown characteristic “{name_or_uuid[:40]}”") from None
    else:
        raise GattError("the characteristic must be a UUID or a name")
    if uuid not in _DECODERS:
        raise GattError(f"characteristic 0x{uuid:04X} is not a supported health measurement")
    return uuid


def decode(characteristic, payload: bytes) -> Measurement:
    """Decode and validate one notification or indication payload; GattError for anything malformed."""
    uuid = characteristic_of(characteristic)
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise GattError("the payload must be bytes")
    payload = bytes(payload)
    if len(payload) > MAX_PAYLOAD:
        raise GattError(f"{NAMES[uuid]}: {len(payload)} bytes is longer than any such measurement")
    measurement = _DECODERS[uuid](_Reader(payload, NAMES[uuid]))
    for key, value in measurement.values.items():
        if not value.is_finite():
            raise GattError(f"{NAMES[uuid]}: {key} is not a finite number")
    return measurement
