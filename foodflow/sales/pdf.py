"""PDFs of order to cash: quotations in Chinese or English, delivery notes with the lot
numbers shipped. Rendered by WeasyPrint from the templates in ``sales/pdf/``; Debian's Noto
CJK fonts carry the Chinese (without ``fonts-noto-cjk`` WeasyPrint prints empty boxes and
raises nothing).

Nothing is fetched while rendering: the templates reference no resource, and the fetcher
accepts only ``data:`` URLs, so a stray ``http(s)://`` or ``file://`` in data typed by a
user (a note, an address) can neither reach the network nor read the server's files."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from foodflow.core.money import CENT, to_decimal

from .models import Delivery, Quotation

DEFAULT_LANGUAGE = "zh-hans"
DEFAULT_COMPANY_NAME = "FoodFlow 食品有限公司"

# Once approved, the quotation is what the customer may rely on; before that (and once it
# is no longer valid) every page says it is not an offer.
RELEASED_QUOTATION_STATES = frozenset({"approved", "sent", "accepted"})

# --- amount in words (大写金额) -------------------------------------------------------------

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("仟", "佰", "拾", "")  # inside a group of four digits, highest first
_GROUPS = ("", "万", "亿")  # groups of four digits, lowest first
_LIMIT = Decimal(10) ** (4 * len(_GROUPS))  # 1 000 000 000 000: MoneyField holds 12 integer digits


def _group_in_words(group: int) -> str:
    """1..9999 without leading zeros; one 零 for a run of inner zeros, none for trailing ones
    (1005 → 壹仟零伍, 1100 → 壹仟壹佰)."""
    words = []
    pending_zero = False
    for digit, place in zip(f"{group:04d}", _PLACES, strict=True):
        if digit == "0":
            pending_zero = bool(words)
            continue
        if pending_zero:
            words.append("零")
            pending_zero = False
        words.append(_DIGITS[int(digit)] + place)
    return "".join(words)


def _yuan_in_words(yuan: int) -> str:
    groups = []
    while yuan:
        yuan, group = divmod(yuan, 10_000)
        groups.append(group)
    words: list[str] = []
    skipped_zero = False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            skipped_zero = bool(words)  # 壹亿零壹仟: an empty 万 group between two others
            continue
        # A group after a higher one that does not fill its thousands place starts with
        # one 零 (壹万零壹, 壹佰万零壹佰), and so does one after an empty group.
        if words and (skipped_zero or group < 1000):
            words.append("零")
        words.append(_group_in_words(group) + _GROUPS[index])
        skipped_zero = False
    return "".join(words)


def amount_in_chinese_words(amount: Decimal) -> str:
    """An amount of yuan in Chinese capital numerals as written on invoices and contracts
    (大写金额): 1234.56 → 壹仟贰佰叁拾肆元伍角陆分, 1005 → 壹仟零伍元整, 100000.10 →
    壹拾万元零壹角, 0 → 零元整. Rounded half-up to the fen first; negative amounts start with 负.

    Zeros follow the People's Bank of China rules for filling in payment documents: one 零
    for a run of zeros between digits, and a 零 after 元 when the units of yuan are zero and
    jiao or fen follow (壹拾万元零壹角), or when jiao is zero and fen follows (壹元零伍分).
    整 closes an amount without jiao and fen only."""
    value = to_decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "负" if value < 0 else ""
    value = abs(value)
    if value >= _LIMIT:
        raise ValueError(f"{amount} is too large for an amount in words (below {_LIMIT:,} yuan)")
    cents = int(value * 100)
    yuan, rest = divmod(cents, 100)
    jiao, fen = divmod(rest, 10)
    if cents == 0:
        return "零元整"
    words = _yuan_in_words(yuan) + "元" if yuan else ""
    if not rest:
        return f"{sign}{words}整"
    if jiao:
        if yuan and yuan % 10 == 0:
            words += "零"
        words += _DIGITS[jiao] + "角"
    if fen:
        if yuan and not jiao:
            words += "零"
        words += _DIGITS[fen] + "分"
    return sign + words


# --- rendering ---------------------------------------------------------------------------------


class _OfflineFetcher(URLFetcher):
    """Refuses every URL but inline ``data:`` ones: a PDF is made from what is in the
    database, never from the network or the server's disk."""

    def __init__(self):
        super().__init__(allowed_protocols=("data",), allow_redirects=False, timeout=1)


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _quantity(value: Decimal) -> str:
    """150.000 → 150, 12.500 → 12.5: quantities are stored with three places."""
    text = f"{value:,.3f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _percent(fraction: Decimal) -> str:
    return f"{_quantity(fraction * 100)} %" if fraction else "—"


def _css_string(text: str) -> str:
    """A CSS string literal that cannot close the string nor the <style> element."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ").replace("\n", " ")
    return f'"{escaped}"'


def _page_counter_css() -> SafeString:
    """The page footer's ``content`` value from one translatable sentence: "Page 1 of 3" in
    English; the Chinese translation "第 %(page)s 页 / 共 %(pages)s 页" gives 第 1 页 / 共 3 页."""
    sentence = _("Page %(page)s of %(pages)s")
    parts = []
    for piece in re.split(r"(%\(pages?\)s)", sentence):
        if piece == "%(page)s":
            parts.append("counter(page)")
        elif piece == "%(pages)s":
            parts.append("counter(pages)")
        elif piece:
            parts.append(_css_string(piece))
    return mark_safe(" ".join(parts))  # noqa: S308 — every literal part is escaped by _css_string


def pdf_html(template: str, context: dict) -> str:
    """The HTML a PDF is made from (tests read it without rendering), with the company's name
    and the page counter every document template uses."""
    return render_to_string(
        template,
        {
            "company_name": getattr(settings, "FOODFLOW_COMPANY_NAME", DEFAULT_COMPANY_NAME),
            "currency": getattr(settings, "FOODFLOW_CURRENCY", "CNY"),
            "page_counter": _page_counter_css(),
            **context,
        },
    )


def pdf_render(template: str, context: dict) -> bytes:
    """A document template (one extending ``sales/pdf/base.html``) as a PDF, rendered offline:
    nothing is fetched (see the module's docstring). Other domains' documents use it too."""
    return HTML(string=pdf_html(template, context), base_url=None, url_fetcher=_OfflineFetcher()).write_pdf()


_render = pdf_render


# --- the QR code on the delivery note ----------------------------------------------------------


def delivery_complaint_url(delivery_number: str, lot_number: str = "") -> str:
    """The public complaint form with the delivery note's number and its first lot filled in:
    what the QR code on the delivery note opens (the customer's staff scan it on the goods)."""
    params = {"delivery": delivery_number}
    if lot_number:
        params["lot"] = lot_number
    return f"{settings.FOODFLOW_PUBLIC_URL}{reverse('service_public:complaint')}?{urlencode(params)}"


def qr_code_svg(payload: str) -> SafeString:
    """``payload`` as a QR code (error correction M, a quiet zone of two modules) in inline
    SVG, sized by the CSS of the template. segno draws it in pure Python; WeasyPrint renders the SVG element itself, so
    nothing is fetched."""
    code = segno.make(payload, error="m", micro=False)
    # only path data and numbers: no text of the payload appears in the markup
    return mark_safe(code.svg_inline(border=2, omitsize=True, svgclass="qr-code", lineclass="qr-line"))  # noqa: S308


def quotation_pdf(quotation, *, language: str | None = None) -> bytes:
    """The quotation as the customer receives it, in ``language``, else the quotation's own
    PDF language, else Chinese. Marked 草稿 DRAFT on every page until it is approved."""
    quotation = (
        Quotation.objects.select_related("customer", "owner").prefetch_related("lines__product").get(pk=quotation.pk)
    )
    with translation.override(language or quotation.language or DEFAULT_LANGUAGE):
        lines = [
            {
                "position": line.position,
                "product": line.product.display_name,
                "sku": line.product.sku,
                "specification": line.product.specification,
                "unit": line.product.sales_unit,
                "quantity": _quantity(line.quantity),
                "unit_price": _money(line.unit_price),
                "discount": _percent(line.discount),
                "amount": _money(line.amount),
            }
            for line in quotation.lines.all()
        ]
        released = quotation.state in RELEASED_QUOTATION_STATES
        return _render(
            "sales/pdf/quotation.html",
            {
                "quotation": quotation,
                "issued_on": timezone.localdate(quotation.created_at),
                "lines": lines,
                "total": _money(quotation.total),
                "tax_total": _money(quotation.tax_total),
                "net_total": _money(quotation.total - quotation.tax_total),
                "amount_in_words": amount_in_chinese_words(quotation.total),
                "draft": not released,
                "state_label": "" if released else quotation.get_state_display(),
            },
        )


def _delivery_note_context(delivery) -> dict:
    delivery = (
        Delivery.objects.select_related("customer", "order")
        .prefetch_related("lines__order_line__product", "lines__lot", "lines__warehouse")
        .get(pk=delivery.pk)
    )
    lines = [
        {
            "position": index,
            "product": line.order_line.product.display_name,
            "sku": line.order_line.product.sku,
            "specification": line.order_line.product.specification,
            "lot_number": line.lot.lot_number if line.lot else "",
            "expiry_date": line.lot.expiry_date if line.lot else None,
            "warehouse": line.warehouse.name if line.warehouse else "",
            "quantity": _quantity(line.quantity),
            "unit": line.order_line.product.sales_unit,
        }
        for index, line in enumerate(delivery.lines.all(), start=1)
    ]
    first_lot = next((line["lot_number"] for line in lines if line["lot_number"]), "")
    complaint_url = delivery_complaint_url(delivery.number, first_lot)
    return {
        "delivery": delivery,
        "order_label": str(delivery.order),
        "lines": lines,
        "scan_text": delivery.number,
        "complaint_url": complaint_url,
        "complaint_qr": qr_code_svg(complaint_url),
    }


def delivery_note_html(delivery, *, language: str | None = None) -> str:
    """The delivery note's HTML (what ``delivery_note_pdf`` renders)."""
    with translation.override(language or DEFAULT_LANGUAGE):
        return pdf_html("sales/pdf/delivery_note.html", _delivery_note_context(delivery))


def delivery_note_pdf(delivery, *, language: str | None = None) -> bytes:
    """The delivery note that travels with the goods: what is shipped from which lot and
    warehouse, boxes for the customer's signature, and a QR code that opens the public
    complaint form with the delivery and its first lot filled in."""
    with translation.override(language or DEFAULT_LANGUAGE):
        return pdf_render("sales/pdf/delivery_note.html", _delivery_note_context(delivery))
