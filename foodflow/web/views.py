import json
from datetime import datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from rest_framework import exceptions
from rest_framework.exceptions import APIException

from foodflow.accounts.permissions import can_access_area, can_view_audit
from foodflow.core.api import row_id
from foodflow.core.exports import capped_xlsx_response
from foodflow.core.health import readiness
from foodflow.core.models import AuditEntry, Notification
from foodflow.core.notifications import notifications_mark_read
from foodflow.core.search import search_everything
from foodflow.core.views import paginate, require, safe_next

from .home import cards_for
from .navigation import AREAS_BY_CODE


@login_required
def home_view(request):
    notes = Notification.objects.filter(recipient=request.user)[:5]
    return render(request, "web/home.html", {"cards": cards_for(request.user), "notes": notes})


@login_required
def area_view(request, code: str):
    area = AREAS_BY_CODE.get(code)
    if area is None:
        raise Http404
    if not can_access_area(request.user, area.permission):
        raise PermissionDenied
    return render(request, "web/area.html", {"area": area, "links": area.links_for(request.user)})


@login_required
def search_view(request):
    query = request.GET.get("q", "")[:100]
    groups = search_everything(user=request.user, query=query) if query.strip() else []
    template = "web/includes/search_results.html" if request.htmx else "web/search.html"
    return render(request, template, {"query": query, "groups": groups})


@login_required
def notifications_view(request):
    notes = Notification.objects.filter(recipient=request.user)
    if request.GET.get("unread"):
        notes = notes.filter(read_at__isnull=True)
    return render(
        request,
        "web/notifications.html",
        {"page": paginate(request, notes), "only_unread": bool(request.GET.get("unread"))},
    )


@require_POST
@login_required
def notifications_read_view(request):
    ids = request.POST.getlist("id") or None
    notifications_mark_read(user=request.user, ids=[pk for i in ids if (pk := row_id(i))] if ids else None)
    return redirect(safe_next(request, reverse("web:notifications")))


AUDIT_FILTERS = ("q", "action", "object_type", "actor", "since", "until")


def _audit_day(value: str):
    """A filter's day (YYYY-MM-DD), or None when empty or not a date (the filter is then left out)."""
    try:
        return parse_date(value) if value else None
    except ValueError:
        return None


def _audit_search(request):
    """The audit log's filters, read the same way by the page and by its export (newest first)."""
    entries = AuditEntry.objects.select_related("actor")
    filters = {key: request.GET.get(key, "").strip()[:100] for key in AUDIT_FILTERS}
    # days of the company's calendar, both included
    since, until = _audit_day(filters["since"]), _audit_day(filters["until"])
    if since:
        entries = entries.filter(at__gte=timezone.make_aware(datetime.combine(since, time.min)))
    if until:
        entries = entries.filter(at__lt=timezone.make_aware(datetime.combine(until + timedelta(days=1), time.min)))
    if filters["action"]:
        entries = entries.filter(action__icontains=filters["action"])
    if filters["object_type"]:
        entries = entries.filter(object_type=filters["object_type"])
    if filters["actor"]:
        entries = entries.filter(actor_name__icontains=filters["actor"])
    if filters["q"]:
        entries = entries.filter(object_repr__icontains=filters["q"]) | entries.filter(object_id=filters["q"])
    return filters, entries.order_by("-seq")


@require(can_view_audit)
def audit_view(request):
    filters, entries = _audit_search(request)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "web/audit.html",
        {"page": paginate(request, entries, per_page=50), "filters": filters, "export_query": params.urlencode()},
    )


def _changes_text(entry: AuditEntry) -> str:
    return json.dumps(entry.changes, ensure_ascii=False, sort_keys=True, cls=DjangoJSONEncoder) if entry.changes else ""


AUDIT_EXPORT_COLUMNS = (
    ("#", lambda entry: entry.seq),
    # the wall-clock time of the company: a spreadsheet cell has no time zone
    (gettext_lazy("Time"), lambda entry: timezone.localtime(entry.at).replace(tzinfo=None)),
    (gettext_lazy("Actor"), lambda entry: entry.actor_name),
    (gettext_lazy("Action"), lambda entry: entry.action),
    (gettext_lazy("Object type"), lambda entry: entry.object_type),
    (gettext_lazy("Object id"), lambda entry: entry.object_id),
    (gettext_lazy("Object"), lambda entry: entry.object_repr),
    (gettext_lazy("Changes"), _changes_text),
    (gettext_lazy("IP address"), lambda entry: entry.ip_address or ""),
)


@require(can_view_audit)
def audit_export_view(request):
    # the rows are read before this export's own entry is appended: it is not in the file
    filters, entries = _audit_search(request)
    return capped_xlsx_response(
        request,
        title=_("Audit log"),
        columns=AUDIT_EXPORT_COLUMNS,
        rows=entries,
        filename="audit-log",
        audit_action="core.audit_exported",
        filters={key: value for key, value in filters.items() if value},
    )


@never_cache
def healthz_view(request):
    """Liveness plus the database: 200 when a query answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return JsonResponse({"status": "error", "database": str(exc)[:200]}, status=503)
    return JsonResponse({"status": "ok", "database": connection.vendor})


@never_cache
def readyz_view(request):
    """Readiness for the load balancer: 200 while the database, the broker and the cache answer,
    503 naming the parts that do not."""
    ready = readiness()
    if ready.ok:
        return JsonResponse({"status": "ok", **ready.checks})
    return JsonResponse({"status": "error", "failed": ready.failed, **ready.checks}, status=503)


def _api_error(request, exception_class: type[APIException]) -> JsonResponse | None:
    """Under /api/ an error is ``{"code", "message"}`` also when Django answers before DRF: a path
    no API route matches (``/api/v1/customers/1.5/``), an uncaught exception."""
    if not request.path_info.startswith("/api/"):
        return None
    body = {"code": exception_class.default_code, "message": str(exception_class.default_detail)}
    return JsonResponse(body, status=exception_class.status_code)


def forbidden_view(request, exception=None):
    if api_error := _api_error(request, exceptions.PermissionDenied):
        return api_error
    return render(
        request,
        "web/error.html",
        {"code": 403, "title": _("Access denied"), "text": _("Your roles do not give you access to this page.")},
        status=403,
    )


def not_found_view(request, exception=None):
    if api_error := _api_error(request, exceptions.NotFound):
        return api_error
    return render(
        request,
        "web/error.html",
        {"code": 404, "title": _("Page not found"), "text": _("The page does not exist or was moved.")},
        status=404,
    )


def server_error_view(request):
    if api_error := _api_error(request, APIException):
        return api_error
    return render(
        request,
        "web/error.html",
        {"code": 500, "title": _("Something went wrong"), "text": _("The error was logged. Please try again later.")},
        status=500,
    )
