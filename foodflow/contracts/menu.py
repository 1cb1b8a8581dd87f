"""Pages of contracts in the navigation: the ledger and the contract admin's to-do list first,
then legal's review, the risk board, disputes, templates and the risk policy."""

from django.utils.translation import gettext_lazy as _

from foodflow.core.menu import MenuLink

from .permissions import can_draft_contracts, can_review_contracts, can_set_risk_policy, can_view_contracts

LINKS: tuple = (
    MenuLink(
        _("Contract ledger"),
        "contracts:ledger",
        "ti-books",
        can_view_contracts,
        _("Every contract by customer, kind, state, amount and dates, with its fulfilment; Excel export."),
    ),
    MenuLink(
        _("To draft"),
        "contracts:to_draft",
        "ti-file-plus",
        can_draft_contracts,
        _("Confirmed orders that have no contract yet."),
    ),
    MenuLink(
        _("Legal review"),
        "contracts:review_queue",
        "ti-gavel",
        can_review_contracts,
        _("Contracts submitted for review: approve them or return them with comments on their clauses."),
    ),
    MenuLink(
        _("Risk board"),
        "contracts:risks",
        "ti-alert-triangle",
        can_view_contracts,
        _("Early warnings the risk rules raised, by severity, with their owners and acknowledgements."),
    ),
    MenuLink(
        _("Disputes"),
        "contracts:disputes",
        "ti-scale",
        can_view_contracts,
        _("Disputes about signed contracts: the actions taken and their resolution."),
    ),
    MenuLink(
        _("Templates"),
        "contracts:templates",
        "ti-template",
        can_view_contracts,
        _("Framework, single-order and distribution agreements with their clauses and versions."),
    ),
    MenuLink(
        _("Risk policy"),
        "contracts:risk_policy",
        "ti-adjustments",
        can_set_risk_policy,
        _("The limits the risk rules compare contracts with: payment terms, liability, expiry, deliveries."),
    ),
)
