"""Security helpers of the web tier: the limit on failed logins per address (counted by the client's network,
core.security), the Content Security Policy header every response carries, and the cache headers that keep
answers out of shared browsers.

Failed logins are limited twice: per username and address by django-axes (LOGIN_FAILURE_LIMIT, the lock an
administrator lifts in admin), and per address whatever the username (LOGIN_ADDRESS_FAILURE_LIMIT): a spray of one
password over many usernames fails each of them once, so only the second limit stops it. Its counter and its lock
live in the shared cache (Redis), so every web process counts together; they lift by themselves after
LOGIN_LOCKOUT_MINUTES, and a successful login does not reset them (an attacker holding one account could).

The policy allows scripts, styles, fonts and images from the product's own origin only: no inline script, no
inline style element, no eval, no other site. Pages satisfy it (tests/test_browser_security.py collects the
browser's violation reports); a page that needs another policy sets its own header (`with_policy`).
"""

import logging
import math
import time
from functools import wraps

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from core.security import client_network
from core.throttles import LOGIN_METRIC, cache_unavailable, count, refusal_count

log = logging.getLogger("config.security")

LOGIN_FAILURES = "login-failures:"  # per address: failed logins in the current window
LOGIN_LOCKED = "login-locked:"  # per address: the moment (epoch seconds) the lock lifts

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    # ECharts and the Swagger UI draw with data: images.
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def with_policy(policy: str):
    """Give this view's responses a policy of their own (a third-party page we cannot change, or a stricter one)."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            response = view(*args, **kwargs)
            response["Content-Security-Policy"] = policy
            return response

        return wrapper

    return decorate


# The Swagger UI (drf-spectacular's sidecar copy) sets style attributes from its script; its scripts stay strict.
SWAGGER_UI_POLICY = CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response


class PrivateCacheMiddleware:
    """No answer of the platform is kept by a browser or a proxy: counter PCs are shared, and pages, API answers,
    exports and attachments carry customers' data. Every response gets Django's never-cache headers (no-store,
    private, max-age=0) and "Pragma: no-cache" for HTTP/1.0 proxies, unless its view set its own Cache-Control
    (a deliberate choice; static files never get here, WhiteNoise answers them first). The permission matrix checks
    that every answer to a signed-in caller says no-store."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        if "no-store" in response["Cache-Control"] and not response.has_header("Pragma"):
            response["Pragma"] = "no-cache"
        return response


def login_address_locked_until(address: str | None) -> float | None:
    """When the lock on logins from `address` lifts (epoch seconds), or None when it is not locked."""
    if not address:
        return None
    try:
        until = cache.get(LOGIN_LOCKED + address)
    except Exception as exc:  # noqa: BLE001 - Redis down: the per-username limit (in the database) still holds
        cache_unavailable(exc)
        return None
    return until if until is not None and until > time.time() else None


def _login_refuse(request, limit: str) -> None:
    """Mark the login refused: django-axes' middleware answers it with lockout_response."""
    request.login_refused_by = limit
    request.axes_locked_out = True


class LoginAddressBackend:
    """First of the authentication backends: refuses, before any password is checked, every login from an address
    that is locked (the Django admin's login too). Authenticates nobody itself."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is not None and login_address_locked_until(client_network(request)):
            _login_refuse(request, "address")
            raise PermissionDenied  # stops the backends; user_login_failed is sent
        return None
    # No get_user(): the test client's force_login() would take this backend for the session's.


def login_failure_count(sender, credentials, request=None, **kwargs):
    """user_login_failed: one more failure for the address; at the limit the address is locked (this attempt is
    answered with the lockout page already, as django-axes does). A login the lock refused is not counted."""
    if request is None or getattr(request, "login_refused_by", None):
        return
    address = client_network(request)
    if not address:
        return
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    try:
        failures = count(LOGIN_FAILURES + address, timeout=seconds)
        if failures >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            cache.set(LOGIN_LOCKED + address, time.time() + seconds, timeout=seconds)
    except Exception as exc:  # noqa: BLE001 - see login_address_locked_until
        cache_unavailable(exc)
        return
    if failures >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
        if failures == settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            log.warning("logins from %s locked for %d min after %d failures", address, seconds // 60, failures)
        _login_refuse(request, "address")


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login (the username from this address, or the whole address): the login
    page's layout, the wait in minutes, HTTP 429 with Retry-After; counted for /metrics by which limit refused."""
    limit = getattr(request, "login_refused_by", "username")
    refusal_count(LOGIN_METRIC + limit)
    wait = settings.AXES_COOLOFF_TIME.total_seconds()
    if limit == "address":
        until = login_address_locked_until(client_network(request))
        wait = until - time.time() if until else wait
        failure_limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    else:
        failure_limit = settings.AXES_FAILURE_LIMIT
    response = render(request, "registration/locked_out.html", {
        "failure_limit": failure_limit,
        "by_address": limit == "address",
        "minutes": max(1, math.ceil(wait / 60)),
    }, status=429)
    response["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


SESSION_RENEWED_KEY = "_renewed"


class RenewingSessionMiddleware(SessionMiddleware):
    """Django's session middleware, renewing a signed-in session's idle expiry when it is more than
    SESSION_RENEW_SECONDS old instead of writing the session row on every request (SESSION_SAVE_EVERY_REQUEST):
    the idle limit keeps its meaning to within that minute, and a busy agent's pages stop writing (and committing)
    the session table each time."""

    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if session is not None and session.accessed and not session.modified and session.session_key:
            now = int(time.time())
            if now - session.get(SESSION_RENEWED_KEY, 0) >= settings.SESSION_RENEW_SECONDS:
                session[SESSION_RENEWED_KEY] = now
        return super().process_response(request, response)
