"""The settings build the media storage from the environment; checked in a fresh interpreter,
since the settings module reads the environment once, on import."""

import json
import os
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.once  # settings and files, not the database: the SQLite run

SHOW_STORAGE = """
import json, django
django.setup()
from django.conf import settings
from django.core.files.storage import default_storage
print(json.dumps({"storages": settings.STORAGES, "url": default_storage.url("attachments/2026/scan.pdf")}))
"""

S3_ENVIRONMENT = {
    "MEDIA_STORAGE": "s3",
    "S3_BUCKET": "foodflow-media",
    "S3_ENDPOINT_URL": "http://minio.internal:9000",
    "S3_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "S3_SECRET_ACCESS_KEY": "wJalrXUtnFEMI",
    "S3_REGION": "cn-east-1",
    "S3_ADDRESSING_STYLE": "path",
}


def production_settings(tmp_path, **environment):
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(("MEDIA_", "S3_", "AWS_"))}
    return subprocess.run(
        [sys.executable, "-c", SHOW_STORAGE],
        env={
            **inherited,
            "DJANGO_SETTINGS_MODULE": "foodflow.settings.production",
            "SECRET_KEY": "s" * 60,
            "ALLOWED_HOSTS": "erp.example.com",
            "FOODFLOW_VAR_DIR": str(tmp_path),
            **environment,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_media_on_s3_compatible_storage_from_the_environment(tmp_path):
    result = production_settings(tmp_path, **S3_ENVIRONMENT)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    media = shown["storages"]["default"]
    assert media["BACKEND"] == "storages.backends.s3.S3Storage"
    assert media["OPTIONS"] == {
        "bucket_name": "foodflow-media",
        "endpoint_url": "http://minio.internal:9000",
        "access_key": "AKIDEXAMPLE",
        "secret_key": "wJalrXUtnFEMI",
        "region_name": "cn-east-1",
        "addressing_style": "path",
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": False,
    }
    # a download link is signed for a while, at the configured endpoint (computed, no network)
    url = urlsplit(shown["url"])
    assert (url.netloc, url.path) == ("minio.internal:9000", "/foodflow-media/attachments/2026/scan.pdf")
    assert {"X-Amz-Signature", "X-Amz-Expires"} <= parse_qs(url.query).keys()
    assert shown["storages"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_media_stays_on_local_disk_by_default(tmp_path):
    result = production_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["storages"]["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert shown["url"] == "/media/attachments/2026/scan.pdf"


def test_s3_without_a_bucket_or_an_unknown_storage_stops_the_start(tmp_path):
    no_bucket = production_settings(tmp_path, MEDIA_STORAGE="s3")
    assert no_bucket.returncode != 0 and "MEDIA_STORAGE=s3 needs S3_BUCKET" in no_bucket.stderr
    unknown = production_settings(tmp_path, MEDIA_STORAGE="ftp")
    assert unknown.returncode != 0 and "MEDIA_STORAGE must be local or s3, not 'ftp'" in unknown.stderr
