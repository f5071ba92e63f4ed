"""ECG import: time to read a record and find its R peaks, and the bytes the viewer's binary document costs.

Usage: .venv/bin/python bench/ecg_import.py [--repeat 5]
A 10-second 12-lead ECG at 500 Hz (the synthetic one of caravane.diagnostics.synthetic) is written as a WFDB
record (format 16) and as a DICOM 12-lead ECG, then read back as the import does (parsing, int16 packing, XQRS);
the public records of ../shared/data/ecg/wfdb are read too when present. Wire bytes: the document the viewer
fetches, as sent and gzipped as Django's GZipMiddleware sends it (level 6). Runs in-process, no database.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import tempfile
import time
from pathlib import Path

from benchlib import setup_django

setup_django()

from caravane.diagnostics import waveforms  # noqa: E402
from caravane.diagnostics.synthetic import synthetic_12_lead, to_dicom_ecg  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ecg" / "wfdb"


def timed(read, repeat: int) -> tuple[float, waveforms.Waveform]:
    """Median milliseconds of ``read()`` over ``repeat`` runs, and its result."""
    times, wave = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        wave = read()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), wave


def wire(wave: waveforms.Waveform) -> tuple[int, int]:
    """Bytes of the whole record's document, plain and gzipped."""
    body = waveforms.document(wave.leads, wave.units, wave.gains, wave.baselines, wave.sampling_rate,
                              wave.samples.astype("<i2").tobytes(), wave.samples.shape[1])
    return len(body), len(gzip.compress(body, compresslevel=6))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import wfdb

    wave = synthetic_12_lead()
    with tempfile.TemporaryDirectory() as folder:
        wfdb.wrsamp("ecg12", fs=500, units=["mV"] * 12, sig_name=wave.leads, d_signal=wave.samples.T.astype(int),
                    fmt=["16"] * 12, adc_gain=[200.0] * 12, baseline=[0] * 12, write_dir=folder)
        header, signals = Path(folder, "ecg12.hea").read_bytes(), Path(folder, "ecg12.dat").read_bytes()
    dicom = to_dicom_ecg(wave)
    rows = [
        ("12-lead 10 s, WFDB", len(header) + len(signals),
         lambda: waveforms.read_wfdb(("ecg12.hea", header), {"ecg12.dat": signals})),
        ("12-lead 10 s, DICOM", len(dicom), lambda: waveforms.read_dicom_ecg("ecg12.dcm", dicom)),
    ]
    for record in ("mitdb_100", "challenge2015_v102s"):
        folder = SHARED / record
        if folder.is_dir():
            files = {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix in (".hea", ".dat")}
            head = next(name for name in files if name.endswith(".hea"))
            rows.append((f"{record}, WFDB", sum(map(len, files.values())),
                         lambda files=files, head=head: waveforms.read_wfdb(
                             (head, files[head]), {k: v for k, v in files.items() if k != head})))
    print(f"{'record':28} {'file bytes':>10} {'leads':>5} {'seconds':>8} {'rate/min':>8} {'import ms':>9} "
          f"{'wire bytes':>10} {'gzipped':>8}")
    for name, size, read in rows:
        ms, result = timed(read, args.repeat)
        plain, zipped = wire(result)
        rate = waveforms.heart_rate(result.r_peaks, result.sampling_rate)
        print(f"{name:28} {size:>10} {len(result.leads):>5} {result.duration:>8.1f} {rate or 0:>8.1f} {ms:>9.1f} "
              f"{plain:>10} {zipped:>8}")
    print("import ms: parse, int16 packing and R-peak detection (XQRS on the first 5 minutes), median of "
          f"{args.repeat}; the database write is one row. wire: the viewer's binary document of the whole record.")


if __name__ == "__main__":
    main()
