"""The append-only, hash-chained audit log.

Every state change, permission change, export and login writes one entry, inside the same
transaction as the change it records: either both are saved or neither is.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from .models import AuditEntry, AuditHead

GENESIS_HASH = "0" * 64


def object_label(obj: models.Model) -> str:
    return obj._meta.label_lower


def _normalise(changes: dict | None) -> dict:
    # Round-trip through JSON so that what is hashed is exactly what the database gives back.
    return json.loads(json.dumps(changes or {}, cls=DjangoJSONEncoder))


def entry_hash(entry: AuditEntry) -> str:
    payload = {
        "seq": entry.seq,
        "at": entry.at.astimezone(UTC).isoformat(),
        "actor": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "changes": entry.changes,
        "ip": entry.ip_address,
        "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def audit_head_lock() -> None:
    """Lock the chain's head for the rest of the transaction, as ``audit_record`` would. A writer
    that will append an entry and also lock rows other writers share (the sales summaries) takes
    the head FIRST: if some took the head first and others those rows, two of them could wait on
    each other in a cycle (PostgreSQL would kill one as a deadlock)."""
    AuditHead.objects.select_for_update().get_or_create(pk=1)


def audit_record(
    *,
    action: str,
    actor: Any = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: object = "",
    object_repr: str = "",
    changes: dict | None = None,
    ip_address: str | None = None,
) -> AuditEntry:
    """Append one entry to the chain. ``actor`` is a user or None for the system."""
    if obj is not None:
        object_type = object_type or object_label(obj)
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    actor_user = actor if getattr(actor, "is_authenticated", False) else None
    # no savepoint: a failed append must fail the caller's whole transaction anyway
    with transaction.atomic(savepoint=False):
        # the head row is made by a migration; get_or_create also survives a flushed test database
        head, _created = AuditHead.objects.select_for_update().get_or_create(pk=1)
        entry = AuditEntry(
            seq=head.seq + 1,
            at=timezone.now(),
            actor=actor_user,
            actor_name=actor_user.get_username() if actor_user else "system",
            action=action,
            object_type=object_type,
            object_id=str(object_id or ""),
            object_repr=str(object_repr)[:200],
            changes=_normalise(changes),
            ip_address=ip_address,
            prev_hash=head.hash,
        )
        entry.hash = entry_hash(entry)
        entry.save(force_insert=True)
        head.seq, head.hash = entry.seq, entry.hash
        head.save(update_fields=["seq", "hash"])
    return entry


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    broken_id: int | None = None
    reason: str = ""


def audit_verify(*, chunk_size: int = 2000) -> ChainReport:
    """Walk the chain from the start; name the first entry that does not hold."""
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    entries = AuditEntry.objects.order_by("seq").iterator(chunk_size=chunk_size)
    for entry in entries:
        if entry.seq != expected_seq:
            return ChainReport(False, checked, expected_seq, None, f"entry #{expected_seq} is missing")
        if entry.prev_hash != expected_prev:
            return ChainReport(False, checked, entry.seq, entry.pk, "previous hash does not match")
        if entry_hash(entry) != entry.hash:
            return ChainReport(False, checked, entry.seq, entry.pk, "content does not match its hash")
        expected_prev, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
    head = AuditHead.objects.filter(pk=1).first() or AuditHead(seq=0, hash=GENESIS_HASH)
    if head.seq != checked or head.hash != expected_prev:
        return ChainReport(False, checked, checked + 1, None, f"entries after #{checked} are missing")
    return ChainReport(True, checked)
