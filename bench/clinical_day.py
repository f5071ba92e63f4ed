"""The clinical day's load for ``serving.py clinical-day``: locust 2.47.0 as a library, in the bench's environment.

``python clinical_day.py --host URL --users-file FILE [--duration 60] [--step 20] [--max-rate 400]``
Every simulated user logs in first (browser roles: the login page, its CSRF token, the form; tablets: a bearer
token), then works in a loop of its role's requests with pauses drawn from an exponential law (arrivals close
to Poisson). Phase 1, the day: mean pause 10 s per user. Phase 2, the ramp: the pause shrinks so that the users
together send RATE requests a second, RATE rising by half each step, until the p99 crosses 1 s, errors appear or
--max-rate is passed. Latencies are recorded from locust's request events, exactly (not its rounded buckets).
"""

from __future__ import annotations

import gevent.monkey

gevent.monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
from locust import FastHttpUser, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402

DAY_PAUSE_S = 10.0
PLAN = {"pause": DAY_PAUSE_S}  # the mean pause, changed between phases
SAMPLES: list[tuple[str, float, bool]] = []
FAILURES: dict[str, int] = {}
USERS: list[dict] = []
READY = {"users": 0}
SPECIALTY = "cardiology"
VITALS = ({"systolic": "128", "diastolic": "82", "heart_rate": "76", "temperature": "36.8", "weight": "64"},
          {"systolic": "142", "diastolic": "91", "heart_rate": "88", "temperature": "37.4"},
          {"heart_rate": "102", "temperature": "38.2", "respiratory_rate": "22", "weight": "12.5"})


@events.request.add_listener
def record(request_type, name, response_time, response_length, exception, response=None, **kwargs):
    """Keep every request's latency and outcome, and the first words of each kind of failure."""
    SAMPLES.append((name, response_time, exception is None))
    if exception is not None:
        text = f"{name}: {exception}"[:160]
        FAILURES[text] = FAILURES.get(text, 0) + 1


class Clinician(FastHttpUser):
    """One member of staff; the role's flow comes from the users file, one entry per simulated user."""

    def wait_time(self):
        return random.expovariate(1 / PLAN["pause"])

    def on_start(self):
        self.me = USERS.pop(0) if USERS else {}
        self.rng = random.Random()
        self.csrf, self.acts, self.step = "", [], 0
        self.headers = {}
        self.arrivals = list(self.me.get("arrivals", []))
        if self.me.get("token"):
            self.headers = {"Authorization": f"Bearer {self.me['token']}"}
            READY["users"] += 1
            return
        self.client.get("/accounts/login/", name="login page")
        self.csrf = self.cookie("csrftoken")
        # A browser's form post over HTTPS names its page: Django's CSRF check requires that Referer there.
        with self.client.post("/accounts/login/", name="login", allow_redirects=False, catch_response=True,
                              headers={"Referer": self.host + "/accounts/login/"},
                              data={"csrfmiddlewaretoken": self.csrf, "username": self.me["username"],
                                    "password": self.me["password"]}) as answer:
            if answer.status_code != 302:
                answer.failure(f"login answered {answer.status_code}")
        self.csrf = self.cookie("csrftoken")
        self.headers = {"X-CSRFToken": self.csrf, "Referer": self.host + "/"}
        READY["users"] += 1

    def cookie(self, name):
        for cookie in self.client.cookiejar:
            if cookie.name == name:
                return cookie.value
        return ""

    def patient(self):
        return self.rng.choice(self.me["patients"])

    def api(self, method, path, name, **kwargs):
        """An API call; a non-2xx answer is a failure with its first words."""
        with self.client.request(method, path, name=name, headers=self.headers, catch_response=True,
                                 **kwargs) as answer:
            if not 200 <= answer.status_code < 300:
                answer.failure(f"HTTP {answer.status_code} {(answer.text or '')[:100]}")
                return None
            return answer.json()

    def page(self, path, name):
        with self.client.get(path, name=name, catch_response=True, allow_redirects=False) as answer:
            if answer.status_code != 200:
                answer.failure(f"HTTP {answer.status_code}")

    def check_in(self):
        """Check in the next of this user's arrivals (each patient once)."""
        if not self.arrivals:
            return None
        patient = self.arrivals.pop()
        self.visit_patient = patient
        encounter = self.api("POST", "/api/care/encounters", "check-in (API)",
                             json={"patient": patient, "site": self.me["site"],
                                   "priority": self.rng.choice(["standard", "standard", "urgent"])})
        return encounter and encounter["id"]

    @task
    def work(self):
        """The role's next request (each call is one request; the flow resumes after the pause)."""
        getattr(self, self.me["role"])()
        self.step += 1

    def call_in(self):
        """Take the visit checked in last to the nurse (vital signs are taken there)."""
        if getattr(self, "visit", None):
            self.api("POST", f"/api/care/encounters/{self.visit}/status", "call in (API)", json={"to": "with_nurse"})

    def tablet(self):
        """A mobile unit's tablet: search, read, check-in, call in, vitals."""
        kind = self.step % 5
        if kind == 0:
            self.api("GET", "/api/patients/", "search (API)", params={"q": self.rng.choice(self.me["words"])})
        elif kind == 1:
            self.api("GET", f"/api/patients/{self.patient()}", "patient read (API)")
        elif kind == 2:
            self.visit = self.check_in()
        elif kind == 3:
            self.call_in()
        elif getattr(self, "visit", None):
            self.api("POST", f"/api/care/encounters/{self.visit}/observations", "vitals (API)",
                     json=self.rng.choice(VITALS))

    def nurse(self):
        """A health centre's nurse in a browser: search page, chart, check-in, call in, vitals, queue board."""
        kind = self.step % 6
        if kind == 0:
            self.page(f"/patients/?q={self.rng.choice(self.me['words'])}", "search (page)")
        elif kind == 1:
            self.page(f"/care/patients/{self.patient()}/chart/", "chart (page)")
        elif kind == 2:
            self.visit = self.check_in()
        elif kind == 3:
            self.call_in()
        elif kind == 4 and getattr(self, "visit", None):
            self.api("POST", f"/api/care/encounters/{self.visit}/observations", "vitals (API)",
                     json=self.rng.choice(VITALS))
        else:
            self.page("/care/queue/", "queue (page)")

    def gp(self):
        """A GP: queue board, a consented patient's visit, chart, a telemedicine request, its conversation."""
        kind = self.step % 5
        patient = self.patient()
        if kind == 0:
            self.page("/care/queue/", "queue (page)")
        elif kind == 1:
            self.visit = self.check_in()
        elif kind == 2:
            self.page(f"/care/patients/{getattr(self, 'visit_patient', patient)}/chart/", "chart (page)")
        elif kind == 3 and getattr(self, "visit", None):
            act = self.api("POST", "/api/telemed/service-requests", "telemed request (API)",
                           json={"encounter": self.visit, "kind": "teleexpertise", "specialty": SPECIALTY,
                                 "priority": self.rng.choice(["routine", "routine", "priority"]),
                                 "question": "Souffle systolique, ECG joint : avis ?"})
            if act:
                self.acts.append(act["id"])
        elif self.acts:
            self.api("POST", f"/api/telemed/service-requests/{self.rng.choice(self.acts[-5:])}/communications",
                     "message (API)", data={"text": "Tension 150/95 ce matin, patient à jeun."})

    def specialist(self):
        """A hub's specialist: worklist page and rows, an act's page, a message in its conversation."""
        kind = self.step % 4
        if kind == 0:
            self.page("/telemed/worklist/", "worklist (page)")
        elif kind == 1:
            rows = self.api("GET", "/api/telemed/worklist", "worklist (API)",
                            params={"hub": self.me["hub"], "specialty": SPECIALTY, "limit": 50})
            self.acts = [row["id"] for row in rows or []]
        elif kind == 2 and self.acts:
            self.page(f"/telemed/acts/{self.rng.choice(self.acts)}/", "act (page)")
        elif self.acts:
            self.api("POST", f"/api/telemed/service-requests/{self.rng.choice(self.acts)}/communications",
                     "message (API)", data={"text": "Merci. Faire une échographie cardiaque."})


def percentile(ordered, fraction):
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))] if ordered else float("nan")


def summarise(seconds: float) -> dict:
    """Per request type and overall: count, errors, p50/p95/p99; and the throughput; then clear the samples."""
    by_name: dict[str, list] = {}
    for name, ms, ok in SAMPLES:
        by_name.setdefault(name, []).append((ms, ok))
    rows = {}
    for name, values in sorted(by_name.items()) + [("overall", [(ms, ok) for _n, ms, ok in SAMPLES])]:
        ordered = sorted(ms for ms, _ok in values)
        rows[name] = {"n": len(values), "errors": sum(not ok for _ms, ok in values),
                      "p50": percentile(ordered, .5), "p95": percentile(ordered, .95), "p99": percentile(ordered, .99)}
    SAMPLES.clear()
    return {"rows": rows, "throughput": rows["overall"]["n"] / seconds}


def print_table(summary: dict) -> None:
    print(f"  {'request':24} {'n':>6} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, row in summary["rows"].items():
        print(f"  {name:24} {row['n']:>6} {row['errors']:>6} {row['p50']:8.1f} {row['p95']:8.1f} {row['p99']:8.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--users-file", required=True)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--step", type=float, default=20)
    parser.add_argument("--max-rate", type=float, default=400)
    parser.add_argument("--target-ms", type=float, default=300)
    parser.add_argument("--settle", type=float, default=10,
                        help="Seconds between the last login and the measured day (logins are measured apart).")
    args = parser.parse_args()
    with open(args.users_file, encoding="utf-8") as source:
        USERS.extend(json.load(source)["users"])
    count = len(USERS)
    env = Environment(user_classes=[Clinician], host=args.host, events=events)
    runner = env.create_local_runner()
    started = time.monotonic()
    PLAN["pause"] = DAY_PAUSE_S
    runner.start(count, spawn_rate=20)
    while READY["users"] < count:
        gevent.sleep(0.5)
    logins = summarise(time.monotonic() - started)
    print(f"\n{count} users spawned and logged in in {time.monotonic() - started:.0f} s; "
          f"login p99 {logins['rows'].get('login', {}).get('p99', float('nan')):.0f} ms "
          f"(argon2 by design), errors {logins['rows']['overall']['errors']}")
    status = 0
    # 200 argon2 checks at once leave a backlog; the day is measured once it has drained.
    gevent.sleep(args.settle)
    SAMPLES.clear()
    gevent.sleep(args.duration)
    day = summarise(args.duration)
    overall = day["rows"]["overall"]
    print(f"\nThe day: {count} users, mean pause {DAY_PAUSE_S:.0f} s, {args.duration:.0f} s measured, "
          f"{day['throughput']:.1f} req/s")
    print_table(day)
    met = overall["p99"] < args.target_ms and overall["errors"] == 0
    print(f"  target p99 < {args.target_ms:.0f} ms and no error: {'met' if met else 'MISSED'}")
    status |= not met
    print(f"\nRamp: the same users, shorter pauses, {args.step:.0f} s per step")
    print(f"  {'asked req/s':>11} {'served req/s':>12} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    rate, crossed = max(day["throughput"] * 1.5, 10), None
    while rate <= args.max_rate:
        PLAN["pause"] = count / rate
        gevent.sleep(min(PLAN["pause"], 5) + 2)  # users waiting out the old pause pick up the new one
        SAMPLES.clear()
        gevent.sleep(args.step)
        step = summarise(args.step)
        row = step["rows"]["overall"]
        print(f"  {rate:11.0f} {step['throughput']:12.1f} {row['p50']:8.1f} {row['p99']:8.1f} {row['errors']:>6}",
              flush=True)
        if row["p99"] > 1000 or row["errors"]:
            crossed = step["throughput"]
            break
        rate *= 1.5
    runner.quit()
    if crossed is None:
        print(f"  p99 stayed under 1 s up to {args.max_rate:.0f} req/s asked")
    else:
        print(f"  p99 crosses 1 s (or errors appear) at about {crossed:.1f} req/s served")
    if FAILURES:
        print("\nFailures (first words, count):")
        for text, n in sorted(FAILURES.items(), key=lambda item: -item[1])[:15]:
            print(f"  {n:5}  {text}")
    return status


if __name__ == "__main__":
    sys.exit(main())
