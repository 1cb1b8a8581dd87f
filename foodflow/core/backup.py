"""Backup and restore: the database and the media files in one archive, checked table by table.

The dump and the manifest's row counts and checksums come from one snapshot of the database, so
a restore can prove that it brought back exactly what was backed up, even when people kept
working while the backup ran. SQLite is copied with its online backup API (one read transaction:
in WAL mode the writers go on); PostgreSQL exports the snapshot of a REPEATABLE READ transaction
and ``pg_dump`` reads inside it while the checksums are taken in that same transaction.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath
from uuid import UUID

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .audit import audit_record
from .errors import DomainError

FORMAT = "foodflow-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DUMPS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
MEDIA = "media"
# connection settings that mean the same to libpq (and so to pg_dump) as to psycopg; a password
# never goes on a command line: PGPASSWORD carries it
LIBPQ_OPTIONS = frozenset(
    {"sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name", "options", "service"}
)


class BackupError(DomainError):
    code = "backup_failed"
    default_message = _("The backup or the restore could not be completed.")


@dataclass(frozen=True)
class BackupMade:
    path: Path
    manifest: dict


@dataclass(frozen=True)
class Restored:
    manifest: dict
    differences: list[str]
    notes: list[str] = field(default_factory=list)


# --- what a database holds: per table, its rows and a checksum of their content ----------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _canonical(value):
    """One spelling per value, so that a table's checksum depends on its content and not on how
    the driver hands it over (SQLite's text dates and integers for booleans, PostgreSQL's types)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        number = Decimal(repr(value)) if isinstance(value, float) else value
        if number.is_finite() and number == number.to_integral_value():
            return int(number)
        return format(number.normalize(), "f") if number.is_finite() else str(number)
    if isinstance(value, datetime):
        # Django keeps SQLite's datetimes as UTC text without an offset
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value // timedelta(microseconds=1)
    if isinstance(value, UUID):
        return value.hex
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _rows_checksum(columns: list[str], rows: Iterable[tuple]) -> dict:
    # columns by name: a column's position may differ between two databases of the same schema
    order = sorted(range(len(columns)), key=columns.__getitem__)
    digest = hashlib.sha256(json.dumps([columns[i] for i in order]).encode())
    count = 0
    for row in rows:
        line = json.dumps([_canonical(row[i]) for i in order], ensure_ascii=False, separators=(",", ":"))
        digest.update(b"\n" + line.encode())
        count += 1
    return {"rows": count, "checksum": digest.hexdigest()}


def _latest_migrations(applied: Iterable[tuple[str, str]]) -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in applied:
        latest[app] = max(latest.get(app, name), name)
    return dict(sorted(latest.items()))


def _sqlite_states(conn: sqlite3.Connection) -> tuple[dict, dict]:
    """(tables, latest migration per app) of a SQLite database."""
    names = [
        row[0]
        for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    ]
    tables = {}
    for name in sorted(names):
        columns = conn.execute(f"PRAGMA table_info({_quote(name)})").fetchall()  # cid, name, type, notnull, default, pk
        keys = [column[1] for column in sorted(columns, key=lambda column: column[5]) if column[5]]
        order = ", ".join(_quote(key) for key in keys or [column[1] for column in columns])
        cursor = conn.execute(f"SELECT * FROM {_quote(name)} ORDER BY {order}")  # noqa: S608 - quoted names
        tables[name] = _rows_checksum([d[0] for d in cursor.description], cursor)
    applied = conn.execute("SELECT app, name FROM django_migrations") if "django_migrations" in names else []
    return tables, _latest_migrations(applied)


PG_TABLES = """
    SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
"""
PG_PRIMARY_KEY = """
    SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
    WHERE i.indrelid = %s AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)
"""
PG_COLUMNS = "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum"


def _postgres_states(conn) -> tuple[dict, dict]:
    """(tables, latest migration per app) as the transaction of ``conn`` sees them."""
    found = dict(conn.execute(PG_TABLES).fetchall())
    tables = {}
    for oid, name in sorted(found.items(), key=lambda item: item[1]):
        keys = [row[0] for row in conn.execute(PG_PRIMARY_KEY, [oid])]
        keys = keys or [row[0] for row in conn.execute(PG_COLUMNS, [oid])]
        order = ", ".join(_quote(key) for key in keys)
        # a server-side cursor: a big table streams instead of landing in memory whole
        with conn.cursor(name="foodflow_backup_rows") as cursor:
            cursor.itersize = 2000
            cursor.execute(f"SELECT * FROM {_quote(name)} ORDER BY {order}")  # noqa: S608 - quoted names
            tables[name] = _rows_checksum([d.name for d in cursor.description], cursor)
    applied = conn.execute("SELECT app, name FROM django_migrations") if "django_migrations" in found.values() else []
    return tables, _latest_migrations(applied)


def _media_summary(root: Path) -> dict:
    files = list(_media_files(root))
    return {"files": len(files), "bytes": sum(path.stat().st_size for path in files)}


def _local_media_root() -> Path | None:
    """Where the uploads are when they are on this machine's disk; None for object storage,
    which keeps (and versions) them itself."""
    storage = storages["default"]
    return Path(storage.location) if isinstance(storage, FileSystemStorage) else None


def _media_files(root: Path) -> Iterator[Path]:
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                yield path


# --- where the database is ----------------------------------------------------------------------


def _vendor() -> str:
    vendor = connections[DEFAULT_DB_ALIAS].vendor
    if vendor not in DUMPS:
        raise BackupError(_("Backups support SQLite and PostgreSQL, not %(vendor)s."), vendor=vendor)
    return vendor


def database_label() -> str:
    """The configured database as people name it: a file, or a database on a server."""
    db = settings.DATABASES[DEFAULT_DB_ALIAS]
    if _vendor() == "sqlite":
        return str(db["NAME"])
    return f"{db['NAME']} @ {db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"


def _sqlite_path() -> Path:
    name = str(settings.DATABASES[DEFAULT_DB_ALIAS]["NAME"])
    if name == ":memory:" or "mode=memory" in name:
        raise BackupError(_("An in-memory database cannot be backed up or restored."))
    return Path(name)


def _postgres_target() -> tuple[str, dict]:
    """(conninfo without the password, environment for the client tools)."""
    from psycopg.conninfo import make_conninfo

    db = settings.DATABASES[DEFAULT_DB_ALIAS]
    params = {"dbname": db["NAME"], "user": db.get("USER"), "host": db.get("HOST"), "port": db.get("PORT")}
    params.update({key: value for key, value in (db.get("OPTIONS") or {}).items() if key in LIBPQ_OPTIONS})
    conninfo = make_conninfo("", **{key: str(value) for key, value in params.items() if value})
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return conninfo, env


def _postgres_connect(**kwargs):
    import psycopg

    conninfo, env = _postgres_target()
    return psycopg.connect(conninfo, password=env.get("PGPASSWORD"), **kwargs)


def _run(command: list[str], env: dict) -> None:
    tool = shutil.which(command[0])
    if tool is None:
        raise BackupError(
            _("%(tool)s is not installed: install the PostgreSQL client tools (the server's version or newer)."),
            tool=command[0],
        )
    # fixed arguments, no shell; the conninfo comes from settings
    done = subprocess.run([tool, *command[1:]], env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(_("%(tool)s failed: %(error)s"), tool=command[0], error=done.stderr.strip()[-2000:])


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- backup ---------------------------------------------------------------------------------------


def _sqlite_dump(dump: Path) -> tuple[dict, dict]:
    live = _sqlite_path()
    if not live.is_file():
        raise BackupError(_("There is no database file at %(path)s."), path=live)
    with closing(sqlite3.connect(live, timeout=20)) as source, closing(sqlite3.connect(dump)) as copy:
        source.backup(copy)  # in one step: one read transaction, one consistent snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no write-ahead log beside it
        return _sqlite_states(copy)


def _postgres_dump(dump: Path) -> tuple[dict, dict]:
    import psycopg

    conninfo, env = _postgres_target()
    with _postgres_connect() as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
            # pg_dump reads the exported snapshot only while this transaction stays open
            dump_command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"]
            _run([*dump_command, f"--file={dump}", f"--dbname={conninfo}"], env)
            return _postgres_states(conn)


def default_archive_path() -> Path:
    return Path(settings.VAR_DIR) / "backups" / f"foodflow-{timezone.localtime():%Y%m%d-%H%M%S}.tar.gz"


def _application_version() -> str:
    try:
        return version("foodflow")
    except PackageNotFoundError:
        return ""


def backup_make(*, output: Path | None = None) -> BackupMade:
    """Write the database, the media files and a manifest of every table into one archive.

    The archive appears under its name only when it is complete."""
    vendor = _vendor()
    output = Path(output) if output else default_archive_path()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".backup-") as staging:
        dump = Path(staging) / DUMPS[vendor]
        created_at = timezone.now()  # the snapshot's moment, to the second
        tables, migrations = (_sqlite_dump if vendor == "sqlite" else _postgres_dump)(dump)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": created_at.astimezone(UTC).isoformat(),
            "application_version": _application_version(),
            "vendor": vendor,
            "migrations": migrations,
            "database": {"file": dump.name, "bytes": dump.stat().st_size, "sha256": _file_sha256(dump)},
            "tables": tables,
            "media": {"included": False},
        }
        partial = Path(staging) / output.name
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(dump, arcname=dump.name)
            media_root = _local_media_root()
            if media_root is not None and media_root.is_dir():
                # after the database: a file the snapshot refers to was there before the snapshot
                manifest["media"] = {"included": True, **_media_add(archive, media_root)}
            body = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(body), int(created_at.timestamp()), 0o644
            archive.addfile(info, io.BytesIO(body))
        _fsync(partial)
        os.replace(partial, output)
    audit_record(
        action="core.backup_made",
        actor=None,
        changes={
            "archive": str(output),
            "vendor": vendor,
            "tables": len(tables),
            "rows": sum(table["rows"] for table in tables.values()),
            "media_files": manifest["media"].get("files", 0),
        },
    )
    return BackupMade(output, manifest)


def _media_add(archive: tarfile.TarFile, root: Path) -> dict:
    files = size = 0
    for path in _media_files(root):
        info = archive.gettarinfo(path, arcname=f"{MEDIA}/{path.relative_to(root).as_posix()}")
        with path.open("rb") as stream:
            archive.addfile(info, stream)
        files, size = files + 1, size + info.size
    return {"files": files, "bytes": size}


# --- restore --------------------------------------------------------------------------------------


def _damaged(archive: Path, error: object) -> BackupError:
    return BackupError(
        _("The archive %(path)s is damaged or is not a FoodFlow backup (%(error)s). Nothing was changed."),
        code="backup_damaged",
        path=archive,
        error=error,
    )


def _member_allowed(member: tarfile.TarInfo) -> bool:
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts or not (member.isfile() or member.isdir()):
        return False
    return member.name in {MANIFEST, *DUMPS.values()} or path.parts[0] == MEDIA


def _unpack(archive: Path, into: Path) -> dict:
    """Extract and check the whole archive (also the gzip checksum at its end): the manifest."""
    if not archive.is_file():
        raise BackupError(_("There is no archive at %(path)s."), code="backup_missing", path=archive)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            strange = [member.name for member in members if not _member_allowed(member)]
            if strange:
                raise _damaged(archive, ", ".join(strange[:5]))
            tar.extractall(into, members=members, filter="data")
            while tar.fileobj.read(1 << 20):  # to the end: gzip verifies its CRC there
                pass
        manifest = json.loads((into / MANIFEST).read_text(encoding="utf-8"))
    except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError) as error:
        raise _damaged(archive, error) from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _damaged(archive, MANIFEST)
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise BackupError(
            _("The archive was written by a newer FoodFlow (format %(format)s). Upgrade FoodFlow first."),
            code="backup_too_new",
            format=manifest.get("format_version"),
        )
    return manifest


def _check_restorable(manifest: dict, vendor: str, staging: Path, archive: Path) -> list[str]:
    """Refuse what this installation cannot take; notes for what it can take with a step more."""
    if manifest.get("vendor") != vendor:
        raise BackupError(
            _(
                "The archive holds a %(archive_vendor)s database but this FoodFlow runs on %(vendor)s: "
                "restore it into a %(archive_vendor)s installation. Nothing was changed."
            ),
            code="backup_other_vendor",
            archive_vendor=manifest.get("vendor"),
            vendor=vendor,
        )
    dump = staging / DUMPS[vendor]
    if not dump.is_file() or _file_sha256(dump) != manifest.get("database", {}).get("sha256"):
        raise _damaged(archive, DUMPS[vendor])
    loader = MigrationLoader(None, ignore_no_migrations=True)
    archived = manifest.get("migrations", {})
    unknown = sorted(f"{app}.{name}" for app, name in archived.items() if (app, name) not in loader.disk_migrations)
    if unknown:
        raise BackupError(
            _(
                "The archive was made by a newer FoodFlow: its database has migrations this code does not know "
                "(%(migrations)s). Upgrade FoodFlow first, then restore. Nothing was changed."
            ),
            code="backup_newer_schema",
            migrations=", ".join(unknown),
        )
    behind = sorted(app for app, name in loader.graph.leaf_nodes() if archived.get(app) != name)
    if behind:
        return [
            str(
                _("The archive's database is older than this code (%(apps)s): run `foodflow migrate` now.")
                % {"apps": ", ".join(behind)}
            )
        ]
    return []


def _sqlite_restore(dump: Path) -> None:
    target = _sqlite_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = target.with_name(f".{target.name}.restore-{os.getpid()}")
    try:
        shutil.copyfile(dump, incoming)
        _fsync(incoming)
        if target.exists():
            _sqlite_release(target)
        os.replace(incoming, target)
    finally:
        incoming.unlink(missing_ok=True)
    # the old file's write-ahead log must never be replayed into the new file
    for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        leftover.unlink(missing_ok=True)
    _fsync(target.parent)


def _sqlite_release(target: Path) -> None:
    """Fold the write-ahead log into the old file; refuse while another process is using it."""
    with closing(sqlite3.connect(target, timeout=20)) as conn:
        busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        raise BackupError(
            _("The database is in use: stop FoodFlow (web server and workers), then restore. Nothing was changed."),
            code="database_in_use",
        )


def _postgres_restore(dump: Path, manifest: dict) -> list[str]:
    conninfo, env = _postgres_target()
    with _postgres_connect(autocommit=True) as conn:
        extra = sorted(set(dict(conn.execute(PG_TABLES).fetchall()).values()) - set(manifest["tables"]))
        # tables of a newer schema than the archive's: pg_restore --clean leaves them, and their
        # foreign keys would stop it dropping the tables it restores
        for name in extra:
            conn.execute(f"DROP TABLE IF EXISTS {_quote(name)} CASCADE")
    restore = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction"]
    _run([*restore, f"--dbname={conninfo}", str(dump)], env)
    if extra:
        return [str(_("Tables the archive does not have were dropped: %(tables)s.") % {"tables": ", ".join(extra)})]
    return []


def _media_replace(incoming: Path, root: Path) -> None:
    root.parent.mkdir(parents=True, exist_ok=True)
    previous = root.with_name(f".{root.name}-before-restore-{os.getpid()}")
    incoming.mkdir(exist_ok=True)  # an archive of an empty media folder has no entries for it
    if root.exists():
        os.replace(root, previous)
    shutil.move(incoming, root)
    shutil.rmtree(previous, ignore_errors=True)


def current_states() -> tuple[dict, dict]:
    """(tables, latest migration per app) of the configured database, read now."""
    if _vendor() == "sqlite":
        with closing(sqlite3.connect(_sqlite_path(), timeout=20)) as conn:
            return _sqlite_states(conn)
    with _postgres_connect() as conn:
        return _postgres_states(conn)


def _differences(manifest: dict, tables: dict) -> list[str]:
    archived = manifest["tables"]
    found = []
    for name in sorted(set(archived) | set(tables)):
        if name not in tables:
            found.append(str(_("%(table)s: missing") % {"table": name}))
        elif name not in archived:
            found.append(str(_("%(table)s: not in the backup") % {"table": name}))
        elif tables[name]["rows"] != archived[name]["rows"]:
            found.append(
                str(
                    _("%(table)s: %(rows)s rows, the backup has %(archived)s")
                    % {"table": name, "rows": tables[name]["rows"], "archived": archived[name]["rows"]}
                )
            )
        elif tables[name]["checksum"] != archived[name]["checksum"]:
            found.append(str(_("%(table)s: the content differs") % {"table": name}))
    media, media_root = manifest.get("media", {}), _local_media_root()
    if media.get("included") and media_root is not None:
        summary = _media_summary(media_root)
        if summary != {"files": media["files"], "bytes": media["bytes"]}:
            found.append(
                str(
                    _("media: %(files)s files, the backup has %(archived)s")
                    % {"files": summary["files"], "archived": media["files"]}
                )
            )
    return found


def backup_restore(*, archive: Path) -> Restored:
    """Replace the database and the media files with an archive's, then check every table
    against the manifest. The audit entry of the restore goes into the restored database."""
    vendor = _vendor()
    archive = Path(archive)
    staging_root = Path(settings.VAR_DIR)
    staging_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=staging_root, prefix=".restore-") as staging:
        staging = Path(staging)
        manifest = _unpack(archive, staging)
        notes = _check_restorable(manifest, vendor, staging, archive)
        connections.close_all()
        if vendor == "sqlite":
            _sqlite_restore(staging / DUMPS[vendor])
        else:
            notes += _postgres_restore(staging / DUMPS[vendor], manifest)
        media_root = _local_media_root()
        if manifest["media"].get("included") and media_root is not None:
            _media_replace(staging / MEDIA, media_root)
        elif manifest["media"].get("included"):
            notes.append(str(_("The archive's media files were not restored: uploads go to object storage here.")))
    tables, _migrations = current_states()
    differences = _differences(manifest, tables)
    audit_record(
        action="core.backup_restored",
        actor=None,
        changes={
            "archive": str(archive),
            "made_at": manifest["created_at"],
            "tables": len(manifest["tables"]),
            "differences": differences,
        },
    )
    return Restored(manifest, differences, notes)
