"""What the browser may do with a FoodFlow response, and how long a signed-in session lasts.

``ContentSecurityPolicyMiddleware`` sends the Content-Security-Policy (Django 5.2 has none of
its own) and the Permissions-Policy built from settings, in every mode, tests included, so a
page that needs an inline script fails its tests instead of production. Django's
SecurityMiddleware and XFrameOptionsMiddleware send the rest (nosniff, Referrer-Policy,
Cross-Origin-Opener-Policy, X-Frame-Options, HSTS over HTTPS).

``SessionIdleTimeoutMiddleware`` signs a user out after a spell without requests, and after
SESSION_COOKIE_AGE since they signed in however busy they were: every save of a Django session
pushes its expiry on, so the session's own expiry alone would slide forever.
"""

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout

from .audit import audit_record
from .views import client_ip


def policy_header(directives: dict[str, list[str]]) -> str:
    """{"default-src": ["'self'"], "upgrade-insecure-requests": []} →
    "default-src 'self'; upgrade-insecure-requests"."""
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


def permissions_header(features: dict[str, list[str]]) -> str:
    """{"camera": [], "fullscreen": ["self"]} → "camera=(), fullscreen=(self)"."""
    return ", ".join(f"{feature}=({' '.join(allowed)})" for feature, allowed in features.items())


class ContentSecurityPolicyMiddleware:
    """Adds the CSP and Permissions-Policy headers to every response a view did not set them on.

    PDFs go without a CSP: Chrome shows a PDF through a plugin inside a document that obeys the
    PDF response's policy, and ``object-src 'none'`` blanks it (crbug.com/271452). So do Django's
    own error pages with DEBUG on (a developer's machine): they are styled and scripted inline."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.csp = policy_header(settings.FOODFLOW_CSP)
        self.csp_name = (
            "Content-Security-Policy-Report-Only" if settings.FOODFLOW_CSP_REPORT_ONLY else "Content-Security-Policy"
        )
        self.skip_types = tuple(settings.FOODFLOW_CSP_SKIP_CONTENT_TYPES)
        self.permissions = permissions_header(settings.FOODFLOW_PERMISSIONS_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
        debug_page = settings.DEBUG and response.status_code in {404, 500}
        if self.csp and content_type not in self.skip_types and not debug_page:
            response.headers.setdefault(self.csp_name, self.csp)
        if self.permissions:
            response.headers.setdefault("Permissions-Policy", self.permissions)
        return response


SESSION_STARTED = "_foodflow_session_started"
SESSION_SEEN = "_foodflow_session_seen"
# The last-seen time is written at most this often: one session save a minute per active user,
# not one per request (an idle timeout is minutes or hours, a minute's slack does not matter).
SEEN_RESOLUTION = 60


class SessionIdleTimeoutMiddleware:
    """Logs out a session idle for longer than FOODFLOW_SESSION_IDLE_TIMEOUT seconds (0: never)
    or older than SESSION_COOKIE_AGE. The request then goes on anonymous, so a page answers
    with the login redirect and the API with 401/403, as for any signed-out caller."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self.check(request)
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and SESSION_KEY in session and SESSION_SEEN not in session:
            # signed in by this very request (the login page): the clocks start in the session
            # write the sign-in makes anyway. (A token-authenticated API call has no signed-in
            # session: it gets no session.)
            self.start(session)
        return response

    @staticmethod
    def start(session) -> None:
        now = int(time.time())
        session.setdefault(SESSION_STARTED, now)
        session[SESSION_SEEN] = now

    def check(self, request) -> None:
        session = request.session
        started = session.get(SESSION_STARTED)
        seen = session.get(SESSION_SEEN)
        if started is None or seen is None:  # a session from before these clocks
            self.start(session)
            return
        now = int(time.time())
        idle_timeout = settings.FOODFLOW_SESSION_IDLE_TIMEOUT
        too_old = now - started > settings.SESSION_COOKIE_AGE
        too_idle = idle_timeout and now - seen > idle_timeout
        if too_old or too_idle:
            user = request.user
            logout(request)
            audit_record(
                action="auth.session_expired",
                actor=user,
                obj=user,
                ip_address=client_ip(request),
                changes={"reason": "max_age" if too_old else "idle"},
            )
        elif now - seen >= SEEN_RESOLUTION:
            session[SESSION_SEEN] = now
