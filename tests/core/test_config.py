import subprocess
import sys

import pytest

from caravane.config import DEFAULT_SECRET_KEY, Config, ConfigurationError


def test_development_defaults_to_embedded_sqlite():
    config = Config.from_environ({})
    assert config.database_url is None
    assert config.sqlite_path.name == "caravane.sqlite3"
    assert config.problems == []


@pytest.mark.parametrize(
    "environ, fragment",
    [
        ({"CARAVANE_ENV": "production", "CARAVANE_ALLOWED_HOSTS": "caravane.sante.ma"}, "CARAVANE_SECRET_KEY"),
        ({"CARAVANE_ENV": "production", "CARAVANE_SECRET_KEY": "x" * 50, "CARAVANE_DEBUG": "1",
          "CARAVANE_ALLOWED_HOSTS": "caravane.sante.ma"}, "CARAVANE_DEBUG"),
        ({"CARAVANE_ENV": "production", "CARAVANE_SECRET_KEY": "x" * 50}, "CARAVANE_ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_unsafe_settings(environ, fragment):
    config = Config.from_environ(environ)
    with pytest.raises(ConfigurationError) as error:
        config.check()
    assert fragment in str(error.value)


def test_production_with_safe_settings_starts():
    Config.from_environ({"CARAVANE_ENV": "production", "CARAVANE_SECRET_KEY": "k" * 50,
                         "CARAVANE_ALLOWED_HOSTS": "caravane.sante.ma"}).check()


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
