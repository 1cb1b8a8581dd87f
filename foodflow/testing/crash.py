"""Kill a real service call in the middle of its write, in a process of its own, on the test database.

``python -m foodflow.testing.crash`` is a small fork server: it loads Django once, then reads one JSON
request a line from stdin and answers one JSON line on stdout. For each request it forks a child that
opens its own connection to the database named by DATABASE_URL (the test's PostgreSQL database or
SQLite file), runs ONE operation of ``OPERATIONS`` (a real service call) and, when asked, kills itself
with SIGKILL (no handler, no cleanup, no rollback of its own) right after the N-th write statement
(INSERT, UPDATE or DELETE) the database has carried out: the rows written so far sit inside the open
transaction when the process dies. Just before the kill the child writes a marker file with the count
and the statements, which the answer carries back: the proof that the kill landed mid-write.

A request is ``{"operation": name, "args": {...}, "kill_after": N | null, "dry_run": bool,
"settings": {...}}``; a dry run does the operation inside a transaction it rolls back, to count the
write statements without keeping anything. Forking saves Django's start-up (1–2 s) per kill.

Tests drive it with ``CrashServer`` and compare the whole database before and after with ``snapshot``.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

WRITE_VERBS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE"})
OPERATIONS: dict[str, Callable[[dict], str]] = {}
WARM_MODULES = (
    "foodflow.sales.services",
    "foodflow.sales.approvals",
    "foodflow.sales.review",
    "foodflow.sales.fulfilment",
    "foodflow.sales.receivables",
    "foodflow.imports.services",
    "foodflow.imports.kinds",
    "django.test.utils",
)


def is_write(sql: str) -> bool:
    words = sql.lstrip().split(None, 1)
    return bool(words) and words[0].upper() in WRITE_VERBS


# --- the operations: one service call each, arguments by id -----------------------------------------


def operation(name: str):
    def register(function: Callable[[dict], str]) -> Callable[[dict], str]:
        OPERATIONS[name] = function
        return function

    return register


def _user(username: str | None):
    from foodflow.accounts.models import User

    return User.objects.get(username=username) if username else None


@operation("order_submit")
def _order_submit(args: dict) -> str:
    from foodflow.sales.models import SalesOrder
    from foodflow.sales.services import order_submit

    order = order_submit(by=_user(args["by"]), order=SalesOrder.objects.get(pk=args["order"]))
    return order.state


@operation("approval_decide")
def _approval_decide(args: dict) -> str:
    from foodflow.sales.approvals import approval_decide
    from foodflow.sales.models import ApprovalStep

    step = ApprovalStep.objects.get(pk=args["step"])
    return approval_decide(step=step, by=_user(args["by"]), approve=True, comment=args.get("comment", "")).state


@operation("order_reserve")
def _order_reserve(args: dict) -> str:
    from foodflow.sales.models import SalesOrder
    from foodflow.sales.review import order_review_decide

    order = SalesOrder.objects.get(pk=args["order"])
    return order_review_decide(by=_user(args["by"]), order=order, decision="reserve").state


@operation("delivery_create")
def _delivery_create(args: dict) -> str:
    from datetime import date

    from foodflow.sales.fulfilment import delivery_create
    from foodflow.sales.models import SalesOrder

    order = SalesOrder.objects.get(pk=args["order"])
    planned = date.fromisoformat(args["planned_date"])
    return delivery_create(by=_user(args["by"]), order=order, planned_date=planned).number


@operation("delivery_ship")
def _delivery_ship(args: dict) -> str:
    from foodflow.sales.fulfilment import delivery_ship
    from foodflow.sales.models import Delivery

    return delivery_ship(by=_user(args["by"]), delivery=Delivery.objects.get(pk=args["delivery"])).state


@operation("payment_record")
def _payment_record(args: dict) -> str:
    from foodflow.crm.models import Customer
    from foodflow.sales.receivables import payment_record

    payment = payment_record(
        by=_user(args["by"]),
        customer=Customer.objects.get(pk=args["customer"]),
        amount=args["amount"],
        reference=args.get("reference", ""),
        auto_allocate=True,
    )
    return payment.number


@operation("import_run")
def _import_run(args: dict) -> str:
    from foodflow.imports.models import ImportJob
    from foodflow.imports.services import job_run

    return job_run(by=_user(args["by"]), job=ImportJob.objects.get(pk=args["job"])).state


# --- the child: count the writes, die after the N-th -------------------------------------------------


class KillAfterWrites:
    """An execute wrapper: counts the write statements the database carried out; after the
    ``kill_after``-th it writes the marker and SIGKILLs its own process."""

    def __init__(self, *, kill_after: int | None, marker: Path):
        self.kill_after = kill_after
        self.marker = marker
        self.statements: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if is_write(sql):
            self.statements.append(" ".join(sql.split())[:120])
            if len(self.statements) == self.kill_after:
                self.write_marker(killed=True)
                os.kill(os.getpid(), signal.SIGKILL)
        return result

    def write_marker(self, **facts) -> None:
        from django.db import connection

        raw = connection.connection
        backend_pid = raw.info.backend_pid if connection.vendor == "postgresql" and raw is not None else None
        marker = {
            "writes": len(self.statements),
            "statements": self.statements,
            "in_transaction": connection.in_atomic_block,
            "backend_pid": backend_pid,
            **facts,
        }
        # written through to the kernel before the kill: a SIGKILL does not lose it
        self.marker.write_text(json.dumps(marker), encoding="utf-8")


def _child(request: dict, marker: Path) -> int:
    from django.db import connection, transaction
    from django.test.utils import override_settings

    counter = KillAfterWrites(kill_after=request.get("kill_after"), marker=marker)
    function = OPERATIONS[request["operation"]]
    try:
        with override_settings(**request.get("settings", {})):
            if request.get("dry_run"):
                with transaction.atomic(), connection.execute_wrapper(counter):
                    result = function(request.get("args", {}))
                    transaction.set_rollback(True)
            else:
                with connection.execute_wrapper(counter):
                    result = function(request.get("args", {}))
    except Exception as error:
        counter.write_marker(killed=False, error=f"{type(error).__name__}: {error}", trace=traceback.format_exc())
        return 1
    counter.write_marker(killed=False, result=result)
    return 0


def _run(request: dict) -> dict:
    """Fork a child for the request; wait for it; answer with how it ended and its marker."""
    from django.db import connections

    connections.close_all()  # the child opens its own connection
    with tempfile.TemporaryDirectory(prefix="foodflow-crash-") as folder:
        marker = Path(folder) / "marker.json"
        pid = os.fork()
        if pid == 0:  # the child
            code = 1
            try:
                os.dup2(2, 1)  # stdout is the server's answer channel
                code = _child(request, marker)
            finally:
                connections.close_all()
                os._exit(code)
        _pid, status = os.waitpid(pid, 0)
        facts = json.loads(marker.read_text(encoding="utf-8")) if marker.exists() else {}
    return {
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "marker": facts,
    }


def serve() -> None:
    import importlib

    import django

    django.setup()
    # imported once here, not again in every child (a child would spend most of its life importing)
    for module in WARM_MODULES:
        importlib.import_module(module)
    from django.utils import translation

    translation.gettext("")  # loads the catalogues of the default language
    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(json.dumps(_run(json.loads(line))) + "\n")
            sys.stdout.flush()


# --- the test's side ------------------------------------------------------------------------------


@dataclass
class Outcome:
    operation: str
    kill_after: int | None
    signal: int | None
    exit_code: int | None
    marker: dict = field(default_factory=dict)

    @property
    def killed(self) -> bool:
        return self.signal == signal.SIGKILL and bool(self.marker.get("killed"))

    @property
    def writes(self) -> int:
        return int(self.marker.get("writes", 0))

    def describe(self) -> str:
        return (
            f"{self.operation} (kill after write {self.kill_after}): signal {self.signal}, exit {self.exit_code}, "
            f"{self.marker.get('error', '')} {self.marker.get('trace', '')}"
        )


class CrashServer:
    """The fork server in a process of its own, on the database ``database_url`` names."""

    def __init__(self, *, database_url: str, cwd: Path, timeout: float = 120):
        env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "foodflow.settings.test"}
        env.pop("DATABASE_REPLICA_URL", None)  # the child writes to the test database only
        self.timeout = timeout
        self.process = subprocess.Popen(
            [sys.executable, "-m", "foodflow.testing.crash"],
            env=env,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def call(
        self, operation_name: str, *, kill_after: int | None = None, dry_run: bool = False, settings=None, **args
    ) -> Outcome:
        request = {
            "operation": operation_name,
            "args": args,
            "kill_after": kill_after,
            "dry_run": dry_run,
            "settings": settings or {},
        }
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        ready, _w, _x = select.select([self.process.stdout], [], [], self.timeout)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.close()
            raise RuntimeError(f"the crash server gave no answer to {request} (status {self.process.returncode})")
        answer = json.loads(line)
        return Outcome(operation_name, kill_after, answer["signal"], answer["exit_code"], answer["marker"])

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()


def database_url() -> str:
    """The URL of the default database as this process uses it (the test database), for a child."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def sqlite_file_stand_in(path: Path):
    """SQLite's test database lives in memory, where no second process reaches it: within the
    block a file copy of it (at ``path``) is the default database. The in-memory database is
    left as it was and is the default again afterwards."""
    import sqlite3

    from django.db import DEFAULT_DB_ALIAS, connections

    original = connections[DEFAULT_DB_ALIAS]
    original.ensure_connection()
    with closing(sqlite3.connect(path)) as target:
        original.connection.backup(target)
    stand_in = type(original)({**original.settings_dict, "NAME": str(path)}, DEFAULT_DB_ALIAS)
    connections[DEFAULT_DB_ALIAS] = stand_in
    try:
        yield path
    finally:
        stand_in.close()
        connections[DEFAULT_DB_ALIAS] = original


def snapshot(*, ignore: dict[str, set[str]] | None = None) -> dict[str, list[tuple]]:
    """Every row of every table of the default database (SQLite's id counters too), sorted; the
    columns named in ``ignore`` (table → columns) are left out."""
    from django.db import connection

    ignore = ignore or {}
    tables = sorted(connection.introspection.table_names(include_views=False))
    if connection.vendor == "sqlite":
        tables.append("sqlite_sequence")  # AUTOINCREMENT counters: rolled back with the rows
    result = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - a table's name
            columns = [column[0] for column in cursor.description]
            keep = [i for i, name in enumerate(columns) if name not in ignore.get(table, ())]
            result[table] = sorted((tuple(row[i] for i in keep) for row in cursor.fetchall()), key=repr)
    return result


def snapshot_difference(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> dict[str, dict]:
    """Per table that differs: the rows only before and only after (the first few)."""
    difference = {}
    for table in sorted(set(before) | set(after)):
        old, new = before.get(table, []), after.get(table, [])
        if old != new:
            gone = [row for row in old if row not in new]
            added = [row for row in new if row not in old]
            difference[table] = {
                "gone": [repr(row)[:300] for row in gone[:3]],
                "added": [repr(row)[:300] for row in added[:3]],
            }
    return difference


if __name__ == "__main__":
    serve()
