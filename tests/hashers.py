"""The password hasher of the test session (see ``_cheap_passwords`` in tests/conftest.py)."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class CheapArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id at its least time and memory: the deployment's cost (most of a second a hash on a 2-core machine)
    was the bulk of many tests' setup. Still Argon2, so that a server process running the deployment's settings
    checks these hashes (and upgrades one on login, as it would after a change of cost)."""

    time_cost = 1
    memory_cost = 8
    parallelism = 1
