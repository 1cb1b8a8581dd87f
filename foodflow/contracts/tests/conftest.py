"""The sales world plus the contract people (contract admin, legal) and helpers that make a
confirmed order and a contract in a given state through the services."""

from dataclasses import dataclass
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from foodflow.contracts import services
from foodflow.contracts.models import Contract, ContractTemplate
from foodflow.sales.services import LineInput, order_create, order_submit
from foodflow.sales.tests.conftest import World, world  # noqa: F401  (the fixture, shared)

# the smallest file that is a PDF by its content
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf_upload(name: str = "signed.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@dataclass
class ContractWorld:
    sales: World
    admin: object  # the contract admin
    legal: object

    def __getattr__(self, name):
        return getattr(self.sales, name)

    def template(self, code: str = "single-order") -> ContractTemplate:
        return ContractTemplate.objects.get(code=code, is_current=True)

    def order(self, quantity: str = "10", **fields):
        order = order_create(
            by=self.sales.rep,
            customer=self.sales.customer,
            lines=[LineInput(self.sales.milk, quantity), LineInput(self.sales.yoghurt, "5")],
            **fields,
        )
        return order_submit(by=self.sales.rep, order=order)

    def draft(self, **fields) -> Contract:
        return services.contract_draft(by=self.admin, template=self.template(), order=self.order(), **fields)

    def approved(self, **fields) -> Contract:
        contract = services.contract_submit(by=self.admin, contract=self.draft(**fields))
        return services.contract_review(by=self.legal, contract=contract, approve=True)

    def active(self, **fields) -> Contract:
        return services.contract_sign(
            by=self.admin,
            contract=self.approved(**fields),
            signed_on=date.today(),
            our_signatory="王经理",
            customer_signatory="李总",
            scan=pdf_upload(),
        )


@pytest.fixture
def cworld(world, make_user):  # noqa: F811
    admin = make_user("contract_admin", unit="HQ", username="contracts")
    legal = make_user("legal", unit="HQ", username="legal")
    return ContractWorld(world, admin, legal)
