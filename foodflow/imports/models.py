"""Imports: a file taken in as one job (mapped, validated, then imported all or nothing), the
problems found in its rows, and the saved column mappings (presets)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from foodflow.core.models import TrackedModel

USER = settings.AUTH_USER_MODEL


class MappingPreset(TrackedModel):
    """Which column of a file feeds which field of an import kind, saved under a name."""

    kind = models.CharField(_("what is imported"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    mapping = models.JSONField(_("mapping"), default=dict)  # field → column header

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("mapping preset")
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="preset_name_once")]

    def __str__(self):
        return self.name


class ImportJob(TrackedModel):
    class State(models.TextChoices):
        UPLOADED = "uploaded", pgettext_lazy("import state", "Uploaded")
        VALID = "valid", pgettext_lazy("import state", "Checked: every row is valid")
        INVALID = "invalid", pgettext_lazy("import state", "Checked: some rows are not valid")
        IMPORTING = "importing", pgettext_lazy("import state", "Importing")
        DONE = "done", pgettext_lazy("import state", "Imported")
        FAILED = "failed", pgettext_lazy("import state", "Failed, nothing saved")

    kind = models.CharField(_("what is imported"), max_length=32)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    file_format = models.CharField(_("format"), max_length=8)  # csv or xlsx
    encoding = models.CharField(_("encoding"), max_length=16, blank=True)
    headers = models.JSONField(_("columns of the file"), default=list)
    mapping = models.JSONField(_("mapping"), default=dict)
    preset = models.ForeignKey(
        MappingPreset, verbose_name=_("mapping preset"), null=True, blank=True, on_delete=models.SET_NULL
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.UPLOADED)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_invalid = models.PositiveIntegerField(_("rows with problems"), default=0)
    rows_created = models.PositiveIntegerField(_("created"), default=0)
    rows_updated = models.PositiveIntegerField(_("updated"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rows_skipped = models.PositiveIntegerField(_("skipped (not valid)"), default=0)
    valid_only = models.BooleanField(_("imported the valid rows only"), default=False)
    message = models.CharField(_("message"), max_length=500, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self):
        return f"{self.kind} {self.original_name}"


class ImportIssue(models.Model):
    """A problem of one cell (or of a whole row) of an import file."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="issues")
    row = models.PositiveIntegerField(_("row"))  # as the spreadsheet numbers it (the header is row 1)
    column = models.CharField(_("column"), max_length=255, blank=True)
    value = models.CharField(_("value"), max_length=255, blank=True)
    code = models.CharField(_("code"), max_length=64)
    message = models.CharField(_("reason"), max_length=500)

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["job", "row"], name="import_issue_row_idx")]

    def __str__(self):
        return f"{self.row} {self.column} {self.code}"
