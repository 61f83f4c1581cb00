"""What an operator watches: /healthz (database, broker, beat freshness) and /metrics (Prometheus)."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from config.celery import app
from workflow.models import Heartbeat
from workflow.tasks import heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_figures():
    cache.delete("ops:figures")
    yield
    cache.delete("ops:figures")


def test_healthz_is_ok_when_the_database_the_broker_and_beat_are(client):
    heartbeat()  # what beat sends every 30 s and a worker runs
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok" and set(body["checks"]) == {"database", "broker", "beat"}
    assert body["checks"]["broker"] == "ok" and body["checks"]["beat"].startswith("ok")


def test_healthz_fails_when_beat_has_not_run_lately(client):
    response = client.get("/healthz")
    assert response.status_code == 503 and "no heartbeat" in response.json()["checks"]["beat"]
    Heartbeat.objects.create(name="beat", ran_at=timezone.now() - timedelta(minutes=5))
    response = client.get("/healthz")
    assert response.status_code == 503 and "300 s ago" in response.json()["checks"]["beat"]


def test_healthz_fails_when_the_broker_is_down(client, monkeypatch):
    heartbeat()
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")  # nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"].startswith("failing") and checks["database"] == "ok"


def test_metrics_need_the_token_or_an_administrator(client, settings, hotline_agent, django_user_model):
    settings.METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    client.force_login(hotline_agent)
    assert client.get("/metrics").status_code == 403
    client.logout()
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403  # no token: none accepted


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in the metrics")


def test_metrics_count_requests_overdue_stages_sweep_lag_and_the_queue(client, settings, make_order,
                                                                       hotline_agent):
    from workflow.sweep import sweep

    settings.METRICS_TOKEN = "scrape-secret"
    scrape = {"HTTP_AUTHORIZATION": "Bearer scrape-secret"}
    order = make_order(hotline_agent)
    stage = order.stages.filter(ended_at__isnull=True).order_by("due_at").first()
    client.get("/track/")
    text = client.get("/metrics", **scrape).content.decode()
    assert 'complaints_http_request_seconds_count{method="GET",route="track",status="2xx"}' in text
    assert _metric(text, "complaints_open_stages") >= 1 and _metric(text, "complaints_overdue_stages") == 0
    assert _metric(text, "complaints_sweep_lag_seconds") == 0
    assert _metric(text, "complaints_celery_queue_depth") >= 0

    # An hour past the deadline, before the sweep has run: the lag shows; after it, the overdue stage does.
    with time_machine.travel(stage.due_at + timedelta(hours=1)):
        cache.delete("ops:figures")
        text = client.get("/metrics", **scrape).content.decode()
        assert _metric(text, "complaints_sweep_lag_seconds") >= 3600
        sweep()
        cache.delete("ops:figures")
        text = client.get("/metrics", **scrape).content.decode()
    assert _metric(text, "complaints_sweep_lag_seconds") == 0
    assert _metric(text, "complaints_overdue_stages") >= 1


def test_an_unreachable_database_is_a_503_to_retry_and_other_errors_a_500(rf):
    from django.db import OperationalError

    from config.ops import server_error

    def answer(path, error):
        try:
            raise error
        except Exception:
            return server_error(rf.get(path))

    api = answer("/api/v1/orders/", OperationalError("could not connect to server: Connection refused"))
    assert api.status_code == 503 and api["Retry-After"] == "5" and "Idempotency-Key" in api.content.decode()
    page = answer("/orders/", OperationalError("server closed the connection unexpectedly"))
    assert page.status_code == 503 and "数据库暂时不可用" in page.content.decode()
    other = answer("/api/v1/orders/", ValueError("a bug"))
    assert other.status_code == 500 and json.loads(other.content) == {"detail": "Server error; nothing was saved."}
    assert answer("/orders/", ValueError("a bug")).status_code == 500


def test_the_heartbeat_has_a_queue_of_its_own_that_every_worker_consumes():
    """A backlog on the default queue (the e-mails a seeding queued) never holds the heartbeat back, so /healthz
    is ok as soon as beat, the broker and a worker are."""
    from config.celery import app

    route = app.amqp.router.route({}, "workflow.tasks.heartbeat")
    assert route["queue"].name == "health"
    assert app.amqp.router.route({}, "workflow.tasks.sla_sweep")["queue"].name == "celery"
    # A worker without -Q takes every queue the configuration names.
    assert {q.name for q in app.amqp.queues.values()} >= {"celery", "health"}
