"""What every benchmark shares: it runs itself again as a child process on each database —
a throwaway SQLite file, then a fresh PostgreSQL database when one is reachable (dropped
afterwards) — so each measurement starts from a clean, migrated database (see README.md)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD_ENV = "FOODFLOW_BENCH_DB"  # set in the child: the label of the database it measures
POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432"


def run_child(label: str, database_url: str, *, var_dir: str, passed: list[str], script: str) -> int:
    """The script again, as a child on that database."""
    env = {
        **os.environ,
        CHILD_ENV: label,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "foodflow.settings.dev",
        "DEBUG": "0",  # DEBUG would keep every query in memory and slow the measured code down
        "FOODFLOW_VAR_DIR": var_dir,
        "CELERY_BROKER_URL": "",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, str(Path(script).resolve()), *passed]
    return subprocess.run(command, env=env, cwd=ROOT, check=False).returncode


def run_postgres(*, var_dir: str, passed: list[str], script: str, name: str) -> int:
    """The child on a fresh PostgreSQL database, dropped afterwards; a NOTE when unreachable."""
    try:
        import psycopg

        admin = psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True, connect_timeout=3)
    except Exception as error:  # any failure to connect means: no PostgreSQL here
        print(f"NOTE PostgreSQL is not reachable at {POSTGRES_SERVER} ({error.__class__.__name__}): skipped")
        return 0
    database = f"foodflow_bench_{name}_{os.getpid()}"
    with admin:
        admin.execute(f'CREATE DATABASE "{database}"')
        try:
            return run_child("postgres", f"{POSTGRES_SERVER}/{database}", var_dir=var_dir, passed=passed, script=script)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def run_both(*, script: str, passed: list[str], name: str, results: list[str] | None = None) -> int:
    """The child on SQLite, then on PostgreSQL; non-zero when either failed. ``results``: the
    texts the children left in files named ``result-*`` of their shared var folder."""
    failed = 0
    with tempfile.TemporaryDirectory(prefix="foodflow-bench-") as tmp:
        failed |= run_child("sqlite", f"sqlite:///{tmp}/bench.sqlite3", var_dir=tmp, passed=passed, script=script)
        failed |= run_postgres(var_dir=tmp, passed=passed, script=script, name=name)
        if results is not None:
            results.extend(path.read_text() for path in sorted(Path(tmp).glob("result-*")))
    return failed
