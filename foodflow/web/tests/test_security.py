"""The security settings (issue 11, part 5), through real HTTP and, for the Content-Security-Policy,
in Chromium: the headers on every kind of response; no inline script anywhere; the production
settings (HTTPS only, HSTS, secure cookies, a secret key from the environment) and Django's
deployment check on them; password rules on every path that sets a password; how long a session
lasts; no secret in the repository's files; the main pages working under the policy."""

import ast
import html
import importlib
import os
import re
import secrets
import subprocess
import sys
import time
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import identify_hasher
from django.contrib.sessions.models import Session
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.templatetags.static import static
from django.test import Client, RequestFactory, override_settings
from django.urls import get_resolver
from django.utils import timezone, translation

from conftest import PASSWORD
from foodflow.accounts.models import User
from foodflow.core.models import AuditEntry
from foodflow.core.security import SESSION_SEEN, SESSION_STARTED, ContentSecurityPolicyMiddleware
from foodflow.sales.tests.conftest import world  # noqa: F401  (the fixture, for the browser test)

ROOT = Path(__file__).resolve().parents[3]
LOGIN_URL = "/accounts/login/"


# --- the headers --------------------------------------------------------------------------------


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_secure_headers(response, where: str, *, static_file: bool = False) -> None:
    csp = csp_directives(response["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"], where
    assert csp["script-src"] == ["'self'"], where  # no inline script, no eval, no other host
    assert csp["style-src"] == ["'self'"], where  # no <style> element
    assert csp["object-src"] == ["'none'"], where
    assert csp["base-uri"] == ["'self'"], where
    assert csp["form-action"] == ["'self'"], where
    assert csp["frame-ancestors"] == ["'none'"], where
    assert set(csp["img-src"]) <= {"'self'", "data:"}, where
    assert not [source for sources in csp.values() for source in sources if source == "'unsafe-eval'"], where
    if not static_file:  # whitenoise answers before XFrameOptionsMiddleware; frame-ancestors covers it
        assert response["X-Frame-Options"] == "DENY", where
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["Referrer-Policy"] == "same-origin", where
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", where
    features = dict(item.strip().split("=", 1) for item in response["Permissions-Policy"].split(","))
    assert features["camera"] == features["microphone"] == features["geolocation"] == "()", where


class InlineCode(HTMLParser):
    """What a strict CSP refuses in a page: inline scripts (data blocks such as json_script's are
    not run and are allowed), event-handler attributes, javascript: URLs and <style> elements."""

    RUNNABLE = {"", "text/javascript", "module", "application/javascript"}

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self.in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and "src" not in attributes and (attributes.get("type") or "").lower() in self.RUNNABLE:
            self.found.append(f"inline <script> at line {self.getpos()[0]}")
        if tag == "style":
            self.found.append(f"<style> at line {self.getpos()[0]}")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}= at line {self.getpos()[0]}")
            url = (value or "").strip().lower()
            if name in {"href", "src", "action", "formaction"} and url.startswith("javascript:"):
                self.found.append(f"{tag} {name}=javascript: at line {self.getpos()[0]}")


def inline_code(page: str) -> list[str]:
    parser = InlineCode()
    parser.feed(page)
    return parser.found


def test_pages_api_answers_errors_and_static_files_carry_the_security_headers(client_of, rep):
    signed_in = client_of(rep)
    anonymous = Client()
    docs = signed_in.get("/api/docs/")
    script_url = re.search(r'<script src="([^"]*\?[^"]*script=[^"]*)"', docs.content.decode()).group(1)
    responses = {
        "login page": (anonymous.get(LOGIN_URL), {200}),
        "home page": (signed_in.get("/"), {200}),
        "order form": (signed_in.get("/sales/orders/new/"), {200}),
        "htmx fragment": (signed_in.get("/search/?q=abc", HTTP_HX_REQUEST="true"), {200}),
        "API answer": (signed_in.get("/api/v1/users/me/"), {200}),
        "API refusal": (anonymous.get("/api/v1/users/"), {401, 403}),
        "missing page": (signed_in.get("/no-such-page/"), {404}),
        "API docs": (docs, {200}),
        "API docs script": (signed_in.get(html.unescape(script_url)), {200}),
        "static file": (anonymous.get(static("web/formset.js")), {200}),
    }
    for where, (response, statuses) in responses.items():
        assert response.status_code in statuses, where
        assert_secure_headers(response, where, static_file=where == "static file")
        if response["Content-Type"].startswith("text/html"):
            assert inline_code(response.content.decode()) == [], where
        response.close()
    assert responses["API docs script"][0]["Content-Type"].startswith("application/javascript")


def test_pdfs_go_without_a_csp_and_keep_the_other_headers():
    # Chrome draws a PDF with a plugin inside a document that obeys the PDF's own policy:
    # object-src 'none' would blank it (crbug.com/271452)
    middleware = ContentSecurityPolicyMiddleware(
        lambda request: HttpResponse(b"%PDF-1.7", content_type="application/pdf")
    )
    response = middleware(RequestFactory().get("/sales/quotations/1/pdf/"))
    assert "Content-Security-Policy" not in response
    assert "camera=()" in response["Permissions-Policy"]
    page = ContentSecurityPolicyMiddleware(lambda request: HttpResponse("<p>hi</p>"))(RequestFactory().get("/"))
    assert csp_directives(page["Content-Security-Policy"])["object-src"] == ["'none'"]


def test_only_djangos_debug_pages_go_without_a_csp(client_of, rep):
    with override_settings(DEBUG=True):  # a developer's machine: the technical 404 page is styled inline
        browser = client_of(rep)
        assert "Content-Security-Policy" not in browser.get("/no-such-page/")
        assert "Content-Security-Policy" in browser.get("/")
    assert "Content-Security-Policy" in browser.get("/no-such-page/")


TEMPLATE_FILES = sorted(
    path
    for path in (ROOT / "foodflow").glob("*/templates/**/*.html")
    if "pdf" not in path.relative_to(ROOT).parts[3:-1]  # WeasyPrint's documents, never shown by a browser
)


def test_no_template_has_an_inline_script_handler_or_style_element():
    assert len(TEMPLATE_FILES) > 100
    found = {
        str(path.relative_to(ROOT)): problems
        for path in TEMPLATE_FILES
        if (problems := inline_code(re.sub(r"{#.*?#}", "", path.read_text(encoding="utf-8"))))
    }
    assert found == {}


# --- production settings ------------------------------------------------------------------------


def production_settings(monkeypatch, secret_key: str | None):
    """The production settings module as the environment makes it (imported afresh)."""
    if secret_key is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", secret_key)
    for name in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "CSP_REPORT_ONLY"):
        monkeypatch.delenv(name, raising=False)
    sys.modules.pop("foodflow.settings.production", None)
    try:
        return importlib.import_module("foodflow.settings.production")
    finally:
        sys.modules.pop("foodflow.settings.production", None)


def dev_secret_key(monkeypatch) -> str:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    sys.modules.pop("foodflow.settings.dev", None)
    try:
        return importlib.import_module("foodflow.settings.dev").SECRET_KEY
    finally:
        sys.modules.pop("foodflow.settings.dev", None)


@pytest.mark.parametrize("kind", ["unset", "empty", "short", "the dev key", "the test key", "django's insecure key"])
def test_production_refuses_to_start_without_a_real_secret_key(monkeypatch, kind):
    key = {
        "unset": None,
        "empty": "",
        "short": secrets.token_urlsafe(20),
        "the dev key": dev_secret_key(monkeypatch),
        "the test key": settings.SECRET_KEY,
        "django's insecure key": "django-insecure-" + secrets.token_urlsafe(50),
    }[kind]
    with pytest.raises(ImproperlyConfigured):
        production_settings(monkeypatch, key)


def test_production_settings_are_https_only_with_secure_cookies_and_argon2(monkeypatch):
    production = production_settings(monkeypatch, secrets.token_urlsafe(64))
    assert production.DEBUG is False
    assert production.SECURE_SSL_REDIRECT is True
    assert production.SECURE_HSTS_SECONDS >= 365 * 24 * 3600
    assert production.SECURE_HSTS_INCLUDE_SUBDOMAINS and production.SECURE_HSTS_PRELOAD
    assert production.SESSION_COOKIE_SECURE and production.CSRF_COOKIE_SECURE and production.LANGUAGE_COOKIE_SECURE
    assert production.SESSION_COOKIE_HTTPONLY
    assert production.X_FRAME_OPTIONS == "DENY"
    assert production.SECURE_REFERRER_POLICY == "same-origin"
    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert "*" not in production.ALLOWED_HOSTS
    assert production.FOODFLOW_CSP_REPORT_ONLY is False
    assert {
        "foodflow.core.security.ContentSecurityPolicyMiddleware",
        "foodflow.core.security.SessionIdleTimeoutMiddleware",
    } <= set(production.MIDDLEWARE)


def test_production_sends_http_to_https_and_its_cookies_never_travel_in_clear(monkeypatch, rep):
    production = production_settings(monkeypatch, secrets.token_urlsafe(64))
    names = [
        "SECURE_SSL_REDIRECT",
        "SECURE_REDIRECT_EXEMPT",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "CSRF_COOKIE_SECURE",
        "LANGUAGE_COOKIE_SECURE",
        "X_FRAME_OPTIONS",
        "SECURE_REFERRER_POLICY",
    ]
    with override_settings(**{name: getattr(production, name) for name in names}):
        browser = Client()  # a new client: the middleware reads these settings when it starts
        plain = browser.get(LOGIN_URL)
        assert plain.status_code == 301 and plain["Location"] == f"https://testserver{LOGIN_URL}"
        assert browser.get("/healthz").status_code != 301  # the load balancer's probe stays on HTTP
        https = {"HTTP_X_FORWARDED_PROTO": "https"}  # what the reverse proxy tells us
        page = browser.get(LOGIN_URL, **https)
        assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert page.cookies["csrftoken"]["secure"]
        signed_in = browser.post(LOGIN_URL, {"username": rep.username, "password": PASSWORD}, **https)
        assert signed_in.status_code == 302
        session = signed_in.cookies[settings.SESSION_COOKIE_NAME]
        assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
        # a session cookie (no lifetime of its own): gone when the browser closes
        assert session["max-age"] == "" and session["expires"] == ""
        language = browser.post("/accounts/language/", {"language": "en", "next": "/"}, **https)
        assert language.cookies[settings.LANGUAGE_COOKIE_NAME]["secure"]


def test_the_deployment_check_passes_on_the_production_settings(tmp_path):
    """`manage.py check --deploy` as CI runs it (.ci/run), on the settings module itself, with this
    run's database. Its security checks only: the full check (URLs, models) is CI's own step."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "foodflow.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "FOODFLOW_VAR_DIR": str(tmp_path),
    }
    command = [sys.executable, "manage.py", "check", "--deploy", "--tag", "security", "--fail-level", "WARNING"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deployment_check_fails_once_a_production_setting_is_weakened(monkeypatch):
    production = production_settings(monkeypatch, secrets.token_urlsafe(64))
    names = [name for name in dir(production) if name.startswith(("SECURE_", "SESSION_COOKIE_", "CSRF_COOKIE_"))]
    strict = {name: getattr(production, name) for name in names} | {"X_FRAME_OPTIONS": production.X_FRAME_OPTIONS}

    def warnings(**weakened) -> set[str]:
        with override_settings(**{**strict, **weakened}):
            return {message.id for message in run_checks(include_deployment_checks=True, tags=["security"])}

    assert warnings() == set()
    assert warnings(SECURE_HSTS_SECONDS=0, SECURE_SSL_REDIRECT=False) == {"security.W004", "security.W008"}
    assert warnings(SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False) == {"security.W012", "security.W016"}
    assert warnings(X_FRAME_OPTIONS="SAMEORIGIN") == {"security.W019"}


# --- passwords ----------------------------------------------------------------------------------

STRONG = "Lotus-Harbor-8172"
# each refused by one of AUTH_PASSWORD_VALIDATORS (the code it raises); the user is named Liu Yangming
WEAK = {
    "Tx9#qLm": "password_too_short",
    "qwertyuiop": "password_too_common",
    "8160392475": "password_entirely_numeric",
    "liuyangming": "password_too_similar",  # like the full name (full_name is one of the validator's attributes)
}


def expected_messages(password: str, user: User) -> list[str]:
    """What the validators say about ``password`` in Chinese, the company's language."""
    with translation.override("zh-hans"):
        try:
            password_validation.validate_password(password, user)
        except ValidationError as error:
            return list(error.messages)
    return []


def refusal_codes(password: str, user: User) -> set[str]:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        return {item.code for item in error.error_list}
    return set()


def assert_refused_in_chinese(page: str, password: str, user: User) -> None:
    messages = expected_messages(password, user)
    assert messages, password
    for message in messages:
        assert re.search(r"[\u4e00-\u9fff]", message), message  # translated, not Django's English
        assert html.escape(message) in page, (password, message)


def test_weak_passwords_are_refused_when_an_administrator_creates_a_user(admin_user, client_of):
    admin = client_of(admin_user)
    fields = {"username": "lym", "full_name": "Liu Yangming", "email": "", "phone": "", "roles": [], "is_active": "on"}
    unsaved = User(username="lym", full_name="Liu Yangming")
    for password, code in WEAK.items():
        assert code in refusal_codes(password, unsaved)
        response = admin.post("/accounts/users/new/", {**fields, "password": password})
        assert response.status_code == 200, password
        assert not User.objects.filter(username="lym").exists(), password
        assert_refused_in_chinese(response.content.decode(), password, unsaved)
    assert admin.post("/accounts/users/new/", {**fields, "password": STRONG}).status_code == 302
    assert User.objects.get(username="lym").check_password(STRONG)


def test_weak_passwords_are_refused_when_users_change_their_own(make_user, client_of):
    user = make_user("rep", username="lym", full_name="Liu Yangming")
    browser = client_of(user)
    for password, code in WEAK.items():
        assert code in refusal_codes(password, user)
        form = {"old_password": PASSWORD, "new_password": password, "new_password_again": password}
        response = browser.post("/accounts/password/", form)
        assert response.status_code == 200, password
        user.refresh_from_db()
        assert user.check_password(PASSWORD), password
        assert_refused_in_chinese(response.content.decode(), password, user)
    form = {"old_password": PASSWORD, "new_password": STRONG, "new_password_again": STRONG}
    assert browser.post("/accounts/password/", form).status_code == 302
    user.refresh_from_db()
    assert user.check_password(STRONG)


def test_weak_passwords_are_refused_when_an_administrator_resets_one(make_user, admin_user, client_of):
    user = make_user("rep", username="lym", full_name="Liu Yangming")
    admin = client_of(admin_user)
    for password in WEAK:
        response = admin.post(f"/accounts/users/{user.pk}/password/", {"password": password}, follow=True)
        user.refresh_from_db()
        assert user.check_password(PASSWORD), password
        assert_refused_in_chinese(response.content.decode(), password, user)
    admin.post(f"/accounts/users/{user.pk}/password/", {"password": STRONG})
    user.refresh_from_db()
    assert user.check_password(STRONG)


def test_outside_the_tests_passwords_are_stored_with_argon2(rep):
    from foodflow.settings import base

    with override_settings(PASSWORD_HASHERS=base.PASSWORD_HASHERS):
        rep.set_password(STRONG)
        assert identify_hasher(rep.password).algorithm == "argon2"


# --- sessions -----------------------------------------------------------------------------------


def stored_session(browser: Client) -> Session:
    return Session.objects.get(session_key=browser.cookies[settings.SESSION_COOKIE_NAME].value)


def session_set(browser: Client, **values) -> None:
    session = browser.session
    session.update(values)
    session.save()


def assert_sent_to_login(response) -> None:
    assert response.status_code == 302
    assert response.url.startswith(resolve_url(settings.LOGIN_URL))


def test_a_session_expires_session_cookie_age_after_sign_in(client_of, rep):
    browser = client_of(rep)
    assert browser.get("/").status_code == 200
    row = stored_session(browser)
    lifetime = (row.expire_date - timezone.now()).total_seconds()
    assert settings.SESSION_COOKIE_AGE - 600 < lifetime <= settings.SESSION_COOKIE_AGE
    Session.objects.filter(pk=row.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert_sent_to_login(browser.get("/"))


def test_a_busy_session_still_ends_a_working_day_after_sign_in(client_of, rep):
    browser = client_of(rep)
    assert browser.get("/").status_code == 200
    now = int(time.time())
    # every request in the last minute, but signed in longer ago than SESSION_COOKIE_AGE
    session_set(browser, **{SESSION_STARTED: now - settings.SESSION_COOKIE_AGE - 60, SESSION_SEEN: now})
    assert_sent_to_login(browser.get("/"))
    assert_sent_to_login(browser.get("/"))  # signed out for good
    assert browser.get("/api/v1/users/me/").status_code in {401, 403}
    expired = AuditEntry.objects.filter(action="auth.session_expired", object_id=str(rep.pk))
    assert [entry.changes for entry in expired] == [{"reason": "max_age"}]


def test_an_idle_session_ends_and_a_used_one_goes_on(client_of, rep):
    idle = settings.FOODFLOW_SESSION_IDLE_TIMEOUT
    assert 0 < idle < settings.SESSION_COOKIE_AGE
    browser = client_of(rep)
    assert browser.get("/").status_code == 200
    now = int(time.time())
    session_set(browser, **{SESSION_STARTED: now - idle - 600, SESSION_SEEN: now - idle + 600})
    assert browser.get("/").status_code == 200  # quiet for less than the timeout
    assert browser.session[SESSION_SEEN] >= now  # and the request counts as use
    session_set(browser, **{SESSION_SEEN: now - idle - 60})
    assert_sent_to_login(browser.get("/"))
    expired = AuditEntry.objects.filter(action="auth.session_expired", object_id=str(rep.pk))
    assert [(entry.actor_id, entry.changes) for entry in expired] == [(rep.pk, {"reason": "idle"})]
    with override_settings(FOODFLOW_SESSION_IDLE_TIMEOUT=0):  # 0: no idle timeout
        browser = client_of(rep)
        browser.get("/")
        session_set(browser, **{SESSION_SEEN: now - 7 * idle})
        assert browser.get("/").status_code == 200


def test_the_clocks_start_at_sign_in_and_an_api_token_call_gets_no_session(client, rep):
    signed_in = client.post(LOGIN_URL, {"username": rep.username, "password": PASSWORD})
    assert signed_in.status_code == 302
    assert {SESSION_STARTED, SESSION_SEEN} <= set(client.session.keys())
    token = Client().post("/api/v1/auth/token/", {"username": rep.username, "password": PASSWORD})
    api = Client(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    response = api.get("/api/v1/users/me/")
    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies


# --- secrets never in the repository --------------------------------------------------------------

# kind: (what the text must contain, in lower case, before the pattern is tried; the pattern)
SECRET_PATTERNS = {
    "private key": (("private key",), re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
    "AWS access key id": (("akia", "asia"), re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    "AWS secret access key": (
        ("aws_secret_access_key",),
        re.compile(r"aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+]{40}", re.I),
    ),
    "GitHub token": (("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b")),
    "Slack token": (("xox",), re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    "Google API key": (("aiza",), re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    "Stripe live key": (("k_live_",), re.compile(r"\b[sr]k_live_[0-9A-Za-z]{20,}")),
}
URL_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"`]*:(?P<password>[^/\s@'\"`]+)@", re.I)
PLACEHOLDER = re.compile(r"…|\.\.\.|\*+|x+|pass|password|secret|<[^>]*>|\$\{?[A-Za-z_]+\}?", re.I)
SECRET_FILE = re.compile(
    r"(?:^|/)(?:\.env(?:\..*)?|.*\.(?:pem|key|p12|pfx|jks|keystore)|id_(?:rsa|dsa|ecdsa|ed25519)|\.pgpass|\.netrc"
    r"|credentials\.json|\.htpasswd)$"
)
ENV_EXAMPLE = re.compile(r"(?:^|/)\.env\.(?:example|sample|template)$")
# settings that may carry a literal key: an obviously fake one, for developers and tests
DEV_SETTINGS = {"foodflow/settings/dev.py", "foodflow/settings/test.py"}
NOT_A_SECRET = re.compile(r"(?:dev-only|test-only|django-insecure)-")  # what production.py refuses
SENSITIVE_NAME = re.compile(r"password|secret|token|access_key|api_key|private", re.I)
SAFE_SENSITIVE_NAME = re.compile(r"HASHERS$|VALIDATORS$")


def tracked_files() -> list[str]:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [name for name in listing.stdout.decode().split("\0") if name]


def secrets_in(text: str) -> list[str]:
    lowered = text.lower()
    return [
        kind
        for kind, (markers, pattern) in SECRET_PATTERNS.items()
        if any(marker in lowered for marker in markers) and pattern.search(text)
    ]


def passwords_in_urls(text: str) -> list[str]:
    if "://" not in text:
        return []
    return [match["password"] for match in URL_PASSWORD.finditer(text) if not PLACEHOLDER.fullmatch(match["password"])]


def literal_strings(value: ast.AST) -> list[str]:
    """The non-empty string constants of an expression, but for the names of environment
    variables it reads (os.environ.get("X"), os.environ["X"], env_bool("X", …))."""
    names = set()
    for node in ast.walk(value):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            names.add(id(node.args[0]))
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            names.add(id(node.slice))
    return [
        node.value
        for node in ast.walk(value)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value and id(node) not in names
    ]


def settings_literals(path: Path) -> list[tuple[str, str, int]]:
    """(name, literal, line) for every setting or dict entry with a secret's name set to a literal."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        pairs = []
        if isinstance(node, ast.Assign):
            pairs = [(target.id, node.value) for target in node.targets if isinstance(target, ast.Name)]
        elif isinstance(node, ast.Dict):
            pairs = [
                (key.value, value)
                for key, value in zip(node.keys, node.values, strict=True)
                if isinstance(key, ast.Constant) and isinstance(key.value, str)
            ]
        for name, value in pairs:
            if SENSITIVE_NAME.search(name) and not SAFE_SENSITIVE_NAME.search(name):
                found += [(name, literal, node.lineno) for literal in literal_strings(value)]
    return found


def test_no_secret_is_in_the_repository():
    files = tracked_files()
    assert len(files) > 100
    problems = [
        f"{name}: a secret's file" for name in files if SECRET_FILE.search(name) and not ENV_EXAMPLE.search(name)
    ]
    for name in files:
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary
        text = data.decode("utf-8", errors="replace")
        problems += [f"{name}: {kind}" for kind in secrets_in(text)]
        problems += [f"{name}: a password in a URL" for _password in passwords_in_urls(text)]
    settings_files = [name for name in files if re.fullmatch(r"foodflow/settings/\w+\.py", name)]
    assert "foodflow/settings/production.py" in settings_files
    for name in settings_files:
        for setting, literal, line in settings_literals(ROOT / name):
            obviously_fake = name in DEV_SETTINGS and setting == "SECRET_KEY" and NOT_A_SECRET.match(literal)
            if not obviously_fake:
                problems.append(f"{name}:{line}: {setting} is set to a literal")
    assert problems == []


def test_the_secret_scan_finds_what_it_looks_for(tmp_path):
    # the patterns above, shown to match (a scan that matches nothing would pass on any repository)
    samples = {
        "private key": "-----BEGIN RSA " + "PRIVATE KEY-----",  # split: this file is scanned too
        "AWS access key id": "AKIA" + "ABCDEFGHIJKLMNOP",
        "AWS secret access key": "aws_secret_access_key = " + "a" * 40,
        "GitHub token": "ghp_" + "a" * 36,
        "Slack token": "xoxb-" + "1" * 12,
        "Google API key": "AIza" + "b" * 35,
        "Stripe live key": "sk_live_" + "c" * 24,
    }
    assert {kind: secrets_in(f"x = '{text}'") for kind, text in samples.items()} == {kind: [kind] for kind in samples}
    assert secrets_in("TIME_ZONE = 'Asia/Shanghai'  # a private key is never stored here") == []
    assert passwords_in_urls("DATABASE_URL=postgres://foodflow:" + "Tr0ub4dor@db:5432/x") == ["Tr0ub4dor"]
    assert passwords_in_urls("postgres://foodflow:…@db/x postgres://user:pass@host/x redis://127.0.0.1:6379/0") == []
    assert all(SECRET_FILE.search(name) for name in (".env", "deploy/.env.production", "certs/site.key", "id_rsa"))
    settings_file = tmp_path / "production.py"
    settings_file.write_text(
        'import os\nSECRET_KEY = os.environ.get("SECRET_KEY", "k3y")\nEMAIL_HOST_PASSWORD = "hunter22"\n'
        'STORAGE = {"secret_key": os.environ.get("S3_SECRET") or "s3cr3t", "bucket": "b"}\n'
        'DEBUG_TOKEN = os.environ.get("DEBUG_TOKEN", "")\n'
    )
    assert [literal for _name, literal, _line in settings_literals(settings_file)] == ["k3y", "hunter22", "s3cr3t"]


# --- the policy in a real browser ---------------------------------------------------------------

VIOLATION_LISTENER = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const text = `${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`;
  window.cspViolations.push(text);
  window.reportCspViolation(text);
});
"""
POLICY_WORDS = ("Content Security Policy", "Content-Security-Policy", "Permissions-Policy", "Permissions policy")


@pytest.fixture
def shop(transactional_db, world):  # noqa: F811
    from foodflow.analytics.tests.test_rollup import place

    place(world, [(world.milk, 10), (world.yoghurt, 3)], days_ago=0)
    place(world, [(world.milk, 4)], days_ago=35)
    get_resolver().url_patterns  # import every view now, not in the live server's first answer
    return world


@pytest.mark.browser
def test_the_main_pages_work_under_the_policy_without_a_violation(shop, browser, live_server):
    from foodflow.testing.browser import TIMEOUT_MS

    server = live_server.url
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    violations: list[str] = []
    console: list[str] = []
    context.expose_function("reportCspViolation", lambda text: violations.append(text))
    context.add_init_script(VIOLATION_LISTENER)
    page = context.new_page()
    page.on("console", lambda message: console.append(message.text))
    page.on("pageerror", lambda error: console.append(f"page error: {error}"))

    page.goto(f"{server}{LOGIN_URL}")
    page.fill("input[name=username]", shop.rep.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")
    # htmx answers the search box (its requests and swaps need no eval and no <style> of its own)
    page.fill("input[name=q]", shop.customer.name[:2])
    page.wait_for_selector("#search-dropdown [data-testid=search-results]")

    # an order form: "Add line" (web/formset.js) copies the empty line without posting the form
    page.goto(f"{server}/sales/orders/new/")
    lines = page.locator("[data-testid=line-row]")
    before = lines.count()
    page.evaluate("() => { window.formNotSent = true; }")  # gone if the button posted the form instead
    page.click("[data-testid=add-line]")
    page.wait_for_function("n => document.querySelectorAll('[data-testid=line-row]').length === n", arg=before + 1)
    assert page.input_value("#id_lines-TOTAL_FORMS") == str(before + 1)
    assert page.evaluate("() => window.formNotSent === true")
    new_line = lines.nth(before)
    assert new_line.locator(f"select[name=lines-{before}-product]").count() == 1
    assert new_line.evaluate("row => row.matches(':focus-within')")

    # a dashboard: ECharts draws every chart from the page's JSON data blocks, and shows a tooltip
    page.goto(f"{server}/analytics/dashboard/")
    charts = page.locator("[data-chart]")
    assert charts.count() >= 1
    page.wait_for_function(
        "n => document.querySelectorAll('[data-chart][data-rendered=true] svg').length === n", arg=charts.count()
    )
    assert page.locator("[data-chart] svg path").count() > 10
    charts.first.hover()

    # the API docs: Swagger UI starts from its script file (the split view) and lists the operations
    page.goto(f"{server}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock")

    assert violations == [], "\n".join(violations)
    assert [line for line in console if any(word in line for word in POLICY_WORDS)] == []
    assert [line for line in console if line.startswith("page error")] == []

    # and the policy is enforced (the listener above hears it): an inline script, which is what
    # a stored XSS would be, does not run
    page.goto(f"{server}/")
    ran = page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.injectedScriptRan = true";
          document.body.appendChild(script);
          return window.injectedScriptRan === true;
        }"""
    )
    assert ran is False
    page.wait_for_function("() => window.cspViolations.length > 0")
    assert [text.split()[0] for text in page.evaluate("() => window.cspViolations")] == ["script-src-elem"]
    context.close()
