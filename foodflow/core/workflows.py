"""State machines with declared transition tables.

Each document type declares its ``Workflow``: states, and which action leads from which
states to which. ``transition()`` is the only way a state changes: it locks the row, checks
the table, the permission and the caller's business rule inside the transaction, saves,
writes an audit entry and a stage event, and runs side effects once the transaction commits.
The process map of the analytics area draws itself from the same tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .audit import audit_head_lock, audit_record, object_label
from .errors import PermissionDeniedError, TransitionNotAllowed
from .models import StageEvent
from .permissions import acting_user


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    label: Any = ""
    permission: str | None = None


@dataclass
class Workflow:
    name: str
    states: dict[str, Any]
    initial: str
    transitions: list[Transition]
    state_field: str = "state"
    _by_action: dict[str, Transition] = field(init=False, repr=False)
    # called inside the transaction of every transition: (document, from state, to state)
    listeners: list[Callable[[models.Model, str, str], None]] = field(default_factory=list, repr=False)

    def __post_init__(self):
        self._by_action = {}
        for item in self.transitions:
            unknown = {*item.sources, item.target} - set(self.states)
            if unknown:
                raise ValueError(f"{self.name}.{item.action} names unknown states {sorted(unknown)}")
            if item.action in self._by_action:
                raise ValueError(f"{self.name} declares {item.action} twice")
            self._by_action[item.action] = item
        if self.initial not in self.states:
            raise ValueError(f"{self.name} starts in unknown state {self.initial}")
        REGISTRY[self.name] = self

    def listen(self, listener: Callable[[models.Model, str, str], None]) -> None:
        """Run ``listener(document, from_state, to_state)`` in the transaction of each move (the
        sales figures' summary tables change in the same commit as the order)."""
        if listener not in self.listeners:
            self.listeners.append(listener)

    def choices(self) -> list[tuple[str, Any]]:
        return list(self.states.items())

    def get(self, action: str) -> Transition:
        try:
            return self._by_action[action]
        except KeyError:
            raise TransitionNotAllowed(
                _("Unknown action “%(action)s”."), code="unknown_action", action=action
            ) from None

    def available(self, state: str) -> list[Transition]:
        return [item for item in self.transitions if state in item.sources]

    def edges(self) -> Iterable[tuple[str, str, str]]:
        for item in self.transitions:
            for source in item.sources:
                yield source, item.target, item.action


REGISTRY: dict[str, Workflow] = {}


def workflow_started(*, workflow: Workflow, obj: models.Model, by=None) -> StageEvent:
    """Record that a new document entered its first state (call where it is created)."""
    return StageEvent.objects.create(
        workflow=workflow.name,
        object_type=object_label(obj),
        object_id=str(obj.pk),
        action="create",
        from_state="",
        to_state=getattr(obj, workflow.state_field),
        by=acting_user(by),
    )


def transition(
    *,
    workflow: Workflow,
    obj: models.Model,
    action: str,
    by=None,
    reason: str = "",
    check: Callable[[models.Model], None] | None = None,
    apply: Callable[[models.Model], Iterable[str] | None] | None = None,
    after_commit: Iterable[Callable[[models.Model], None]] = (),
    changes: dict | None = None,
) -> models.Model:
    """Move ``obj`` by ``action``; returns the locked, updated instance.

    ``check`` raises a DomainError to refuse; ``apply`` sets further fields and returns their
    names; ``after_commit`` callables (notifications, tasks) run only if the change commits.
    """
    step = workflow.get(action)
    model = type(obj)
    field_names = {f.name for f in model._meta.concrete_fields}
    with transaction.atomic():
        locked = model._default_manager.select_for_update().get(pk=obj.pk)
        current = getattr(locked, workflow.state_field)
        if current not in step.sources:
            raise TransitionNotAllowed(
                code="transition_not_allowed",
                state=workflow.states[current],
                action=step.label or action,
            )
        if step.permission and not (by is not None and by.has_perm(step.permission, locked)):
            raise PermissionDeniedError()
        if check is not None:
            check(locked)
        setattr(locked, workflow.state_field, step.target)
        fields = {workflow.state_field}
        if apply is not None:
            fields.update(apply(locked) or ())
        for name, value in (("updated_by", acting_user(by)), ("updated_at", timezone.now())):
            if name in field_names:  # (hasattr would load the related user)
                setattr(locked, name, value)
                fields.add(name)
        locked.save(update_fields=sorted(fields))
        if workflow.listeners:
            audit_head_lock()  # the head before the rows listeners share (see audit_head_lock)
        for listener in workflow.listeners:
            listener(locked, current, step.target)

        label = object_label(locked)
        now = timezone.now()
        previous = StageEvent.objects.filter(object_type=label, object_id=str(locked.pk)).order_by("-at", "-id").first()
        StageEvent.objects.create(
            workflow=workflow.name,
            object_type=label,
            object_id=str(locked.pk),
            action=action,
            from_state=current,
            to_state=step.target,
            at=now,
            by=acting_user(by),
            seconds_in_previous=int((now - previous.at).total_seconds()) if previous else None,
        )
        audit_record(
            action=f"{workflow.name}.{action}",
            actor=by,
            obj=locked,
            changes={
                workflow.state_field: [current, step.target],
                **({"reason": reason} if reason else {}),
                **(changes or {}),
            },
        )
        for effect in after_commit:
            transaction.on_commit(partial(effect, locked))
    # keep the caller's instance in step with what was saved
    for name in fields:
        setattr(obj, name, getattr(locked, name))
    return locked
