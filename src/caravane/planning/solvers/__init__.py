"""Optimisation solvers for planning, free of Django so they can run in their own process.

``highspy`` and ``ortools`` cannot share a process, so the exact MIP (HiGHS) and the
routing solver (OR-Tools) each run as ``python -m caravane.planning.solvers.<name>``
with JSON on stdin and stdout; :func:`run_in_subprocess` is the one way to call them.
The covering heuristic (:mod:`.mclp`) needs only numpy and runs in-process.
"""

from __future__ import annotations

import json
import subprocess
import sys


class SolverError(RuntimeError):
    """A solver subprocess failed or returned something unreadable."""


def run_in_subprocess(module: str, payload: dict, *, timeout: float | None = None) -> dict:
    """Run ``caravane.planning.solvers.<module>`` on ``payload`` in a fresh interpreter; return its JSON answer."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", f"caravane.planning.solvers.{module}"],
            input=json.dumps(payload), capture_output=True, text=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise SolverError(f"{module} solver ran past {timeout:.0f} s") from exc
    if done.returncode != 0:
        raise SolverError(f"{module} solver failed: {done.stderr.strip()[-2000:]}")
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise SolverError(f"{module} solver returned no JSON: {done.stdout[:200]!r}") from exc


def serve_stdin(solve) -> None:
    """Entry point of a solver module: read a JSON payload, write ``solve(payload)`` as JSON."""
    payload = json.load(sys.stdin)
    json.dump(solve(payload), sys.stdout)
