"""Satisfaction surveys answered through a tokenised link without login: one answer per
token, until the link expires. The link carries a random token; the database keeps only its
SHA-256, so a forged or guessed token matches nothing. A refused answer stores nothing."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodflow.core.audit import audit_record
from foodflow.core.errors import DomainError, ValidationFailed

from .models import Survey, SurveyInvitation, SurveyResponse


class SurveyLinkRefused(DomainError):
    code = "survey_link_refused"
    default_message = gettext_lazy("This survey link cannot be used.")
    status = 410


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def survey_invite(*, survey: Survey, customer, delivery=None, complaint=None, contact_name: str = "") -> tuple:
    """A new invitation and the raw token for its link (shown or sent once, never stored)."""
    if not survey.is_active:
        raise ValidationFailed(_("This survey is not active."), code="survey_inactive")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation = SurveyInvitation.objects.create(
        survey=survey,
        token_hash=_hash(token),
        customer=customer,
        delivery=delivery,
        complaint=complaint,
        contact_name=contact_name[:64],
        sent_at=now,
        expires_at=now + timedelta(days=survey.valid_days),
    )
    return invitation, token


def invitation_for(token: str) -> SurveyInvitation:
    """The invitation a link's token opens; refused when forged, expired or answered."""
    invitation = (
        SurveyInvitation.objects.select_related("survey", "customer").filter(token_hash=_hash(token or "")).first()
    )
    _check(invitation)
    return invitation


def _check(invitation: SurveyInvitation | None) -> None:
    if invitation is None:
        raise SurveyLinkRefused(_("This survey link is not valid."), code="survey_token_invalid")
    if invitation.answered_at is not None:
        raise SurveyLinkRefused(_("This survey was answered already. Thank you!"), code="survey_answered")
    if invitation.expires_at <= timezone.now():
        raise SurveyLinkRefused(_("This survey link has expired."), code="survey_expired")


def survey_answer(*, token: str, csat, nps, answers: dict | None = None, comment: str = "") -> SurveyResponse:
    """Store the one answer of the link's token."""
    errors = {}
    try:
        csat = int(csat)
        if not 1 <= csat <= 5:
            raise ValueError
    except (TypeError, ValueError):
        errors["csat"] = [_("Choose from 1 to 5.")]
    try:
        nps = int(nps)
        if not 0 <= nps <= 10:
            raise ValueError
    except (TypeError, ValueError):
        errors["nps"] = [_("Choose from 0 to 10.")]
    with transaction.atomic():
        invitation = SurveyInvitation.objects.select_for_update().filter(token_hash=_hash(token or "")).first()
        _check(invitation)
        if errors:
            raise ValidationFailed(_("Answer the two questions."), code="survey_incomplete", fields=errors)
        questions = [str(q) for q in invitation.survey.questions]
        given = answers or {}
        kept = {question: str(given.get(question, ""))[:2000] for question in questions}
        response = SurveyResponse.objects.create(
            invitation=invitation, csat=csat, nps=nps, answers=kept, comment=(comment or "").strip()[:4000]
        )
        invitation.answered_at = timezone.now()
        invitation.save(update_fields=["answered_at"])
        audit_record(action="survey.answered", actor=None, obj=invitation, changes={"csat": csat, "nps": nps})
    return response
