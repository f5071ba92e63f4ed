"""The core readiness checks: the default database answers and has every migration applied; the cache and the
channel layer (Redis, when configured) answer."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections

# A probe waits this long for Redis, so that a readiness check answers even when Redis does not.
REDIS_TIMEOUT_SECONDS = 2
from django.db.migrations.executor import MigrationExecutor


def database_answers() -> str | None:
    """None when the default database answers a query, else why not."""
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return f"unreachable: {exc.__class__.__name__}"
    return None


def migrations_applied() -> str | None:
    """None when no migration is pending, else how many are."""
    if database_answers() is not None:
        return "unknown: database unreachable"
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return f"{len(pending)} pending" if pending else None


def cache_answers() -> str | None:
    """None when a value written to the cache reads back, else why not."""
    key, value = "caravane:readyz", uuid.uuid4().hex
    try:
        cache.set(key, value, timeout=10)
        answer = cache.get(key)
    except Exception as exc:
        return f"unreachable: {exc.__class__.__name__}"
    return None if answer == value else "a value written did not read back"


def channel_layer_answers() -> str | None:
    """None when every Redis host of the channel layer answers a ping (an in-memory layer always does)."""
    layer = settings.CHANNEL_LAYERS["default"]
    if not layer["BACKEND"].startswith("channels_redis."):
        return None
    import redis

    for host in layer["CONFIG"]["hosts"]:
        url = host if isinstance(host, str) else host.get("address")
        client = redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                                      socket_timeout=REDIS_TIMEOUT_SECONDS)
        try:
            client.ping()
        except redis.RedisError as exc:
            return f"unreachable: {exc.__class__.__name__}"
        finally:
            client.close()
    return None
