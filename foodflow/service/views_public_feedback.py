"""The public suggestion form (no login): a customer tells us what we could do better. It is
guarded like the public complaint form, with the same helpers: the posts of one address are
limited per hour (the two forms share that budget), and a bot that fills the hidden field is
answered like a person while nothing is stored."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from foodflow.core.errors import ValidationFailed
from foodflow.core.forms import form_show_error

from .feedback import suggestion_submit
from .forms_feedback import PublicSuggestionForm
from .models import Suggestion
from .views_public import _rate_limited

DONE = "service/public/suggestion_done.html"


@never_cache
def suggestion_form_view(request):
    form = PublicSuggestionForm(request.POST or None)
    if request.method == "POST":
        if _rate_limited(request):
            return render(
                request,
                DONE,
                {"message": _("Too many messages from this address. Please try again later or call us.")},
                status=429,
            )
        if form.is_valid():
            data = form.cleaned_data
            if data["website"]:  # a bot: answered like a person, nothing stored
                return render(request, DONE, {"number": ""})
            text = data["text"]
            if data["company"]:
                text = f"{data['company']}: {text}"
            try:
                suggestion = suggestion_submit(
                    by=None,
                    source=Suggestion.Source.CUSTOMER,
                    category=data["category"],
                    title=data["title"],
                    text=text,
                    contact_name=data["contact_name"],
                )
            except ValidationFailed as error:
                form_show_error(form, error)
            else:
                return render(request, DONE, {"number": suggestion.number})
    return render(
        request,
        "service/public/suggestion_form.html",
        {"form": form, "action": reverse("service_public:suggestion")},
        status=400 if request.method == "POST" else 200,
    )
