"""A closed-loop HTTP load generator for ``serving.py patient-read`` (aiohttp, in its own process).

``python loadgen.py SPEC.json`` where the spec gives ``base`` (URL prefix), ``ids`` (a path is ``base + id``, the
id drawn at random for each request), ``headers``, ``concurrency``, ``warmup`` and ``duration`` (seconds).
Each of ``concurrency`` clients sends its next request when the last one is answered, over its own kept-alive
connection. Prints one JSON line: requests, errors (non-200 or failed), their kinds, the throughput of successful
requests (req/s), and the
latencies' percentiles in ms, measured from the request's sending to the body's last byte.

Why our own: wrk is not in the image by default, and this drives both servers identically, draws a fresh
patient for each request, and runs in a separate process so its own work is outside the servers' processes
(it still shares the machine's cores, equally for both peers).
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time

import aiohttp


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))] if ordered else float("nan")


async def client(session, spec, rng, start_recording, stop, samples, errors):
    """One client: request, wait for the whole answer, record, repeat until ``stop``."""
    base, ids, headers = spec["base"], spec["ids"], spec.get("headers", {})
    while True:
        now = time.perf_counter()
        if now >= stop:
            return
        url = base + rng.choice(ids)
        try:
            async with session.get(url, headers=headers) as response:
                await response.read()
                status = response.status
        except aiohttp.ClientError as error:
            status = f"{type(error).__name__}: {error}"
        done = time.perf_counter()
        if now >= start_recording:
            samples.append((done - now) * 1000)
            if status != 200:
                errors.append(str(status))


async def run(spec) -> dict:
    """Drive the load described by ``spec`` and summarise it."""
    concurrency = spec["concurrency"]
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    timeout = aiohttp.ClientTimeout(total=spec.get("timeout", 30))
    samples: list[float] = []
    errors: list[str] = []
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        began = time.perf_counter()
        start_recording = began + spec["warmup"]
        stop = start_recording + spec["duration"]
        await asyncio.gather(*(client(session, spec, random.Random(n), start_recording, stop, samples, errors)
                               for n in range(concurrency)))
    ordered = sorted(samples)
    kinds: dict[str, int] = {}
    for error in errors:
        kinds[error] = kinds.get(error, 0) + 1
    return {"requests": len(samples), "errors": len(errors), "error_kinds": kinds,
            "throughput": (len(samples) - len(errors)) / spec["duration"], "p50": percentile(ordered, 0.5),
            "p99": percentile(ordered, 0.99), "max": ordered[-1] if ordered else float("nan")}


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as source:
        print(json.dumps(asyncio.run(run(json.load(source)))))
