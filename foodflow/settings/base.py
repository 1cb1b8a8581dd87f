"""Settings shared by every environment.

Everything that differs between machines is read from the environment, with a default that
is safe for the embedded mode (one machine, SQLite in ``var/``, tasks in-process).
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from whitenoise.compress import Compressor

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("FOODFLOW_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "foodflow.core.staticfiles.FoodFlowStaticFilesConfig",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    # FoodFlow domains, in dependency order: a domain may use the ones above it only.
    "foodflow.core",
    "foodflow.accounts",
    "foodflow.catalog",
    "foodflow.inventory",
    "foodflow.crm",
    "foodflow.sales",
    "foodflow.contracts",
    "foodflow.service",
    "foodflow.analytics",
    "foodflow.imports",
    "foodflow.web",
    "foodflow.api",
]

MIDDLEWARE = [
    # first, so that every log line of the request, the other middleware's too, carries its id
    "foodflow.core.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # above whitenoise, so that static files (an SVG opened on its own) carry the policy too
    "foodflow.core.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "foodflow.core.security.SessionIdleTimeoutMiddleware",
    "foodflow.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "foodflow.urls"
WSGI_APPLICATION = "foodflow.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "foodflow.web.context_processors.shell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL picks the engine; the default is the embedded SQLite file in var/.
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'foodflow.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=int(os.environ.get("CONN_MAX_AGE", 0)))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock when a transaction starts, so two writers queue on
        # the busy timeout instead of failing on a lock upgrade; WAL lets readers go on.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
# A read replica (PostgreSQL streaming replication) takes the analytics pages' reads off the
# primary; see foodflow/core/db_router.py. In tests it mirrors the default database.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = {
        **dj_database_url.parse(
            os.environ["DATABASE_REPLICA_URL"], conn_max_age=int(os.environ.get("CONN_MAX_AGE", 0))
        ),
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["foodflow.core.db_router.AnalyticsReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["foodflow.accounts.backends.RoleBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        # our users' names are in full_name (first_name and last_name, Django's default, stay empty)
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "full_name", "email", "phone")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed logins in a row before an account is locked until an administrator unlocks it.
FOODFLOW_LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", 5))
# A session lasts a working day from signing in, ends after an hour without a request
# (core.security.SessionIdleTimeoutMiddleware; 0 turns that off) and when the browser closes.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", 8 * 3600))
FOODFLOW_SESSION_IDLE_TIMEOUT = int(os.environ.get("SESSION_IDLE_TIMEOUT", 3600))
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)

# --- Browser security headers (core.security) -------------------------------------------------
# No inline script, no eval, nothing from another origin. Style *attributes* stay allowed
# (style-src-attr): ECharts' SVG renderer draws every chart with them, and the progress bars'
# widths are data. An attribute can neither run script nor, unlike a <style> element (still
# refused: style-src), select other elements to leak their contents, and it loads nothing from
# elsewhere (img-src and font-src are 'self').
FOODFLOW_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "style-src-attr": ["'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
FOODFLOW_CSP_REPORT_ONLY = env_bool("CSP_REPORT_ONLY", False)
FOODFLOW_CSP_SKIP_CONTENT_TYPES = ["application/pdf"]
FOODFLOW_PERMISSIONS_POLICY = {
    feature: [] for feature in ("camera", "microphone", "geolocation", "payment", "usb", "serial", "midi")
}
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# --- Language, time, money ------------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "foodflow" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "foodflow_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
FOODFLOW_CURRENCY = os.environ.get("CURRENCY", "CNY")

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Uploads (attachments, signed scans, import files) on local disk, or on S3-compatible object
# storage (AWS S3, MinIO, Aliyun OSS, …) once there is more than one app server.
MEDIA_STORAGE = os.environ.get("MEDIA_STORAGE", "local")
if MEDIA_STORAGE == "s3":
    if not os.environ.get("S3_BUCKET"):
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs S3_BUCKET.")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["S3_BUCKET"],
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
            "region_name": os.environ.get("S3_REGION") or None,
            "addressing_style": os.environ.get("S3_ADDRESSING_STYLE") or None,  # "path" for MinIO
            # objects stay private (the bucket's own policy, no ACL); downloads get signed URLs
            "default_acl": None,
            "querystring_auth": True,
            # two uploads of "scan.pdf" must not overwrite each other (the disk storage renames)
            "file_overwrite": False,
        },
    }
elif MEDIA_STORAGE != "local":
    raise ImproperlyConfigured(f"MEDIA_STORAGE must be local or s3, not {MEDIA_STORAGE!r}.")
# Source maps are served as they are: compressing them costs most of collectstatic's time.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]
# our company as it appears on quotations and contracts
FOODFLOW_COMPANY_NAME = os.environ.get("FOODFLOW_COMPANY_NAME", "FoodFlow 食品有限公司")
FOODFLOW_COMPANY_CREDIT_CODE = os.environ.get("FOODFLOW_COMPANY_CREDIT_CODE", "")
FOODFLOW_COMPANY_ADDRESS = os.environ.get("FOODFLOW_COMPANY_ADDRESS", "")
# where customers reach the public pages (survey links, the complaint form behind the QR code
# on delivery notes)
FOODFLOW_PUBLIC_URL = os.environ.get("FOODFLOW_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
FOODFLOW_UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", 20 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = FOODFLOW_UPLOAD_MAX_BYTES + 1024 * 1024

# --- Mail -----------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "FoodFlow <foodflow@localhost>")

# --- Background work ------------------------------------------------------------------------
# Without a broker the tasks run in-process (eagerly), scheduled on transaction commit.
CELERY_TASK_ALWAYS_EAGER = not os.environ.get("CELERY_BROKER_URL")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# A task whose worker died goes back to the broker: Redis hands it out again once it has been
# unacknowledged this long (longer than any task runs, or a slow task would run twice at once).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", 3600))}
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
# Every scheduled job of every domain: Celery beat runs them with a broker; in the embedded
# mode `foodflow run_scheduled` (from cron) runs them in-process.
CELERY_BEAT_SCHEDULE = {
    "inventory-expiry-watch": {"task": "foodflow.inventory.tasks.expiry_watch", "schedule": crontab(hour=6, minute=0)},
    "crm-revisit-reminders": {"task": "foodflow.crm.tasks.revisit_reminders", "schedule": crontab(hour=7, minute=30)},
    "crm-stale-research": {
        "task": "foodflow.crm.tasks.stale_research_reminders",
        "schedule": crontab(hour=7, minute=45),
    },
    "sales-expire-quotations": {
        "task": "foodflow.sales.tasks.expire_quotations",
        "schedule": crontab(hour=0, minute=30),
    },
    "core-notification-emails-resend": {
        "task": "foodflow.core.tasks.notification_emails_resend_owed",
        "schedule": crontab(minute="*/10"),
    },
    "sales-customer-notices-resend": {
        "task": "foodflow.sales.tasks.customer_notices_resend_owed",
        "schedule": crontab(minute="*/10"),
    },
    "service-recall-notices-resend": {
        "task": "foodflow.service.tasks.recall_notices_resend_owed",
        "schedule": crontab(minute="*/10"),
    },
    "sales-overdue-reminders": {
        "task": "foodflow.sales.tasks.overdue_reminders",
        "schedule": crontab(hour=8, minute=0),
    },
    "service-sla-escalate": {
        "task": "foodflow.service.tasks.sla_escalate",
        "schedule": crontab(minute="*/15"),
    },
    "service-surveys-after-delivery": {
        "task": "foodflow.service.tasks.surveys_after_delivery",
        "schedule": crontab(hour=10, minute=0),
    },
    "service-revisits-plan": {
        "task": "foodflow.service.tasks.revisits_plan",
        "schedule": crontab(hour=7, minute=15),
    },
    "contracts-risk-evaluate": {
        "task": "foodflow.contracts.tasks.risk_evaluate",
        "schedule": crontab(hour=6, minute=30),
    },
    "analytics-overstay-alerts": {
        "task": "foodflow.analytics.tasks.overstay_alerts",
        "schedule": crontab(minute=5),
    },
    "analytics-monthly-report": {
        "task": "foodflow.analytics.tasks.monthly_report",
        "schedule": crontab(hour=6, minute=45, day_of_month=1),
    },
    "crm-retier-customers": {
        "task": "foodflow.crm.tasks.retier_customers",
        "schedule": crontab(hour=2, minute=0, day_of_month=1),
    },
}

# Our reverse proxies' addresses: behind them the client's address is read from X-Forwarded-For
# (core.views.client_ip); the header of anyone else is ignored.
TRUSTED_PROXIES = [ip.strip() for ip in os.environ.get("TRUSTED_PROXIES", "").split(",") if ip.strip()]

# --- Cache ----------------------------------------------------------------------------------
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["CACHE_URL"],
        # a Redis that stops answering fails a request (and /readyz) in seconds, not on the OS's timeout
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
    if os.environ.get("CACHE_URL")
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "foodflow.accounts.authentication.UserLanguageTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "foodflow.core.api.StandardPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "foodflow.core.api.SearchFilter",
        "foodflow.core.api.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "foodflow.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "foodflow.core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": "20/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "FoodFlow API",
    "DESCRIPTION": "The REST API of FoodFlow. Same permissions and data scopes as the web UI.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
}

# --- Logging --------------------------------------------------------------------------------
LOG_FORMATS = {
    # one JSON object per line, for a log collector (production's default)
    "json": {"()": "foodflow.core.logging.JsonFormatter"},
    "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
}


def logging_config(log_format: str) -> dict:
    """Every record through one console handler that stamps it with the request id."""
    if log_format not in LOG_FORMATS:
        raise ImproperlyConfigured(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}.")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "foodflow.core.logging.RequestIdFilter"}},
        "formatters": {"console": LOG_FORMATS[log_format]},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": "console"},
        },
        "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
        "loggers": {
            # WeasyPrint narrates every rendering step at INFO; only its warnings matter to us
            "weasyprint.progress": {"level": "WARNING"},
            "fontTools": {"level": "WARNING"},
            # runserver's request lines repeat the request log of RequestIdMiddleware
            "django.server": {"level": "WARNING", "propagate": True},
        },
    }


LOGGING_CONFIG = "foodflow.core.logging.configure"
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
LOGGING = logging_config(LOG_FORMAT)

FOODFLOW_DEMO = env_bool("FOODFLOW_DEMO", False)
