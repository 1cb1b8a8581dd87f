"""Permission codes and predicates of analysis and performance.

The process map shows counts per state over every document, whatever the viewer's data
scope: it is an aggregate. The lists it links to apply their own scopes. The sales figures,
targets and scorecards follow the data scope of the viewer's role: a rep sees their own, a
manager their team's or region's reps, a director everyone (``scope_reps``)."""

from django.utils.translation import gettext_lazy as _

from foodflow.accounts.permissions import has_perm, perm_scope, scope_q
from foodflow.accounts.roles import grant_by_default
from foodflow.core.permissions import Scope, declare

AREA = _("Analysis and performance")
VIEW_PROCESS = declare("analytics.view_process", _("View the process map and its standards"), AREA)
VIEW_SALES = declare("analytics.view_sales", _("View sales figures and dashboards (within one's data scope)"), AREA)
VIEW_FINANCE = declare("analytics.view_finance", _("View collection, DSO and receivables aging figures"), AREA)
VIEW_SERVICE = declare("analytics.view_service", _("View complaint and satisfaction figures"), AREA)
MANAGE_TARGETS = declare("analytics.manage_targets", _("Set sales targets"), AREA)
APPRAISE = declare("analytics.appraise", _("Appraise reps: scorecards, rewards and penalties, review meetings"), AREA)
RATE_TEAMWORK = declare("analytics.rate_teamwork", _("Rate colleagues' teamwork"), AREA)
MANAGE_SCHEMES = declare("analytics.manage_schemes", _("Set KPI schemes and stage targets"), AREA)
RECEIVE_REPORT = declare("analytics.receive_monthly_report", _("Receive the monthly report by e-mail"), AREA)

grant_by_default(
    {
        "rep": [VIEW_SALES, RATE_TEAMWORK],
        "manager": [VIEW_PROCESS, VIEW_SALES, VIEW_FINANCE, VIEW_SERVICE, MANAGE_TARGETS, APPRAISE, RATE_TEAMWORK],
        "director": [
            VIEW_PROCESS,
            VIEW_SALES,
            VIEW_FINANCE,
            VIEW_SERVICE,
            MANAGE_TARGETS,
            APPRAISE,
            RATE_TEAMWORK,
            MANAGE_SCHEMES,
            RECEIVE_REPORT,
        ],
        "analyst": [VIEW_PROCESS, VIEW_SALES, VIEW_SERVICE],
        "finance": [VIEW_SALES, VIEW_FINANCE],
        "service": [VIEW_SERVICE],
        "admin": [VIEW_PROCESS, VIEW_SALES, VIEW_FINANCE, VIEW_SERVICE, MANAGE_TARGETS, MANAGE_SCHEMES],
    }
)


def can_view_process(user) -> bool:
    return has_perm(user, VIEW_PROCESS)


def can_view_sales(user) -> bool:
    return has_perm(user, VIEW_SALES)


def can_view_finance(user) -> bool:
    return has_perm(user, VIEW_FINANCE)


def can_view_service(user) -> bool:
    return has_perm(user, VIEW_SERVICE)


def can_manage_targets(user) -> bool:
    return has_perm(user, MANAGE_TARGETS)


def can_appraise(user) -> bool:
    return has_perm(user, APPRAISE)


def can_rate_teamwork(user) -> bool:
    return has_perm(user, RATE_TEAMWORK)


def can_manage_schemes(user) -> bool:
    return has_perm(user, MANAGE_SCHEMES)


def can_see_scorecards(user) -> bool:
    return can_view_sales(user) or can_appraise(user)


def can_see_schemes(user) -> bool:
    return can_manage_schemes(user) or can_appraise(user)


def scope_reps(user, code: str = VIEW_SALES) -> frozenset[int] | None:
    """The ids of the reps whose figures ``user`` may see with ``code``: None means everyone
    (scope all), an empty set no one."""
    scope = perm_scope(user, code)
    if scope is None:
        return frozenset()
    if scope == Scope.ALL:
        return None
    from foodflow.accounts.models import User

    q = scope_q(user, code, owner="self")
    return frozenset(User.objects.filter(q).values_list("pk", flat=True))
