from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from foodflow.core.audit import audit_record, audit_verify
from foodflow.core.models import AuditEntry
from foodflow.testing.concurrency import run_concurrently


@pytest.fixture
def chain(db):
    return [
        audit_record(
            action=f"test.step{i}",
            object_type="test.thing",
            object_id=i,
            changes={"amount": "12.50", "note": "价格调整", "n": i},
        )
        for i in range(1, 8)
    ]


def test_a_clean_chain_verifies(chain):
    report = audit_verify()
    assert report.ok and report.checked == 7
    assert chain[0].prev_hash == "0" * 64
    assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(chain))


def test_an_edit_made_with_raw_sql_is_pinpointed(chain):
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET object_id = %s WHERE seq = %s", ["999", 4])
    report = audit_verify()
    assert not report.ok
    assert report.broken_seq == 4 and report.broken_id == chain[3].pk
    assert "content" in report.reason


def test_a_deleted_entry_is_reported(chain):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE seq = 3")
    report = audit_verify()
    assert (report.ok, report.broken_seq) == (False, 3)


def test_a_removed_tail_is_reported(chain):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE seq >= 6")
    report = audit_verify()
    assert (report.ok, report.checked, report.broken_seq) == (False, 5, 6)


def test_the_command_says_ok_or_names_the_broken_entry(chain, capsys):
    call_command("audit", "verify")
    assert "OK: 7 entries" in capsys.readouterr().out
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEntry._meta.db_table} SET changes = %s WHERE seq = 2", ['{"n": 1}'])
    with pytest.raises(CommandError, match=r"BROKEN at entry #2 \(id \d+\)"):
        call_command("audit", "verify")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_unbroken_chain():
    def write(index: int):
        for step in range(5):
            audit_record(action="test.concurrent", object_type="test.thing", object_id=f"{index}-{step}")

    results = run_concurrently(write, [(i,) for i in range(20)])
    assert not any(isinstance(r, Exception) for r in results)
    report = audit_verify()
    assert report.ok and report.checked == AuditEntry.objects.count() == 100
