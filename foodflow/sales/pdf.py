"""PDFs of order to cash (to be written): quotations in Chinese or English, delivery notes
with the lot numbers shipped."""


def quotation_pdf(quotation, *, language: str | None = None) -> bytes:
    raise NotImplementedError


def delivery_note_pdf(delivery, *, language: str | None = None) -> bytes:
    raise NotImplementedError
