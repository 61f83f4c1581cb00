"""The workflow in the browser (Django's test client): work lists, the order page's actions, notifications."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from complaints.models import OrderStatus
from workflow import services
from workflow.models import Notification


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


def test_each_role_lands_on_its_own_work_list(login, hotline_agent, network_handler, network_lead,
                                              province_dispatcher, quality_manager):
    expected = {hotline_agent: "callback", network_handler: "mine", network_lead: "mine",
                province_dispatcher: "dispatch", quality_manager: "open"}
    for user, key in expected.items():
        response = login(user).get("/work/")
        assert response.status_code == 302 and response["Location"] == f"/work/{key}/"


def test_a_list_not_meant_for_the_role_is_not_found(login, network_handler, hotline_agent):
    assert login(network_handler).get("/work/dispatch/").status_code == 404
    assert login(hotline_agent).get("/work/queue/").status_code == 404


def test_a_handler_claims_from_the_queue_and_replies(login, hotline_agent, make_order, network_handler):
    order = make_order(hotline_agent)
    client = login(network_handler)
    queue = client.get("/work/queue/").content.decode()
    assert order.number in queue
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert 'id="action-claim"' in page and 'id="action-reply"' not in page
    response = client.post(f"/orders/{order.number}/actions/claim/")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.current_owner == network_handler
    assert order.number in client.get("/work/mine/").content.decode()
    assert order.number not in client.get("/work/queue/").content.decode()
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert 'id="action-reply"' in page and 'id="action-claim"' not in page
    response = client.post(f"/orders/{order.number}/actions/reply/",
                           {"reply-answer": "已优化基站", "reply-result_code": "resolved", "reply-compensation": ""})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.REVIEW


def test_bad_input_re_renders_the_page_with_field_errors(login, hotline_agent, make_order, network_handler):
    order = services.order_claim(actor=network_handler, order=make_order(hotline_agent))
    response = login(network_handler).post(f"/orders/{order.number}/actions/transfer/",
                                           {"transfer-department": "", "transfer-reason": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="action-transfer"' in html and "field-error" in html
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_PROGRESS and order.transfer_count == 0


def test_a_refused_action_says_why(login, hotline_agent, make_order, network_handler, billing_handler):
    order = make_order(hotline_agent)
    response = login(billing_handler).post(f"/orders/{order.number}/actions/claim/", follow=True)
    assert "Only handlers of 网络运维部 may claim this order." in response.content.decode()
    services.order_claim(actor=network_handler, order=order)
    response = login(network_handler).post(f"/orders/{order.number}/actions/claim/", follow=True)
    assert "already claimed" in response.content.decode()
    assert login(network_handler).post(f"/orders/{order.number}/actions/fly/").status_code == 404


def test_the_order_page_shows_the_step_owner_and_timeline(login, hotline_agent, make_order, network_handler):
    order = services.order_claim(actor=network_handler, order=make_order(hotline_agent))
    html = login(hotline_agent).get(f"/orders/{order.number}/").content.decode()
    assert 'id="current-owner">网络处理员<' in html
    assert "Dispatched automatically" in html and "Claimed" in html
    assert "Awaiting claim → In progress" in html
    # The agent may escalate or note, but not handle.
    assert 'id="action-escalate"' in html and 'id="action-reply"' not in html


def test_a_dispatcher_dispatches_from_the_order_page(login, hotline_agent, make_order, province_dispatcher,
                                                     billing_dept):
    order = make_order(hotline_agent, severity="difficult")
    client = login(province_dispatcher)
    assert order.number in client.get("/work/dispatch/").content.decode()
    response = client.post(f"/orders/{order.number}/actions/dispatch/",
                           {"dispatch-department": billing_dept.pk, "dispatch-comment": "计费问题"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.current_department == billing_dept and order.status == OrderStatus.QUEUED


def test_callback_through_the_browser_closes_the_order(login, hotline_agent, make_order, network_handler,
                                                       province_dispatcher):
    order = services.order_claim(actor=network_handler, order=make_order(hotline_agent))
    services.order_reply(actor=network_handler, order=order, answer="已处理", result_code="resolved")
    services.order_review(actor=province_dispatcher, order=order, accept=True)
    client = login(hotline_agent)
    assert order.number in client.get("/work/callback/").content.decode()
    response = client.post(f"/orders/{order.number}/actions/callback/", {
        "callback-reached": "1", "callback-satisfaction": "4", "callback-solved": "1", "callback-comment": "满意"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED and order.satisfaction == 4


def test_notifications_inbox_counts_and_opens(login, hotline_agent, make_order, network_lead, network_handler):
    order = make_order(hotline_agent, severity="major")
    services.order_assign(actor=network_lead, order=order, assignee=network_handler)
    client = login(network_handler)
    page = client.get("/work/mine/").content.decode()
    assert 'id="nav-notifications">Notifications <span class="count">1</span>' in page
    inbox = client.get("/notifications/").content.decode()
    assert order.number in inbox and "Assigned to you" in inbox
    notification = Notification.objects.get(recipient=network_handler)
    response = client.post(f"/notifications/{notification.pk}/open/")
    assert response["Location"] == f"/orders/{order.number}/"
    notification.refresh_from_db()
    assert notification.read_at is not None
    # Nobody opens someone else's notification.
    assert login(network_lead).post(f"/notifications/{notification.pk}/open/").status_code == 404


@pytest.mark.parametrize("key,user_fixture", [("queue", "network_handler"), ("open", "province_dispatcher"),
                                              ("team", "network_lead"), ("callback", "hotline_agent")])
def test_work_list_queries_do_not_grow_with_rows(key, user_fixture, request, login, hotline_agent, make_order,
                                                 network_handler, network_lead, province_dispatcher):
    user = request.getfixturevalue(user_fixture)
    client = login(user)

    def make(count, offset):
        for i in range(count):
            order = make_order(hotline_agent, customer_phone=f"1390000{offset + i:04d}")
            if key == "team":
                services.order_claim(actor=network_handler, order=order)
            if key == "callback":
                services.order_claim(actor=network_handler, order=order)
                services.order_reply(actor=network_handler, order=order, answer="a", result_code="resolved")
                services.order_review(actor=province_dispatcher, order=order, accept=True)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/work/{key}/").status_code == 200
        return len(captured)

    make(1, 0)
    queries()  # warm: the session renewed, the per-process memos filled
    few = queries()
    make(6, 100)
    assert queries() == few
