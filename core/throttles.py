"""How fast one caller may go: counters in the shared cache (Redis in production, so every gunicorn worker and
every web machine counts together), the budgets the API's throttle (config.throttles) and the browser's order form
spend, and the refusal counts /metrics reports.

The API's budget belongs to the caller: an API token (two tokens of one account have a budget each), or for a
browser session the user. Each request spends from its scope's budget — `read` (GET, HEAD, OPTIONS) or `write`
(everything else) — and from any scope its view adds for the method (`throttle_scopes = {"POST": ("create",)}`:
order creation has a tighter budget of its own on top of the writes). Rates are settings.API_THROTTLE_RATES
(env API_THROTTLE_RATES). Windows are fixed, N requests per window; each caller's windows start at an offset of
their own, so the callers refused at one moment do not all come back at the same second.

A refused request is counted per scope under `metrics:api-throttled:<scope>`. When the cache cannot be reached the
request is let through (and logged): Redis down must not stop intake, which works without it
(tests/test_fault_broker_down.py).
"""

from __future__ import annotations

import logging
import re
import time
import zlib
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

log = logging.getLogger("core.throttles")

READ, WRITE, CREATE = "read", "write", "create"
API_METRIC = "metrics:api-throttled:"
LOGIN_METRIC = "metrics:login-refused:"
LOGIN_LIMITS = ("address", "username")
_last_warning = 0.0
_RATE = re.compile(r"^(\d+)/(\d*)(s|sec|second|m|min|minute|h|hour|d|day)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """"N/unit" or "N/<count><unit>" (unit s, min, hour or day: "600/min", "50/10s") → (N, window in seconds)."""
    match = _RATE.match(rate.strip().replace(" ", ""))
    if not match:
        raise ValueError(f"{rate!r} is not a rate such as 600/min or 50/10s")
    limit, count, unit = int(match.group(1)), int(match.group(2) or 1), match.group(3)
    if limit < 1 or count < 1:
        raise ValueError(f"{rate!r}: the number and the window must be at least 1")
    return limit, count * _UNIT_SECONDS[unit[0]]


def cache_unavailable(exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 60:  # one line a minute, not one per request, while Redis is down
        _last_warning = now
        log.warning("rate limits not counted, the cache is unavailable: %s: %s", type(exc).__name__, exc)


def count(key: str, *, timeout: int | None = None) -> int:
    """Add one to the counter `key` and return its new value; a new counter expires after `timeout` seconds (never
    when None)."""
    return count_many([(key, timeout)])[0]


def count_many(counters: list[tuple[str, int | None]]) -> list[int]:
    """count() for several (key, timeout) at once: atomic on Redis, in one round trip; on other caches (the
    zero-setup file cache) close enough."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        pipe = backend._cache.get_client(write=True).pipeline(transaction=False)
        for key, timeout in counters:
            full = backend.make_and_validate_key(key)
            if timeout is not None:
                pipe.set(full, 0, ex=timeout, nx=True)
            pipe.incr(full)
        replies = pipe.execute()
        ends = [sum(1 if timeout is None else 2 for _key, timeout in counters[:i + 1]) - 1
                for i in range(len(counters))]
        return [int(replies[end]) for end in ends]
    values = []
    for key, timeout in counters:
        cache.add(key, 0, timeout=timeout)
        try:
            values.append(cache.incr(key))
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=timeout)
            values.append(1)
    return values


def window_hits(windows: list[tuple[str, int]], *, now: float | None = None) -> list[tuple[int, float]]:
    """Count one hit in the current window of each (key, window seconds): (hits in that window so far, seconds
    until it ends) for each. A key's windows start at an offset of its own (see the module's description)."""
    now = time.time() if now is None else now
    keys, waits = [], []
    for key, seconds in windows:
        offset = zlib.crc32(key.encode()) % seconds
        index = int((now - offset) // seconds)
        keys.append((f"{key}:{index}", seconds + 1))
        waits.append((index + 1) * seconds + offset - now)
    return list(zip(count_many(keys), waits, strict=True))


def window_hit(key: str, *, window_seconds: int, now: float | None = None) -> tuple[int, float]:
    return window_hits([(key, window_seconds)], now=now)[0]


def refusal_count(key: str) -> None:
    try:
        count(key)
    except Exception as exc:  # noqa: BLE001 - a metric must never fail the request it describes
        cache_unavailable(exc)


def refusal_counts() -> dict[str, dict[str, int]]:
    """The refusals counted so far: {"api": {scope: n}, "login": {limit: n}} (for /metrics)."""
    scopes = sorted(settings.API_THROTTLE_RATES)
    keys = [API_METRIC + s for s in scopes] + [LOGIN_METRIC + limit for limit in LOGIN_LIMITS]
    values = cache.get_many(keys)
    return {"api": {s: int(values.get(API_METRIC + s) or 0) for s in scopes},
            "login": {limit: int(values.get(LOGIN_METRIC + limit) or 0) for limit in LOGIN_LIMITS}}


@lru_cache(maxsize=64)
def _rate(rate: str) -> tuple[int, int]:
    return parse_rate(rate)


@dataclass(frozen=True)
class Refusal:
    scope: str
    limit: int
    window_seconds: int
    wait: float
    caller: str  # "token" or "user" (or "address" for an anonymous caller)


def budget_spend(*, caller: str, ident: str, scopes: list[str]) -> Refusal | None:
    """Spend one request from each scope's budget of `ident` ("token:7", "user:12", "address:…"): the refusal of
    the scope that waits longest when any is over its rate (counted in /metrics), else None. The API's throttle and
    the browser's order form spend from the same budgets (a user's session counts once, whichever door it uses)."""
    refusal = None
    rates = [(scope, *_rate(settings.API_THROTTLE_RATES[scope])) for scope in scopes]
    try:
        hits = window_hits([(f"throttle:{scope}:{ident}", seconds) for scope, _limit, seconds in rates])
    except Exception as exc:  # noqa: BLE001 - Redis down: let the request through (see the module's note)
        cache_unavailable(exc)
        return None
    for (scope, limit, seconds), (count_now, wait) in zip(rates, hits, strict=True):
        if count_now > limit and (refusal is None or wait > refusal.wait):
            refusal = Refusal(scope, limit, seconds, wait, caller)
    if refusal is not None:
        refusal_count(API_METRIC + refusal.scope)
    return refusal


def browser_create_refusal(request):
    """The browser's order form spends the signed-in user's write and creation budgets, as the API would
    (budget_spend): the refusal, or None."""
    return budget_spend(caller="user", ident=f"user:{request.user.pk}", scopes=[WRITE, CREATE])
