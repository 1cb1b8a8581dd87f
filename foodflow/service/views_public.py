"""Pages reached without login: the satisfaction survey of a tokenised link. The token in the
URL is the only key; a refused link says why and stores nothing."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from foodflow.core.errors import ValidationFailed

from .surveys import SurveyLinkRefused, invitation_for, survey_answer

CSAT = range(1, 6)
NPS = range(0, 11)


@never_cache
def survey_view(request, token: str):
    try:
        invitation = invitation_for(token)
    except SurveyLinkRefused as refused:
        return render(request, "service/public/survey_refused.html", {"message": refused.message}, status=410)
    errors: dict = {}
    if request.method == "POST":
        questions = invitation.survey.questions
        answers = {str(q): request.POST.get(f"q{index}", "") for index, q in enumerate(questions)}
        try:
            survey_answer(
                token=token,
                csat=request.POST.get("csat"),
                nps=request.POST.get("nps"),
                answers=answers,
                comment=request.POST.get("comment", ""),
            )
        except SurveyLinkRefused as refused:
            return render(request, "service/public/survey_refused.html", {"message": refused.message}, status=410)
        except ValidationFailed as error:
            errors = error.fields or {"__all__": [error.message]}
        else:
            return render(request, "service/public/survey_thanks.html", {"invitation": invitation})
    return render(
        request,
        "service/public/survey.html",
        {
            "invitation": invitation,
            "questions": list(enumerate(invitation.survey.questions)),
            "csat_choices": CSAT,
            "nps_choices": NPS,
            "errors": errors,
            "posted": request.POST if request.method == "POST" else {},
            "title": _("Satisfaction survey"),
        },
        status=400 if errors else 200,
    )
