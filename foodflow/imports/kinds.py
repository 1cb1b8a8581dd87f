"""What can be imported, and how: each ``Kind`` names its fields (with the headers, Chinese and
English, that a file may give them), its natural key, how one row becomes clean values (with the
same rules the domain's services apply) and how the valid rows are written.

A kind is registered with ``register``; the import services (``services.py``) do the rest: read,
map, parse every cell by its field's type, check the natural key is unique in the file, clean each
row, collect every problem, and write all or nothing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

REGISTRY: dict[str, Kind] = {}


class CellError(Exception):
    """One cell's problem: a stable code and a message in the reader's language."""

    def __init__(self, message, code: str, field_name: str = ""):
        super().__init__(str(message))
        self.message = str(message)
        self.code = code
        self.field_name = field_name


@dataclass(frozen=True)
class Field:
    name: str
    label: Any
    headers: tuple[str, ...] = ()  # other names a file may give this column (any case, spaces ignored)
    type: str = "text"  # text, int, decimal, date, bool
    required: bool = False
    max_length: int = 200

    def parse(self, raw: str):
        """The cell's text as this field's type; raises CellError."""
        text = (raw or "").strip()
        if not text:
            if self.required:
                raise CellError(_("This column must not be empty."), "required")
            return None
        if self.type == "text":
            if len(text) > self.max_length:
                raise CellError(_("At most %(count)s characters.") % {"count": self.max_length}, "too_long")
            return text
        if self.type == "int":
            if not re.fullmatch(r"[+-]?\d+(\.0+)?", text):
                raise CellError(_("Not a whole number."), "not_integer")
            return int(Decimal(text))
        if self.type == "decimal":
            try:
                value = Decimal(text.replace(",", "").replace("¥", "").replace("￥", ""))
            except InvalidOperation:
                raise CellError(_("Not a number."), "not_number") from None
            if not value.is_finite():
                raise CellError(_("Not a number."), "not_number")
            return value
        if self.type == "date":
            for pattern in (
                r"(\d{4})-(\d{1,2})-(\d{1,2})",
                r"(\d{4})/(\d{1,2})/(\d{1,2})",
                r"(\d{4})\.(\d{1,2})\.(\d{1,2})",
            ):
                match = re.fullmatch(pattern + r"( .*)?", text)
                if match:
                    try:
                        return date(int(match[1]), int(match[2]), int(match[3]))
                    except ValueError:
                        break
            raise CellError(_("Not a date (YYYY-MM-DD)."), "not_date")
        if self.type == "bool":
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "y", "是", "对"):
                return True
            if lowered in ("0", "false", "no", "n", "否", "不"):
                return False
            raise CellError(_("Not yes or no."), "not_boolean")
        raise ValueError(self.type)


@dataclass
class Result:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class Kind:
    code: str
    label: Any
    fields: tuple[Field, ...]
    key: tuple[str, ...]  # the natural key: a row with the key of an existing record updates it
    allowed: Callable[[Any], bool]  # may this user import this kind
    clean: Callable[[dict, Any, dict], dict]  # (parsed values, user, context) → clean values; raises
    write: Callable[[list[dict], Any, dict], Result]  # (clean rows, user, context) → counts
    prepare: Callable[[Any], dict] = field(default=lambda by: {})  # lookups shared by every row
    # checks of rows taken together, after each row was cleaned: (good rows as (row number, clean
    # values), context) → the problems as (row number, field, value, CellError); those rows are invalid
    finish: Callable[[list[tuple[int, dict]], dict], list[tuple[int, str, str, CellError]]] | None = None
    description: Any = ""

    def field(self, name: str) -> Field:
        return next(item for item in self.fields if item.name == name)


def register(kind: Kind) -> Kind:
    REGISTRY[kind.code] = kind
    return kind


def normalise(header: str) -> str:
    return re.sub(r"[\s_\-（）()*:：]+", "", str(header)).lower()


def guess_mapping(kind: Kind, headers: Iterable[str]) -> dict[str, str]:
    """field → header, for each field whose name, label (as shown in either language) or other
    known names match a column of the file."""
    from django.utils import translation

    by_name = {normalise(header): header for header in headers if header}
    found = {}
    for item in kind.fields:
        names = {item.name, *item.headers}
        for language in ("zh-hans", "en"):
            with translation.override(language):
                names.add(str(item.label))
        for name in names:
            header = by_name.get(normalise(name))
            if header:
                found[item.name] = header
                break
    return found


def choice(value: str | None, choices, *, code: str, message, field: str = "") -> str | None:
    """A choice given by its code or by its label in either language (``field``: the field whose
    cell is wrong, for the report)."""
    from django.utils import translation

    if value is None:
        return None
    wanted = normalise(value)
    for stored, label in choices:
        names = {normalise(stored)}
        for language in ("zh-hans", "en"):
            with translation.override(language):
                names.add(normalise(str(label)))
        if wanted in names:
            return stored
    raise CellError(message, code, field)


# The kinds themselves, one module per domain (each registers its kinds when imported).
from . import (  # noqa: E402, F401
    kinds_catalog,
    kinds_contacts,
    kinds_crm,
    kinds_inventory,
    kinds_orders,
    kinds_sales,
)
