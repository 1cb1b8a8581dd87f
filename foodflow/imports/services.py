"""Taking a file in: upload → column mapping (a saved preset or a guess from the headers) → check
every row → import all or nothing (or, when the user says so explicitly, the valid rows only, with
the skipped ones recorded).

The import itself runs in ONE transaction with the second check of every row: a row that became
invalid meanwhile stops it, and a crash or a kill in the middle leaves the database as it was.
Importing the same file again changes nothing (each kind's natural key finds its records)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from io import BytesIO

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from foodflow.core.audit import audit_record
from foodflow.core.errors import PermissionDeniedError, ValidationFailed
from foodflow.core.permissions import acting_user

from .kinds import REGISTRY, CellError, Kind, guess_mapping
from .models import ImportIssue, ImportJob, MappingPreset
from .permissions import can_import
from .readers import read_table

MAX_ISSUES = 5000  # a file with more problems is reported up to here (the count is exact)


def kind_of(code: str) -> Kind:
    kind = REGISTRY.get(code)
    if kind is None:
        raise ValidationFailed(_("Unknown kind of import."), code="unknown_kind", fields={"kind": [_("Choose one.")]})
    return kind


def _require(by, kind: Kind) -> None:
    if by is not None and not (can_import(by) and kind.allowed(by)):
        raise PermissionDeniedError()


def job_create(*, by, kind: str, name: str, data: bytes, preset: MappingPreset | None = None) -> ImportJob:
    """Store the file as a new job; its columns are read now and mapped by the preset or a guess."""
    chosen = kind_of(kind)
    _require(by, chosen)
    table = read_table(data)  # refuses what is not a readable table, before anything is stored
    if preset is not None and preset.kind != chosen.code:
        raise ValidationFailed(_("This preset is for another kind of import."), code="preset_kind")
    mapping = guess_mapping(chosen, table.headers)
    if preset is not None:
        mapping = {field: header for field, header in preset.mapping.items() if header in table.headers}
    job = ImportJob(
        kind=chosen.code,
        original_name=name[:255],
        file_format=table.file_format,
        encoding=table.encoding,
        headers=table.headers,
        mapping=mapping,
        preset=preset,
        created_by=acting_user(by),
        updated_by=acting_user(by),
    )
    job.file.save(f"{timezone.now():%Y%m%d%H%M%S}.{table.file_format}", ContentFile(data), save=False)
    job.save()
    audit_record(action="imports.uploaded", actor=by, obj=job, changes={"kind": chosen.code, "file": job.original_name})
    return job


def job_map(*, by, job: ImportJob, mapping: dict[str, str], preset_name: str = "") -> ImportJob:
    """Set which column feeds which field; every required field needs a column. ``preset_name``
    saves the mapping under that name for the next file of this kind."""
    kind = kind_of(job.kind)
    _require(by, kind)
    _editable(job)
    errors: dict[str, list] = {}
    clean = {}
    for item in kind.fields:
        header = (mapping.get(item.name) or "").strip()
        if header and header not in job.headers:
            errors[item.name] = [_("The file has no such column.")]
        elif header:
            clean[item.name] = header
        elif item.required:
            errors[item.name] = [_("Choose the column of this required field.")]
    if errors:
        raise ValidationFailed(_("Some required columns are missing."), code="missing_column", fields=errors)
    with transaction.atomic():
        if preset_name.strip():
            job.preset, _created = MappingPreset.objects.update_or_create(
                kind=kind.code,
                name=preset_name.strip()[:100],
                defaults={"mapping": clean, "updated_by": acting_user(by), "created_by": acting_user(by)},
            )
        job.mapping = clean
        job.state = ImportJob.State.UPLOADED
        job.updated_by = acting_user(by)
        job.save(update_fields=["mapping", "preset", "state", "updated_by", "updated_at"])
    return job


def _editable(job: ImportJob) -> None:
    """A job being imported, or imported, is not mapped or checked again."""
    if job.state in (ImportJob.State.IMPORTING, ImportJob.State.DONE):
        raise ValidationFailed(_("This file is being imported or was imported."), code="job_closed")


def _missing_columns(kind: Kind, job: ImportJob) -> list[str]:
    return [item.name for item in kind.fields if item.required and item.name not in job.mapping]


def _issue(job: ImportJob, kind: Kind, row: int, name: str, raw, error: CellError) -> ImportIssue:
    return ImportIssue(
        job=job,
        row=row,
        column=job.mapping.get(name, str(kind.field(name).label)) if name else "",
        value=str(raw)[:255],
        code=error.code,
        message=error.message[:500],
    )


def _check(kind: Kind, job: ImportJob, by, progress: Callable[[int], None] | None = None):
    """Every row of the file, parsed and cleaned: (clean rows with their row numbers, issues, rows)."""
    missing = _missing_columns(kind, job)
    if missing:
        raise ValidationFailed(
            _("Some required columns are missing."),
            code="missing_column",
            fields={name: [_("Choose the column of this required field.")] for name in missing},
        )
    job.file.open("rb")
    try:
        table = read_table(job.file.read())
    finally:
        job.file.close()
    position = {header: index for index, header in enumerate(table.headers)}
    columns = {name: position[header] for name, header in job.mapping.items() if header in position}
    context = kind.prepare(by)
    seen_keys: dict[tuple, int] = {}
    good: list[tuple[int, dict]] = []
    issues: list[ImportIssue] = []
    count = 0
    for count, cells in enumerate(table.rows, start=1):
        number = count + 1  # the header is row 1
        values, problems = {}, []
        for item in kind.fields:
            raw = cells[columns[item.name]] if item.name in columns else ""
            try:
                values[item.name] = item.parse(raw)
            except CellError as error:
                problems.append((item.name, raw, error))
        if not problems:
            key = tuple(values[name] for name in kind.key)
            if key in seen_keys:
                problems.append(
                    (
                        kind.key[0],
                        str(key[0]),
                        CellError(_("The same key as row %(row)s.") % {"row": seen_keys[key]}, "duplicate_key"),
                    )
                )
            else:
                seen_keys[key] = number
        if not problems:
            try:
                good.append((number, kind.clean(values, by, context)))
            except CellError as error:
                name = error.field_name or kind.key[0]
                problems.append((name, str(values.get(name) or ""), error))
        issues += [_issue(job, kind, number, name, raw, error) for name, raw, error in problems]
        if progress and count % 500 == 0:
            progress(count)
    if kind.finish is not None and good:
        refused = kind.finish(good, context)
        if refused:
            rows = {number for number, *_rest in refused}
            good = [(number, values) for number, values in good if number not in rows]
            issues += [_issue(job, kind, number, name, raw, error) for number, name, raw, error in refused]
            issues.sort(key=lambda issue: issue.row)
    if count == 0:
        raise ValidationFailed(
            _("The file has a header but no rows."), code="no_rows", fields={"file": [_("No rows.")]}
        )
    return good, issues, count


def job_validate(*, by, job: ImportJob) -> ImportJob:
    """Check every row without saving anything; the problems are kept for the report."""
    kind = kind_of(job.kind)
    _require(by, kind)
    _editable(job)
    _good, issues, count = _check(kind, job, by)
    invalid_rows = len({issue.row for issue in issues})
    with transaction.atomic():
        ImportIssue.objects.filter(job=job).delete()
        ImportIssue.objects.bulk_create(issues[:MAX_ISSUES], batch_size=1000)
        job.rows_total, job.rows_invalid = count, invalid_rows
        job.state = ImportJob.State.INVALID if issues else ImportJob.State.VALID
        job.updated_by = acting_user(by)
        job.save(update_fields=["rows_total", "rows_invalid", "state", "updated_by", "updated_at"])
    return job


STARTABLE = (ImportJob.State.VALID, ImportJob.State.INVALID, ImportJob.State.FAILED)
# The largest file (30 MB) imports in well under a minute: a job still "importing" this long
# after it was started belongs to a run that is gone (a server restart killed its thread; its
# transaction was never committed, so nothing was saved). It may be checked and started again.
STALE_AFTER = timedelta(hours=1)


def job_claim(job_id: int) -> bool:
    """Mark a checked job as importing, unless a run of it was started already. One conditional
    UPDATE: of two clicks (perhaps in two server processes) exactly one wins."""
    stale = timezone.now() - STALE_AFTER
    startable = ImportJob.objects.filter(
        Q(state__in=STARTABLE) | Q(state=ImportJob.State.IMPORTING, updated_at__lt=stale), pk=job_id
    )
    return startable.update(state=ImportJob.State.IMPORTING, message="", updated_at=timezone.now()) == 1


def job_fail_unstarted(job_id: int, message: str) -> None:
    """A run refused before it began leaves the claimed job failed, not importing for ever
    (job_run records every failure after it began itself)."""
    ImportJob.objects.filter(pk=job_id, state=ImportJob.State.IMPORTING).update(
        state=ImportJob.State.FAILED, message=str(message)[:500], finished_at=timezone.now()
    )


def progress_key(job_id: int) -> str:
    return f"foodflow:import-progress:{job_id}"


def job_run(*, by, job: ImportJob, valid_only: bool = False) -> ImportJob:
    """Import the file in one transaction: every row checked again, then written. Without
    ``valid_only`` one invalid row stops everything; with it, the invalid rows are skipped and
    recorded. A failure leaves nothing saved and the job marked failed."""
    kind = kind_of(job.kind)
    _require(by, kind)
    if job.state == ImportJob.State.DONE:
        raise ValidationFailed(_("This file was imported already."), code="already_imported")
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.IMPORTING)
    key = progress_key(job.pk)
    try:
        with transaction.atomic():
            good, issues, count = _check(kind, job, by, progress=lambda n: cache.set(key, n, 3600))
            skipped = sorted({issue.row for issue in issues})
            if skipped and not valid_only:
                raise ValidationFailed(
                    _("%(count)s rows are not valid: nothing was imported.") % {"count": len(skipped)},
                    code="rows_invalid",
                )
            result = kind.write([values for _number, values in good], by, {"job": job})
            ImportIssue.objects.filter(job=job).delete()
            ImportIssue.objects.bulk_create(issues[:MAX_ISSUES], batch_size=1000)
            job.rows_total, job.rows_invalid = count, len(skipped)
            job.rows_created, job.rows_updated, job.rows_unchanged = result.created, result.updated, result.unchanged
            job.rows_skipped = len(skipped) if valid_only else 0
            job.valid_only = valid_only
            job.state, job.finished_at, job.message = ImportJob.State.DONE, timezone.now(), ""
            job.save()
            audit_record(
                action="imports.imported",
                actor=by,
                obj=job,
                changes={
                    "kind": kind.code,
                    "file": job.original_name,
                    "rows": count,
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                    "skipped_rows": skipped[:1000],
                },
            )
    except Exception as error:
        message = getattr(error, "message", "") or gettext_now("The import failed; nothing was saved.")
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportJob.State.FAILED, message=str(message)[:500], finished_at=timezone.now()
        )
        raise
    finally:
        cache.delete(key)
    return job


def report_workbook(job: ImportJob) -> bytes:
    """The problems of a job as an Excel sheet: row, column, value, code, reason."""
    from openpyxl import Workbook

    from foodflow.core.exports import export_cell

    book = Workbook()
    sheet = book.active
    sheet.title = gettext_now("Problems")[:31]
    sheet.append(
        [gettext_now("Row"), gettext_now("Column"), gettext_now("Value"), gettext_now("Code"), gettext_now("Reason")]
    )
    for issue in job.issues.all().iterator():
        sheet.append(
            [issue.row, export_cell(issue.column), export_cell(issue.value), issue.code, export_cell(issue.message)]
        )
    sheet.freeze_panes = "A2"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
