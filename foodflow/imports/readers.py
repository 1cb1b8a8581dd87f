"""Reading an import file: Excel (.xlsx) or CSV in UTF-8 (with or without BOM) or GBK/GB18030,
recognised by its content, not its name. A table is its header row and the rows after it, each
cell as text (numbers and dates as Excel holds them are turned into text the fields parse back).

A cell is never evaluated: an Excel formula is read as its text (``=cmd|…`` stays those
characters), and every value is stored as plain data. Files larger than ``MAX_BYTES`` are refused
before they are read."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from foodflow.core.attachments import is_markup
from foodflow.core.errors import ValidationFailed

MAX_BYTES = 30 * 1024 * 1024
ENCODINGS = ("utf-8-sig", "gb18030")  # GB18030 is the superset of GBK: it reads GBK files too


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[list[str]]  # the data rows, header excluded, each as long as the headers
    file_format: str
    encoding: str = ""


def refuse(message, code: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={"file": [message]})


def sniff_format(head: bytes) -> str:
    """ "xlsx" for a zip holding a workbook, "csv" for text; refuses anything else."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if b"\x00" in head[:4096] or is_markup(head):  # a program, a picture, a web page
        raise refuse(_("This is not an Excel (.xlsx) or CSV file."), "file_type")
    return "csv"


def read_table(data: bytes) -> Table:
    """The table of an uploaded file's bytes."""
    if len(data) > MAX_BYTES:
        raise refuse(_("The file is larger than 30 MB; split it into smaller files."), "file_too_large")
    if not data.strip():
        raise refuse(_("The file is empty."), "file_empty")
    kind = sniff_format(data[:8192])
    return _read_xlsx(data) if kind == "xlsx" else _read_csv(data)


def _decode(data: bytes) -> tuple[str, str]:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), ("gbk" if encoding == "gb18030" else "utf-8")
        except UnicodeDecodeError:
            continue
    raise refuse(_("The file's text is neither UTF-8 nor GBK."), "file_encoding")


def _read_csv(data: bytes) -> Table:
    text, encoding = _decode(data)
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    headers = _headers(next(reader, []))
    width = len(headers)

    def rows() -> Iterator[list[str]]:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            yield [cell.strip() for cell in (row + [""] * width)[:width]]

    return Table(headers, rows(), "csv", encoding)


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise refuse(_("This Excel file cannot be read."), "file_unreadable") from error
    sheet = book.worksheets[0]
    cells = sheet.iter_rows(values_only=True)
    headers = _headers([_text(value) for value in next(cells, ())])
    width = len(headers)

    def rows() -> Iterator[list[str]]:
        for row in cells:
            values = [_text(value) for value in row]
            if not any(values):
                continue
            yield (values + [""] * width)[:width]
        book.close()

    return Table(headers, rows(), "xlsx")


def _text(value) -> str:
    """A cell as text: a whole number without ".0", a date as YYYY-MM-DD, a formula as written."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _headers(cells: list[str]) -> list[str]:
    headers = [str(cell or "").strip() for cell in cells]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise refuse(_("The first row must name the columns."), "no_header")
    seen: set[str] = set()
    for header in headers:
        if header and header in seen:
            raise refuse(_("Two columns are named “%(name)s”.") % {"name": header}, "duplicate_column")
        seen.add(header)
    return headers
