"""Diagnostic recordings: ECGs (WFDB, DICOM waveform, print-outs) and examination images, imported and viewed."""
