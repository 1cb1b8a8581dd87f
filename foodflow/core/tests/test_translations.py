"""Every string marked for translation has its Simplified Chinese translation."""

import shutil
import subprocess
from pathlib import Path

import pytest

import foodflow

pytestmark = pytest.mark.once  # settings and files, not the database: the SQLite run

PACKAGE = Path(foodflow.__file__).parent
CATALOGUE = Path("locale/zh_Hans/LC_MESSAGES/django.po")


def untranslated(po_file: Path) -> str:
    result = subprocess.run(
        ["msgattrib", "--untranslated", "--no-obsolete", str(po_file)], capture_output=True, text=True, check=True
    )
    fuzzy = subprocess.run(
        ["msgattrib", "--only-fuzzy", "--no-obsolete", str(po_file)], capture_output=True, text=True, check=True
    )
    return result.stdout + fuzzy.stdout


def test_the_committed_catalogue_is_complete_and_compiles():
    assert untranslated(PACKAGE / CATALOGUE) == ""
    subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(PACKAGE / CATALOGUE)], check=True)


def test_no_marked_string_is_missing_from_the_catalogue(tmp_path):
    """Extract the strings again from a copy of the code: a string marked but never
    translated shows up as untranslated there."""
    copy = tmp_path / "foodflow"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "vendor", "*.mo"))
    subprocess.run(
        [
            "django-admin",
            "makemessages",
            "-l",
            "zh_Hans",
            "--ignore",
            "testing/*",
            "--ignore",
            "*/tests/*",
            "--settings=foodflow.settings.dev",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    assert untranslated(copy / CATALOGUE) == ""
