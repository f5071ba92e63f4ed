"""The one place where Caravane reads its environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SECRET_KEY = "caravane-insecure-default-key-change-me"
ENVIRONMENTS = ("development", "production", "test")
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024


class ConfigurationError(RuntimeError):
    """Raised when the environment describes a deployment that must not start."""


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


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
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    problems: list[str] = field(default_factory=list)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

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
        default_data = Path(env.get("CARAVANE_DATA_DIR") or Path.cwd() / "var")
        config = cls(
            environment=environment,
            secret_key=secret_key,
            debug=debug,
            allowed_hosts=allowed_hosts,
            csrf_trusted_origins=_list(env.get("CARAVANE_CSRF_TRUSTED_ORIGINS")),
            data_dir=default_data,
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            mqtt_url=env.get("MQTT_URL") or None,
            session_idle_seconds=int(env.get("CARAVANE_SESSION_IDLE_SECONDS") or 30 * 60),
            login_failure_limit=int(env.get("CARAVANE_LOGIN_FAILURE_LIMIT") or 5),
            login_lockout_seconds=int(env.get("CARAVANE_LOGIN_LOCKOUT_SECONDS") or 15 * 60),
            max_request_bytes=int(env.get("CARAVANE_MAX_REQUEST_BYTES") or DEFAULT_MAX_REQUEST_BYTES),
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
        if not self.is_production:
            return problems
        if self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32:
            problems.append(
                "CARAVANE_SECRET_KEY is unset, the default, or shorter than 32 characters; "
                "set a long random secret."
            )
        if self.debug:
            problems.append("CARAVANE_DEBUG is on; production must run with debug off.")
        if not self.allowed_hosts:
            problems.append("CARAVANE_ALLOWED_HOSTS is empty; list the host names this server answers to.")
        return problems

    def check(self) -> None:
        """Refuse to start when the configuration is unsafe, saying why."""
        if self.problems:
            raise ConfigurationError(
                "Caravane refuses to start in %s mode:\n- %s"
                % (self.environment, "\n- ".join(self.problems))
            )
