"""Structured logs: each line names the request, the user and the order it is about, in text or JSON."""

import json
import logging

from core.logs import ContextFilter, JsonFormatter, bound, celery_task_context, current


def _records(caplog, logger):
    return [r for r in caplog.records if r.name == logger]


def test_a_request_about_an_order_logs_its_number_user_and_request_id(client, make_order, hotline_agent,
                                                                      quality_manager, caplog):
    order = make_order(hotline_agent)
    client.force_login(quality_manager)
    caplog.handler.addFilter(ContextFilter())
    before = current()
    with caplog.at_level(logging.INFO, logger="complaints"):
        answer = client.post(f"/orders/{order.number}/phone/", {"page": "order_detail"},
                             HTTP_X_REQUEST_ID="req-42")
    assert answer["X-Request-ID"] == "req-42"
    (record,) = [r for r in _records(caplog, "complaints") if "revealed" in r.getMessage()]
    assert (record.order, record.user, record.request_id) == (order.number, "quality", "req-42")
    line = json.loads(JsonFormatter().format(record))
    assert line["order"] == order.number and line["user"] == "quality" and line["level"] == "INFO"
    assert current() == before  # the request's context ends with it


def test_a_channel_systems_create_logs_the_new_number_and_the_account(api_for, channel_system, coverage, caplog):
    caplog.handler.addFilter(ContextFilter())
    with caplog.at_level(logging.INFO, logger="complaints"):
        answer = api_for(channel_system).post("/api/v1/orders/", {
            "kind": "complaint", "channel": "hotline", "category": "NET-MOB-COV", "description": "无信号",
            "customer_phone": "13800138000"}, format="json")
    number = answer.json()["number"]
    (record,) = [r for r in _records(caplog, "complaints") if "received" in r.getMessage()]
    assert record.order == number and record.user == "cti" and len(record.request_id) == 16
    assert answer["X-Request-ID"] == record.request_id


def test_djangos_own_line_about_a_refused_request_names_it_too(client, hotline_agent, caplog):
    """"Not Found: …" is logged after the middleware has returned; the request's context is still bound then."""
    client.force_login(hotline_agent)
    caplog.handler.addFilter(ContextFilter())
    before = current()
    with caplog.at_level(logging.WARNING, logger="django.request"):
        answer = client.get("/orders/TS20990101000001/", HTTP_X_REQUEST_ID="req-404")
    assert answer.status_code == 404
    (record,) = _records(caplog, "django.request")
    assert record.request_id == "req-404" and record.user == hotline_agent.get_username()
    assert current() == before  # the response finished: the request's context ended with it


def test_a_request_id_is_made_when_none_is_sent_and_each_request_gets_its_own(client):
    first, second = client.get("/healthz")["X-Request-ID"], client.get("/healthz")["X-Request-ID"]
    assert first and second and first != second


def test_celery_tasks_and_text_lines_carry_the_context():
    class Task:
        name = "workflow.tasks.sla_sweep"

    celery_task_context(task_id="0123456789abcdef", task=Task())
    record = logging.LogRecord("workflow", logging.INFO, __file__, 1, "swept %s", (3,), None)
    ContextFilter().filter(record)
    assert record.task == "workflow.tasks.sla_sweep[01234567]"
    celery_task_context(task=None)  # the next task starts afresh
    with bound(order="TS20261202000001"):
        other = logging.LogRecord("workflow", logging.WARNING, __file__, 1, "late", (), None)
        ContextFilter().filter(other)
    from core.logs import TEXT_FORMAT

    text = logging.Formatter(TEXT_FORMAT).format(other)
    assert "WARNING workflow [order=TS20261202000001] late" in text
