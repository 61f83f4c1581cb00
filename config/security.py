"""Security helpers shared by the web tier: the client's address as the proxy reports it, the Content Security
Policy header every response carries, and the cache headers that keep answers out of shared browsers.

The policy allows scripts, styles, fonts and images from the product's own origin only: no inline script, no
inline style element, no eval, no other site. Pages satisfy it (tests/test_browser_security.py collects the
browser's violation reports); a page that needs another policy sets its own header (`with_policy`).
"""

from functools import wraps

from django.conf import settings
from django.utils.cache import add_never_cache_headers

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


def client_address(request) -> str | None:
    """The caller's IP address: the first X-Forwarded-For hop only behind a known proxy, else REMOTE_ADDR; None
    when the request has neither (a login made in code)."""
    meta = getattr(request, "META", {})
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return meta.get("REMOTE_ADDR") or None


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


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login: the login page's layout, the wait in minutes, HTTP 429."""
    from django.shortcuts import render

    return render(request, "registration/locked_out.html", {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }, status=429)
