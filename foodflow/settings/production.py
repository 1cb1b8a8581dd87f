"""Production settings: everything from the environment, secure by default."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool, logging_config

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set (50 characters or more) in production.")
# the keys in the repository (dev.py's, test.py's) and Django's generated development keys are public
if SECRET_KEY.startswith(("dev-only-", "test-only-", "django-insecure-")):
    raise ImproperlyConfigured("SECRET_KEY is a development key: generate a secret one for production.")

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
FOODFLOW_DEMO = False
WEB_CONCURRENCY = int(os.environ.get("WEB_CONCURRENCY", 2))
# JSON lines for the log collector unless LOG_FORMAT says otherwise
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
LOGGING = logging_config(LOG_FORMAT)
# the load balancer probes the app servers over plain HTTP, without X-Forwarded-Proto
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
