"""Pages reached without login: the satisfaction survey of a tokenised link. The token in the
URL is the only key; a refused link says why and stores nothing."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from foodflow.core.errors import ValidationFailed
from foodflow.core.forms import form_show_error

from .forms_public import ComplaintFromDeliveryNoteForm
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


# --- the public complaint form -----------------------------------------------------------------------

PUBLIC_LIMIT = 5  # complaints per address and hour


def _rate_limited(request) -> bool:
    from django.core.cache import cache

    from foodflow.core.views import client_ip

    key = f"public-complaint:{client_ip(request) or 'unknown'}"
    cache.add(key, 0, timeout=3600)
    try:
        return cache.incr(key) > PUBLIC_LIMIT
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        return False


@never_cache
def complaint_form_view(request):
    from django.urls import reverse

    from .services import complaint_from_public_form

    # a QR code on a delivery note opens the form with its number and first lot filled in
    initial = {"lot_number": request.GET.get("lot", "")[:64], "delivery_number": request.GET.get("delivery", "")[:32]}
    form = ComplaintFromDeliveryNoteForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if _rate_limited(request):
            return render(
                request,
                "service/public/complaint_done.html",
                {"message": _("Too many complaints from this address. Please call us instead.")},
                status=429,
            )
        if form.is_valid():
            data = form.cleaned_data
            if data["website"]:  # a bot: answered like a person, nothing stored
                return render(request, "service/public/complaint_done.html", {"number": ""})
            try:
                complaint = complaint_from_public_form(
                    category=data["category"],
                    description=data["description"],
                    contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"],
                    company=data["company"],
                    delivery_number=data["delivery_number"],
                    lot_number=data["lot_number"],
                )
            except ValidationFailed as error:
                form_show_error(form, error)
            else:
                return render(request, "service/public/complaint_done.html", {"number": complaint.number})
    return render(
        request,
        "service/public/complaint_form.html",
        {"form": form, "action": reverse("service_public:complaint")},
        status=400 if request.method == "POST" else 200,
    )
