"""Settings, read from the environment (or a `.env` file) with embedded-mode defaults.

Nothing set: SQLite under `var/`, Celery tasks run eagerly in-process, mail goes to
files under `var/mail/`. `DATABASE_URL` / `REDIS_URL` / `EMAIL_URL` switch to services.
"""

import os
from decimal import Decimal
from email.utils import getaddresses
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import dj_database_url
from celery.schedules import crontab
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
# First: every setting below, SMARKETING_VAR_DIR too, may come from `.env`.
load_dotenv(BASE_DIR / ".env")

VAR_DIR = Path(os.environ.get("SMARKETING_VAR_DIR") or BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)


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
# People told about server errors by mail: "Name <a@example.com>, b@example.com".
ADMINS = [(name or address, address) for name, address in getaddresses(env_list("ADMINS", "")) if address]
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", os.environ.get("DEFAULT_FROM_EMAIL", "smarketing <digest@smarketing.local>"))

# --- HTTPS and headers (README, Production checklist) -------------------------------------
# Off by default so the embedded mode serves plain http://127.0.0.1; docker-compose.yml and
# the production checklist switch them on. Behind a TLS-terminating proxy, tell Django
# which header carries the original scheme, e.g. "HTTP_X_FORWARDED_PROTO,https".
_proxy_ssl_header = env_list("SECURE_PROXY_SSL_HEADER", "")
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) if len(_proxy_ssl_header) == 2 else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# The health probe comes from the orchestrator over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = os.environ.get("SESSION_COOKIE_SAMESITE", "Lax")
CSRF_COOKIE_SAMESITE = os.environ.get("CSRF_COOKIE_SAMESITE", "Lax")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts only from our own static files (no inline code, no eval); Plotly and Swagger UI
# set inline styles, which style-src allows.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        # blob: Plotly's PNG download draws the chart's SVG through a blob URL image.
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

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
    "smarketing.accounts",
    "smarketing.funnel",
    "smarketing.kpis",
    "smarketing.dashboards",
    "smarketing.digests",
    "smarketing.alerts",
    "smarketing.api",
    "smarketing.ops",
    "axes",
]

MIDDLEWARE = [
    # First: it times everything below it, including the other middleware.
    "smarketing.ops.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages compressed (WhiteNoise answers static files above, already compressed); Django's
    # middleware pads each compressed body against BREACH.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: the user's own language setting comes before Accept-Language.
    "smarketing.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Closest to the view, so they see its queries and its exceptions first.
    "smarketing.middleware.ServiceErrorMiddleware",
    "smarketing.middleware.StatementTimeoutMiddleware",
    # Last: it turns a locked-out sign-in (flagged by the backend) into the lockout page.
    "axes.middleware.AxesMiddleware",
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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "smarketing.alerts.context.watched",
                "smarketing.accounts.context.language_switch",
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
# Seconds any one SQL statement of a web request may run (PostgreSQL; 0 = no limit). Celery
# workers and management commands have none: a recompute or an import may take minutes.
WEB_STATEMENT_TIMEOUT = float(os.environ.get("WEB_STATEMENT_TIMEOUT", "5"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery ---------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
SERVICES_MODE = bool(REDIS_URL)

if REDIS_URL:
    # Redis down means cache misses, not errors (smarketing.cache).
    CACHES = {"default": {"BACKEND": "smarketing.cache.ResilientRedisCache", "LOCATION": REDIS_URL}}
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
# A task a worker took but never acknowledged (killed mid-run) goes back to the queue after
# this many seconds. It must be longer than the longest task (a full recompute or an import
# of millions of rows takes minutes, not hours), or a running task would be handed to a
# second worker; the sweep below, not this timeout, is what makes a lost recompute short.
CELERY_VISIBILITY_TIMEOUT = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", str(3 * 3600)))
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT, "socket_connect_timeout": 2}
# Sending a task with Redis down must fail within about a second (the write that sends it has
# committed, and its recompute waits for the sweep), not after the backend's 20 retries.
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
# The sweep: every SWEEP_INTERVAL seconds, dirty days and upload jobs left waiting more than
# SWEEP_AFTER seconds (their task lost with a killed worker, or never sent while Redis was
# down) are recomputed / sent again.
SWEEP_INTERVAL = float(os.environ.get("SWEEP_INTERVAL", "60"))
SWEEP_AFTER = float(os.environ.get("SWEEP_AFTER", "120"))
# Exactly one beat sends the schedule, even with two beat processes: a lock in Redis.
CELERY_BEAT_SCHEDULER = "smarketing.beat:SingleBeatScheduler"
CELERY_BEAT_MAX_LOOP_INTERVAL = min(15.0, SWEEP_INTERVAL)
CELERY_BEAT_SCHEDULE = {
    "kpis-sweep-dirty": {
        "task": "smarketing.kpis.tasks.facts_sweep_dirty",
        "schedule": SWEEP_INTERVAL,
        # A sweep that waited longer than its interval (no worker) is replaced by the next one.
        "options": {"expires": SWEEP_INTERVAL},
    },
    "funnel-sweep-import-jobs": {
        "task": "smarketing.funnel.tasks.import_jobs_sweep",
        "schedule": SWEEP_INTERVAL,
        "options": {"expires": SWEEP_INTERVAL},
    },
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
    "ops-worker-heartbeat": {"task": "smarketing.ops.tasks.worker_heartbeat", "schedule": 60.0},
    "funnel-upload-files-expire": {
        "task": "smarketing.funnel.tasks.upload_files_expire",
        "schedule": crontab(minute=40),
    },
    # Does nothing unless IMPORT_WATCH_DIR is set.
    "funnel-import-folder": {
        "task": "smarketing.funnel.tasks.import_folder_poll",
        "schedule": crontab(minute="*"),
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
# Sales SLA frequency: a delivered lead's first attempt within this many hours is on time.
SLA_FIRST_ATTEMPT_HOURS = float(os.environ.get("SLA_FIRST_ATTEMPT_HOURS", "24"))
# Marketing SLA from quota: a rep's leads_delivered target is leads_needed when they have a revenue target.
SLA_LEADS_FROM_QUOTA = os.environ.get("SLA_LEADS_FROM_QUOTA", "false").strip().lower() in {"1", "true", "yes"}
# The public address used in digest links.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- i18n / time ------------------------------------------------------------------------
# Two languages: English, and Simplified Chinese for teams that read the method in Chinese.
# A signed-in user's own setting wins; otherwise the browser's Accept-Language decides
# (smarketing.accounts.middleware).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = SMARKETING_TIMEZONE
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Served by WhiteNoise in every mode. Outside DEBUG (`make run`, gunicorn, Docker) the names
# carry a content hash from `collectstatic`'s manifest, so a file is cached for good
# (Cache-Control: immutable), and a Brotli and a gzip copy of each is stored beside it (the
# `brotli` package makes the first). Under DEBUG (`make dev`) the files are served as edited.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
# A folder (local or a mounted share) whose <resource>[__<mapping>].csv files are imported each minute.
IMPORT_WATCH_DIR = os.environ.get("IMPORT_WATCH_DIR", "")
FILE_UPLOAD_TEMP_DIR = None
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
# Upload page limits, checked before any work starts: the file's size, and for a zip its
# expansion (total unpacked size, and unpacked / packed ratio per member) and any CSV line.
UPLOAD_MAX_MB = int(os.environ.get("UPLOAD_MAX_MB", "200"))
UPLOAD_ZIP_MAX_TOTAL_MB = int(os.environ.get("UPLOAD_ZIP_MAX_TOTAL_MB", "2000"))
UPLOAD_ZIP_MAX_RATIO = int(os.environ.get("UPLOAD_ZIP_MAX_RATIO", "100"))
UPLOAD_MAX_LINE_KB = int(os.environ.get("UPLOAD_MAX_LINE_KB", "1024"))
# Uploaded files of finished, failed and abandoned jobs are deleted after this many days.
UPLOAD_RETENTION_DAYS = float(os.environ.get("UPLOAD_RETENTION_DAYS", "7"))

# --- Auth ---------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Sign-in throttling (django-axes): after LOGIN_FAILURE_LIMIT failed attempts for one
# account, or from one address, sign-in is refused for LOGIN_LOCKOUT_MINUTES (site and admin).
AUTHENTICATION_BACKENDS = [
    "smarketing.ops.auth.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")) / 60
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "smarketing.ops.auth.lockout_response"
AXES_VERBOSE = False
# How many proxies append to X-Forwarded-For in front of the app: the client address is the
# entry the outermost one appended (0: the connection's own address; a client can forge the rest).
PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "smarketing.ops.auth.client_address"
# Password-reset mails per address and per client address in PASSWORD_RESET_RATE_WINDOW.
PASSWORD_RESET_RATE = int(os.environ.get("PASSWORD_RESET_RATE", "3"))
PASSWORD_RESET_RATE_WINDOW = 3600
DATA_MANAGER_GROUP = "data managers"
DATA_MANAGER_PERMISSION = "funnel.manage_data"

# --- REST framework -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        # A token's user is known only inside the view: it switches to that user's language.
        "smarketing.api.authentication.LanguageTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_THROTTLE_RATES": {"writes": os.environ.get("API_WRITE_THROTTLE", "120/minute")},
    "DEFAULT_PARSER_CLASSES": [
        "smarketing.api.errors.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # One error shape for every API answer: {"errors": [{"row"?, "field"?, "message"}]}.
    "EXCEPTION_HANDLER": "smarketing.api.errors.errors_handler",
}
# Nesting deeper than this in an API request body is refused (rows are two levels deep).
API_JSON_MAX_DEPTH = 32
# Per user: KPI answers no cache holds (custom windows, breakdowns, filters, a pinned as_of),
# on the API and the dashboards; more within the period answer 429 with Retry-After.
KPI_HEAVY_QUERY_RATE = os.environ.get("KPI_HEAVY_QUERY_RATE", "30/minute")
SPECTACULAR_SETTINGS = {
    "TITLE": "smarketing API",
    "DESCRIPTION": "Funnel records and KPIs of the shared sales and marketing dashboard.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs are for signed-in users, like everything else.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Every operation documents the error answers the exception handler gives.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "smarketing.api.errors.document_errors",
    ],
    # Swagger UI and ReDoc from static files (drf-spectacular-sidecar): no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per contract enumeration, shared by every resource that uses it. A spend
    # category is one of the same two values as a team (marketing, sales): one choice set
    # gets one enum (TeamEnum), two names for it are an error (`check --deploy`).
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "smarketing.funnel.models.Channel",
        "WebSourceEnum": "smarketing.funnel.models.WebSource",
        "TeamEnum": "smarketing.funnel.models.Team",
        "PlacementEnum": "smarketing.funnel.models.Placement",
        "NetworkEnum": "smarketing.funnel.models.Network",
    },
}

# Errors with their tracebacks go to the console (also with DEBUG=false, where Django's
# default logs nothing) and, when ADMINS is set, by mail. LOG_FORMAT=json: one JSON object
# per line, for log collectors.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json" if LOG_FORMAT == "json" else "text"},
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false"],
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "django": {"handlers": ["console", "mail_admins"], "level": "INFO", "propagate": False},
        # runserver's access log has its own format; keep it off the error path.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "smarketing": {"handlers": ["console", "mail_admins"], "level": os.environ.get("LOG_LEVEL", "INFO"),
                       "propagate": False},
        "celery": {"handlers": ["console", "mail_admins"], "level": "INFO", "propagate": False},
    },
}

# Optional error tracking: `pip install 'smarketing[sentry]'` and set SENTRY_DSN.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    try:
        import sentry_sdk
    except ImportError as exc:  # a setting that silently does nothing would hide every error
        raise ImportError("SENTRY_DSN is set but sentry-sdk is not installed: pip install 'smarketing[sentry]'") from exc
    sentry_sdk.init(dsn=SENTRY_DSN, environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
                    send_default_pii=False)

# --- Health and metrics (README, Operations) ----------------------------------------------
# /readyz fails when the last finished recompute is older than this many hours (0: not checked;
# with beat running, the nightly recheck refreshes it daily, so 26 suits services mode).
READYZ_FACTS_MAX_AGE_HOURS = float(os.environ.get("READYZ_FACTS_MAX_AGE_HOURS", "0"))
# /readyz fails when no worker heartbeat (a beat task, every minute) is newer than this
# many seconds (0: not checked).
READYZ_WORKER_MAX_AGE_SECONDS = int(os.environ.get("READYZ_WORKER_MAX_AGE_SECONDS", "0"))
# /metrics answers a request bearing this token ("Authorization: Bearer …") or coming from
# one of these addresses / networks; anyone else gets 403.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", "127.0.0.1,::1")

# kpis.Fact's covering unique constraint is PostgreSQL-only; migration kpis 0003 gives
# SQLite a plain unique index instead, so the check's warning is expected there.
SILENCED_SYSTEM_CHECKS = ["models.W039"]
