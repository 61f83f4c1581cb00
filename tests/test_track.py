"""The public progress page: number + phone, nothing internal, the same answer for every miss, rate-limited."""

import random

import pytest
from django.utils.translation import override

from workflow.notes import order_note_add


def _address() -> str:
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


@pytest.fixture(autouse=True)
def _own_client_address(client):
    """The rate limit counts per client address in the shared Redis cache; each test is a client of its own, so
    tests running side by side (pytest-xdist) never share a counter."""
    client.defaults["REMOTE_ADDR"] = _address()


def test_customer_sees_status_and_a_safe_timeline(client, hotline_agent, make_order):
    order = make_order(hotline_agent, note="客户疑似恶意投诉，内部备注")
    order_note_add(actor=hotline_agent, order=order, body="内部：已联系网络部", internal=True)
    response = client.post("/track/", {"number": order.number.lower(), "phone": "+86 138 0013 8000"})
    html = response.content.decode()
    assert response.status_code == 200
    assert order.number in html
    assert "Received, being passed to the right department" in html
    assert "Received" in html
    for secret in ("内部备注", "内部：已联系网络部", "王小红", "广州热线", hotline_agent.username, "Note added"):
        assert secret not in html


def test_unknown_order_and_wrong_phone_get_the_same_answer(client, hotline_agent, make_order):
    order = make_order(hotline_agent)
    wrong_phone = client.post("/track/", {"number": order.number, "phone": "13900000000"}).content.decode()
    no_order = client.post("/track/", {"number": "TS20000101000001", "phone": "13800138000"}).content.decode()
    bad_phone = client.post("/track/", {"number": order.number, "phone": "abc"}).content.decode()

    def answer(html):
        return html.split('role="alert">')[1].split("<")[0]

    assert answer(wrong_phone) == answer(no_order) == answer(bad_phone)
    assert order.number not in wrong_phone.replace(f'value="{order.number}"', "")


def test_lookups_are_rate_limited_per_client(client, settings, hotline_agent, make_order):
    settings.TRACK_RATE_LIMIT = 3
    order = make_order(hotline_agent)
    for _ in range(3):
        assert client.post("/track/", {"number": "TS1", "phone": "13800138000"}).status_code == 200
    limited = client.post("/track/", {"number": order.number, "phone": "13800138000"})
    assert limited.status_code == 429
    assert order.number not in limited.content.decode().replace(f'value="{order.number}"', "")
    other_client = client.post("/track/", {"number": order.number, "phone": "13800138000"},
                               REMOTE_ADDR=_address())
    assert other_client.status_code == 200


def test_track_page_needs_no_login(client):
    assert client.get("/track/").status_code == 200


def test_the_answer_shows_only_once_it_is_final(client, hotline_agent, make_order, network_handler,
                                                 province_dispatcher):
    from workflow import services

    order = services.order_claim(actor=network_handler, order=make_order(hotline_agent))
    services.order_reply(actor=network_handler, order=order, answer="草稿答复：已优化基站", result_code="resolved")
    lookup = {"number": order.number, "phone": "13800138000"}
    html = client.post("/track/", lookup).content.decode()
    assert "草稿答复" not in html and "Answered" in html  # replied, under review: answered, not yet shown
    services.order_review(actor=province_dispatcher, order=order, accept=True)
    html = client.post("/track/", lookup).content.decode()
    assert "草稿答复：已优化基站" in html and "we will call you" in html
    assert "网络处理员" not in html and "调度员" not in html


def _lookup(client, order) -> str:
    return client.post("/track/", {"number": order.number, "phone": "13800138000"},
                       HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def _status(html: str) -> str:
    return html.split('id="track-status">')[1].split("<")[0]


def _steps(html: str) -> list[str]:
    timeline = html.split('<ol class="timeline">')[1].split("</ol>")[0]
    return [item.split("</time>")[1].split("<")[0].strip() for item in timeline.split("<li>")[1:]]


def test_every_internal_status_reads_as_one_of_the_four_customer_words():
    from complaints.models import OrderStatus, PublicStage, public_stage

    for status in OrderStatus.values:
        for handled in (False, True):
            assert public_stage(status, handled=handled) in PublicStage.values, (status, handled)
    with override("zh-hans"):
        assert [str(label) for label in PublicStage.labels] == ["已受理", "处理中", "已答复", "已办结"]
    assert public_stage("queued", handled=False) == "received"  # dispatched, waiting to be claimed
    assert public_stage("queued", handled=True) == "handling"  # transferred or returned: still being handled
    assert public_stage("new", handled=True) == "handling"
    assert public_stage("review", handled=True) == "answered"
    assert public_stage("cancelled", handled=False) == "closed"


def test_customer_follows_a_whole_lifecycle_in_customer_words(client, settings, hotline_agent, make_order,
                                                             network_handler, billing_handler, billing_dept,
                                                             province_dispatcher):
    from workflow import services

    order = make_order(hotline_agent)
    assert _status(_lookup(client, order)) == "已受理"
    order = services.order_claim(actor=network_handler, order=order)
    assert _status(_lookup(client, order)) == "处理中"
    order = services.order_transfer(actor=network_handler, order=order, department=billing_dept,
                                    reason="属计费问题")
    assert order.status == "queued"
    assert _status(_lookup(client, order)) == "处理中"  # back in a queue, but no longer "just received"
    order = services.order_claim(actor=billing_handler, order=order)
    order = services.order_reply(actor=billing_handler, order=order, answer="已核实并退费", result_code="resolved")
    assert _status(_lookup(client, order)) == "已答复"
    order = services.order_review(actor=province_dispatcher, order=order, accept=True)
    assert _status(_lookup(client, order)) == "已答复"
    order = services.order_callback(actor=hotline_agent, order=order, reached=True, satisfaction=5, solved=True)
    html = _lookup(client, order)
    assert _status(html) == "已办结"
    assert _steps(html) == ["已受理", "处理中", "已答复", "已办结"]
    for internal in ("签单", "自动派单", "归档", "转派", "审核", "Claimed", "Dispatched"):
        assert internal not in html.split('id="track-result"')[1], internal


def test_a_reopened_order_is_being_handled_again(client, hotline_agent, make_order, network_handler,
                                                province_dispatcher):
    from workflow import services

    order = services.order_claim(actor=network_handler, order=make_order(hotline_agent))
    order = services.order_reply(actor=network_handler, order=order, answer="已优化", result_code="resolved")
    order = services.order_review(actor=province_dispatcher, order=order, accept=True)
    order = services.order_callback(actor=hotline_agent, order=order, reached=True, satisfaction=1, solved=False)
    html = _lookup(client, order)
    assert _status(html) == "处理中"
    assert _steps(html) == ["已受理", "处理中", "已答复", "处理中"]


def test_a_cancelled_order_reads_as_closed(client, hotline_agent, make_order, province_dispatcher):
    from workflow import services

    order = services.order_cancel(actor=province_dispatcher, order=make_order(hotline_agent),
                                  reason_kind="duplicate", reason="重复提交")
    html = _lookup(client, order)
    assert _status(html) == "已办结" and "已撤销" not in html
