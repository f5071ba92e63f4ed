"""Live ECG and pulse-oximeter frames: compact binary, one every 200 ms, relayed over the act's stream socket.

An ECG frame carries the eight independent leads (I, II, V1-V6) or those of them the source has; the receiver
computes III, aVR, aVL and aVF (Einthoven, Goldberger), so they are never sent. Samples are in 5 µV units; each
lead's samples are first differences (the first one absolute), zigzag varints, the whole body deflated (raw
deflate, as the browser's DecompressionStream("deflate-raw") reads it). Each frame stands alone: a lost one is a
gap the next frame's sample index shows, never a corrupted trace.

Header (little-endian, 28 bytes): kind u8 (1 ECG, 2 pulse oximeter), version u8, sampling rate u16, sequence u32,
first sample index u32, sample count u16, lead mask u16 (bit i: STREAM_LEADS[i]), gain f32 (units per mV; pulse
oximeter: SpO2 % in the low byte and pulse rate in the high bytes of the mask and count), capture time u64 (ms
since the epoch, of the first sample).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

STREAM_LEADS = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")
# A modified lead II (Holter, MIT-BIH) stands in for lead II in a stream.
ALIASES = {"MLII": "II"}
ECG, OXIMETER = 1, 2
VERSION = 1
HEADER = struct.Struct("<BBHIIHHfQ")
GAIN = 200.0  # units per mV: 5 µV
RATE = 500
FRAME_MS = 200
MAX_FRAME_BYTES = 8 * 1024
MAX_SAMPLES = 2000


class FrameError(ValueError):
    """A frame that is not a valid stream frame; ``code`` says why."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass
class Frame:
    kind: int
    rate: int
    seq: int
    first: int
    count: int
    leads: tuple[str, ...]
    gain: float
    captured_ms: int
    samples: np.ndarray | None = None  # leads x count, ECG frames
    spo2: int | None = None
    pulse: int | None = None


def _zigzag(values: np.ndarray) -> np.ndarray:
    return ((values << 1) ^ (values >> 63)).astype(np.uint64)


def _varints(values: np.ndarray) -> bytes:
    out = bytearray()
    for value in values.tolist():
        while value >= 0x80:
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        out.append(value)
    return bytes(out)


def encode_ecg(*, seq: int, first: int, samples: np.ndarray, leads: tuple[str, ...], captured_ms: int,
               rate: int = RATE, gain: float = GAIN) -> bytes:
    """One ECG frame of ``samples`` (leads x count integers in 1/gain mV) of the named stream leads."""
    mask = sum(1 << STREAM_LEADS.index(lead) for lead in leads)
    order = sorted(range(len(leads)), key=lambda i: STREAM_LEADS.index(leads[i]))
    body = b"".join(_varints(_zigzag(np.diff(samples[i].astype(np.int64), prepend=0))) for i in order)
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return HEADER.pack(ECG, VERSION, rate, seq, first, samples.shape[1], mask, gain, captured_ms) + \
        packer.compress(body) + packer.flush()


def encode_oximeter(*, seq: int, spo2: int, pulse: int, captured_ms: int) -> bytes:
    """One pulse-oximeter frame: SpO2 (%) and pulse rate (/min)."""
    return HEADER.pack(OXIMETER, VERSION, 1, seq, seq, pulse & 0xFFFF, spo2 & 0xFF, 0.0, captured_ms)


def _read_varints(data: bytes, count: int, at: int) -> tuple[np.ndarray, int]:
    values = np.empty(count, dtype=np.int64)
    for k in range(count):
        shift = result = 0
        while True:
            if at >= len(data) or shift > 63:
                raise FrameError("truncated_body")
            byte = data[at]
            at += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        values[k] = (result >> 1) ^ -(result & 1)
    return values, at


def decode(frame: bytes, *, body: bool = True) -> Frame:
    """A frame's content; FrameError for anything but a well-formed frame (``body=False``: header only)."""
    if not isinstance(frame, (bytes, bytearray)) or not HEADER.size <= len(frame) <= MAX_FRAME_BYTES:
        raise FrameError("bad_size")
    kind, version, rate, seq, first, count, mask, gain, captured = HEADER.unpack_from(frame)
    if version != VERSION or kind not in (ECG, OXIMETER):
        raise FrameError("bad_header")
    if kind == OXIMETER:
        if mask > 100 or count > 300 or len(frame) != HEADER.size:
            raise FrameError("bad_oximetry")
        return Frame(kind, rate, seq, first, 0, (), 0.0, captured, spo2=mask, pulse=count)
    leads = tuple(lead for i, lead in enumerate(STREAM_LEADS) if mask >> i & 1)
    if not leads or mask >> len(STREAM_LEADS) or not 0 < count <= MAX_SAMPLES or not 50 <= rate <= 2000 \
            or not 0 < gain < 1e6:
        raise FrameError("bad_header")
    result = Frame(kind, rate, seq, first, count, leads, gain, captured)
    if not body:
        return result
    try:
        unpacker = zlib.decompressobj(-15)
        raw = unpacker.decompress(frame[HEADER.size:], 10 * len(leads) * count)
    except zlib.error:
        raise FrameError("bad_body")
    at, rows = 0, []
    for _lead in leads:
        deltas, at = _read_varints(raw, count, at)
        rows.append(np.cumsum(deltas))
    if at != len(raw):
        raise FrameError("bad_body")
    result.samples = np.stack(rows)
    return result


def derive_limb_leads(i: np.ndarray, ii: np.ndarray) -> dict[str, np.ndarray]:
    """III, aVR, aVL and aVF from I and II (what the receiving page computes)."""
    return {"III": ii - i, "aVR": -(i + ii) / 2, "aVL": i - ii / 2, "aVF": ii - i / 2}


def stream_blocks(wave, frame_ms: int = FRAME_MS, rate: int = RATE):
    """A recording's stream leads resampled to ``rate`` in 5 µV units, cut into frames: (leads, first, block)."""
    from scipy.signal import resample_poly

    chosen = [(ALIASES.get(name, name), index) for index, name in enumerate(wave.leads)
              if ALIASES.get(name, name) in STREAM_LEADS and wave.units[index] == "mV"]
    chosen = list({name: (name, index) for name, index in chosen}.values())  # one source per lead
    if not chosen:
        raise ValueError("no ECG lead to stream")
    source_rate = int(round(wave.sampling_rate))
    physical = np.stack([wave.physical(index) for _name, index in chosen])
    if source_rate != rate:
        physical = resample_poly(physical, rate, source_rate, axis=1)
    units = np.round(np.nan_to_num(physical) * GAIN).astype(np.int64)
    leads = tuple(name for name, _index in chosen)
    step = rate * frame_ms // 1000
    for first in range(0, units.shape[1] - step + 1, step):
        yield leads, first, units[:, first:first + step]
