"""Every URL and API route × every built-in role (and anonymous) × an object in the user's
scope and one out of it: allowed, or 403/404, as the permission module says.

The table (``authorization_table.py``) says for each URL name who may call it; here each demo
user (one per built-in role) calls it through Django's test client, on the demo company:

- allowed: anything but 401/403/404, a redirect to the login page or a server error;
- not allowed: 403 or 404 (anonymous: a redirect to the login page, or 401/403 from the API),
  and a refused write changes nothing (the audit log, where every change is written, stays);
- an object out of the user's scope: 403 or 404.

Writes are sent with an empty body; every request runs in a savepoint rolled back at once, so
the demo company stays as seeded for the next request."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from foodflow.accounts.models import User
from foodflow.accounts.roles import BUILTIN_ROLES
from foodflow.core.models import AuditEntry
from foodflow.web.demo import DEMO_USERS

from .authorization_table import BY_NAME, ENTRIES, LOGGED_IN, PUBLIC, TARGETS, Entry, Rule

# ~7,000 requests: in CI's SQLite run only. Who may do what is decided in Python (the permission
# module); the scopes' queries are the ORM's on both databases, and the domains' own scope tests
# run on PostgreSQL as well.
pytestmark = pytest.mark.once

# requests come from an address of their own: the login throttle and the public forms' rate
# limit count per address, and other test modules call from 127.0.0.1
ADDRESS = "192.0.2.11"
NO_MATCH = "无此记录-matrix"
METHODS = ("get", "post", "put", "patch", "delete")
STATS: Counter = Counter()
GAPS: set[str] = set()  # (entry, role) pairs the demo company has no object in scope for


# --- the URL patterns ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    route: str
    name: str | None
    methods: frozenset[str] | None  # an API route's methods; None for a Django view
    format_suffix: bool  # DRF's ``customers.json`` twin of a route


def _walk(resolver, prefix="", namespace=None):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            joined = f"{namespace}:{inner}" if namespace and inner else inner or namespace
            yield from _walk(pattern, prefix + str(pattern.pattern), joined)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield prefix + str(pattern.pattern), name, pattern


def _api_methods(pattern: URLPattern) -> frozenset[str] | None:
    callback = pattern.callback
    actions = getattr(callback, "actions", None)  # a viewset's route: {method: action}
    if actions is not None:
        return frozenset(actions) - {"head", "options"}  # DRF adds HEAD once a GET was served
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is None or not hasattr(view_class, "permission_classes"):
        return None
    return frozenset(method for method in METHODS if hasattr(view_class, method))


def routes() -> list[Route]:
    return [
        Route(route, name, _api_methods(pattern), "format" in pattern.pattern.regex.groupindex)
        for route, name, pattern in _walk(get_resolver())
    ]


def test_every_url_has_an_entry():
    """Each URL pattern is covered by the entry of its name, an API route by a rule for each
    method it answers; no entry names a URL that is gone."""
    problems = []
    names = set()
    for route in routes():
        names.add(route.name)
        entry = BY_NAME.get(route.name)
        if entry is None:
            problems.append(f"/{route.route} (name {route.name!r}) has no entry in authorization_table.py")
        elif route.methods is not None and route.methods != set(entry.rules):
            problems.append(
                f"{route.route}: answers {sorted(route.methods)}, the entry {entry.name!r} has rules for "
                f"{sorted(entry.rules)}"
            )
    problems += [f"entry {name!r} names no URL" for name in BY_NAME if name not in names]
    problems += [f"entry {name!r} is there twice" for name, n in Counter(e.name for e in ENTRIES).items() if n > 1]
    assert not problems, "\n".join(problems)


def test_the_api_has_no_format_suffix_twins():
    """``/api/v1/complaints.json`` answered a server error (handlers that take no ``format``):
    the router makes no such twins, and the matrix has none to check."""
    assert [f"/{route.route}" for route in routes() if route.format_suffix] == []


# --- the actors ---------------------------------------------------------------------------------


@dataclass
class Actor:
    label: str
    user: object
    client: Client

    @property
    def anonymous(self) -> bool:
        return not self.user.is_authenticated


def _demo_username(role_code: str) -> str:
    """The demo user who holds exactly this built-in role."""
    return next(username for username, _name, roles, *_rest in DEMO_USERS if roles == [role_code])


def _client() -> Client:
    return Client(raise_request_exception=False, REMOTE_ADDR=ADDRESS)


def _logged_in(user) -> Client:
    client = _client()
    client.force_login(user)
    return client


@pytest.fixture(scope="module")
def quiet():
    """Thousands of refusals: Django logs each 4xx with its traceback and the request log a line
    per request; only server errors are logged here. WeasyPrint's layout (seconds a page on this
    machine) is left out: who gets a PDF is the question, the PDF tests read what it holds."""
    import logging

    from weasyprint import HTML

    levels = {name: logging.getLogger(name).level for name in ("django.request", "foodflow.request")}
    for name in levels:
        logging.getLogger(name).setLevel(logging.ERROR)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(HTML, "write_pdf", lambda self, *args, **kwargs: b"%PDF-1.7\n%%EOF\n")
        yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture(scope="module")
def actors(seeded_company, django_db_blocker, quiet):
    """Anonymous, then one demo user per built-in role, each with a client logged in once for
    the module; the objects the demo company lacks are added (the module's transaction ends
    rolled back with the demo company)."""
    with django_db_blocker.unblock():
        users = {user.username: user for user in User.objects.filter(username__in=[u[0] for u in DEMO_USERS])}
        for target in TARGETS:
            if target.ensure is not None:
                target.ensure(users)
        found = [Actor("anonymous", AnonymousUser(), _client())]
        for code, *_rest in BUILTIN_ROLES:
            user = users[_demo_username(code)]
            found.append(Actor(code, user, _logged_in(user)))
    yield found
    print(f"\nauthorization matrix: {dict(STATS)}; no object in scope for: {sorted(GAPS)}")


# --- the objects in and out of each user's scope -----------------------------------------------

_candidates: dict[str, list] = {}


def candidates(entry: Entry) -> list:
    target = entry.target
    if target.key not in _candidates:
        objects = target.objects()
        if not isinstance(objects, QuerySet):
            picked = list(objects)
        elif target.spread is None:
            picked = list(objects.order_by("pk")[: target.limit])
        else:
            values = objects.order_by().values_list(target.spread, flat=True).distinct()
            picked = [objects.filter(**{target.spread: value}).order_by("pk").first() for value in values]
            picked = sorted(picked, key=lambda obj: obj.pk)
        _candidates[target.key] = picked
    return _candidates[target.key]


def may(rule: Rule, user) -> bool:
    if rule.may == PUBLIC:
        return True
    if not user.is_authenticated:
        return False
    return rule.may == LOGGED_IN or bool(rule.may(user))


def cases(entry: Entry, rule: Rule, user) -> tuple[list[tuple[str, object, bool]], list[str]]:
    """(scope, object, allowed) for this user, and the gaps: scopes the demo company has no
    object for."""
    base = may(rule, user)
    if entry.target is None:
        return [("-", None, base)], []
    objects = candidates(entry)
    if not objects:
        return [], [f"no {entry.target.key} in the demo company"]
    if rule.on is None:
        return [("any", objects[0], base)], []
    if not base:
        # preferably an object in the user's scope: only the missing permission refuses it
        reachable = [obj for obj in objects if user.is_authenticated and rule.on(user, obj)]
        return [("any", (reachable or objects)[0], False)], []
    own = next((obj for obj in objects if rule.on(user, obj)), None)
    other = next((obj for obj in objects if not rule.on(user, obj)), None)
    found = [(label, obj, label == "own") for label, obj in (("own", own), ("other", other)) if obj is not None]
    return found, ([] if own is not None else ["own"])


# --- one request --------------------------------------------------------------------------------


def _url(entry: Entry, obj) -> str:
    kwargs = dict(entry.kwargs)
    if obj is not None:
        kwargs.update(entry.target.kwargs(obj))
    return reverse(entry.name, kwargs=kwargs or None)


def _last_audit_seq():
    return AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()


def _send(client: Client, method: str, url: str, entry: Entry):
    if method == "get":
        # few rows: an API list's first row, a search that finds nothing on a list page or export
        narrow = {"page_size": 1} if entry.api else {"q": NO_MATCH} if entry.target is None else {}
        return client.get(url, {**narrow, **entry.query})
    if entry.api:
        return getattr(client, method)(url, data={}, content_type="application/json")
    return client.post(url, {})


def _verdict(response, *, allowed: bool, anonymous: bool, public: bool) -> str | None:
    status = response.status_code
    location = response.get("Location", "") if status in (301, 302) else ""
    to_login = location.startswith(resolve_url("accounts:login"))
    if status >= 500:
        error = getattr(response, "exc_info", None)
        return f"server error {status}" + (f": {error[1]!r}" if error else "")
    if status == 405:
        return "405: the table's method is wrong"
    if public:
        # a public URL may answer 401 (a wrong password) or send to the login page (logout)
        return f"refused ({status}) but public" if status in (403, 404) else None
    if allowed:
        if status in (401, 403, 404) or to_login:
            return f"refused ({status}{' to login' if to_login else ''}) but allowed"
        return None
    if status in (403, 404) or (anonymous and (status == 401 or to_login)):
        return None
    return f"let through ({status}{' → ' + location if location else ''}) but not allowed"


def check(actor: Actor, entry: Entry, method: str, obj, allowed: bool) -> str | None:
    public = entry.rules[method].may == PUBLIC
    url = _url(entry, obj)
    client = actor.client
    if entry.fresh_client:  # logout and language change the client itself
        client = _client() if actor.anonymous else _logged_in(actor.user)
    with transaction.atomic():
        before = _last_audit_seq() if method != "get" and not allowed else None
        response = _send(client, method, url, entry)
        changed = method != "get" and not allowed and _last_audit_seq() != before
        transaction.set_rollback(True)
    STATS["requests"] += 1
    problem = _verdict(response, allowed=allowed, anonymous=actor.anonymous, public=public)
    if problem is None and changed:
        problem = "refused, yet the audit log has a new entry"
    return None if problem is None else f"{method.upper()} {url} as {actor.label}: {problem}"


# --- the matrix ---------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_authorization(entry: Entry, demo, actors):
    problems: list[str] = []
    gaps: list[str] = []
    chosen = actors if entry.all_roles else actors[:1]
    for method, rule in entry.rules.items():
        for actor in chosen:
            found, missing = cases(entry, rule, actor.user)
            gaps += [f"{method} {actor.label}: {gap}" for gap in missing]
            for scope, obj, allowed in found:
                STATS[f"{'allowed' if allowed else 'refused'} {scope}"] += 1
                problems.append(check(actor, entry, method, obj, allowed))
    problems = [problem for problem in problems if problem]
    if any(gap.endswith("in the demo company") for gap in gaps):
        problems += gaps
    GAPS.update(f"{entry.name} {gap}" for gap in gaps)
    assert not problems, "\n".join(problems)
