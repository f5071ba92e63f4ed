"""Django settings, derived from the one Config object read at start-up."""

import os
from pathlib import Path

import dj_database_url
import xstatic.pkg.leaflet as leaflet_package
from django.utils.translation import gettext_lazy as _

from caravane.config import Config

CONFIG = Config.from_environ()
CONFIG.check()

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = CONFIG.allowed_hosts
CSRF_TRUSTED_ORIGINS = CONFIG.csrf_trusted_origins

INSTALLED_APPS = [
    "daphne",
    "caravane.accounts.admin_apps.CaravaneAdminConfig",  # administrators-only admin site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "ninja",  # serves the API docs' Swagger UI from the package, not a CDN
    "django_tasks",
    "django_tasks_db",  # the task queue's table, in the app's own database (docs/background-work.md)
    "caravane.core",
    "caravane.geo",
    "caravane.accounts",
    "caravane.audit",
    "caravane.tasks",  # the worker, periodic jobs and dead-worker recovery, above core and audit only
    "caravane.network",
    "caravane.patients",
    "caravane.care",
    "caravane.telemed",
    "caravane.devices",  # connected devices and their readings, above care (readings become observations)
    "caravane.diagnostics",  # ECGs and examination images, above devices and telemed
    "caravane.pharmacy",  # essential medicines' stock and dispensing, above care
    "caravane.rooms",  # the live call of a synchronous act, above telemed
    "caravane.homes",  # each role's home, above the apps whose pages it gathers
    "caravane.planning",
    "caravane.fhir",  # the FHIR R4 rendering of every clinical app, above them all
    "caravane.backup",
    "caravane.demo",  # above every app: builds the demo through their actions
]

MIDDLEWARE = [
    # Outermost, so that a request's latency counts every other middleware.
    "caravane.core.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    *(["caravane.core.requestlog.AccessLogMiddleware"] if CONFIG.access_log else []),
    # Slow field links: pages, JSON and static files go out gzipped (with Django's BREACH padding).
    "django.middleware.gzip.GZipMiddleware",
    # Errors under /api/ are JSON whoever answers them (Django, ninja, DEBUG's traceback page).
    "caravane.core.api.ApiErrorsMiddleware",
    "caravane.core.middleware.SecurityHeadersMiddleware",
    "caravane.core.staticfiles.StaticFilesMiddleware",  # WhiteNoise, hashed files kept a year
    "django.contrib.sessions.middleware.SessionMiddleware",
    "caravane.accounts.middleware.SessionActivityMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before anything reads the body (CSRF's check reads a POST's form): too large a request gets its 413 here.
    "caravane.core.uploads.RequestSizeLimitMiddleware",
    "caravane.audit.middleware.AuditMiddleware",
    "caravane.accounts.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "caravane.urls"
# Refused form posts are security events in the audit trail.
CSRF_FAILURE_VIEW = "caravane.audit.views.csrf_failure"
ASGI_APPLICATION = "caravane.asgi.application"
WSGI_APPLICATION = "caravane.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "caravane.accounts.context_processors.current_staff",
                "caravane.homes.context_processors.home",
            ],
        },
    },
]

CONFIG.data_dir.mkdir(parents=True, exist_ok=True)
(CONFIG.data_dir / "static").mkdir(exist_ok=True)
# Metrics from every server process are written to files here and summed on scrape (prometheus_client's
# multiprocess mode, which reads this variable when it is first imported, so before any app loads).
CONFIG.metrics_dir.mkdir(parents=True, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(CONFIG.metrics_dir)
# Every SQLite database (the embedded default, or one named by a sqlite: DATABASE_URL, as a second process on a
# test database): WAL lets readers proceed while one writer commits, and transactions take the write lock when
# they begin, so a read-then-write one (an audit row reading the chain's head) waits its turn instead of failing.
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}
if CONFIG.database_url:
    DATABASES = {"default": dj_database_url.parse(CONFIG.database_url, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
    else:
        # A bounded pool per process: a request (or a WebSocket handshake, or a background thread) borrows a
        # connection and gives it back when it ends, so a process never holds more than CARAVANE_DB_POOL_MAX,
        # however many threads it runs (CONN_MAX_AGE stays 0, as the pool requires).
        DATABASES["default"]["OPTIONS"] = {**DATABASES["default"].get("OPTIONS", {}), "pool": {
            "min_size": CONFIG.db_pool_min, "max_size": CONFIG.db_pool_max, "timeout": CONFIG.db_pool_timeout,
            # A connection left idle for max_idle seconds beyond min_size is closed (one per period).
            "max_idle": CONFIG.db_pool_max_idle}}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": CONFIG.sqlite_path,
            "OPTIONS": SQLITE_OPTIONS,
            # One test database per process, so that concurrent test runs on one machine never share a file.
            "TEST": {"NAME": CONFIG.data_dir / f"test-caravane-{os.getpid()}.sqlite3"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if CONFIG.redis_url:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 reads with a 5 s socket timeout by default, as long as channels_redis's blocking receive
            # (BZPOPMIN, 5 s): an idle socket's consumer then died of a read timeout. Read longer than it blocks.
            "CONFIG": {"hosts": [{"address": CONFIG.redis_url, "socket_timeout": 15}]},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CONFIG.redis_url}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background work: a table in the same database, run by `caravane worker` (caravane.tasks).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["caravane.accounts.backends.RoleBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

SESSION_COOKIE_AGE = CONFIG.session_idle_seconds
# The session's age measures inactivity, not time since login: SessionActivityMiddleware pushes its expiry on
# (at most once a minute, so that a page view is not a database write).
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CONFIG.is_production
CSRF_COOKIE_SECURE = CONFIG.is_production
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if CONFIG.is_production:
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = CONFIG.hsts_include_subdomains
    SECURE_HSTS_PRELOAD = CONFIG.hsts_preload
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Orchestrator probes and the metrics scraper speak plain HTTP inside the cluster.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("ar", _("Arabic")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date format for Morocco in every language: day/month/year (caravane/formats).
FORMAT_MODULE_PATH = ["caravane.formats"]
TIME_ZONE = "Africa/Casablanca"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = CONFIG.data_dir / "static"
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/leaflet", leaflet_package.BASE_DIR)]  # offline maps: no CDN
WHITENOISE_USE_FINDERS = True  # serve straight from the package when collectstatic has not run
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": CONFIG.data_dir / "media"}},
    # Content-hashed names once collected (caravane.core.staticfiles): browsers keep each version a year.
    "staticfiles": {"BACKEND": "caravane.core.staticfiles.HashedStaticStorage"},
}

CARAVANE = CONFIG
CARAVANE_METRICS_TOKEN = CONFIG.metrics_token

# Uploads. A request larger than CARAVANE_MAX_REQUEST_BYTES is refused (413) before its body is read
# (caravane.core.uploads); files above FILE_UPLOAD_MAX_MEMORY_SIZE are written to temporary files on disk and
# checked there, in chunks, so a request's memory does not grow with its files.
CARAVANE_MAX_REQUEST_BYTES = CONFIG.max_request_bytes
FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
FILE_UPLOAD_TEMP_DIR = CONFIG.data_dir / "uploads"
FILE_UPLOAD_TEMP_DIR.mkdir(exist_ok=True)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # form fields and JSON bodies, files not counted (Django's default)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"bare": {"format": "%(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler"},
                 "access": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "bare"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"caravane": {"level": "INFO"},
                # One JSON line per request, when CARAVANE_ACCESS_LOG is on (caravane.core.requestlog).
                "caravane.access": {"handlers": ["access"], "level": "INFO", "propagate": False}},
}
