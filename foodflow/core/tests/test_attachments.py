import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from foodflow.core.attachments import IMAGES, attachment_create
from foodflow.core.errors import ValidationFailed
from foodflow.core.models import AuditEntry

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_a_pdf_is_stored_under_a_random_name_with_its_checksum(rep):
    attachment = attachment_create(upload=SimpleUploadedFile("../../合同 扫描件.pdf", PDF), by=rep)
    assert attachment.content_type == "application/pdf"
    assert attachment.original_name == "合同 扫描件.pdf"
    assert ".." not in attachment.file.name and "合同" not in attachment.file.name
    assert attachment.file.name.endswith(".pdf") and attachment.size == len(PDF)
    assert len(attachment.sha256) == 64
    assert AuditEntry.objects.filter(action="attachment.upload", object_id=str(attachment.pk)).exists()
    with attachment.file.open("rb") as stored:
        assert stored.read() == PDF


def test_the_type_is_judged_by_content_not_by_name(rep):
    with pytest.raises(ValidationFailed) as error:
        attachment_create(upload=SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00 this is a program"), by=rep)
    assert error.value.code == "file_type_not_allowed"
    with pytest.raises(ValidationFailed):
        attachment_create(upload=SimpleUploadedFile("photo.png", PDF), by=rep, allowed=IMAGES)
    renamed = attachment_create(upload=SimpleUploadedFile("scan.txt", PNG), by=rep, allowed=IMAGES)
    assert renamed.content_type == "image/png" and renamed.original_name == "scan.txt.png"


def test_files_over_the_limit_are_refused_and_nothing_is_saved(rep, settings):
    settings.FOODFLOW_UPLOAD_MAX_BYTES = 10
    with pytest.raises(ValidationFailed) as error:
        attachment_create(upload=SimpleUploadedFile("big.pdf", PDF), by=rep)
    assert error.value.code == "file_too_large"
    assert not AuditEntry.objects.filter(action="attachment.upload").exists()
