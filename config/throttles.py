"""The API's throttle: each request spends from its caller's budgets (core.throttles); a refused request is answered
429 with Retry-After and a JSON body in the API's error format."""

from __future__ import annotations

import logging
import math

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions
from rest_framework.exceptions import ErrorDetail
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle

from core.security import client_network
from core.throttles import CREATE, READ, WRITE, Refusal, budget_spend
from org.models import ApiToken

log = logging.getLogger("config.throttles")

SCOPE_WORDS = {READ: gettext_lazy("read"), WRITE: gettext_lazy("write"), CREATE: gettext_lazy("order creation")}


class Throttled(exceptions.Throttled):
    """429 in the API's error format: `detail` says who is over which budget and when to come back; the figures
    are fields of their own; Retry-After is whole seconds (rounded up)."""

    def __init__(self, refusal: Refusal):
        self.wait = math.ceil(refusal.wait)
        words = {"scope": SCOPE_WORDS.get(refusal.scope, refusal.scope), "limit": refusal.limit,
                 "seconds": refusal.window_seconds, "wait": self.wait}
        if refusal.caller == "token":
            message = _("Too many %(scope)s requests with this token: at most %(limit)d in %(seconds)d seconds. "
                        "Retry in %(wait)d seconds.") % words
        elif refusal.caller == "user":
            message = _("Too many %(scope)s requests by this user: at most %(limit)d in %(seconds)d seconds. "
                        "Retry in %(wait)d seconds.") % words
        else:
            message = _("Too many %(scope)s requests from this address: at most %(limit)d in %(seconds)d seconds. "
                        "Retry in %(wait)d seconds.") % words
        # Set directly, not through APIException: its conversion would turn the numbers into strings.
        self.detail = {"detail": ErrorDetail(message, code="throttled"), "scope": refusal.scope,
                       "limit": refusal.limit, "window_seconds": refusal.window_seconds, "retry_after": self.wait}

    def __str__(self):
        return str(self.detail["detail"])

    def get_codes(self):
        return "throttled"


class ApiRateThrottle(BaseThrottle):
    """The API's throttle (REST_FRAMEWORK's only throttle class); see the module's description."""

    def allow_request(self, request, view) -> bool:
        self.refusal = None
        caller, ident = self.caller(request)
        scopes = [READ if request.method in SAFE_METHODS else WRITE,
                  *getattr(view, "throttle_scopes", {}).get(request.method, ())]
        refusal = budget_spend(caller=caller, ident=ident, scopes=scopes)
        if refusal is None:
            return True
        self.refusal = refusal
        log.info("API %s %s refused: %s over %d per %d s", request.method, request.path, ident, refusal.limit,
                 refusal.window_seconds)
        raise Throttled(refusal)  # rather than return False: DRF's own answer would not say which budget

    @staticmethod
    def caller(request) -> tuple[str, str]:
        if isinstance(request.auth, ApiToken):
            return "token", f"token:{request.auth.pk}"
        if request.user and request.user.is_authenticated:
            return "user", f"user:{request.user.pk}"
        return "address", f"address:{client_network(request._request)}"

    def wait(self) -> float | None:
        return self.refusal.wait if self.refusal else None
