"""What an operator watches: `/healthz` (database, broker, beat freshness) and `/metrics` (Prometheus text:
request latency, queue depth, open and overdue stages, sweep lag).

`/healthz` answers 200 when every check passes and 503 otherwise, with one line per check; it says nothing
secret, so a load balancer may call it without logging in. `/metrics` is for the scraper: it needs
`Authorization: Bearer $METRICS_TOKEN` (or an administrator's session); without METRICS_TOKEN only
administrators see it. Request latency is counted per process, or across gunicorn's workers when
PROMETHEUS_MULTIPROC_DIR is set (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import hmac
import logging
import os
import sys
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.db.models import Count, Q
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import bad_request as site_bad_request
from django.views.defaults import page_not_found as site_page_not_found
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from config.celery import app
from core.permissions import is_admin
from core.throttles import refusal_counts
from sms.models import SmsMessage
from workflow.models import Heartbeat, OrderStage

log = logging.getLogger("config.ops")

BEAT_STALE_AFTER = timedelta(seconds=120)  # beat sends the heartbeat every 30 s
GAUGE_CACHE_SECONDS = 15

REQUEST_SECONDS = Histogram(
    "complaints_http_request_seconds", "Server time per request, by route and method.",
    ["route", "method", "status"], buckets=(0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10))


# --- health ---------------------------------------------------------------------------------------------


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_broker() -> str:
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        if conn.transport.driver_type == "redis":
            conn.default_channel.client.ping()
    return "ok"


def _check_beat() -> str:
    row = Heartbeat.objects.filter(name="beat").first()
    if row is None:
        raise RuntimeError("no heartbeat yet: is celery beat running, and a worker?")
    age = timezone.now() - row.ran_at
    if age > BEAT_STALE_AFTER:
        raise RuntimeError(f"last heartbeat {int(age.total_seconds())} s ago")
    return f"ok ({int(age.total_seconds())} s ago)"


CHECKS = {"database": _check_database, "broker": _check_broker, "beat": _check_beat}


@never_cache
@require_GET
def healthz(request):
    results, healthy = {}, True
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure is the answer, not a crash
            healthy = False
            results[name] = f"failing: {type(exc).__name__}: {str(exc)[:200]}"
    return JsonResponse({"status": "ok" if healthy else "failing", "checks": results},
                        status=200 if healthy else 503)


# --- metrics --------------------------------------------------------------------------------------------


class RequestTimingMiddleware:
    """Times every request into the latency histogram, labelled by the route's name (not its URL: bounded)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = (match.view_name if match else "") or "unresolved"
        REQUEST_SECONDS.labels(route, request.method, f"{response.status_code // 100}xx").observe(
            time.perf_counter() - start)
        return response


def _work_figures() -> dict:
    """The database's side, cached for a few seconds so a busy scraper costs little."""
    figures = cache.get("ops:figures")
    if figures is not None:
        return figures
    now = timezone.now()
    running = OrderStage.objects.filter(ended_at__isnull=True, paused_at__isnull=True)
    oldest_unswept = (running.filter(overdue_at__isnull=True, due_at__lte=now).order_by("due_at")
                      .values_list("due_at", flat=True).first())
    figures = {
        "open_stages": running.count(),
        "overdue_stages": running.filter(overdue_at__isnull=False).count(),
        # How far the deadline sweep is behind: the oldest deadline passed and not yet stamped overdue.
        "sweep_lag": (now - oldest_unswept).total_seconds() if oldest_unswept else 0.0,
        "heartbeats": {h.name: (now - h.ran_at).total_seconds() for h in Heartbeat.objects.all()},
        "queue_depth": _queue_depth(),
        "sms": _sms_figures(now),
    }
    cache.set("ops:figures", figures, GAUGE_CACHE_SECONDS)
    return figures


def _sms_figures(now) -> dict[str, int]:
    """Customer SMS by status: those of the last 24 hours, and every message still waiting or being sent."""
    counts = dict.fromkeys(SmsMessage.Status.values, 0)
    rows = (SmsMessage.objects.filter(Q(created_at__gte=now - timedelta(hours=24))
                                      | Q(status__in=[SmsMessage.Status.QUEUED, SmsMessage.Status.SENDING]))
            .order_by().values("status").annotate(n=Count("id")))
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def _queue_depth() -> float:
    """Messages waiting in Celery's default queue (Redis); NaN when the broker cannot be asked."""
    try:
        with app.connection_for_write() as conn:
            if conn.transport.driver_type != "redis":
                return float("nan")
            return float(conn.default_channel.client.llen(app.conf.task_default_queue or "celery"))
    except Exception:  # noqa: BLE001 - the broker being down is itself what the metric shows
        return float("nan")


class WorkCollector:
    def collect(self):
        figures = _work_figures()
        for name, help_text, value in (
            ("complaints_open_stages", "Time-limited stages running now.", figures["open_stages"]),
            ("complaints_overdue_stages", "Running stages past their deadline.", figures["overdue_stages"]),
            ("complaints_sweep_lag_seconds", "Age of the oldest passed deadline the sweep has not stamped yet.",
             figures["sweep_lag"]),
            ("complaints_celery_queue_depth", "Messages waiting in the Celery queue.", figures["queue_depth"]),
        ):
            family = GaugeMetricFamily(name, help_text)
            family.add_metric([], value)
            yield family
        sms = GaugeMetricFamily("complaints_sms_messages", "Customer SMS by status: sent, delivered, failed… in the "
                                "last 24 hours; queued and sending: all waiting now.", labels=["status"])
        for status, count in sorted(figures["sms"].items()):
            sms.add_metric([status], count)
        yield sms
        ages = GaugeMetricFamily("complaints_job_age_seconds", "Seconds since each periodic job last ran.",
                                 labels=["job"])
        for job, age in sorted(figures["heartbeats"].items()):
            ages.add_metric([job], age)
        yield ages


class RefusalCollector:
    """Requests refused by a rate limit: counted in the shared cache by whichever worker refused them."""

    def collect(self):
        try:
            counts = refusal_counts()
        except Exception:  # noqa: BLE001 - the cache being down must not take the other metrics with it
            return
        api = CounterMetricFamily("complaints_api_throttled", "API requests refused (429) by a rate limit, by scope.",
                                  labels=["scope"])
        for scope, value in counts["api"].items():
            api.add_metric([scope], value)
        yield api
        login = CounterMetricFamily("complaints_login_refused", "Logins refused by a lockout, by the limit that "
                                    "refused them (per username and address, or per address).", labels=["limit"])
        for limit, value in counts["login"].items():
            login.add_metric([limit], value)
        yield login


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_SECONDS)
    registry.register(WorkCollector())
    registry.register(RefusalCollector())
    return registry


def _may_scrape(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    return is_admin(request.user)


@never_cache
@require_GET
def metrics(request):
    if not _may_scrape(request):
        return HttpResponse("Forbidden: send Authorization: Bearer <METRICS_TOKEN>.\n", status=403,
                            content_type="text/plain; charset=utf-8")
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)



# --- errors ---------------------------------------------------------------------------------------------


def page_not_found(request, exception):
    """The 404 handler: JSON under /api/ (a client of the API never gets the site's HTML page), the site's page
    elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("No such API address: %(path)s. The API is described at /api/schema/ "
                                         "and /api/docs/.") % {"path": request.path}}, status=404)

    return site_page_not_found(request, exception)


def bad_request(request, exception):
    """The 400 handler (a request Django refused before any view, e.g. a malformed or oversized body): JSON under
    /api/; 413 for a body over the size limit."""
    if request.path.startswith("/api/"):
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse({"detail": "The request body is too large."}, status=413)
        return JsonResponse({"detail": "Bad request."}, status=400)

    return site_bad_request(request, exception)


def server_error(request):
    """The 500 handler. When the database is unreachable (restarting, failing over) the answer is 503 with
    Retry-After, as JSON for the API: the request did nothing, and the same request will work in a moment (the
    next one reconnects; a retried create with its Idempotency-Key never makes a second order)."""

    error = sys.exc_info()[1]
    unavailable = isinstance(error, OperationalError | InterfaceError) or (
        isinstance(error, DatabaseError) and "connection" in str(error).lower())
    is_api = request.path.startswith("/api/")
    if unavailable:
        log.warning("database unavailable for %s %s: %s", request.method, request.path, error)
        if is_api:
            response = JsonResponse({"detail": "The database is unavailable for a moment; nothing was saved. "
                                               "Retry (with the same Idempotency-Key for a create)."}, status=503)
        else:
            response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = "5"
        return response
    if is_api:
        return JsonResponse({"detail": "Server error; nothing was saved."}, status=500)
    return HttpResponse(loader.get_template("500.html").render(), status=500)
