"""Satisfaction surveys answered through a tokenised link without login: one answer per
token, until the link expires. The link carries a random token; the database keeps only its
SHA-256, so a forged or guessed token matches nothing. A refused answer stores nothing.

The service desk writes the questionnaires (``survey_save``, ``survey_set_active``) and may
send one by hand (``survey_send_manual``); deliveries and closed complaints send theirs
(``survey_send``). Whatever sends it, a customer is asked at most once a month."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodflow.accounts.permissions import in_scope
from foodflow.core.audit import audit_record
from foodflow.core.errors import DomainError, PermissionDeniedError, ValidationFailed
from foodflow.core.permissions import acting_user, require_unless_system
from foodflow.crm.models import Customer

from .models import Survey, SurveyInvitation, SurveyResponse
from .permissions import MANAGE, can_manage_surveys


class SurveyLinkRefused(DomainError):
    code = "survey_link_refused"
    default_message = gettext_lazy("This survey link cannot be used.")
    status = 410


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def survey_invite(
    *, survey: Survey, customer, delivery=None, complaint=None, contact_name: str = "", sent_to: str = ""
) -> tuple:
    """A new invitation and the raw token for its link (shown or sent once, never stored)."""
    if not survey.is_active:
        message = _("This survey is not active.")
        raise ValidationFailed(message, code="survey_inactive", fields={"survey": [message]})
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation = SurveyInvitation.objects.create(
        survey=survey,
        token_hash=_hash(token),
        customer=customer,
        delivery=delivery,
        complaint=complaint,
        contact_name=contact_name[:64],
        sent_to=sent_to[:254],
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
        from .revisits import revisit_after_survey

        revisit_after_survey(invitation.customer, nps)
    return response


# --- sending ---------------------------------------------------------------------------------------

CUSTOMER_LANGUAGE = "zh-hans"
# a customer is asked at most once in this many days, whatever triggers it
QUIET_DAYS = 30
AFTER_DELIVERY_WITHIN_DAYS = 7


def survey_link(token: str) -> str:
    return settings.FOODFLOW_PUBLIC_URL + reverse("service_public:survey", args=[token])


def _contact(customer):
    contacts = customer.contacts.exclude(email="")
    return contacts.filter(is_primary=True).first() or contacts.first()


def _asked_since(customer) -> SurveyInvitation | None:
    """The invitation that keeps the customer quiet now (sent in the last ``QUIET_DAYS``)."""
    since = timezone.now() - timedelta(days=QUIET_DAYS)
    return SurveyInvitation.objects.filter(customer=customer, sent_at__gte=since).order_by("-sent_at").first()


def _lock_customer(customer) -> None:
    # Two senders (the daily job and a closing complaint, or two clicks) must not both find
    # the customer quiet and both ask: the customer's row serialises them. NO KEY UPDATE on
    # PostgreSQL, so orders and deliveries that reference the customer are not blocked.
    Customer.objects.select_for_update(no_key=True).filter(pk=customer.pk).values_list("pk").first()


def _mail_link(*, contact, link: str, invitation: SurveyInvitation) -> None:
    """E-mail the link to the contact once the transaction commits (in the customer's language)."""
    with translation.override(CUSTOMER_LANGUAGE):
        subject = _("How did we do? A two-minute survey from %(company)s") % {"company": settings.FOODFLOW_COMPANY_NAME}
        body = _(
            "Dear %(name)s,\n\nthank you for your business. Please tell us how satisfied you are: "
            "%(link)s\n\nThe link works once and until %(until)s."
        ) % {"name": contact.name, "link": link, "until": timezone.localtime(invitation.expires_at).date()}
    recipient = contact.email
    transaction.on_commit(
        lambda: send_mail(
            subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[recipient]
        )
    )


def survey_send(*, trigger: str, customer, delivery=None, complaint=None) -> SurveyInvitation | None:
    """Invite the customer's primary contact by e-mail to the active survey of ``trigger``;
    nothing when there is no such survey, no contact with an e-mail, or the customer was asked
    in the last month. The e-mail goes after the transaction commits."""
    survey = Survey.objects.filter(trigger=trigger, is_active=True).order_by("-id").first()
    if survey is None:
        return None
    contact = _contact(customer)
    if contact is None:
        return None
    with transaction.atomic():
        _lock_customer(customer)
        if _asked_since(customer) is not None:
            return None
        invitation, token = survey_invite(
            survey=survey,
            customer=customer,
            delivery=delivery,
            complaint=complaint,
            contact_name=contact.name,
            sent_to=contact.email,
        )
        _mail_link(contact=contact, link=survey_link(token), invitation=invitation)
        audit_record(
            action="survey.sent",
            actor=None,
            obj=invitation,
            changes={"survey": survey.name, "customer": customer.code, "trigger": trigger},
        )
    return invitation


def surveys_send_after_delivery(*, on=None) -> int:
    """Invite customers whose goods arrived in the last week (one invitation per customer
    and month, see ``survey_send``). Safe to run daily."""
    from foodflow.sales.models import Delivery

    on = on or timezone.localdate()
    sent = 0
    recent = (
        Delivery.objects.filter(
            state="received", received_on__gte=on - timedelta(days=AFTER_DELIVERY_WITHIN_DAYS), received_on__lte=on
        )
        .select_related("customer")
        .order_by("customer_id", "-received_on", "-id")
    )
    seen = set()
    for delivery in recent:
        if delivery.customer_id in seen:
            continue
        seen.add(delivery.customer_id)
        with transaction.atomic():
            if survey_send(trigger=Survey.Trigger.DELIVERY, customer=delivery.customer, delivery=delivery):
                sent += 1
    return sent


# --- the service desk's side -------------------------------------------------------------------------

MAX_QUESTIONS = 10
MAX_QUESTION_LENGTH = 200
MAX_VALID_DAYS = 365


def _clean_questions(questions) -> tuple[list[str], list[str]]:
    """The free questions without blanks, and what is wrong with them."""
    if isinstance(questions, str) or not isinstance(questions, list | tuple):
        return [], [_("Give the questions as a list.")]
    cleaned = [str(question).strip() for question in questions if str(question or "").strip()]
    errors = []
    if len(cleaned) > MAX_QUESTIONS:
        errors.append(_("At most %(max)s free questions.") % {"max": MAX_QUESTIONS})
    for number, question in enumerate(cleaned, start=1):
        if len(question) > MAX_QUESTION_LENGTH:
            errors.append(
                _("Question %(number)s is longer than %(max)s characters.")
                % {"number": number, "max": MAX_QUESTION_LENGTH}
            )
    # answers are stored under the question's text: two equal questions would share one answer
    if len(set(cleaned)) != len(cleaned):
        errors.append(_("Each question may be asked once."))
    return cleaned, errors


def survey_save(
    *,
    by,
    survey: Survey | None = None,
    name: str,
    trigger: str,
    questions,
    valid_days: int = 14,
    is_active: bool | None = None,
) -> Survey:
    """Create a survey, or change one (``survey`` given). Besides CSAT and NPS a survey asks at
    most ``MAX_QUESTIONS`` free questions of at most ``MAX_QUESTION_LENGTH`` characters each.
    Answers already given keep the questions they answered (they are stored with them)."""
    require_unless_system(by, can_manage_surveys)
    errors: dict[str, list] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Name the survey.")]
    elif len(name) > 120:
        errors["name"] = [_("At most 120 characters.")]
    if trigger not in Survey.Trigger.values:
        errors["trigger"] = [_("Choose when the survey is sent.")]
    cleaned, question_errors = _clean_questions(questions)
    if question_errors:
        errors["questions"] = question_errors
    try:
        valid_days = int(valid_days)
        if not 1 <= valid_days <= MAX_VALID_DAYS:
            raise ValueError
    except (TypeError, ValueError):
        errors["valid_days"] = [_("From 1 to %(max)s days.") % {"max": MAX_VALID_DAYS}]
    if errors:
        raise ValidationFailed(_("Correct the survey."), code="survey_invalid", fields=errors)
    values = {"name": name, "trigger": trigger, "questions": cleaned, "valid_days": valid_days}
    with transaction.atomic():
        if survey is None:
            survey = Survey.objects.create(
                **values, is_active=True if is_active is None else bool(is_active), created_by=acting_user(by)
            )
            audit_record(action="survey.created", actor=by, obj=survey, changes=values)
            return survey
        locked = Survey.objects.select_for_update().get(pk=survey.pk)
        changed = {key: value for key, value in values.items() if getattr(locked, key) != value}
        if is_active is not None and locked.is_active != bool(is_active):
            changed["is_active"] = bool(is_active)
        if changed:
            for key, value in changed.items():
                setattr(locked, key, value)
            locked.updated_by = acting_user(by)
            locked.save(update_fields=[*changed, "updated_by", "updated_at"])
            audit_record(action="survey.changed", actor=by, obj=locked, changes=changed)
    return locked


def survey_set_active(*, by, survey: Survey, active: bool) -> Survey:
    """Switch a survey on or off: an inactive survey is never sent, its open links still work."""
    require_unless_system(by, can_manage_surveys)
    with transaction.atomic():
        locked = Survey.objects.select_for_update().get(pk=survey.pk)
        if locked.is_active != bool(active):
            locked.is_active, locked.updated_by = bool(active), acting_user(by)
            locked.save(update_fields=["is_active", "updated_by", "updated_at"])
            audit_record(
                action="survey.activated" if active else "survey.deactivated",
                actor=by,
                obj=locked,
                changes={"is_active": bool(active)},
            )
    return locked


@dataclass(frozen=True)
class ManualInvitation:
    """A survey sent by hand: the link is here once (the database keeps only its hash)."""

    invitation: SurveyInvitation
    link: str
    emailed_to: str  # "" when the customer has no contact with an e-mail


def survey_send_manual(*, by, survey: Survey, customer, email: bool = True) -> ManualInvitation:
    """Invite a customer by hand to an active survey. The link is returned to be given to the
    customer (read out, sent by WeChat); it is also e-mailed to the primary contact with an
    e-mail, unless ``email`` is false. The monthly quiet period holds here too."""
    require_unless_system(by, can_manage_surveys)
    if by is not None and not in_scope(by, MANAGE, owner=customer.owner, unit=customer.region):
        raise PermissionDeniedError()
    if customer.status == Customer.Status.BLOCKED:
        raise ValidationFailed(
            _("The customer is blocked."), code="customer_blocked", fields={"customer": [_("The customer is blocked.")]}
        )
    contact = _contact(customer)
    with transaction.atomic():
        _lock_customer(customer)
        asked = _asked_since(customer)
        if asked is not None:
            message = _("%(customer)s was asked on %(date)s: a customer is asked at most once in %(days)s days.") % {
                "customer": customer.name,
                "date": timezone.localtime(asked.sent_at).date(),
                "days": QUIET_DAYS,
            }
            raise ValidationFailed(message, code="survey_quiet_period", fields={"customer": [message]})
        mail_to = contact if (email and contact is not None) else None
        invitation, token = survey_invite(
            survey=survey,
            customer=customer,
            contact_name=contact.name if contact is not None else "",
            sent_to=mail_to.email if mail_to is not None else "",
        )
        link = survey_link(token)
        if mail_to is not None:
            _mail_link(contact=mail_to, link=link, invitation=invitation)
        audit_record(
            action="survey.sent",
            actor=by,
            obj=invitation,
            changes={"survey": survey.name, "customer": customer.code, "trigger": "manual", "emailed": bool(mail_to)},
        )
    return ManualInvitation(invitation=invitation, link=link, emailed_to=invitation.sent_to)
