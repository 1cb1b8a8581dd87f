"""One service for every file upload: the type is judged by content, not by the name."""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .audit import audit_record
from .errors import ValidationFailed
from .models import Attachment


@dataclass(frozen=True)
class FileKind:
    code: str
    content_type: str
    extensions: tuple[str, ...]


KINDS = {
    "pdf": FileKind("pdf", "application/pdf", (".pdf",)),
    "png": FileKind("png", "image/png", (".png",)),
    "jpeg": FileKind("jpeg", "image/jpeg", (".jpg", ".jpeg")),
    "webp": FileKind("webp", "image/webp", (".webp",)),
    "xlsx": FileKind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)),
    "csv": FileKind("csv", "text/csv", (".csv", ".txt")),
}
IMAGES = ("png", "jpeg", "webp")
DOCUMENTS = ("pdf", *IMAGES)


# A web page (or SVG, XML) is text, but no table: a browser that is given it runs its scripts.
MARKUP = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<(?:!doctype|html|head|body|script|iframe|svg|\?xml|!--)", re.IGNORECASE)


def is_markup(head: bytes) -> bool:
    """Whether a file's first bytes are those of HTML, SVG or XML."""
    return MARKUP.match(head) is not None


def sniff(head: bytes, file) -> str | None:
    """The kind a file's bytes show, or None."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"PK\x03\x04"):
        file.seek(0)
        try:
            with zipfile.ZipFile(file) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return None
        return "xlsx" if "[Content_Types].xml" in names and "xl/workbook.xml" in names else None
    if b"\x00" not in head and not is_markup(head):
        for encoding in ("utf-8", "gb18030"):
            try:
                head.decode(encoding)
                return "csv"
            except UnicodeDecodeError:
                # a multi-byte character may be cut at the end of the sample
                try:
                    head[:-3].decode(encoding)
                    return "csv"
                except UnicodeDecodeError:
                    continue
    return None


def attachment_discard(attachment: Attachment) -> None:
    """Take back an attachment just stored for a record that was then refused: its file and its
    row, so that nothing is left that no record points to."""
    attachment.file.delete(save=False)
    attachment.delete()


def attachment_create(
    *,
    upload: UploadedFile,
    by,
    allowed: tuple[str, ...] = DOCUMENTS,
    obj=None,
    max_bytes: int | None = None,
) -> Attachment:
    max_bytes = max_bytes or settings.FOODFLOW_UPLOAD_MAX_BYTES
    if upload.size > max_bytes:
        raise ValidationFailed(
            _("The file is %(size)s MB; the limit is %(limit)s MB."),
            code="file_too_large",
            size=round(upload.size / 1048576, 1),
            limit=round(max_bytes / 1048576, 1),
        )
    upload.seek(0)
    head = upload.read(4096)
    kind_code = sniff(head, upload)
    allowed_names = ", ".join(ext for code in allowed for ext in KINDS[code].extensions)
    if kind_code not in allowed:
        raise ValidationFailed(
            _("This file type is not accepted here. Accepted: %(allowed)s."),
            code="file_type_not_allowed",
            allowed=allowed_names,
        )
    kind = KINDS[kind_code]
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    name = (upload.name or "file").replace("\\", "/").rsplit("/", 1)[-1]
    # only the last path part, printable characters only (a NUL cannot even be stored)
    name = "".join(ch for ch in name if ch.isprintable()).strip()[:200] or "file"
    if not name.lower().endswith(kind.extensions):
        name = f"{name}{kind.extensions[0]}"
    attachment = Attachment(
        original_name=name,
        content_type=kind.content_type,
        size=upload.size,
        sha256=digest.hexdigest(),
        uploaded_by=by,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
    )
    attachment.file.save(name, upload, save=False)
    try:
        with transaction.atomic():
            attachment.save()
            audit_record(
                action="attachment.upload",
                actor=by,
                obj=attachment,
                changes={"name": name, "size": upload.size, "sha256": attachment.sha256},
            )
    except Exception:
        # the row was not saved: do not leave an orphan file behind
        attachment.file.delete(save=False)
        raise
    return attachment
