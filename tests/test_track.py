"""The public progress page: number + phone, nothing internal, the same answer for every miss, rate-limited."""

import random

import pytest

from complaints.services import order_note_add


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
    assert "草稿答复" not in html and "Being handled" in html  # still under review
    services.order_review(actor=province_dispatcher, order=order, accept=True)
    html = client.post("/track/", lookup).content.decode()
    assert "草稿答复：已优化基站" in html and "we will call you" in html
    assert "网络处理员" not in html and "调度员" not in html
