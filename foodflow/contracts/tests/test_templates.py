"""Contract templates: who edits them, versions (contracts keep the version they were drafted
from), switching a template off, and the placeholders: only the known names, filled for a
Chinese and an English contract, nothing else evaluated."""

import re

import pytest
from django.utils import timezone

from foodflow.contracts import services
from foodflow.contracts.clauses import PLACEHOLDERS, placeholders_check, render
from foodflow.contracts.models import ContractTemplate, Language
from foodflow.contracts.selectors import clauses_rendered
from foodflow.contracts.services import ClauseInput
from foodflow.core.errors import PermissionDeniedError, ValidationFailed
from foodflow.core.models import AuditEntry
from foodflow.crm.services import customer_update

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
CLAUSES = [
    ClauseInput(
        key="parties",
        title="合同双方",
        body="供方：{{our_company}}；需方：{{customer_name}}。",
        title_en="Parties",
        body_en="Seller: {{our_company}}; buyer: {{customer_name}}.",
    ),
    ClauseInput(key="other", title="其他约定", body="本合同一式两份。", editable=True),
]


@pytest.fixture
def template_admin(make_user):
    """The system administrator (role admin), who may edit templates too."""
    return make_user("admin", unit="HQ", username="sysadmin")


def create(by, code: str = "cold-chain", clauses=CLAUSES) -> ContractTemplate:
    return services.template_create(
        by=by, code=code, kind="framework", name="冷链框架协议", name_en="Cold chain framework", clauses=clauses
    )


# --- who edits templates ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["legal", "template_admin"])
def test_legal_and_the_administrator_create_templates(cworld, template_admin, who):
    by = cworld.legal if who == "legal" else template_admin

    template = create(by)

    assert (template.code, template.version, template.is_current, template.is_active) == ("cold-chain", 1, True, True)
    assert template.kind == "framework" and template.created_by == by
    assert [(c.position, c.key, c.body, c.editable) for c in template.clauses.all()] == [
        (1, "parties", CLAUSES[0].body, False),
        (2, "other", CLAUSES[1].body, True),
    ]
    assert AuditEntry.objects.filter(action="contract_template.created", actor=by).exists()


@pytest.mark.parametrize("who", ["admin", "rep"])
def test_a_contract_admin_or_a_rep_cannot_edit_templates(cworld, who):
    by = getattr(cworld, who)
    current = cworld.template()

    with pytest.raises(PermissionDeniedError):
        create(by)
    with pytest.raises(PermissionDeniedError):
        services.template_revise(by=by, template=current, name="改", clauses=CLAUSES, change_note="改条款")
    with pytest.raises(PermissionDeniedError):
        services.template_set_active(by=by, template=current, active=False)

    assert not ContractTemplate.objects.filter(code="cold-chain").exists()
    assert list(ContractTemplate.objects.filter(code=current.code).values_list("version", "is_active")) == [(1, True)]


# --- versions ---------------------------------------------------------------------------------------------


def test_a_revision_is_a_new_version_and_contracts_keep_the_version_they_were_drafted_from(cworld):
    first = cworld.template()
    earlier = cworld.draft()
    earlier_clauses = list(earlier.clauses.values_list("key", "body"))
    first_clauses = list(first.clauses.values_list("key", "body"))
    assert earlier.template == first

    revised = services.template_revise(
        by=cworld.legal,
        template=first,
        name="单笔销售合同（2026 版）",
        clauses=[*CLAUSES, ClauseInput(key="quality", title="质量", body="执行 {{quality_standard}}。")],
        change_note="精简条款，增加质量条款",
    )

    assert (revised.code, revised.version, revised.is_current) == (first.code, 2, True)
    assert revised.change_note == "精简条款，增加质量条款"
    first.refresh_from_db()
    assert first.version == 1 and not first.is_current
    assert list(first.clauses.values_list("key", "body")) == first_clauses  # the old version is kept as it was
    earlier.refresh_from_db()
    assert earlier.template_id == first.pk
    assert list(earlier.clauses.values_list("key", "body")) == earlier_clauses

    later = services.contract_draft(by=cworld.admin, template=cworld.template(), order=cworld.order())
    assert later.template == revised
    assert list(later.clauses.values_list("key", "body")) == [
        ("parties", CLAUSES[0].body),
        ("other", CLAUSES[1].body),
        ("quality", "执行 {{quality_standard}}。"),
    ]
    # the old version is not offered any more
    with pytest.raises(ValidationFailed) as error:
        services.contract_draft(by=cworld.admin, template=first, order=cworld.order())
    assert error.value.code == "template_inactive" and "template" in error.value.fields


def test_a_revision_says_what_changed(cworld):
    with pytest.raises(ValidationFailed) as error:
        services.template_revise(
            by=cworld.legal, template=cworld.template(), name="x", clauses=CLAUSES, change_note=" "
        )
    assert error.value.code == "reason_missing" and "change_note" in error.value.fields
    assert cworld.template().version == 1


def test_a_switched_off_template_cannot_be_drafted_from(cworld):
    template = services.template_set_active(by=cworld.legal, template=cworld.template(), active=False)
    assert not template.is_active
    assert AuditEntry.objects.filter(action="contract_template.active", actor=cworld.legal).exists()

    with pytest.raises(ValidationFailed) as error:
        services.contract_draft(by=cworld.admin, template=cworld.template(), order=cworld.order())
    assert error.value.code == "template_inactive" and "template" in error.value.fields

    # a revision of a switched-off template stays off
    revised = services.template_revise(
        by=cworld.legal, template=template, name=template.name, clauses=CLAUSES, change_note="措辞"
    )
    assert not revised.is_active
    services.template_set_active(by=cworld.legal, template=revised, active=True)
    contract = services.contract_draft(by=cworld.admin, template=cworld.template(), order=cworld.order())
    assert contract.template == revised


# --- placeholders ---------------------------------------------------------------------------------------------


def test_an_unknown_placeholder_is_refused_with_the_field_that_names_it(cworld):
    clauses = [
        CLAUSES[0],
        ClauseInput(
            key="payment", title="结算", body="{{payment_terms_days}} 日内付款。", body_en="Pay in {{pay_days}}."
        ),
    ]
    with pytest.raises(ValidationFailed) as error:
        create(cworld.legal, clauses=clauses)
    assert error.value.code == "unknown_placeholder"
    assert list(error.value.fields) == ["clauses.1.body_en"]
    assert "{{pay_days}}" in error.value.message
    assert not ContractTemplate.objects.filter(code="cold-chain").exists()

    with pytest.raises(ValidationFailed) as error:
        services.template_revise(
            by=cworld.legal,
            template=cworld.template(),
            name="x",
            clauses=[ClauseInput(key="parties", title="双方", body="{{customer_nam}}")],
            change_note="笔误",
        )
    assert error.value.code == "unknown_placeholder" and list(error.value.fields) == ["clauses.0.body"]
    assert cworld.template().version == 1

    # a free clause of a contract is checked the same way
    contract = cworld.draft()
    free = contract.clauses.filter(editable=True).first()
    with pytest.raises(ValidationFailed) as error:
        services.contract_update(by=cworld.admin, contract=contract, clauses={free.pk: "付款见 {{bank_account}}"})
    assert error.value.code == "unknown_placeholder" and list(error.value.fields) == [f"clauses.{free.pk}"]
    free.refresh_from_db()
    assert "bank_account" not in free.body


@pytest.mark.parametrize(
    "text",
    ["{{ customer.owner.password }}", "{{customer_name|upper}}", "{{ Customer_Name }}", "{{ settings.SECRET_KEY }}"],
    ids=["dotted_path", "filter", "capitals", "settings"],
)
def test_anything_in_braces_that_is_not_a_placeholder_is_refused(text):
    """Only the names in PLACEHOLDERS exist: anything else between double braces would be
    printed as it stands in a signed contract, so it is refused when saved."""
    with pytest.raises(ValidationFailed) as error:
        placeholders_check(f"需方：{text}", field="body")
    assert error.value.code == "unknown_placeholder" and "body" in error.value.fields


@pytest.mark.parametrize("language", [Language.ZH, Language.EN])
def test_render_fills_every_placeholder(cworld, language):
    contract = cworld.draft(language=language)
    text = " | ".join("{{" + name + "}}" for name in PLACEHOLDERS) + " | {{ customer_name }}"

    rendered = render(text, contract)

    assert "{{" not in rendered and "}}" not in rendered
    values = rendered.split(" | ")
    assert len(values) == len(PLACEHOLDERS) + 1
    filled = dict(zip(PLACEHOLDERS, values, strict=False))
    assert filled["customer_name"] == values[-1] == cworld.customer.name
    assert filled["contract_number"] == contract.number
    assert filled["total_amount"] == f"{contract.total:,.2f}"
    assert filled["payment_terms_days"] == "30"
    assert filled["liability_cap"] == "30 %"
    assert filled["late_penalty"] == "0.05 %"
    assert filled["total_amount_words"]
    start = contract.start_date
    if language == Language.ZH:
        assert filled["start_date"] == f"{start.year}年{start.month:02d}月{start.day:02d}日"
    else:
        assert filled["start_date"] == start.strftime("%d %B %Y")
    # every clause of the drafted contract reads without a placeholder left, in its language
    texts = [text for _clause, text in clauses_rendered(contract)]
    assert texts and not any("{{" in t for t in texts)
    parties = texts[0]
    assert ("Seller (Party A)" in parties) == (language == Language.EN)
    assert cworld.customer.name in parties and contract.number in parties


def test_render_evaluates_nothing_beyond_the_placeholders(cworld):
    contract = cworld.draft()
    untouched = [
        "{{ customer.owner.password }}",
        "{{customer_name|upper}}",
        "{{ settings.SECRET_KEY }}",
        "{{7*7}}",
        "{% if True %}x{% endif %}",
        "{{ not_a_placeholder }}",
    ]
    for text in untouched:
        assert render(text, contract) == text

    # a value that itself looks like a placeholder is printed, not filled again
    customer = customer_update(by=None, customer=cworld.customer, name="{{contract_number}}超市")
    contract.refresh_from_db()
    assert contract.customer.name == customer.name
    assert render("需方：{{customer_name}}", contract) == "需方：{{contract_number}}超市"
    assert not re.search(r"CT-\d{4}-\d{6}", render("{{customer_name}}", contract))
