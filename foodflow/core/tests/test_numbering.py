from datetime import date

import pytest
from django.db import transaction

from foodflow.core.models import DocumentSequence
from foodflow.core.numbering import number_next
from foodflow.testing.concurrency import run_concurrently
from foodflow.testing.models import SampleDocument


@pytest.mark.django_db
def test_numbers_follow_each_other_per_type_and_year():
    with transaction.atomic():
        first = number_next(doc_type="SO", on=date(2026, 3, 1))
        second = number_next(doc_type="SO", on=date(2026, 12, 31))
        other_type = number_next(doc_type="QT", on=date(2026, 3, 1))
        next_year = number_next(doc_type="SO", on=date(2027, 1, 1))
    assert (first, second, other_type, next_year) == (
        "SO-2026-000001",
        "SO-2026-000002",
        "QT-2026-000001",
        "SO-2027-000001",
    )


@pytest.mark.django_db
def test_a_rolled_back_document_gives_its_number_back():
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        SampleDocument.objects.create(number=number_next(doc_type="SO", on=date(2026, 5, 1)))
        raise Boom
    with transaction.atomic():
        assert number_next(doc_type="SO", on=date(2026, 5, 1)) == "SO-2026-000001"


@pytest.mark.django_db(transaction=True)
def test_numbering_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        number_next(doc_type="SO")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_threads_get_gapless_unique_numbers():
    """50 threads save documents at once; every fifth rolls back after taking a number.
    The committed numbers must be exactly 1..40: unique and without a gap."""

    def save_document(index: int):
        with transaction.atomic():
            number = number_next(doc_type="SO", on=date(2026, 6, 1))
            SampleDocument.objects.create(number=number)
            if index % 5 == 0:
                raise RuntimeError("rollback")
        return number

    results = run_concurrently(save_document, [(i,) for i in range(50)])
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 10 and all(str(r) == "rollback" for r in refused)
    numbers = sorted(int(n.rsplit("-", 1)[1]) for n in SampleDocument.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 41))
    assert DocumentSequence.objects.get(doc_type="SO", year=2026).last_number == 40
