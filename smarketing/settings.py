"""Settings, read from the environment (or a `.env` file) with embedded-mode defaults.

Nothing set: SQLite under `var/`, Celery tasks run eagerly in-process, mail goes to
files under `var/mail/`. `DATABASE_URL` / `REDIS_URL` / `EMAIL_URL` switch to services.
"""

import os
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import dj_database_url
from celery.schedules import crontab
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SMARKETING_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

load_dotenv(BASE_DIR / ".env")


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-insecure-smarketing-key-change-me-in-production")
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "smarketing.funnel",
    "smarketing.kpis",
    "smarketing.dashboards",
    "smarketing.digests",
    "smarketing.alerts",
    "smarketing.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "smarketing.urls"
WSGI_APPLICATION = "smarketing.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "smarketing.alerts.context.watched",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'smarketing.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the dev server read while an import writes; the timeout rides out short locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery ---------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
SERVICES_MODE = bool(REDIS_URL)

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not SERVICES_MODE
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "kpis-nightly-recheck": {
        "task": "smarketing.kpis.tasks.facts_recheck_recent",
        "schedule": crontab(hour=2, minute=15),
    },
    "dashboards-warm-pages": {
        "task": "smarketing.dashboards.tasks.dashboards_warm_pages",
        "schedule": crontab(minute="*/2"),
    },
    "digests-send-due": {
        "task": "smarketing.digests.tasks.digests_send_due",
        "schedule": crontab(minute="*/5"),
    },
    # Alerts are evaluated after each recompute; this only works off their outbox (retries,
    # and deliveries a dead worker left behind).
    "alerts-deliver-due": {
        "task": "smarketing.alerts.tasks.alerts_deliver",
        "schedule": crontab(minute="*"),
    },
}

# --- Email --------------------------------------------------------------------------------
EMAIL_URL = os.environ.get("EMAIL_URL", "")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "smarketing <digest@smarketing.local>")
if EMAIL_URL:
    _email = urlparse(EMAIL_URL)
    _email_query = parse_qs(_email.query)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email.hostname or "localhost"
    EMAIL_PORT = _email.port or (465 if _email.scheme == "smtps" else 25)
    EMAIL_HOST_USER = unquote(_email.username or "")
    EMAIL_HOST_PASSWORD = unquote(_email.password or "")
    EMAIL_USE_SSL = _email.scheme == "smtps"
    EMAIL_USE_TLS = _email_query.get("tls", ["false"])[0].lower() in {"1", "true", "yes"}
    EMAIL_TIMEOUT = 30
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"

# --- Business settings -------------------------------------------------------------------
SMARKETING_TIMEZONE = os.environ.get("SMARKETING_TIMEZONE", "UTC")
FISCAL_YEAR_START_MONTH = int(os.environ.get("FISCAL_YEAR_START_MONTH", "1"))
CURRENCY = os.environ.get("CURRENCY", "USD")
GROSS_MARGIN = Decimal(os.environ.get("GROSS_MARGIN", "1.0"))
SLA_LEADS_PER_REP_PER_MONTH = int(os.environ.get("SLA_LEADS_PER_REP_PER_MONTH", "100"))
SLA_WORKED_TARGET_PCT = float(os.environ.get("SLA_WORKED_TARGET_PCT", "90"))
SLA_MIN_ATTEMPTS = int(os.environ.get("SLA_MIN_ATTEMPTS", "5"))
# The public address used in digest links.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- i18n / time ------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = SMARKETING_TIMEZONE
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
FILE_UPLOAD_TEMP_DIR = None
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024

# --- Auth ---------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
DATA_MANAGER_GROUP = "data managers"
DATA_MANAGER_PERMISSION = "funnel.manage_data"

# --- REST framework -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_THROTTLE_RATES": {"writes": os.environ.get("API_WRITE_THROTTLE", "120/minute")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "smarketing API",
    "DESCRIPTION": "Funnel records and KPIs of the shared sales and marketing dashboard.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc from static files (drf-spectacular-sidecar): no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per contract enumeration, shared by every resource that uses it.
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "smarketing.funnel.models.Channel",
        "WebSourceEnum": "smarketing.funnel.models.WebSource",
        "TeamEnum": "smarketing.funnel.models.Team",
        "SpendCategoryEnum": "smarketing.funnel.models.SpendCategory",
        "PlacementEnum": "smarketing.funnel.models.Placement",
        "NetworkEnum": "smarketing.funnel.models.Network",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"smarketing": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")}},
}

# kpis.Fact's covering unique constraint is PostgreSQL-only; migration kpis 0003 gives
# SQLite a plain unique index instead, so the check's warning is expected there.
SILENCED_SYSTEM_CHECKS = ["models.W039"]
