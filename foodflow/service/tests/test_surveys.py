"""Acceptance: a survey link answered once works; a second answer, a forged token or an
expired token gets a clear refusal and stores nothing. Through real HTTP, without login."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from foodflow.core.models import AuditEntry
from foodflow.sales.tests.conftest import world  # noqa: F401  (the sales world's customer)
from foodflow.service.models import Survey, SurveyInvitation, SurveyResponse
from foodflow.service.surveys import survey_invite

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitation(world):  # noqa: F811
    survey = Survey.objects.create(
        name="送货满意度调查", trigger=Survey.Trigger.DELIVERY, questions=["送货员的服务如何？"], valid_days=14
    )
    return survey_invite(survey=survey, customer=world.customer, contact_name="李经理")


def answer(client, token, **data):
    return client.post(reverse("service_public:survey", args=[token]), {"csat": "4", "nps": "9", **data})


def test_answered_once_through_the_link(client, invitation):
    invite, token = invitation
    page = client.get(reverse("service_public:survey", args=[token]))
    assert page.status_code == 200 and "送货员的服务如何？" in page.content.decode()
    response = answer(client, token, q0="很准时", comment="继续保持")
    assert response.status_code == 200 and b'data-testid="survey-thanks"' in response.content
    stored = SurveyResponse.objects.get()
    assert (stored.csat, stored.nps, stored.answers, stored.comment) == (
        4,
        9,
        {"送货员的服务如何？": "很准时"},
        "继续保持",
    )
    invite.refresh_from_db()
    assert invite.answered_at is not None
    assert AuditEntry.objects.filter(action="survey.answered").count() == 1


def test_a_second_answer_is_refused_and_stores_nothing(client, invitation):
    _invite, token = invitation
    assert answer(client, token).status_code == 200
    again = answer(client, token, csat="1", nps="0")
    assert again.status_code == 410
    with translation.override("zh-hans"):  # the company's language, which the page speaks
        assert gettext("This survey was answered already. Thank you!") in again.content.decode()
    assert list(SurveyResponse.objects.values_list("csat", "nps")) == [(4, 9)]
    assert client.get(reverse("service_public:survey", args=[token])).status_code == 410


def test_a_forged_token_is_refused_and_stores_nothing(client, invitation):
    _invite, token = invitation
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = answer(client, forged)
    assert response.status_code == 410 and b'data-testid="survey-refused"' in response.content
    assert not SurveyResponse.objects.exists()
    assert SurveyInvitation.objects.get().answered_at is None


def test_an_expired_token_is_refused_and_stores_nothing(client, invitation):
    invite, token = invitation
    SurveyInvitation.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = answer(client, token)
    assert response.status_code == 410 and b'data-testid="survey-refused"' in response.content
    assert not SurveyResponse.objects.exists()


def test_an_incomplete_answer_keeps_the_link_open(client, invitation):
    invite, token = invitation
    response = client.post(reverse("service_public:survey", args=[token]), {"csat": "9", "nps": ""})
    assert response.status_code == 400
    assert not SurveyResponse.objects.exists()
    invite.refresh_from_db()
    assert invite.answered_at is None
    assert answer(client, token).status_code == 200


def test_only_the_hash_of_the_token_is_stored(invitation):
    invite, token = invitation
    assert token not in invite.token_hash and len(invite.token_hash) == 64
