"""Test settings: the real database named by DATABASE_URL (SQLite by default), fast hashing."""

import os

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, VAR_DIR

SECRET_KEY = "test-only-key-0123456789-abcdefghijklmnopqrstuvwxyz"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [*INSTALLED_APPS, "foodflow.testing"]
# Argon2 stays first in production; tests hash with MD5 to run fast, and one test pins that
# the production list leads with Argon2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # live_server cannot serve whitenoise's hashed names: plain storage in tests.
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "test-media" / str(os.getpid())
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks run in the test's process; a worker started by a test (test_worker.py) says so to run them itself.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("FOODFLOW_CELERY_WORKER") != "1"
FOODFLOW_DEMO = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # Browser tests share one in-memory database between the live server's threads (SQLite's shared
    # cache), where a reader's table lock fails a writer at once ("database table is locked") instead
    # of queueing on the busy timeout, e.g. an import thread and the page polling its progress. Readers
    # that take no table locks behave as a file database in WAL mode (the embedded deployment) does.
    DATABASES["default"]["OPTIONS"]["init_command"] += " PRAGMA read_uncommitted=1;"  # noqa: F405
