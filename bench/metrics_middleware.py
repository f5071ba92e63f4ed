"""What the metrics middleware costs per request: the middleware around a view that does nothing, against the view
alone, in multiprocess mode (memory-mapped files), as the server runs it.

    PYTHONPATH=src python bench/metrics_middleware.py [REQUESTS]
"""

import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caravane.settings")

import django  # noqa: E402

django.setup()

from django.http import HttpResponse  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.urls import resolve  # noqa: E402

from caravane.core.middleware import MetricsMiddleware  # noqa: E402


def main(requests: int = 20000, rounds: int = 5) -> None:
    request = RequestFactory().get("/patients/0190c3c2-3b6f-7000-8000-000000000000/")
    request.resolver_match = resolve(request.path)
    response = HttpResponse("ok")

    def view(_request):
        return response

    wrapped = MetricsMiddleware(view)
    bare, metered = [], []
    for _ in range(rounds):
        for calls, target in ((bare, view), (metered, wrapped)):
            started = time.perf_counter()
            for _ in range(requests):
                target(request)
            calls.append((time.perf_counter() - started) / requests)
    cost = statistics.median(metered) - statistics.median(bare)
    print(f"metrics middleware: {cost * 1e6:.1f} µs per request (median of {rounds} rounds of {requests}; view "
          f"alone {statistics.median(bare) * 1e6:.2f} µs, with middleware {statistics.median(metered) * 1e6:.1f} µs)")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:2]))
