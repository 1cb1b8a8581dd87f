"""Gapless document numbers per type and year: SO-2026-000123.

The counter row is locked for the rest of the caller's transaction, so concurrent callers
queue; if the caller rolls back, its number goes back too. Call it inside the transaction
that saves the document.
"""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import DocumentSequence


def number_next(*, doc_type: str, on: date | None = None, width: int = 6) -> str:
    return numbers_take(doc_type=doc_type, year=(on or timezone.localdate()).year, count=1, width=width)[0]


def numbers_take(*, doc_type: str, year: int, count: int, width: int = 6) -> list[str]:
    """``count`` consecutive numbers of one type and year (a bulk load's block), as ``number_next``
    would give them one by one."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("numbers must be taken inside the transaction that saves the documents")
    sequence = _locked_sequence(doc_type, year)
    first = sequence.last_number + 1
    sequence.last_number += count
    sequence.save(update_fields=["last_number"])
    return [f"{doc_type}-{year}-{n:0{width}d}" for n in range(first, first + count)]


def numbers_move_past(*, doc_type: str, year: int, last: int) -> None:
    """A number of this type and year came from elsewhere (a migrated document that kept its
    number): the counter moves past it, so that ``number_next`` never gives it again."""
    sequence = _locked_sequence(doc_type, year)
    if sequence.last_number < last:
        sequence.last_number = last
        sequence.save(update_fields=["last_number"])


def _locked_sequence(doc_type: str, year: int) -> DocumentSequence:
    found = DocumentSequence.objects.select_for_update().filter(doc_type=doc_type, year=year).first()
    if found:
        return found
    # First number of the year: two callers may race to create the row; the loser's insert
    # fails on the unique constraint inside its savepoint and it locks the winner's row.
    try:
        with transaction.atomic():
            DocumentSequence.objects.create(doc_type=doc_type, year=year)
    except IntegrityError:
        pass
    return DocumentSequence.objects.select_for_update().get(doc_type=doc_type, year=year)
