import secrets
import subprocess
import sys

import pytest
from django.core.management.utils import get_random_secret_key

from caravane.config import DEFAULT_SECRET_KEY, Config, ConfigurationError

STRONG_KEY = "q8Vd-2LmZr_x7TbNc4WkYs9HjPf3EaGu0R1oIv6K"
PRODUCTION = {"CARAVANE_ENV": "production", "CARAVANE_SECRET_KEY": STRONG_KEY,
              "CARAVANE_ALLOWED_HOSTS": "caravane.sante.ma"}


def test_development_defaults_to_embedded_sqlite():
    config = Config.from_environ({})
    assert config.database_url is None
    assert config.sqlite_path.name == "caravane.sqlite3"
    assert config.problems == []


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"CARAVANE_SECRET_KEY": ""}, "CARAVANE_SECRET_KEY is unset or the default"),
        ({"CARAVANE_SECRET_KEY": "x" * 31 + "y"}, "CARAVANE_SECRET_KEY carries about"),
        ({"CARAVANE_DEBUG": "1"}, "CARAVANE_DEBUG"),
        ({"CARAVANE_ALLOWED_HOSTS": ""}, "CARAVANE_ALLOWED_HOSTS is empty"),
        ({"CARAVANE_ALLOWED_HOSTS": "caravane.sante.ma, *"}, "CARAVANE_ALLOWED_HOSTS contains '*'"),
        ({"CARAVANE_HSTS_PRELOAD": "1"}, "CARAVANE_HSTS_PRELOAD is on without CARAVANE_HSTS_INCLUDE_SUBDOMAINS"),
    ],
)
def test_production_refuses_unsafe_settings(changes, fragment):
    config = Config.from_environ({**PRODUCTION, **changes})
    with pytest.raises(ConfigurationError) as error:
        config.check()
    assert fragment in str(error.value)
    assert len(config.problems) == 1, config.problems


@pytest.mark.parametrize("key, reason", [
    ("x" * 32, "carries about 0 bits of entropy, under 80"),
    ("ab" * 16, "carries about 32 bits of entropy"),
    ("k" * 50, "carries about 0 bits"),
    ("changeme" * 5, "repeats a shorter block"),
    ("0123456789abcdef" * 2, "repeats a shorter block"),
    ("abcdefghijklmnopqrstuvwxyz012345", "is mostly a run of consecutive characters"),
    ("Zr4-short", "is shorter than 32 characters"),
])
def test_production_refuses_a_guessable_secret_key(key, reason):
    problems = Config.from_environ({**PRODUCTION, "CARAVANE_SECRET_KEY": key}).problems
    assert len(problems) == 1 and problems[0].startswith(f"CARAVANE_SECRET_KEY {reason}"), problems


@pytest.mark.parametrize("generate", [lambda: secrets.token_hex(16), lambda: secrets.token_urlsafe(32),
                                      get_random_secret_key], ids=["hex-32", "urlsafe-43", "django-50"])
def test_production_accepts_keys_from_the_usual_generators(generate):
    for _ in range(200):
        key = generate()
        assert Config.from_environ({**PRODUCTION, "CARAVANE_SECRET_KEY": key}).problems == [], key


def test_production_with_safe_settings_starts():
    config = Config.from_environ(PRODUCTION)
    config.check()
    assert (config.hsts_include_subdomains, config.hsts_preload) == (False, False)


def test_hsts_covers_subdomains_and_preload_when_the_deployment_says_so():
    config = Config.from_environ({**PRODUCTION, "CARAVANE_HSTS_INCLUDE_SUBDOMAINS": "1",
                                  "CARAVANE_HSTS_PRELOAD": "yes"})
    config.check()
    assert (config.hsts_include_subdomains, config.hsts_preload) == (True, True)


def test_development_accepts_a_weak_key_and_any_host():
    config = Config.from_environ({"CARAVANE_SECRET_KEY": "x" * 32, "CARAVANE_ALLOWED_HOSTS": "*"})
    assert config.problems == []


def test_caravane_command_refuses_default_secret_in_production(tmp_path):
    env = {"CARAVANE_ENV": "production", "CARAVANE_SECRET_KEY": DEFAULT_SECRET_KEY,
           "CARAVANE_ALLOWED_HOSTS": "example.org", "CARAVANE_DATA_DIR": str(tmp_path), "PATH": ""}
    result = subprocess.run([sys.executable, "-m", "caravane.cli", "check"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert "refuses to start in production mode" in result.stderr
    assert "CARAVANE_SECRET_KEY" in result.stderr


def test_request_size_limit_defaults_to_64_mib_and_must_be_positive():
    assert Config.from_environ({}).max_request_bytes == 64 * 1024 * 1024
    assert Config.from_environ({"CARAVANE_MAX_REQUEST_BYTES": "1048576"}).max_request_bytes == 1024 * 1024
    with pytest.raises(ConfigurationError, match="CARAVANE_MAX_REQUEST_BYTES"):
        Config.from_environ({"CARAVANE_MAX_REQUEST_BYTES": "0"}).check()


def test_serving_defaults_follow_redis_and_the_threads():
    embedded = Config.from_environ({})
    assert embedded.web_workers == 1 and embedded.bind_address == ("127.0.0.1", 8000)
    assert embedded.db_pool_max == embedded.web_threads + 2 and not embedded.access_log
    with_redis = Config.from_environ({"REDIS_URL": "redis://127.0.0.1:6379/0", "CARAVANE_WEB_THREADS": "4",
                                      "CARAVANE_BIND": "[::1]:9000"})
    assert 1 <= with_redis.web_workers <= 4 and with_redis.db_pool_max == 6
    assert with_redis.bind_address == ("::1", 9000)


@pytest.mark.parametrize("changes, fragment", [
    ({"CARAVANE_WEB_WORKERS": "0"}, "CARAVANE_WEB_WORKERS must be at least 1"),
    ({"CARAVANE_DB_POOL_MIN": "5", "CARAVANE_DB_POOL_MAX": "3"}, "CARAVANE_DB_POOL_MIN must be between"),
    ({"CARAVANE_BIND": "localhost"}, "CARAVANE_BIND='localhost' is not HOST:PORT"),
    ({"CARAVANE_TASK_WORKERS": "-1"}, "CARAVANE_TASK_WORKERS must be 0 or more"),
])
def test_serving_settings_out_of_range_are_refused(changes, fragment):
    problems = Config.from_environ(changes).problems
    assert len(problems) == 1 and problems[0].startswith(fragment), problems
