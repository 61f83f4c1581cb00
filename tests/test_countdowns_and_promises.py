"""What a page says about time: one countdown format everywhere (server and browser), 刚刚超时 for a fresh
breach, each promised reply time listed once on the order page (the original and an extended one labelled), and
a knowledge article's effective date kept when it is edited in the Chinese UI."""

import datetime
import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import translation

from knowledge import services as knowledge
from workflow import services
from workflow.calendar import SHANGHAI
from workflow.countdown import countdown_text, duration_text
from workflow.templatetags.workflow_tags import deadline_badge

DUE = datetime.datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
MONDAY_10 = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.mark.parametrize("now, text", [
    (DUE - timedelta(hours=2, minutes=5), "剩 2 小时 5 分"),
    (DUE - timedelta(hours=2, minutes=4, seconds=30), "剩 2 小时 5 分"),  # time left rounds up
    (DUE - timedelta(days=1, hours=3, minutes=20), "剩 1 天 3 小时"),
    (DUE - timedelta(hours=3), "剩 3 小时"),
    (DUE - timedelta(seconds=20), "剩 1 分"),
    (DUE, "刚刚超时"),
    (DUE + timedelta(seconds=59), "刚刚超时"),
    (DUE + timedelta(minutes=1), "已超时 1 分"),
    (DUE + timedelta(days=1, hours=3, minutes=59), "已超时 1 天 3 小时"),
    (DUE + timedelta(days=2), "已超时 2 天"),
])
def test_the_countdown_reads_the_same_everywhere(chinese, now, text):
    assert countdown_text(DUE, now) == text


def test_a_fresh_breach_never_reads_zero_minutes(chinese):
    for seconds in range(0, 60, 7):
        assert "0 分" not in countdown_text(DUE, DUE + timedelta(seconds=seconds))


def test_english_uses_the_same_units(db):
    assert countdown_text(DUE, DUE - timedelta(hours=2, minutes=5)) == "2 h 5 min left"
    assert countdown_text(DUE, DUE + timedelta(seconds=10)) == "just overdue"
    assert duration_text(timedelta(days=3, hours=1)) == "3 d 1 h"


def test_the_badge_on_an_order_uses_the_countdown(chinese, hotline_agent, make_order):
    with time_machine.travel(MONDAY_10, tick=False):
        order = make_order(hotline_agent)
    order.refresh_from_db()
    badge = deadline_badge(order, now=order.stage_due_at + timedelta(seconds=30))
    assert "刚刚超时" in badge and "deadline-overdue" in badge
    assert "剩 5 分" in deadline_badge(order, now=order.stage_due_at - timedelta(minutes=5))


def test_the_browser_gets_the_same_words(login_client, hotline_agent, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    page = login_client(hotline_agent).get("/", HTTP_ACCEPT_LANGUAGE="zh-hans", follow=True).content.decode()
    start = page.index('id="deadline-words"')
    words = page[start:page.index("</script>", start)]
    for word in ("刚刚超时", "剩 %(time)s", "已超时 %(time)s", "%(n)s 分", "%(n)s 小时", "%(n)s 天"):
        assert word.encode("unicode_escape").decode() in words or word in words, word


# --- promised times on the order page ---


def visible(html: str) -> str:
    """The text a reader sees (tooltips and attributes left out)."""
    return re.sub(r"<[^>]*>", " ", html)


def test_the_order_page_shows_each_promised_time_once(login_client, hotline_agent, make_order, network_handler,
                                                     province_dispatcher):
    with time_machine.travel(MONDAY_10, tick=False):
        order = make_order(hotline_agent)
        services.order_claim(actor=network_handler, order=order)
        services.order_extension_request(actor=network_handler, order=order, until=MONDAY_10 + timedelta(hours=48),
                                         reason="需要厂家到场")
        services.order_extension_decide(actor=province_dispatcher, order=order, approve=True)
    page = login_client(network_handler).get(f"/orders/{order.number}/").content.decode()
    facts = visible(page[:page.index('id="stages"')])  # the time-limit table below lists every stage's limits
    assert facts.count("2026-11-24 10:00") == 1  # the original promise, once
    assert facts.count("2026-11-25 10:00") == 1  # the extended one, once
    promises = page[page.index('id="promises"'):]
    promises = promises[:promises.index("</dd>")]
    assert "original promise" in promises and "extended" in promises
    assert promises.index("2026-11-24 10:00") < promises.index("2026-11-25 10:00")


def test_an_order_with_one_promise_lists_it_once_without_a_label(login_client, hotline_agent, make_order,
                                                                 network_handler):
    with time_machine.travel(MONDAY_10, tick=False):
        order = make_order(hotline_agent)
        services.order_claim(actor=network_handler, order=order)
    page = login_client(network_handler).get(f"/orders/{order.number}/").content.decode()
    assert visible(page[:page.index('id="stages"')]).count("2026-11-24 10:00") == 1


# --- the knowledge article's effective date ---


def test_the_article_edit_form_shows_and_keeps_the_effective_date(login_client, quality_manager, coverage,
                                                                  settings):
    settings.LANGUAGE_CODE = "zh-hans"
    article = knowledge.article_create(actor=quality_manager, title="携号转网办理条件", category=coverage,
                                       body="在网满120天可办理。", effective_from=datetime.date(2026, 1, 15),
                                       expires_on=datetime.date(2027, 6, 30))
    client = login_client(quality_manager)
    page = client.get(f"/knowledge/articles/{article.pk}/edit/").content.decode()
    assert 'type="date" name="effective_from" value="2026-01-15"' in page  # what a date picker can show
    assert 'name="expires_on" value="2027-06-30"' in page
    response = client.post(f"/knowledge/articles/{article.pk}/edit/", {
        "title": article.title, "kind": article.kind, "category": coverage.pk, "audience": article.audience,
        "effective_from": "2026-01-15", "expires_on": "2027-06-30", "body": "在网满120天且无欠费可办理。",
        "change_note": "补充欠费条件", "owner_department": ""})
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.effective_from == datetime.date(2026, 1, 15) and article.current.number == 2
