"""Recordings made here: a synthetic 12-lead ECG (demo, benchmarks) and any waveform written as a DICOM 12-lead ECG.

The synthetic ECG sums Gaussian P, Q, R, S and T waves per beat, with per-lead amplitudes of a normal adult
tracing; the limb leads follow Einthoven's and Goldberger's relations exactly, as a real recorder's do.
"""

from __future__ import annotations

import datetime
import io

import numpy as np

from caravane.diagnostics.waveforms import Waveform, _build

# Wave: (offset from the R peak in s, width in s); per lead I, II and V1..V6: amplitudes of P, Q, R, S, T in mV.
WAVES = ((-0.2, 0.025), (-0.03, 0.01), (0.0, 0.012), (0.03, 0.01), (0.28, 0.05))
AMPLITUDES = {
    "I": (0.08, -0.05, 0.6, -0.1, 0.2), "II": (0.12, -0.05, 1.1, -0.2, 0.3),
    "V1": (0.06, 0.0, 0.3, -1.0, -0.1), "V2": (0.07, 0.0, 0.6, -1.3, 0.4), "V3": (0.08, -0.05, 1.0, -0.8, 0.5),
    "V4": (0.08, -0.08, 1.4, -0.4, 0.5), "V5": (0.08, -0.1, 1.3, -0.2, 0.4), "V6": (0.08, -0.08, 1.0, -0.1, 0.3),
}
GAIN = 200.0  # ADC units per mV: 5 µV resolution, as many recorders


def synthetic_12_lead(seconds: float = 10.0, sampling_rate: int = 500, heart_rate: float = 72.0,
                      seed: int = 12) -> Waveform:
    """A 12-lead ECG at ``heart_rate`` with a little RR variability and noise (reproducible by ``seed``)."""
    rng = np.random.default_rng(seed)
    count = int(seconds * sampling_rate)
    t = np.arange(count) / sampling_rate
    beats, when = [], 0.3
    while when < seconds + 1:
        beats.append(when)
        when += 60.0 / heart_rate * (1 + rng.normal(0, 0.02))
    independent = {}
    for lead, amplitudes in AMPLITUDES.items():
        signal = np.zeros(count)
        for beat in beats:
            for (offset, width), amplitude in zip(WAVES, amplitudes):
                signal += amplitude * np.exp(-((t - beat - offset) ** 2) / (2 * width ** 2))
        independent[lead] = signal + rng.normal(0, 0.01, count) + 0.05 * np.sin(2 * np.pi * 0.2 * t)
    i, ii = independent["I"], independent["II"]
    derived = {"III": ii - i, "aVR": -(i + ii) / 2, "aVL": i - ii / 2, "aVF": ii - i / 2}
    leads = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    columns = [np.round({**independent, **derived}[lead] * GAIN).astype(np.int64) for lead in leads]
    return _build(leads, sampling_rate, columns, [GAIN] * 12, [0] * 12, ["mV"] * 12)


def to_dicom_ecg(wave: Waveform, *, sop_class: str = "1.2.840.10008.5.1.4.1.1.9.1.1", preamble: bool = True) -> bytes:
    """The waveform as a DICOM ECG object (12-Lead ECG Waveform Storage by default), samples in µV units."""
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = sop_class, meta.MediaStorageSOPInstanceUID, "ECG"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.ContentDate = datetime.date.today().strftime("%Y%m%d")
    channels = []
    for lead, gain, baseline in zip(wave.leads, wave.gains, wave.baselines):
        channel = Dataset()
        source = Dataset()
        source.CodeValue, source.CodingSchemeDesignator, source.CodeMeaning = lead, "MDC", f"Lead {lead}"
        channel.ChannelSourceSequence = Sequence([source])
        unit = Dataset()
        unit.CodeValue, unit.CodingSchemeDesignator, unit.CodeMeaning = "uV", "UCUM", "microvolt"
        channel.ChannelSensitivityUnitsSequence = Sequence([unit])
        channel.ChannelSensitivity = f"{1000.0 / gain:.6g}"
        channel.ChannelSensitivityCorrectionFactor = "1"
        channel.ChannelBaseline = f"{-baseline * 1000.0 / gain:.6g}"
        channel.WaveformBitsStored = 16
        channels.append(channel)
    group = Dataset()
    group.WaveformOriginality, group.MultiplexGroupLabel = "ORIGINAL", "RHYTHM"
    group.NumberOfWaveformChannels, group.NumberOfWaveformSamples = len(wave.leads), wave.samples.shape[1]
    group.SamplingFrequency = f"{wave.sampling_rate:g}"
    group.ChannelDefinitionSequence = Sequence(channels)
    group.WaveformBitsAllocated, group.WaveformSampleInterpretation = 16, "SS"
    group.WaveformData = np.ascontiguousarray(wave.samples.T.astype("<i2")).tobytes()
    ds.WaveformSequence = Sequence([group])
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    data = out.getvalue()
    return data if preamble else data[128:]
