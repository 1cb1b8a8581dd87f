"""Every table's rows, taken once and put back: the tests' demo company is seeded through the
services once per test run, and each further test module gets the same rows back in a fraction of
a second (a few thousand rows) instead of seeding again (tens of seconds on a loaded machine).

Both work inside the caller's transaction. Foreign keys are deferred on both databases (Django
creates them DEFERRABLE INITIALLY DEFERRED), so the tables are emptied and filled in any order."""

from __future__ import annotations

import datetime
import decimal

from django.db import connection

KEEP = {"django_migrations"}


def _tables() -> list[str]:
    with connection.cursor() as cursor:
        return sorted(set(connection.introspection.table_names(cursor)) - KEEP)


def _stored(value):
    return str(value) if isinstance(value, datetime.date | datetime.time | decimal.Decimal) else value


def tables_snapshot() -> dict[str, object]:
    """Every table's rows as the database sees them now (in the current transaction)."""
    quote = connection.ops.quote_name
    snapshot: dict[str, object] = {}
    with connection.cursor() as cursor:
        for table in _tables():
            if connection.vendor == "postgresql":
                # COPY's text form round-trips every type exactly (json, arrays, intervals…)
                with cursor.cursor.copy(f"COPY {quote(table)} TO STDOUT") as copy:
                    snapshot[table] = b"".join(bytes(block) for block in copy)
            else:
                cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608 (names from the catalogue)
                columns = [column[0] for column in cursor.description]
                # Django's SQLite connection reads dates, times and decimals as Python values:
                # written back as the text they were stored as
                rows = [tuple(_stored(value) for value in row) for row in cursor.fetchall()]
                snapshot[table] = (columns, rows)
    return snapshot


def tables_restore(snapshot: dict[str, object]) -> None:
    """Make every table hold exactly the snapshot's rows (tables made since are emptied)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in _tables():
            cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608 (names from the catalogue)
        for table, rows in snapshot.items():
            if connection.vendor == "postgresql":
                if rows:
                    with cursor.cursor.copy(f"COPY {quote(table)} FROM STDIN") as copy:
                        copy.write(rows)
            else:
                columns, values = rows
                if values:
                    names = ", ".join(quote(column) for column in columns)
                    marks = ", ".join("?" * len(columns))
                    insert = f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})"  # noqa: S608 (catalogue)
                    cursor.cursor.executemany(insert, values)
        if connection.vendor == "postgresql":
            # ids taken by the rows put back must not be handed out again
            for table in snapshot:
                for sequence in connection.introspection.get_sequences(cursor, table):
                    column = sequence["column"]
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence(%s, %s), "  # noqa: S608 (names from the catalogue)
                        f"GREATEST((SELECT MAX({quote(column)}) FROM {quote(table)}), "
                        f"(SELECT last_value FROM {quote(sequence['name'])})))",
                        [table, column],
                    )
