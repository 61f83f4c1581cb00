"""Customer SMS: the messages and the rules operators keep (templates, quiet hours, opt-out, daily cap, history,
masked logs), the outbox's sending through each gateway backend (an HTTP gateway on a real local server, and a
drill with it down), and the SMS survey answered by the customer's digit through the signed inbound endpoint."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from complaints.models import CallbackMethod, OrderStatus
from quality.models import CallbackSurvey, FollowUp
from sms import services
from sms.gateways import signature
from sms.models import MessageKind, SmsInbound, SmsMessage, SmsOptOut, SmsPolicy, SmsSurvey, SmsTemplate
from sms.texts import sms_length, template_check
from workflow import services as flow
from workflow.selectors import work_list_orders

SHANGHAI = ZoneInfo("Asia/Shanghai")
PHONE = "13800138000"
TOKEN, SECRET = "gateway-token", "gateway-secret"
Status = SmsMessage.Status


@pytest.fixture(autouse=True)
def _working_hours():
    """Daytime in Shanghai, whatever the hour the suite runs at (quiet hours hold every message back)."""
    with time_machine.travel(datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI), tick=True):
        yield


@pytest.fixture
def inbound_ready(settings):
    settings.SMS_INBOUND_TOKEN, settings.SMS_INBOUND_SECRET = TOKEN, SECRET
    settings.SMS_BACKEND = "console"


def to_callback(order, handler, dispatcher):
    if order.current_owner_id is None:
        flow.order_claim(actor=handler, order=order)
    order = flow.order_reply(actor=handler, order=order, answer="已为您优化基站参数，信号已恢复。", result_code="resolved")
    if order.status == OrderStatus.REVIEW:
        order = flow.order_review(actor=dispatcher, order=order, accept=True)
    assert order.status == OrderStatus.CALLBACK
    return order


def callback_list(user) -> list:
    return list(work_list_orders(user=user, key="callback"))


def messages(order=None, kind=None):
    qs = SmsMessage.objects.order_by("id")
    if order is not None:
        qs = qs.filter(order=order)
    if kind is not None:
        qs = qs.filter(kind=kind)
    return list(qs)


def post_signed(client, path, body, *, token=TOKEN, secret=SECRET, stamp=None, content_type="application/json"):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    stamp = str(int(time.time()) if stamp is None else stamp)
    headers = {"HTTP_X_TIMESTAMP": stamp, "HTTP_X_SIGNATURE": signature(secret, stamp, raw)}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.post(path, data=raw, content_type=content_type, **headers)


# --- templates ---------------------------------------------------------------------------------------------------

def test_a_template_with_an_unknown_placeholder_or_broken_braces_is_refused():
    with pytest.raises(ValidationError) as error:
        template_check(kind=MessageKind.RECEIPT, body="工单{number}，原因{reason}")
    assert "{reason}" in str(error.value) and "{number}" in str(error.value)
    with pytest.raises(ValidationError):
        template_check(kind=MessageKind.RECEIPT, body="工单{number")
    with pytest.raises(ValidationError):
        template_check(kind=MessageKind.RECEIPT, body="工单{0}")
    length = template_check(kind=MessageKind.PROMISE, body="工单{number}因{reason}改为{promised_at}前答复")
    assert length.segments == 1


def test_length_is_counted_in_sms_segments():
    assert sms_length("好" * 70).segments == 1
    assert sms_length("好" * 71).segments == 2  # 67 a segment once it is split
    assert sms_length("好" * 134).segments == 2 and sms_length("好" * 135).segments == 3
    assert sms_length("a" * 160).segments == 1 and sms_length("a" * 161).segments == 2


def test_the_template_of_the_orders_channel_wins_over_the_default(hotline_agent, make_order):
    from tests.factories import channel

    SmsTemplate.objects.create(kind=MessageKind.RECEIPT, channel=channel("hotline"), body="热线：工单{number}已受理")
    order = make_order(hotline_agent)
    services.receipts_compose(now=timezone.now() + timedelta(minutes=1))
    (message,) = messages(order)
    assert message.body == f"热线：工单{order.number}已受理"


# --- receipt and the rules -------------------------------------------------------------------------------------

def test_a_new_complaint_gets_its_number_promised_time_and_tracking_link_once(hotline_agent, make_order, settings):
    settings.SITE_URL = "https://kf.example.com"
    with time_machine.travel(datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI), tick=False) as machine:
        order = make_order(hotline_agent)
        machine.shift(timedelta(minutes=1))
        assert services.receipts_compose() == 1
        assert services.receipts_compose() == 0  # once
    (message,) = messages(order)
    promised = timezone.localtime(order.promised_at)
    assert message.kind == MessageKind.RECEIPT and message.status == Status.QUEUED and message.phone == PHONE
    assert order.number in message.body and f"{promised.month}月{promised.day}日{promised:%H:%M}" in message.body
    assert f"https://kf.example.com/track/?number={order.number}" in message.body


def test_an_on_spot_resolution_gets_its_own_message(hotline_agent, make_order):
    from workflow.intake import OnSpotAnswer

    order = make_order(hotline_agent, on_spot=OnSpotAnswer(answer="已为您重置网络"))
    services.receipts_compose(now=timezone.now() + timedelta(minutes=1))
    assert [m.kind for m in messages(order)] == [MessageKind.ON_SPOT]


def test_nothing_is_sent_for_history_imported_from_another_system(hotline_agent, make_order):
    from complaints.models import OrderSource

    order = make_order(hotline_agent, source=OrderSource.IMPORT, external_source="old-crm", external_ref="A-1",
                       received_at=timezone.now() - timedelta(hours=2))
    services.receipts_compose(now=timezone.now() + timedelta(minutes=1))
    assert messages(order) == []
    assert services.message_compose(kind=MessageKind.RECEIPT, order=order, key="x") is None


def test_no_message_goes_out_in_quiet_hours_it_waits_for_the_morning(hotline_agent, make_order):
    sent = []
    with time_machine.travel(datetime(2026, 12, 2, 22, 30, tzinfo=SHANGHAI), tick=False) as machine:
        order = make_order(hotline_agent)
        services.receipts_compose(now=timezone.now() + timedelta(minutes=1))
        (message,) = messages(order)
        assert timezone.localtime(message.send_after) == datetime(2026, 12, 3, 8, 0, tzinfo=SHANGHAI)
        machine.move_to(datetime(2026, 12, 3, 3, 0, tzinfo=SHANGHAI))
        assert services.messages_send_due()["sent"] == 0
        machine.move_to(datetime(2026, 12, 3, 8, 0, 5, tzinfo=SHANGHAI))
        sent.append(services.messages_send_due()["sent"])
    assert sent == [1]
    message.refresh_from_db()
    assert message.status == Status.SENT and message.day.isoformat() == "2026-12-03"


def test_quiet_hours_are_the_policys(hotline_agent, make_order):
    policy = SmsPolicy.in_force()
    SmsPolicy.objects.filter(pk=policy.pk).update(quiet_from="20:00", quiet_until="09:00")
    from core.memo import clear_all

    clear_all()
    moment = datetime(2026, 12, 2, 20, 30, tzinfo=SHANGHAI)
    assert timezone.localtime(services.quiet_hours_end(moment, SmsPolicy.in_force())).hour == 9
    assert services.quiet_hours_end(datetime(2026, 12, 2, 19, 0, tzinfo=SHANGHAI), SmsPolicy.in_force()) is None


def test_an_opted_out_number_gets_nothing_and_the_opt_out_is_recorded(hotline_agent, make_order, inbound_ready,
                                                                      client):
    order = make_order(hotline_agent)
    services.receipts_compose(now=timezone.now() + timedelta(minutes=1))  # queued before the TD
    response = post_signed(client, "/api/v1/sms/inbound/", {"mobile": PHONE, "content": "td", "msgid": "in-1"})
    assert response.status_code == 200 and response.json()["results"][0]["outcome"] == "opt_out"
    assert SmsOptOut.objects.filter(phone=PHONE).exists()
    assert services.messages_send_due()["suppressed"] == 1
    (message,) = messages(order)
    assert message.status == Status.SUPPRESSED and message.suppressed == SmsMessage.Suppressed.OPTED_OUT
    later = make_order(hotline_agent)
    services.receipts_compose(now=timezone.now() + timedelta(minutes=1))
    assert [(m.status, m.suppressed) for m in messages(later)] == [(Status.SUPPRESSED, "opted_out")]


def test_at_most_n_messages_a_day_to_one_number(hotline_agent, make_order):
    SmsPolicy.objects.update(daily_cap=2)
    from core.memo import clear_all

    clear_all()
    with time_machine.travel(datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI), tick=False):
        orders = [make_order(hotline_agent) for _ in range(3)]
        services.receipts_compose(now=timezone.now() + timedelta(minutes=1))
    statuses = [(m.status, m.suppressed) for o in orders for m in messages(o)]
    assert statuses == [(Status.QUEUED, ""), (Status.QUEUED, ""), (Status.SUPPRESSED, "daily_cap")]


def test_numbers_are_masked_in_the_logs(hotline_agent, make_order, caplog, capsys):
    caplog.set_level(logging.INFO)
    order = make_order(hotline_agent)
    services.receipts_compose(now=timezone.now() + timedelta(minutes=1))
    services.messages_send_due()
    assert messages(order)[0].status == Status.SENT
    logged = caplog.text + capsys.readouterr().out
    assert "138****8000" in logged and PHONE not in logged


# --- the survey ------------------------------------------------------------------------------------------------

@pytest.fixture
def answered(hotline_agent, make_order, network_handler, province_dispatcher, inbound_ready):
    """A complaint answered and at callback: its answer message and survey sent."""
    order = to_callback(make_order(hotline_agent), network_handler, province_dispatcher)
    services.messages_send_due()
    return order


def test_an_answer_tells_the_customer_and_asks_for_a_rating(answered, hotline_agent):
    kinds = [(m.kind, m.status) for m in messages(answered)]
    assert kinds == [(MessageKind.ANSWERED, Status.SENT), (MessageKind.SURVEY, Status.SENT)]
    answer = messages(answered)[0].body  # placeholders in the site's language (English in the tests)
    assert "Resolved" in answer and "phone call" in answer and answered.number in answer
    survey = SmsSurvey.objects.get(order=answered)
    assert survey.status == SmsSurvey.Status.OPEN and survey.expires_at - survey.opened_at == timedelta(hours=24)
    # the agents wait for the customer's own answer for the window; the order page says so
    assert answered not in callback_list(hotline_agent)
    answered.refresh_from_db()
    assert answered.awaits_sms_rating


def test_a_satisfied_digit_is_the_callback_and_the_customer_is_thanked(answered, client):
    response = post_signed(client, "/api/v1/sms/inbound/", {"mobile": "+86 138 0013 8000", "content": "1",
                                                            "msgid": "in-7"})
    assert response.status_code == 200, response.content
    assert response.json()["results"] == [{"id": "in-7", "outcome": "rating", "order": answered.number}]
    answered.refresh_from_db()
    assert answered.status == OrderStatus.CLOSED and answered.satisfaction == 5  # 1 = very satisfied
    survey = CallbackSurvey.objects.get(order=answered)
    assert survey.method == CallbackMethod.SMS and survey.solved is None and survey.agent is None
    assert not answered.awaits_sms_rating
    assert messages(answered, MessageKind.THANKS)
    # the gateway delivering the same reply twice records it once
    again = post_signed(client, "/api/v1/sms/inbound/", {"mobile": PHONE, "content": "1", "msgid": "in-7"},
                        stamp=int(time.time()) + 1)
    assert again.status_code == 200 and SmsInbound.objects.count() == 1


def test_a_dissatisfied_digit_reopens_opens_a_follow_up_and_tells_the_new_time(answered, client):
    response = post_signed(client, "/api/v1/sms/inbound/", {"mobile": PHONE, "content": "5 信号还是很差"})
    assert response.json()["results"][0]["outcome"] == "rating"
    answered.refresh_from_db()
    assert answered.reopen_count == 1 and answered.status in (OrderStatus.QUEUED, OrderStatus.IN_PROGRESS)
    assert CallbackSurvey.objects.get(order=answered).comment == "信号还是很差"
    assert FollowUp.objects.filter(order=answered).exists()
    kinds = [m.kind for m in messages(answered)]
    assert MessageKind.PROMISE in kinds and MessageKind.THANKS_DISSATISFIED in kinds


def test_a_reply_answers_the_latest_of_two_open_surveys(hotline_agent, make_order, network_handler,
                                                        province_dispatcher, inbound_ready, client):
    first = to_callback(make_order(hotline_agent), network_handler, province_dispatcher)
    services.messages_send_due()
    second = to_callback(make_order(hotline_agent, description="宽带经常掉线"), network_handler, province_dispatcher)
    with time_machine.travel(timezone.now() + timedelta(minutes=5), tick=False):
        services.messages_send_due()
        response = post_signed(client, "/api/v1/sms/inbound/", {"mobile": PHONE, "content": "2"})
    assert response.json()["results"][0]["order"] == second.number
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.status == OrderStatus.CLOSED and second.satisfaction == 4
    assert first.status == OrderStatus.CALLBACK


def test_a_late_reply_is_kept_on_the_order_and_the_agents_call(answered, client, hotline_agent):
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        assert answered in callback_list(hotline_agent)
        response = post_signed(client, "/api/v1/sms/inbound/", {"mobile": PHONE, "content": "1"})
    assert response.json()["results"][0]["outcome"] == "late"
    answered.refresh_from_db()
    assert answered.status == OrderStatus.CALLBACK and not CallbackSurvey.objects.filter(order=answered).exists()
    note = answered.notes.get()
    assert note.body == "1" and note.author is None and note.is_internal


def test_free_text_is_kept_on_the_order_and_the_survey_stays_open(answered, client):
    response = post_signed(client, "/api/v1/sms/inbound/", {"mobile": PHONE, "content": "你们什么时候来修？？"})
    assert response.json()["results"][0]["outcome"] == "text"
    assert answered.notes.get().body == "你们什么时候来修？？"
    assert SmsSurvey.objects.get(order=answered).status == SmsSurvey.Status.OPEN
    response = post_signed(client, "/api/v1/sms/inbound/", {"mobile": PHONE, "content": "２"})  # full-width
    assert response.json()["results"][0]["outcome"] == "rating"


def test_a_reply_from_a_number_without_a_survey_is_kept_unmatched(db, inbound_ready, client):
    response = post_signed(client, "/api/v1/sms/inbound/", {"mobile": "13912345678", "content": "1"})
    assert response.json()["results"] == [{"id": None, "outcome": "unmatched", "order": None}]


def test_the_survey_digits_can_follow_the_operators_wording(hotline_agent, make_order, network_handler,
                                                            province_dispatcher, inbound_ready, client):
    SmsPolicy.objects.update(survey_scale="five_is_best")
    from core.memo import clear_all

    clear_all()
    order = to_callback(make_order(hotline_agent), network_handler, province_dispatcher)
    services.messages_send_due()
    post_signed(client, "/api/v1/sms/inbound/", {"mobile": PHONE, "content": "5"})
    order.refresh_from_db()
    assert order.satisfaction == 5 and order.status == OrderStatus.CLOSED


def test_without_inbound_replies_set_up_no_survey_is_sent_and_the_agents_call(
        hotline_agent, make_order, network_handler, province_dispatcher, settings):
    settings.SMS_INBOUND_TOKEN = ""
    order = to_callback(make_order(hotline_agent), network_handler, province_dispatcher)
    assert [m.kind for m in messages(order)] == [MessageKind.ANSWERED]
    assert order in callback_list(hotline_agent)


def test_a_survey_that_cannot_be_sent_puts_the_order_on_the_callback_list(
        hotline_agent, make_order, network_handler, province_dispatcher, inbound_ready):
    SmsOptOut.objects.create(phone=PHONE)
    order = to_callback(make_order(hotline_agent), network_handler, province_dispatcher)
    assert not SmsSurvey.objects.exists() and order in callback_list(hotline_agent)


# --- the gateway calling us ---------------------------------------------------------------------------------------

def test_a_forged_or_unsigned_call_records_nothing(answered, client, settings):
    body = {"mobile": PHONE, "content": "1"}
    raw = json.dumps(body).encode()
    assert client.post("/api/v1/sms/inbound/", data=raw, content_type="application/json").status_code == 401
    unsigned = client.post("/api/v1/sms/inbound/", data=raw, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert unsigned.status_code == 403 and "X-Timestamp" in unsigned.json()["detail"]
    assert post_signed(client, "/api/v1/sms/inbound/", body, secret="guessed").status_code == 403
    assert post_signed(client, "/api/v1/sms/inbound/", body, token="wrong").status_code == 401
    assert post_signed(client, "/api/v1/sms/inbound/", body, stamp=int(time.time()) - 3600).status_code == 403
    assert SmsInbound.objects.count() == 0
    answered.refresh_from_db()
    assert answered.status == OrderStatus.CALLBACK
    settings.SMS_INBOUND_SECRET = ""
    not_set_up = post_signed(client, "/api/v1/sms/inbound/", body)
    assert not_set_up.status_code == 403 and "SMS_INBOUND_SECRET" in not_set_up.json()["detail"]


def test_bad_input_gets_a_json_error_and_records_nothing(answered, client):
    bad = post_signed(client, "/api/v1/sms/inbound/", [{"mobile": PHONE, "content": "1"}, {"content": "2"}])
    assert bad.status_code == 400 and "mobile" in bad.json()["errors"]["1"]
    not_mobile = post_signed(client, "/api/v1/sms/inbound/", {"mobile": "020-1234", "content": "1"})
    assert not_mobile.status_code == 400 and "mobile" in not_mobile.json()["errors"]["0"]
    garbage = post_signed(client, "/api/v1/sms/inbound/", b"{not json")
    assert garbage.status_code == 400 and garbage.json()["detail"]
    assert SmsInbound.objects.count() == 0


def test_a_form_post_with_the_operators_field_names(answered, client, settings):
    settings.SMS_INBOUND_FIELDS = {"phone": "src_id", "text": "msg_content", "id": "linkid"}
    body = b"src_id=13800138000&msg_content=%E5%9B%9B&linkid=L9"  # 四
    response = post_signed(client, "/api/v1/sms/inbound/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and response.json()["results"][0]["outcome"] == "rating"
    answered.refresh_from_db()
    assert answered.satisfaction == 2


def test_delivery_receipts_are_recorded(answered, client):
    survey_message = messages(answered, MessageKind.SURVEY)[0]
    response = post_signed(client, "/api/v1/sms/receipts/", [
        {"msgid": str(messages(answered, MessageKind.ANSWERED)[0].pk), "status": "DELIVRD"},
        {"msgid": str(survey_message.pk), "status": "UNDELIV"}])
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["delivered", "undelivered"]
    # a survey that never arrived cannot be answered: the agents call
    assert SmsSurvey.objects.get(order=answered).status == SmsSurvey.Status.CLOSED
    answered.refresh_from_db()
    assert answered.callback_after is None


# --- the outbox and the HTTP gateway --------------------------------------------------------------------------

class Gateway:
    """A real HTTP server on localhost standing for the operator's SMS platform."""

    def __init__(self):
        self.received, self.mode, self.port = [], "ok", None
        self.server = None

    def start(self, port=0):
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                if gateway.mode == "slow":
                    time.sleep(2.5)
                gateway.received.append({"body": raw, "headers": dict(self.headers)})
                code = {"ok": 200, "busy": 503, "refuse": 400, "slow": 200, "error": 500, "redirect": 302}[gateway.mode]
                answer = ({"code": "0", "msg_id": f"GW{len(gateway.received)}"} if code == 200
                          else {"error": "bad number", "mobile": json.loads(raw)["mobile"]})
                payload = json.dumps(answer).encode()
                self.send_response(code)
                if code == 302:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_gateway(settings):
    gateway = Gateway().start()
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{gateway.port}/sms/send"
    settings.SMS_HTTP_FIELDS = {"phone": "mobile", "text": "content", "ref": "client_msg_id"}
    settings.SMS_HTTP_EXTRA = {"account": "kf10086"}
    settings.SMS_HTTP_SECRET = "outbound-secret"
    settings.SMS_HTTP_OK_FIELD, settings.SMS_HTTP_OK_VALUES, settings.SMS_HTTP_ID_FIELD = "code", ["0"], "msg_id"
    settings.SMS_HTTP_TIMEOUT = 1
    yield gateway
    gateway.stop()


def queued(hotline_agent, make_order, n=1):
    orders = [make_order(hotline_agent, customer_phone=f"1390000{i:04d}") for i in range(n)]
    services.receipts_compose(now=timezone.now() + timedelta(minutes=1))
    return [messages(o)[0] for o in orders]


def test_the_http_gateway_gets_a_signed_post_with_the_operators_field_names(http_gateway, hotline_agent, make_order):
    (message,) = queued(hotline_agent, make_order)
    assert services.messages_send_due()["sent"] == 1
    (request,) = http_gateway.received
    body = json.loads(request["body"])
    assert body == {"account": "kf10086", "mobile": "13900000000", "content": message.body,
                    "client_msg_id": str(message.pk)}
    stamp = request["headers"]["X-Timestamp"]
    assert request["headers"]["X-Signature"] == signature("outbound-secret", stamp, request["body"])
    message.refresh_from_db()
    assert message.status == Status.SENT and message.gateway_id == "GW1"


def test_a_busy_gateway_is_tried_again_later_a_refusal_is_final(http_gateway, hotline_agent, make_order):
    (message,) = queued(hotline_agent, make_order)
    http_gateway.mode = "busy"
    assert services.messages_send_due()["retry"] == 1
    message.refresh_from_db()
    assert message.status == Status.QUEUED and message.attempts == 1 and message.send_after > timezone.now()
    http_gateway.mode = "refuse"
    with time_machine.travel(message.send_after + timedelta(seconds=1), tick=False):
        assert services.messages_send_due()["failed"] == 1
    message.refresh_from_db()
    assert message.status == Status.FAILED and "HTTP 400" in message.last_error


def test_a_gateway_that_never_answers_leaves_the_message_unconfirmed_not_sent_twice(http_gateway, hotline_agent,
                                                                                   make_order):
    (message,) = queued(hotline_agent, make_order)
    http_gateway.mode = "slow"
    assert services.messages_send_due()["unconfirmed"] == 1
    message.refresh_from_db()
    assert message.status == Status.UNCONFIRMED
    http_gateway.mode = "ok"
    services.messages_send_due(now=timezone.now() + timedelta(hours=2))
    time.sleep(2)  # the slow answer arrives: still one request
    assert len(http_gateway.received) == 1


def test_a_sender_that_died_mid_send_never_sends_twice(hotline_agent, make_order):
    (message,) = queued(hotline_agent, make_order)
    SmsMessage.objects.filter(pk=message.pk).update(status=Status.SENDING, claimed_at=timezone.now())
    assert services.messages_send_due()["sent"] == 0
    assert services.messages_sweep_stale(now=timezone.now() + timedelta(minutes=11)) == 1
    message.refresh_from_db()
    assert message.status == Status.UNCONFIRMED


def test_drill_gateway_down_every_message_kept_and_sent_once_when_it_returns(http_gateway, hotline_agent,
                                                                             make_order):
    port = http_gateway.port
    http_gateway.stop()  # down: the connection is refused
    batch = queued(hotline_agent, make_order, n=5)
    moment = timezone.now()
    for _round in range(3):
        moment += timedelta(hours=1)
        counts = services.messages_send_due(now=moment)
        assert counts["sent"] == 0 and counts["failed"] == 0
    assert {m.status for m in SmsMessage.objects.filter(pk__in=[m.pk for m in batch])} == {Status.QUEUED}
    back = Gateway().start(port=port)
    try:
        for _round in range(3):
            moment += timedelta(hours=1)
            services.messages_send_due(now=moment)
        refs = [json.loads(r["body"])["client_msg_id"] for r in back.received]
        assert sorted(refs) == sorted(str(m.pk) for m in batch)  # each once
        assert set(SmsMessage.objects.filter(pk__in=[m.pk for m in batch]).values_list("status", flat=True)) == {
            Status.SENT}
    finally:
        back.stop()


def test_the_file_backend_writes_one_line_per_message(settings, tmp_path, hotline_agent, make_order):
    settings.SMS_BACKEND, settings.SMS_FILE_DIR = "file", str(tmp_path / "outbox")
    (message,) = queued(hotline_agent, make_order)
    services.messages_send_due()
    (path,) = (tmp_path / "outbox").iterdir()
    (line,) = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["text"] == message.body and json.loads(line)["ref"] == str(message.pk)


# --- admin and metrics --------------------------------------------------------------------------------------------

@pytest.fixture
def admin_zh(client, province):
    from tests.factories import UserFactory

    admin = UserFactory(username="root", is_staff=True, is_superuser=True, department=None)
    client.force_login(admin)
    client.cookies["django_language"] = "zh-hans"
    return client


def test_the_admin_pages_are_in_chinese_and_check_placeholders(admin_zh, hotline_agent, make_order):
    page = admin_zh.get("/admin/sms/smstemplate/add/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = page.content.decode()
    assert page.status_code == 200 and "短信模板" in text and "{promised_at}" in text
    response = admin_zh.post("/admin/sms/smstemplate/add/", {"kind": "thanks", "body": "谢谢{number}{reason}",
                                                             "is_active": "on"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200 and "{reason}" in response.content.decode()
    assert not SmsTemplate.objects.filter(body__contains="{reason}", kind="thanks").exists()
    listing = admin_zh.get("/admin/sms/smstemplate/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "短信条数" in listing or "条" in listing
    queued(hotline_agent, make_order)
    messages_page = admin_zh.get("/admin/sms/smsmessage/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "139****0000" in messages_page and "13900000000" not in messages_page
    for path in ("/admin/sms/smspolicy/", "/admin/sms/smsoptout/", "/admin/sms/smssurvey/", "/admin/sms/smsinbound/"):
        assert admin_zh.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans").status_code == 200


def test_only_administrators_reach_the_sms_admin(client, hotline_agent, quality_manager):
    for user in (hotline_agent, quality_manager):
        client.force_login(user)
        response = client.get("/admin/sms/smsmessage/")
        assert response.status_code in (302, 403)


def test_metrics_count_sent_failed_and_queued(hotline_agent, make_order, client, settings):
    settings.METRICS_TOKEN = "scrape"
    queued(hotline_agent, make_order, n=2)
    services.messages_send_due(limit=1)
    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape").content.decode()
    assert 'complaints_sms_messages{status="queued"} 1.0' in body
    assert 'complaints_sms_messages{status="sent"} 1.0' in body
    assert 'complaints_sms_messages{status="failed"} 0.0' in body


def test_the_callback_rate_counts_sms_and_phone_callbacks_and_shows_them_apart(
        answered, client, hotline_agent, make_order, network_handler, province_dispatcher):
    from quality.facts import rollups_apply
    from quality.kpis import Period, Slice, measure_sums

    post_signed(client, "/api/v1/sms/inbound/", {"mobile": PHONE, "content": "1"})  # answered by SMS
    by_phone = to_callback(make_order(hotline_agent, customer_phone="13912340000"), network_handler,
                           province_dispatcher)
    flow.order_callback(actor=hotline_agent, order=by_phone, reached=True, satisfaction=5, solved=True)
    rollups_apply()
    today = timezone.localdate()
    table = measure_sums(period=Period(today - timedelta(days=1), today + timedelta(days=1)),
                         slice_=Slice(kinds=("complaint",)))
    sums = table.sums()
    assert (sums["called_back"], sums["called_back_sms"], sums["called_back_phone"]) == (2, 1, 1)
    assert table.kpi("callback_rate").value == pytest.approx(100.0)
    assert table.kpi("callback_rate_sms").value == pytest.approx(50.0)
    assert table.kpi("callback_rate_phone").value == pytest.approx(50.0)


def test_the_answer_sms_says_how_the_answer_was_given(hotline_agent, make_order, network_handler,
                                                     province_dispatcher):
    order = make_order(hotline_agent)
    flow.order_claim(actor=network_handler, order=order)
    with pytest.raises(ValidationError):
        flow.order_reply(actor=network_handler, order=order, answer="已处理", result_code="resolved",
                         reply_method="pigeon")
    order = flow.order_reply(actor=network_handler, order=order, answer="已上门更换光猫", result_code="resolved",
                             reply_method="visit")
    assert order.reply_method == "visit"
    assert order.events.get(action="replied").data["reply_method"] == "visit"
    assert messages(order, MessageKind.ANSWERED) == []  # not before the review lets the answer go
    order = flow.order_review(actor=province_dispatcher, order=order, accept=True)
    assert "visit in person" in messages(order, MessageKind.ANSWERED)[0].body


def test_the_order_page_says_the_customer_is_rating_by_sms(answered, client, hotline_agent):
    client.force_login(hotline_agent)
    page = client.get(f"/orders/{answered.number}/").content.decode()
    assert 'id="sms-survey-waiting"' in page
    post_signed(client, "/api/v1/sms/inbound/", {"mobile": PHONE, "content": "2"})
    page = client.get(f"/orders/{answered.number}/").content.decode()
    assert 'id="sms-survey-waiting"' not in page and "rated by SMS reply" in page


def test_the_link_in_the_receipt_fills_in_the_order_number(client, db):
    page = client.get("/track/?number=TS20261202000001").content.decode()
    assert 'value="TS20261202000001"' in page


# --- what the review found -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, parsed", [
    ("1", ("rating", 1, "")), ("５", ("rating", 5, "")), ("2 信号还是差", ("rating", 2, "信号还是差")),
    ("3，一般吧", ("rating", 3, "一般吧")), ("4不满意", ("rating", 4, "不满意")), ("一", ("rating", 1, "")),
    ("5G信号还是不行", ("text", None, "5G信号还是不行")), ("3天了还没解决", ("text", None, "3天了还没解决")),
    ("12", ("text", None, "12")), ("6", ("text", None, "6")), ("td", ("opt_out", None, "")),
    ("退订", ("opt_out", None, "")), ("取消", ("text", None, "取消")), ("N", ("text", None, "N")),
])
def test_only_a_digit_on_its_own_is_a_rating(text, parsed):
    assert services.reply_parse(text) == parsed


def test_a_reply_like_5g_is_kept_as_text_not_recorded_as_a_rating(answered, client):
    response = post_signed(client, "/api/v1/sms/inbound/", {"mobile": PHONE, "content": "5G信号还是不行"})
    assert response.json()["results"][0]["outcome"] == "text"
    answered.refresh_from_db()
    assert answered.status == OrderStatus.CALLBACK and answered.satisfaction is None


def test_a_replayed_signed_call_is_refused(answered, client):
    stamp = int(time.time())
    body = {"mobile": PHONE, "content": "你好"}
    assert post_signed(client, "/api/v1/sms/inbound/", body, stamp=stamp).status_code == 200
    replay = post_signed(client, "/api/v1/sms/inbound/", body, stamp=stamp)
    assert replay.status_code == 409 and replay.json()["detail"]
    assert SmsInbound.objects.count() == 1


def test_a_malformed_timestamp_is_a_clear_refusal(answered, client):
    for stamp in ("²", "9" * 400, "-5"):
        response = post_signed(client, "/api/v1/sms/inbound/", {"mobile": PHONE, "content": "1"}, stamp=stamp)
        assert response.status_code == 403 and "X-Timestamp" in response.json()["detail"]


def test_td_closes_the_open_survey_and_the_agents_call(answered, client, hotline_agent):
    post_signed(client, "/api/v1/sms/inbound/", {"mobile": PHONE, "content": "TD"})
    assert SmsSurvey.objects.get(order=answered).status == SmsSurvey.Status.CLOSED
    assert answered in callback_list(hotline_agent)


def test_a_survey_sent_is_read_as_it_was_worded(answered, client):
    SmsPolicy.objects.update(survey_scale="five_is_best")  # changed after this survey went out saying 1 = best
    from core.memo import clear_all

    clear_all()
    post_signed(client, "/api/v1/sms/inbound/", {"mobile": PHONE, "content": "1"})
    answered.refresh_from_db()
    assert answered.satisfaction == 5 and answered.status == OrderStatus.CLOSED


def test_an_sms_failure_never_blocks_the_workflow_step(hotline_agent, make_order, network_handler,
                                                       province_dispatcher, inbound_ready):
    SmsTemplate.objects.filter(kind=MessageKind.ANSWERED).update(body="坏模板{number")  # slipped past the admin
    order = to_callback(make_order(hotline_agent), network_handler, province_dispatcher)
    assert order.status == OrderStatus.CALLBACK and messages(order, MessageKind.ANSWERED) == []
    SmsPolicy.objects.all().delete()  # no policy in force: the built-in defaults apply
    from core.memo import clear_all

    clear_all()
    assert services.quiet_hours_end(datetime(2026, 12, 2, 23, 0, tzinfo=SHANGHAI), SmsPolicy.in_force()) is not None


def test_a_round_without_a_survey_is_on_the_callback_list_at_once(answered, client, hotline_agent, network_handler,
                                                                   province_dispatcher, settings):
    post_signed(client, "/api/v1/sms/inbound/", {"mobile": PHONE, "content": "5"})  # very dissatisfied: reopened
    answered.refresh_from_db()
    assert answered.callback_after is None
    settings.SMS_INBOUND_TOKEN = ""  # the second answer's survey is not sent
    order = to_callback(answered, network_handler, province_dispatcher)
    assert order in callback_list(hotline_agent) and not order.awaits_sms_rating


def test_a_survey_outdated_while_it_waited_is_not_sent(hotline_agent, make_order, network_handler,
                                                       province_dispatcher, inbound_ready):
    order = to_callback(make_order(hotline_agent), network_handler, province_dispatcher)
    flow.order_callback(actor=hotline_agent, order=order, reached=True, satisfaction=5, solved=True)
    services.messages_send_due()
    survey = messages(order, MessageKind.SURVEY)[0]
    assert (survey.status, survey.suppressed) == (Status.SUPPRESSED, SmsMessage.Suppressed.OUTDATED)


def test_receipts_on_the_way_wait_for_the_final_one_and_an_early_receipt_is_kept(answered, client):
    answer = messages(answered, MessageKind.ANSWERED)[0]
    post_signed(client, "/api/v1/sms/receipts/", {"msgid": str(answer.pk), "status": "ENROUTE"})
    answer.refresh_from_db()
    assert answer.status == Status.SENT and answer.receipt_code == "ENROUTE"
    survey = messages(answered, MessageKind.SURVEY)[0]
    SmsMessage.objects.filter(pk=survey.pk).update(status=Status.SENDING)  # the gateway has not answered yet
    post_signed(client, "/api/v1/sms/receipts/", {"msgid": str(survey.pk), "status": "DELIVRD"},
                stamp=int(time.time()) + 1)
    survey.refresh_from_db()
    assert survey.status == Status.SENDING and survey.receipt_code == "DELIVRD"
    services._finish(survey, status=Status.SENT, sent_at=timezone.now())
    survey.refresh_from_db()
    assert survey.status == Status.DELIVERED


def test_a_message_sent_again_by_an_administrator_gets_a_new_day(hotline_agent, make_order):
    (message,) = queued(hotline_agent, make_order)
    SmsMessage.objects.filter(pk=message.pk).update(status=Status.UNCONFIRMED,
                                                    created_at=timezone.now() - timedelta(days=2))
    message.refresh_from_db()
    assert services.message_send_again(actor=hotline_agent, message=message)
    assert services.messages_send_due()["sent"] == 1


def test_a_receipt_missed_by_the_cursor_is_caught_up(hotline_agent, make_order):
    order = make_order(hotline_agent)
    from sms.models import SmsState

    services.receipts_compose(now=timezone.now() + timedelta(minutes=1))
    SmsMessage.objects.all().delete()  # as if its intake had committed after the cursor passed it
    SmsState.objects.update(caught_up_at=timezone.now() - timedelta(hours=1))
    services.receipts_compose(now=timezone.now() + timedelta(minutes=2))
    assert [m.kind for m in messages(order)] == [MessageKind.RECEIPT]


def test_a_gateway_error_after_the_request_left_is_not_retried(http_gateway, hotline_agent, make_order, settings):
    (message,) = queued(hotline_agent, make_order)
    http_gateway.mode = "error"
    assert services.messages_send_due()["unconfirmed"] == 1
    message.refresh_from_db()
    assert message.status == Status.UNCONFIRMED and "HTTP 500" in message.last_error


def test_a_redirecting_gateway_is_not_followed(http_gateway, hotline_agent, make_order):
    (message,) = queued(hotline_agent, make_order)
    http_gateway.mode = "redirect"
    assert services.messages_send_due()["retry"] == 1
    assert len(http_gateway.received) == 1  # the redirect was not followed with a GET
    message.refresh_from_db()
    assert message.status == Status.QUEUED and "HTTP 302" in message.last_error


def test_phone_numbers_in_a_gateway_error_are_masked(http_gateway, hotline_agent, make_order):
    (message,) = queued(hotline_agent, make_order)
    http_gateway.mode = "refuse"
    services.messages_send_due()
    message.refresh_from_db()
    assert "13900000000" not in message.last_error and "139****0000" in message.last_error


def test_an_approved_extension_past_the_promise_tells_the_new_time_and_why(hotline_agent, make_order,
                                                                           network_handler, province_dispatcher):
    order = make_order(hotline_agent)
    order = flow.order_claim(actor=network_handler, order=order)
    until = order.promised_at + timedelta(days=2)
    flow.order_extension_request(actor=network_handler, order=order, until=until, reason="需要厂家上门更换设备")
    order = flow.order_extension_decide(actor=province_dispatcher, order=order, approve=True)
    (message,) = messages(order, MessageKind.PROMISE)
    local = timezone.localtime(until)
    assert f"{local.month}月{local.day}日{local:%H:%M}" in message.body
    assert "the extension was approved" in message.body  # {reason}, in the site's language (English in tests)
