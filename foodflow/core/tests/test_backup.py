"""`foodflow backup` and `foodflow restore` as real processes on real databases: a SQLite file (the
embedded mode) or PostgreSQL databases of their own, whichever this test run uses. A restore brings
back every table as it was at backup time, also when people kept writing while the backup ran, and
an archive it cannot take leaves everything as it was."""

import io
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader

VENDOR = connection.vendor
AUDIT_TABLES = {"core_auditentry", "core_audithead"}
SEEDED_CUSTOMERS = 6
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4

# argv: how many customers, the photo to attach
SEED = """
import sys
from pathlib import Path
import django
django.setup()
from decimal import Decimal
from django.core.files.uploadedfile import SimpleUploadedFile
from foodflow.accounts.models import OrgUnit, Role, User
from foodflow.accounts.services import org_unit_create
from foodflow.catalog.services import category_create, family_for, product_create
from foodflow.core.attachments import attachment_create
from foodflow.crm.services import customer_create

hq = org_unit_create(by=None, code="HQ", name="总部", kind=OrgUnit.Kind.COMPANY, parent=None)
east = org_unit_create(by=None, code="EAST", name="华东大区", kind=OrgUnit.Kind.REGION, parent=hq)
rep = User.objects.create_user("rep", org_unit=east, first_name="小王")
rep.roles.set(Role.objects.filter(code="rep"))
dairy = category_create(by=None, code="dairy", name="乳制品", name_en="Dairy", expiry_warning_days=10)
for n in range(1, 4):
    product_create(
        by=None, sku=f"P{n:04d}", name=f"纯牛奶{n}", name_en=f"Milk {n}", specification="250ml×24",
        category=dairy, shelf_life_days=180, storage="ambient", vat_rate="0.13", family=family_for("uht-250"),
        standard_cost=Decimal("31.25") + n,
    )
for n in range(int(sys.argv[1])):
    customer_create(
        by=None, name=f"客户{n:02d}食品商行", channel="retail", region=east, owner=rep, tags=["华东", f"t{n}"],
        confirm_duplicate=True,
    )
attachment_create(upload=SimpleUploadedFile("门店照片.png", Path(sys.argv[2]).read_bytes()), by=rep)
"""

# creates customers through the service until the file named by its argument appears
WRITER = """
import sys
from pathlib import Path
import django
django.setup()
from foodflow.accounts.models import OrgUnit, User
from foodflow.crm.services import customer_create

stop, region, owner = Path(sys.argv[1]), OrgUnit.objects.get(code="EAST"), User.objects.get(username="rep")
for n in range(100_000):
    if stop.exists():
        break
    customer_create(
        by=None, name=f"并发客户{n:05d}", channel="retail", region=region, owner=owner, confirm_duplicate=True
    )
"""

_names = itertools.count(1)


def _server() -> dict:
    db = connection.settings_dict
    return {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
        "user": db["USER"],
        "password": db["PASSWORD"] or None,
    }


def _postgres_admin(sql: str) -> None:
    with psycopg.connect(dbname="postgres", autocommit=True, **_server()) as conn:
        conn.execute(sql)


@dataclass
class Site:
    """One FoodFlow installation: its database and its var folder (media, backups)."""

    var: Path
    database: str  # a file path (SQLite) or a database name (PostgreSQL)

    @property
    def url(self) -> str:
        if VENDOR == "sqlite":
            return f"sqlite:///{self.database}"
        server = _server()
        password = f":{server['password']}" if server["password"] else ""
        return f"postgres://{server['user']}{password}@{server['host']}:{server['port']}/{self.database}"

    def env(self) -> dict:
        inherited = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "CACHE_URL", "MEDIA_ROOT"}}
        return {
            **inherited,
            "DATABASE_URL": self.url,
            "FOODFLOW_VAR_DIR": str(self.var),
            "DJANGO_SETTINGS_MODULE": "foodflow.settings.dev",
            "LANGUAGE_CODE": "en",
        }

    def foodflow(self, *args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "foodflow.cli", *args]
        env, cwd = self.env(), settings.BASE_DIR
        return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)

    def python(self, code: str, *args: str) -> "Script":
        """A script with Django set up for this installation, running in its own process."""
        log = (self.var / "script.log").open("w")
        command = [sys.executable, "-c", code, *args]
        process = subprocess.Popen(command, env=self.env(), cwd=settings.BASE_DIR, stdout=log, stderr=log)
        return Script(process, Path(log.name))

    def execute(self, *statements: str) -> None:
        conn = self.connect()
        try:
            for statement in statements:
                conn.execute(statement)
            conn.commit()
        finally:
            conn.close()

    def connect(self):
        if VENDOR == "sqlite":
            return sqlite3.connect(self.database)
        return psycopg.connect(dbname=self.database, autocommit=True, **_server())

    def query(self, sql: str) -> list[tuple]:
        conn = self.connect()
        try:
            return list(conn.execute(sql).fetchall())
        finally:
            conn.close()

    def tables(self) -> list[str]:
        if VENDOR == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        else:
            sql = (
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            )
        return sorted(row[0] for row in self.query(sql))

    def rows(self) -> dict[str, list[str]]:
        """Every row of every table, read straight from the database (not through FoodFlow)."""
        return {table: sorted(repr(row) for row in self.query(f'SELECT * FROM "{table}"')) for table in self.tables()}

    def count(self, table: str) -> int:
        return self.query(f'SELECT count(*) FROM "{table}"')[0][0]

    def media(self) -> dict[str, bytes]:
        root = self.var / "media"
        return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}

    def actions(self) -> list[str]:
        return [row[0] for row in self.query("SELECT action FROM core_auditentry ORDER BY seq")]


@dataclass
class Script:
    process: subprocess.Popen
    log: Path

    def running(self) -> bool:
        return self.process.poll() is None

    def finish(self, timeout: float = 300) -> None:
        status = self.process.wait(timeout=timeout)
        assert status == 0, self.log.read_text()[-3000:]


def ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def refused(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return done.stderr


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        return json.load(tar.extractfile("manifest.json"))


def _new_site(var: Path, name: str) -> Site:
    var.mkdir(parents=True, exist_ok=True)
    if VENDOR == "sqlite":
        return Site(var, str(var / "foodflow.sqlite3"))
    _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _postgres_admin(f'CREATE DATABASE "{name}"')
    return Site(var, name)


def _drop(site: Site) -> None:
    if VENDOR == "postgresql":
        _postgres_admin(f'DROP DATABASE IF EXISTS "{site.database}" WITH (FORCE)')


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """Migrated and seeded once per module (migrating takes most of a minute), copied by each test."""
    site = _new_site(tmp_path_factory.mktemp("template"), f"ff_backup_tpl_{os.getpid()}")
    ok(site.foodflow("migrate", "-v0"))
    photo = site.var / "photo.png"
    photo.write_bytes(PNG)
    site.python(SEED, str(SEEDED_CUSTOMERS), str(photo)).finish()
    yield site
    _drop(site)


@pytest.fixture
def site(template, tmp_path):
    var = tmp_path / "site"
    shutil.copytree(template.var / "media", var / "media")
    if VENDOR == "sqlite":
        copy = Site(var, str(var / "foodflow.sqlite3"))
        with closing(sqlite3.connect(template.database)) as source, closing(sqlite3.connect(copy.database)) as target:
            source.backup(target)
    else:
        copy = Site(var, f"ff_backup_src_{os.getpid()}_{next(_names)}")
        _postgres_admin(f'CREATE DATABASE "{copy.database}" TEMPLATE "{template.database}"')
    yield copy
    _drop(copy)


@pytest.fixture
def fresh(tmp_path):
    """An installation with an empty database: where a restore drill restores to."""
    site = _new_site(tmp_path / "fresh", f"ff_backup_dst_{os.getpid()}_{next(_names)}")
    yield site
    _drop(site)


def test_a_restore_brings_back_every_table_and_the_media_as_they_were_at_backup_time(site, tmp_path):
    before, media_before, actions_before = site.rows(), site.media(), site.actions()
    assert len(before["crm_customer"]) == SEEDED_CUSTOMERS and len(media_before) == 1
    archive = tmp_path / "nightly.tar.gz"

    out = ok(site.foodflow("backup", "--output", str(archive)))
    assert str(archive) in out
    manifest = manifest_of(archive)
    assert manifest["vendor"] == VENDOR and manifest["media"] == {
        "included": True,
        "files": 1,
        "bytes": len(PNG),
    }
    # the latest migration of each app, as on disk
    [(_app, latest_core)] = [node for node in MigrationLoader(None).graph.leaf_nodes() if node[0] == "core"]
    assert manifest["migrations"]["core"] == latest_core
    # the manifest counts what was there (the backup's own audit entry comes after its snapshot)
    assert {table: entry["rows"] for table, entry in manifest["tables"].items()} == {
        table: len(rows) for table, rows in before.items()
    }
    assert site.actions() == [*actions_before, "core.backup_made"]

    # the day goes on: a customer renamed, one removed, a product repriced, the photo replaced
    site.execute(
        "UPDATE crm_customer SET name = '改过的名字' WHERE code = (SELECT min(code) FROM crm_customer)",
        "DELETE FROM crm_customer WHERE code = (SELECT max(code) FROM crm_customer)",
        "UPDATE catalog_product SET standard_cost = 99 WHERE sku = 'P0001'",
    )
    for path in (site.var / "media").rglob("*.png"):
        path.unlink()
    (site.var / "media" / "stray.png").write_bytes(PNG[:100])
    assert site.rows()["crm_customer"] != before["crm_customer"]

    out = ok(site.foodflow("restore", str(archive), "--yes"))
    assert f"all {len(before)} tables match the backup" in out

    after = site.rows()
    assert after.keys() == before.keys()
    for table in before.keys() - AUDIT_TABLES:
        assert after[table] == before[table], table
    assert site.media() == media_before
    # the audit log is the backed-up one, with the restore appended, and its chain holds
    assert site.actions() == [*actions_before, "core.backup_restored"]
    assert f"{len(actions_before) + 1} entries verified" in ok(site.foodflow("audit", "verify"))


def test_a_backup_taken_while_people_write_restores_one_consistent_moment(site, fresh, tmp_path):
    stop, archive = tmp_path / "stop", tmp_path / "busy.tar.gz"
    writer = site.python(WRITER, str(stop))
    try:
        deadline = time.monotonic() + 120
        while site.count("crm_customer") < SEEDED_CUSTOMERS + 5 and time.monotonic() < deadline:
            assert writer.running(), writer.log.read_text()[-3000:]
            time.sleep(0.1)
        written_before = site.count("crm_customer")
        ok(site.foodflow("backup", "--output", str(archive)))
        written_after = site.count("crm_customer")
    finally:
        stop.touch()
        writer.finish(timeout=60)
    assert written_after > written_before, "the writer did not write while the backup ran"

    # the restore drill: into an empty database; the command checks every table against the manifest
    ok(fresh.foodflow("restore", str(archive), "--yes"))
    manifest = manifest_of(archive)
    customers = fresh.count("crm_customer")
    assert written_before <= customers <= written_after
    assert {table: fresh.count(table) for table in fresh.tables() if table not in AUDIT_TABLES} == {
        table: entry["rows"] for table, entry in manifest["tables"].items() if table not in AUDIT_TABLES
    }
    # one moment: every customer in the copy has its audit entry, and the chain ends where its head says
    assert fresh.actions().count("crm.customer_created") == customers
    assert fresh.count("core_auditentry") == manifest["tables"]["core_auditentry"]["rows"] + 1
    ok(fresh.foodflow("audit", "verify"))


def _rewritten(archive: Path, out: Path, change) -> Path:
    with tarfile.open(archive) as source, tarfile.open(out, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    return out


def test_restore_refuses_without_yes_and_refuses_a_foreign_newer_or_damaged_archive(site, tmp_path):
    archive = tmp_path / "good.tar.gz"
    ok(site.foodflow("backup", "--output", str(archive)))
    before, media_before = site.rows(), site.media()
    other = {"sqlite": "postgresql", "postgresql": "sqlite"}[VENDOR]
    foreign = _rewritten(archive, tmp_path / "foreign.tar.gz", lambda manifest: manifest.update(vendor=other))
    newer = _rewritten(
        archive, tmp_path / "newer.tar.gz", lambda manifest: manifest["migrations"].update(crm="0099_from_the_future")
    )
    damaged = tmp_path / "damaged.tar.gz"
    data = bytearray(archive.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    damaged.write_bytes(bytes(data))

    message = refused(site.foodflow("restore", str(archive)))
    assert "REPLACES the current database" in message and "--yes" in message
    message = refused(site.foodflow("restore", str(foreign), "--yes"))
    assert f"holds a {other} database but this FoodFlow runs on {VENDOR}" in message
    message = refused(site.foodflow("restore", str(newer), "--yes"))
    assert "newer FoodFlow" in message and "crm.0099_from_the_future" in message
    message = refused(site.foodflow("restore", str(damaged), "--yes"))
    assert "is damaged or is not a FoodFlow backup" in message

    assert site.rows() == before
    assert site.media() == media_before
