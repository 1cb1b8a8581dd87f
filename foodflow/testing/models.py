from django.conf import settings
from django.db import models

from foodflow.core.models import TrackedModel
from foodflow.core.money import MoneyField
from foodflow.core.workflows import Transition, Workflow

SAMPLE_FLOW = Workflow(
    name="sample",
    states={"draft": "draft", "submitted": "submitted", "approved": "approved", "cancelled": "cancelled"},
    initial="draft",
    transitions=[
        Transition("submit", ("draft",), "submitted"),
        Transition("approve", ("submitted",), "approved", permission="testing.approve_sample"),
        Transition("cancel", ("draft", "submitted"), "cancelled"),
    ],
)


class SampleDocument(TrackedModel):
    number = models.CharField(max_length=32, unique=True)
    state = models.CharField(max_length=16, choices=SAMPLE_FLOW.choices(), default=SAMPLE_FLOW.initial)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    amount = MoneyField(default=0)
    approved_note = models.CharField(max_length=100, blank=True)
