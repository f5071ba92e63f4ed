"""The one place where Caravane reads its environment."""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SECRET_KEY = "caravane-insecure-default-key-change-me"
ENVIRONMENTS = ("development", "production", "test")
# A production secret key: at least this long, and carrying at least this many bits by the frequency of its
# characters (32 random hex digits carry about 115, and stayed over 90 in 100,000 draws; 32 identical
# characters carry none).
SECRET_KEY_MIN_LENGTH = 32
SECRET_KEY_MIN_BITS = 80
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024
DEFAULT_BIND = "127.0.0.1:8000"
# Web processes by default when Redis carries events between them: one per core, at most four, so that the
# default pool sizes stay well inside PostgreSQL's stock 100 connections.
MAX_DEFAULT_WEB_WORKERS = 4
DEFAULT_WEB_THREADS = 8


class ConfigurationError(RuntimeError):
    """Raised when the environment describes a deployment that must not start."""


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def secret_key_weakness(key: str) -> str | None:
    """Why ``key`` is too guessable for production, or None.

    The rule: at least SECRET_KEY_MIN_LENGTH characters; at least SECRET_KEY_MIN_BITS of Shannon entropy,
    estimated as the key's length times the entropy of its character frequencies (32 identical characters
    carry none); not a shorter block repeated (``changeme`` x 4); not mostly one step between neighbouring
    characters (``abcdefgh…``).
    """
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"is shorter than {SECRET_KEY_MIN_LENGTH} characters"
    bits = sum(count * math.log2(len(key) / count) for count in Counter(key).values())
    if bits < SECRET_KEY_MIN_BITS:
        return f"carries about {bits:.0f} bits of entropy, under {SECRET_KEY_MIN_BITS}"
    if (key + key).find(key, 1) < len(key):
        return "repeats a shorter block"
    steps = Counter(ord(right) - ord(left) for left, right in zip(key, key[1:]))
    if steps.most_common(1)[0][1] * 2 > len(key) - 1:
        return "is mostly a run of consecutive characters"
    return None


@dataclass(frozen=True)
class Config:
    """Deployment settings, read once from the environment."""

    environment: str
    secret_key: str
    debug: bool
    allowed_hosts: list[str]
    csrf_trusted_origins: list[str]
    data_dir: Path
    database_url: str | None
    redis_url: str | None
    mqtt_url: str | None
    session_idle_seconds: int
    login_failure_limit: int
    login_lockout_seconds: int
    hsts_include_subdomains: bool = False
    hsts_preload: bool = False
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    planning_concurrency: int = 1
    telemed_expire_seconds: int = 60
    task_lease_seconds: int = 30
    task_stall_seconds: int = 300
    metrics_token: str | None = None
    metrics_dir: Path | None = None
    bind: str = DEFAULT_BIND
    web_workers: int = 1
    web_threads: int = DEFAULT_WEB_THREADS
    task_workers: int = 1
    access_log: bool = False
    debug_explicit: bool = False
    db_pool_min: int = 2
    db_pool_max: int = DEFAULT_WEB_THREADS + 2
    db_pool_timeout: float = 10.0
    db_pool_max_idle: float = 60.0
    # The call rooms' ICE servers: TURN credentials are derived per user from the secret (coturn's
    # use-auth-secret), valid for turn_ttl seconds; the secret itself never leaves the server.
    stun_urls: list[str] = field(default_factory=list)
    turn_urls: list[str] = field(default_factory=list)
    turn_secret: str | None = field(default=None, repr=False)
    turn_ttl: int = 3600
    # Recording of calls: off unless a deployment turns it on; each recording then needs the patient's consent.
    rooms_recording: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def bind_address(self) -> tuple[str, int]:
        """The host and port of CARAVANE_BIND (``[::1]:8000`` for IPv6)."""
        host, _, port = self.bind.rpartition(":")
        return host.strip("[]") or "127.0.0.1", int(port)

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "caravane.sqlite3"

    @classmethod
    def from_environ(cls, environ: os._Environ | dict | None = None) -> "Config":
        """Build the configuration from environment variables (os.environ by default)."""
        env = os.environ if environ is None else environ
        environment = env.get("CARAVANE_ENV", "development").strip().lower() or "development"
        production = environment == "production"
        secret_key = env.get("CARAVANE_SECRET_KEY") or DEFAULT_SECRET_KEY
        debug = _flag(env.get("CARAVANE_DEBUG"), default=not production)
        allowed_hosts = _list(env.get("CARAVANE_ALLOWED_HOSTS"))
        if not allowed_hosts and not production:
            allowed_hosts = ["127.0.0.1", "localhost", "[::1]", "testserver"]
        redis_url = env.get("REDIS_URL") or None
        # Without Redis the channel layer lives in one process: a second web process would not see its events.
        default_workers = min(os.cpu_count() or 1, MAX_DEFAULT_WEB_WORKERS) if redis_url else 1
        web_threads = int(env.get("CARAVANE_WEB_THREADS") or DEFAULT_WEB_THREADS)
        default_data = Path(env.get("CARAVANE_DATA_DIR") or Path.cwd() / "var")
        config = cls(
            environment=environment,
            secret_key=secret_key,
            debug=debug,
            allowed_hosts=allowed_hosts,
            csrf_trusted_origins=_list(env.get("CARAVANE_CSRF_TRUSTED_ORIGINS")),
            data_dir=default_data,
            database_url=env.get("DATABASE_URL") or None,
            redis_url=redis_url,
            mqtt_url=env.get("MQTT_URL") or None,
            session_idle_seconds=int(env.get("CARAVANE_SESSION_IDLE_SECONDS") or 30 * 60),
            login_failure_limit=int(env.get("CARAVANE_LOGIN_FAILURE_LIMIT") or 5),
            login_lockout_seconds=int(env.get("CARAVANE_LOGIN_LOCKOUT_SECONDS") or 15 * 60),
            hsts_include_subdomains=_flag(env.get("CARAVANE_HSTS_INCLUDE_SUBDOMAINS"), default=False),
            hsts_preload=_flag(env.get("CARAVANE_HSTS_PRELOAD"), default=False),
            max_request_bytes=int(env.get("CARAVANE_MAX_REQUEST_BYTES") or DEFAULT_MAX_REQUEST_BYTES),
            planning_concurrency=int(env.get("CARAVANE_PLANNING_CONCURRENCY") or 1),
            telemed_expire_seconds=int(env.get("CARAVANE_TELEMED_EXPIRE_SECONDS") or 60),
            task_lease_seconds=int(env.get("CARAVANE_TASK_LEASE_SECONDS") or 30),
            task_stall_seconds=int(env.get("CARAVANE_TASK_STALL_SECONDS") or 300),
            metrics_token=env.get("CARAVANE_METRICS_TOKEN") or None,
            metrics_dir=Path(env.get("PROMETHEUS_MULTIPROC_DIR") or default_data / "metrics"),
            bind=(env.get("CARAVANE_BIND") or DEFAULT_BIND).strip(),
            web_workers=int(env.get("CARAVANE_WEB_WORKERS") or default_workers),
            web_threads=web_threads,
            task_workers=int(env.get("CARAVANE_TASK_WORKERS") or 1),
            access_log=_flag(env.get("CARAVANE_ACCESS_LOG"), default=False),
            debug_explicit=bool((env.get("CARAVANE_DEBUG") or "").strip()),
            # Each request thread holds one connection; two more serve WebSocket handshakes and background
            # threads, so a request never waits for a connection while its process is under its thread limit.
            db_pool_min=int(env.get("CARAVANE_DB_POOL_MIN") or 2),
            db_pool_max=int(env.get("CARAVANE_DB_POOL_MAX") or web_threads + 2),
            db_pool_timeout=float(env.get("CARAVANE_DB_POOL_TIMEOUT") or 10),
            db_pool_max_idle=float(env.get("CARAVANE_DB_POOL_MAX_IDLE") or 60),
            stun_urls=_list(env.get("CARAVANE_STUN_URLS")),
            turn_urls=_list(env.get("CARAVANE_TURN_URLS")),
            turn_secret=env.get("CARAVANE_TURN_SECRET") or None,
            turn_ttl=int(env.get("CARAVANE_TURN_TTL") or 3600),
            rooms_recording=_flag(env.get("CARAVANE_ROOMS_RECORDING"), default=False),
        )
        config.problems.extend(config.production_problems())
        return config

    def production_problems(self) -> list[str]:
        """Reasons why this configuration must not serve production traffic."""
        problems: list[str] = []
        if self.environment not in ENVIRONMENTS:
            problems.append(
                f"CARAVANE_ENV={self.environment!r} is unknown; use one of {', '.join(ENVIRONMENTS)}."
            )
        if self.max_request_bytes < 1:
            problems.append("CARAVANE_MAX_REQUEST_BYTES must be a positive number of bytes.")
        for name, value in (("CARAVANE_PLANNING_CONCURRENCY", self.planning_concurrency),
                            ("CARAVANE_TELEMED_EXPIRE_SECONDS", self.telemed_expire_seconds),
                            ("CARAVANE_TASK_LEASE_SECONDS", self.task_lease_seconds),
                            ("CARAVANE_TASK_STALL_SECONDS", self.task_stall_seconds)):
            if value < 1:
                problems.append(f"{name} must be a positive whole number.")
        if self.metrics_token is not None and len(self.metrics_token) < 16:
            problems.append("CARAVANE_METRICS_TOKEN is shorter than 16 characters; use a long random token.")
        for name, value in (("CARAVANE_WEB_WORKERS", self.web_workers), ("CARAVANE_WEB_THREADS", self.web_threads),
                            ("CARAVANE_DB_POOL_MAX", self.db_pool_max)):
            if value < 1:
                problems.append(f"{name} must be at least 1.")
        if self.turn_urls and not self.turn_secret:
            problems.append("CARAVANE_TURN_URLS is set without CARAVANE_TURN_SECRET, the secret shared with coturn "
                            "(static-auth-secret).")
        if not 60 <= self.turn_ttl <= 86400:
            problems.append("CARAVANE_TURN_TTL must be between 60 and 86400 seconds.")
        if self.task_workers < 0:
            problems.append("CARAVANE_TASK_WORKERS must be 0 or more.")
        if not 0 <= self.db_pool_min <= self.db_pool_max:
            problems.append("CARAVANE_DB_POOL_MIN must be between 0 and CARAVANE_DB_POOL_MAX.")
        if self.db_pool_timeout <= 0 or self.db_pool_max_idle <= 0:
            problems.append("CARAVANE_DB_POOL_TIMEOUT and CARAVANE_DB_POOL_MAX_IDLE must be positive numbers of "
                            "seconds.")
        try:
            port = self.bind_address[1]
        except ValueError:
            port = -1
        if not 0 < port < 65536:
            problems.append(f"CARAVANE_BIND={self.bind!r} is not HOST:PORT, e.g. 127.0.0.1:8000.")
        if not self.is_production:
            return problems
        if self.secret_key == DEFAULT_SECRET_KEY:
            weakness = "is unset or the default"
        else:
            weakness = secret_key_weakness(self.secret_key)
        if weakness:
            problems.append(
                f"CARAVANE_SECRET_KEY {weakness}; set a long random secret, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
            )
        if self.debug:
            problems.append("CARAVANE_DEBUG is on; production must run with debug off.")
        if not self.allowed_hosts:
            problems.append("CARAVANE_ALLOWED_HOSTS is empty; list the host names this server answers to.")
        elif "*" in self.allowed_hosts:
            problems.append(
                "CARAVANE_ALLOWED_HOSTS contains '*', which accepts any Host header; "
                "list the host names this server answers to."
            )
        if self.hsts_preload and not self.hsts_include_subdomains:
            problems.append(
                "CARAVANE_HSTS_PRELOAD is on without CARAVANE_HSTS_INCLUDE_SUBDOMAINS; "
                "browsers' preload lists require HSTS on every subdomain."
            )
        return problems

    def check(self) -> None:
        """Refuse to start when the configuration is unsafe, saying why."""
        if self.problems:
            raise ConfigurationError(
                "Caravane refuses to start in %s mode:\n- %s"
                % (self.environment, "\n- ".join(self.problems))
            )
