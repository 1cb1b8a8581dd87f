import pytest
from django.db import transaction

from foodflow.core.errors import PermissionDeniedError, TransitionNotAllowed, ValidationFailed
from foodflow.core.models import AuditEntry, StageEvent
from foodflow.core.workflows import transition, workflow_started
from foodflow.testing.concurrency import run_concurrently
from foodflow.testing.models import SAMPLE_FLOW, SampleDocument


@pytest.fixture
def approver(make_user):
    from foodflow.accounts.models import Role

    role = Role.objects.create(code="sample_approver", name="审批人", permissions=["testing.approve_sample"])
    user = make_user()
    user.roles.add(role)
    return user


@pytest.fixture
def submitted_document(rep):
    document = SampleDocument.objects.create(number="T-1", owner=rep)
    workflow_started(workflow=SAMPLE_FLOW, obj=document, by=rep)
    return transition(workflow=SAMPLE_FLOW, obj=document, action="submit", by=rep)


def test_a_transition_saves_the_state_with_an_audit_entry_and_a_stage_event(submitted_document, approver):
    transition(workflow=SAMPLE_FLOW, obj=submitted_document, action="approve", by=approver, reason="ok")
    submitted_document.refresh_from_db()
    assert submitted_document.state == "approved"
    assert submitted_document.updated_by == approver
    entry = AuditEntry.objects.filter(action="sample.approve").get()
    assert entry.changes == {"state": ["submitted", "approved"], "reason": "ok"}
    assert entry.actor == approver and entry.object_id == str(submitted_document.pk)
    events = list(StageEvent.objects.filter(object_id=str(submitted_document.pk)).values_list("from_state", "to_state"))
    assert events == [("", "draft"), ("draft", "submitted"), ("submitted", "approved")]
    assert StageEvent.objects.get(to_state="approved").seconds_in_previous is not None


def test_an_action_not_in_the_table_for_the_state_is_refused(submitted_document, rep):
    with pytest.raises(TransitionNotAllowed) as error:
        transition(workflow=SAMPLE_FLOW, obj=submitted_document, action="submit", by=rep)
    assert error.value.code == "transition_not_allowed" and error.value.status == 409
    with pytest.raises(TransitionNotAllowed) as error:
        transition(workflow=SAMPLE_FLOW, obj=submitted_document, action="teleport", by=rep)
    assert error.value.code == "unknown_action"


def test_a_transition_needing_a_permission_refuses_users_without_it(submitted_document, rep):
    with pytest.raises(PermissionDeniedError):
        transition(workflow=SAMPLE_FLOW, obj=submitted_document, action="approve", by=rep)
    submitted_document.refresh_from_db()
    assert submitted_document.state == "submitted"


def test_a_refusing_rule_leaves_nothing_saved(submitted_document, approver):
    audit_before, events_before = AuditEntry.objects.count(), StageEvent.objects.count()

    def over_limit(document):
        raise ValidationFailed(code="over_limit")

    with pytest.raises(ValidationFailed):
        transition(workflow=SAMPLE_FLOW, obj=submitted_document, action="approve", by=approver, check=over_limit)
    submitted_document.refresh_from_db()
    assert submitted_document.state == "submitted"
    assert (AuditEntry.objects.count(), StageEvent.objects.count()) == (audit_before, events_before)


def test_side_effects_run_only_when_the_change_commits(
    submitted_document, approver, django_capture_on_commit_callbacks
):
    ran = []
    with django_capture_on_commit_callbacks(execute=True):
        transition(
            workflow=SAMPLE_FLOW,
            obj=submitted_document,
            action="approve",
            by=approver,
            apply=lambda d: (setattr(d, "approved_note", "fine"), ["approved_note"])[1],
            after_commit=[lambda d: ran.append(d.state)],
        )
    assert ran == ["approved"]
    submitted_document.refresh_from_db()
    assert submitted_document.approved_note == "fine"

    ran.clear()
    other = SampleDocument.objects.create(number="T-2")
    with pytest.raises(RuntimeError), transaction.atomic():
        transition(workflow=SAMPLE_FLOW, obj=other, action="cancel", after_commit=[lambda d: ran.append(d.state)])
        raise RuntimeError
    assert ran == []


def test_a_table_naming_an_unknown_state_is_rejected_when_declared():
    from foodflow.core.workflows import Transition, Workflow

    with pytest.raises(ValueError, match="unknown states"):
        Workflow(name="broken", states={"a": "a"}, initial="a", transitions=[Transition("go", ("a",), "b")])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_once_approve_only_once(make_user):
    from foodflow.accounts.models import Role

    role = Role.objects.create(code="sample_approver", name="审批人", permissions=["testing.approve_sample"])
    approvers = [make_user() for _ in range(8)]
    for user in approvers:
        user.roles.add(role)
    document = SampleDocument.objects.create(number="T-9", state="submitted")

    def approve(user):
        transition(workflow=SAMPLE_FLOW, obj=SampleDocument.objects.get(pk=document.pk), action="approve", by=user)
        return "approved"

    results = run_concurrently(approve, [(user,) for user in approvers])
    assert results.count("approved") == 1
    assert sum(isinstance(r, TransitionNotAllowed) for r in results) == 7
    assert AuditEntry.objects.filter(action="sample.approve").count() == 1
