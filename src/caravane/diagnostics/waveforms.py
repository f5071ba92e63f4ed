"""ECG waveforms read from WFDB records and DICOM waveform objects, kept as integers with a gain and a baseline.

Samples are stored and served as int16 little-endian, lead after lead: a lead's value in its unit (mV for ECG
leads) is ``(sample - baseline) / gain``. Records whose integers do not fit 16 bits are shifted, and scaled down
only when their range does not fit either (the gain then says so). Heart rate and RR intervals come from the R
peaks that ``wfdb.processing``'s XQRS detector finds in one lead: figures computed, never a diagnosis.
"""

from __future__ import annotations

import io
import math
import re
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from caravane.core import files

INT16_MIN, INT16_MAX = -32768, 32767
# R peaks are looked for in the first minutes only: enough for a rate and its intervals, and an import of a
# 24-hour Holter record stays quick.
DETECTION_SECONDS = 300
# The leads a heart rate is best measured in, in order of preference.
RATE_LEADS = ("II", "MLII", "I", "V5", "V2", "V1", "V")
LIMB_LEADS = ("I", "II", "III", "aVR", "aVL", "aVF")
STANDARD_LEADS = LIMB_LEADS + ("V1", "V2", "V3", "V4", "V5", "V6")
MAX_LEADS = 64
MAX_SAMPLES = 24 * 3600 * 1000  # a day at 1 kHz


@dataclass
class Waveform:
    """A recording: its leads, sampling rate, integer samples (leads x samples) and each lead's gain, baseline
    and unit."""

    leads: list[str]
    sampling_rate: float
    samples: np.ndarray
    gains: list[float]
    baselines: list[int]
    units: list[str]
    r_peaks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))

    @property
    def duration(self) -> float:
        """Seconds recorded."""
        return self.samples.shape[1] / self.sampling_rate

    def physical(self, lead: int) -> np.ndarray:
        """One lead in its unit (mV for ECG leads)."""
        return (self.samples[lead].astype(np.float64) - self.baselines[lead]) / self.gains[lead]


def lead_name(raw: str) -> str:
    """A lead's usual short name: "Lead II (Einthoven)" -> "II", "lead avr" -> "aVR"."""
    name = re.sub(r"\(.*?\)", "", str(raw)).strip()
    name = re.sub(r"^(?:ECG\s+)?lead\s+", "", name, flags=re.IGNORECASE).strip()
    for standard in STANDARD_LEADS:
        if name.lower() == standard.lower():
            return standard
    return name[:16] or "?"


def _fit_int16(values: np.ndarray, gain: float, baseline: float) -> tuple[np.ndarray, float, int]:
    """Integers in int16: shifted around their middle, and divided when their range is wider than 16 bits."""
    low, high = (int(values.min()), int(values.max())) if values.size else (0, 0)
    if INT16_MIN <= low and high <= INT16_MAX:
        return values.astype("<i2"), gain, int(round(baseline))
    middle = (low + high) // 2
    step = max(1, math.ceil((high - low + 1) / 65535))
    scaled = np.round((values - middle) / step).astype("<i2")
    return scaled, gain / step, int(round((baseline - middle) / step))


def _to_mv(unit: str) -> float:
    """How many of ``unit`` make a millivolt (1 for units that are not voltages: they are kept as they are)."""
    return {"uv": 1000.0, "µv": 1000.0, "mv": 1.0, "v": 0.001}.get(unit.strip().lower(), 1.0)


def _build(leads, sampling_rate, columns, gains, baselines, units) -> Waveform:
    if not 0 < sampling_rate <= 20000 or not leads or len(leads) > MAX_LEADS:
        raise ValueError("bad shape")
    fitted = [_fit_int16(np.asarray(column, dtype=np.int64), float(gain), float(baseline))
              for column, gain, baseline in zip(columns, gains, baselines)]
    samples = np.stack([values for values, _g, _b in fitted])
    if samples.shape[1] < 1 or samples.shape[1] > MAX_SAMPLES:
        raise ValueError("bad length")
    # Voltages are kept in mV: a gain per µV becomes a gain per mV.
    wave = Waveform(leads=[lead_name(n) for n in leads], sampling_rate=float(sampling_rate), samples=samples,
                    gains=[g * _to_mv(u) for (_v, g, _b), u in zip(fitted, units)],
                    baselines=[b for _v, _g, b in fitted],
                    units=["mV" if _to_mv(u) != 1.0 or u.lower() == "mv" else u for u in units])
    wave.r_peaks = detect_r_peaks(wave)
    return wave


def read_wfdb(header: tuple[str, bytes], signals: dict[str, bytes]) -> Waveform:
    """A WFDB record from its header (name, content) and the signal files it names; ValidationError naming the
    header when the record cannot be read."""
    import wfdb

    name, content = header
    named = files.wfdb_signal_files(content, len(content))
    if named is None:
        raise ValidationError(_("%(file)s is not a WFDB header.") % {"file": name})
    missing = [file for file in named if file not in signals]
    if missing:
        raise ValidationError(_("%(file)s names signal files that were not sent: %(missing)s.") % {
            "file": name, "missing": ", ".join(missing)})
    for file, size in named.items():
        if size is not None and size != len(signals[file]):
            raise ValidationError(_("%(file)s does not have the size its header %(header)s gives: it is truncated "
                                    "or is not this record's.") % {"file": file, "header": name})
    record_name = content.decode("ascii").split()[0]
    with tempfile.TemporaryDirectory(prefix="caravane-wfdb-") as folder:
        Path(folder, f"{record_name}.hea").write_bytes(content)
        for file in named:
            Path(folder, file).write_bytes(signals[file])
        try:
            record = wfdb.rdrecord(str(Path(folder, record_name)), physical=False)
            return _build(record.sig_name, record.fs, record.d_signal.T, record.adc_gain, record.baseline,
                          [u or "mV" for u in record.units])
        except Exception:  # wfdb raises many kinds on damaged records; each means "cannot be read"
            raise ValidationError(_("%(file)s: the WFDB record cannot be read.") % {"file": name})


def read_dicom_ecg(name: str, content: bytes) -> Waveform:
    """The first multiplex group of a DICOM waveform ECG (12-lead, general or ambulatory); ValidationError naming
    the file when it is not one or cannot be read."""
    import pydicom
    from pydicom.waveforms.numpy_handler import multiplex_array

    kind = files.dicom_kind(content[:files.HEAD_BYTES])
    if kind is None or kind.kind != "ecg":
        raise ValidationError(_("%(file)s is not a DICOM ECG waveform (%(what)s).") % {
            "file": name, "what": kind.name if kind else _("not DICOM")})
    try:
        dataset = pydicom.dcmread(io.BytesIO(files.dicom_readable(content)), force=True)
        group = dataset.WaveformSequence[0]
        raw = multiplex_array(dataset, 0, as_raw=True)  # samples x channels
        leads, gains, baselines, units = [], [], [], []
        for channel in group.ChannelDefinitionSequence:
            source = channel.ChannelSourceSequence[0]
            leads.append(source.get("CodeMeaning") or source.get("CodeValue") or "?")
            unit = channel.ChannelSensitivityUnitsSequence[0].CodeValue if "ChannelSensitivityUnitsSequence" in \
                channel else "uV"
            per_unit = float(channel.get("ChannelSensitivity", 1.0)) * float(
                channel.get("ChannelSensitivityCorrectionFactor", 1.0) or 1.0)
            # physical = raw * per_unit + baseline_in_units, i.e. (raw - b) / g with g = 1/per_unit.
            gains.append(1.0 / per_unit)
            baselines.append(-float(channel.get("ChannelBaseline", 0.0)) / per_unit)
            units.append(unit)
        return _build(leads, float(group.SamplingFrequency), raw.T, gains, baselines, units)
    except ValidationError:
        raise
    except Exception:  # as above: damaged or incomplete DICOM
        raise ValidationError(_("%(file)s: the DICOM ECG cannot be read.") % {"file": name})


def detect_r_peaks(wave: Waveform) -> np.ndarray:
    """Sample indices of the R peaks that XQRS finds in the best lead for it (empty when none is an ECG lead)."""
    from wfdb import processing

    index = rate_lead(wave)
    if index is None:
        return np.zeros(0, dtype=np.int32)
    signal = wave.physical(index)[: int(DETECTION_SECONDS * wave.sampling_rate)]
    if signal.size < 2 * wave.sampling_rate:
        return np.zeros(0, dtype=np.int32)
    detector = processing.XQRS(sig=signal, fs=wave.sampling_rate)
    detector.detect(verbose=False)
    return np.asarray(detector.qrs_inds, dtype=np.int32)


def rate_lead(wave: Waveform) -> int | None:
    """The lead heart rate is measured in."""
    for preferred in RATE_LEADS:
        if preferred in wave.leads:
            return wave.leads.index(preferred)
    voltages = [i for i, unit in enumerate(wave.units) if unit == "mV"]
    return voltages[0] if voltages else None


def rr_intervals_ms(r_peaks: np.ndarray, sampling_rate: float) -> np.ndarray:
    """The intervals between successive R peaks, in milliseconds."""
    return np.diff(np.asarray(r_peaks, dtype=np.float64)) * 1000.0 / sampling_rate


def heart_rate(r_peaks: np.ndarray, sampling_rate: float) -> float | None:
    """Beats per minute from the median RR interval (None with fewer than two peaks)."""
    rr = rr_intervals_ms(r_peaks, sampling_rate)
    return round(60000.0 / float(np.median(rr)), 1) if rr.size else None


# --- The binary document served to the viewer ---------------------------------------------------------------

MAGIC = b"CECG"
VERSION = 1
# Samples are sent as first differences (the first one absolute), wrapping in 16 bits: gzip then packs a tracing
# a fifth smaller than the samples themselves.
PLAIN, DIFFERENCES = 0, 1
_HEADER = struct.Struct("<4sBBHfII")  # magic, version, leads, encoding, sampling rate, first sample, samples
_LEAD = struct.Struct("<8s8sfi")  # name, unit, gain, baseline


def document(leads, units, gains, baselines, sampling_rate: float, samples: bytes, total: int, start: int = 0,
             count: int | None = None) -> bytes:
    """The samples ``start`` to ``start + count`` of a stored recording as one binary document: a header, one
    record per lead, then each lead's int16 little-endian first differences (see docs/diagnostics.md)."""
    start = max(0, min(start, total))
    count = total - start if count is None else max(0, min(count, total - start))
    window = np.frombuffer(samples, dtype="<i2").reshape(len(leads), total)[:, start:start + count]
    differences = np.diff(window, axis=1, prepend=np.zeros((len(leads), 1), dtype="<i2"))  # wraps in int16
    parts = [_HEADER.pack(MAGIC, VERSION, len(leads), DIFFERENCES, sampling_rate, start, count)]
    parts += [_LEAD.pack(lead.encode()[:8], unit.encode()[:8], gain, baseline)
              for lead, unit, gain, baseline in zip(leads, units, gains, baselines)]
    parts.append(np.ascontiguousarray(differences, dtype="<i2").tobytes())
    return b"".join(parts)


def parse_document(data: bytes) -> Waveform:
    """A document back into a waveform (for tests and tools)."""
    magic, version, count, encoding, rate, _start, total = _HEADER.unpack_from(data)
    if magic != MAGIC or version != VERSION:
        raise ValueError("not an ECG document")
    leads, units, gains, baselines = [], [], [], []
    for i in range(count):
        name, unit, gain, baseline = _LEAD.unpack_from(data, _HEADER.size + i * _LEAD.size)
        leads.append(name.rstrip(b"\0").decode())
        units.append(unit.rstrip(b"\0").decode())
        gains.append(gain)
        baselines.append(baseline)
    offset = _HEADER.size + count * _LEAD.size
    samples = np.frombuffer(data, dtype="<i2", offset=offset).reshape(count, total)
    if encoding == DIFFERENCES:
        samples = np.cumsum(samples, axis=1, dtype="<i2")
    return Waveform(leads, rate, samples, gains, baselines, units)
