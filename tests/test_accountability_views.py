"""Accountability in the browser (Django's test client): who sees which page, the lead's appeal and the centre's
decision through the forms, exports, and the city's complaint centre kept to its city."""

import datetime
import io
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import load_workbook

from accountability import scoring
from accountability.models import Determination, Indicator
from accountability.services import month_scores_recompute
from org import roles
from org.models import Department
from quality.facts import rollups_apply
from tests.factories import DepartmentFactory, UserFactory
from workflow import services as flow

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def month(hotline_agent, make_order, province_dispatcher, billing_handler, network_handler, dispute, coverage):
    """Two complaints closed in November (billing, network) and November scored on 1 December."""
    Indicator.objects.create(year=2026, code="timeliness", name="处理及时率", measure="timeliness",
                             higher_is_better=True, target=Decimal("90"), weight=Decimal("100"))
    closed = []
    for n, (category, handler) in enumerate(((dispute, billing_handler), (coverage, network_handler))):
        with time_machine.travel(datetime.datetime(2026, 11, 3 + n, 9, tzinfo=SH), tick=False):
            order = make_order(hotline_agent, category=category, customer_phone=f"1380013800{n}")
            order = flow.order_claim(actor=handler, order=order)
            order = flow.order_reply(actor=handler, order=order, answer="已处理", result_code="resolved")
            order = flow.order_review(actor=province_dispatcher, order=order, accept=True)
            closed.append(flow.order_callback(actor=hotline_agent, order=order, reached=True, satisfaction=5,
                                              solved=True))
    rollups_apply()
    with time_machine.travel(datetime.datetime(2026, 12, 1, 8, tzinfo=SH), tick=False):
        scoring.month_close(month=datetime.date(2026, 11, 1))
    return closed


PAGES = ["/accountability/ranking/?month=2026-11", "/accountability/determinations/", "/accountability/appeals/",
         "/accountability/deductions/", "/accountability/notices/", "/accountability/improvements/"]


def test_the_centre_and_quality_see_the_ranking_and_every_list(login_client, month, province_dispatcher,
                                                               quality_manager):
    for user in (province_dispatcher, quality_manager):
        client = login_client(user)
        for page in PAGES:
            assert client.get(page).status_code == 200, (user, page)
    page = login_client(quality_manager).get("/accountability/ranking/?month=2026-11").content.decode()
    assert "计费账务部" in page and "网络运维部" in page


def test_agents_handlers_and_anonymous_visitors_are_kept_out(client, login_client, month, hotline_agent,
                                                              billing_handler):
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for user in (hotline_agent, billing_handler):
        agent = login_client(user)
        for page in PAGES:
            assert agent.get(page).status_code == 403, (user, page)


def test_a_lead_sees_only_their_department(login_client, month, billing_lead, network_dept):
    client = login_client(billing_lead)
    assert client.get("/accountability/")["Location"] == f"/accountability/departments/{billing_lead.department_id}/"
    assert client.get("/accountability/ranking/").status_code == 403
    assert client.get(f"/accountability/departments/{network_dept.pk}/").status_code == 404
    page = client.get(f"/accountability/departments/{billing_lead.department_id}/?month=2026-11").content.decode()
    assert "处理及时率" in page
    listing = client.get("/accountability/determinations/?state=open").content.decode()
    billing_order, network_order = month
    assert billing_order.number in listing and network_order.number not in listing
    assert client.get(f"/accountability/determinations/{network_order.determination.pk}/").status_code == 404


def test_the_lead_appeals_and_the_centre_overturns_through_the_pages(login_client, month, billing_lead,
                                                                    province_dispatcher, network_dept):
    billing_order = month[0]
    determination = billing_order.determination
    lead = login_client(billing_lead)
    with time_machine.travel(datetime.datetime(2026, 11, 5, 9, tzinfo=SH), tick=False):  # within the window
        response = lead.post(f"/accountability/determinations/{determination.pk}/appeal/",
                             {"appeal-reason": "", "appeal-evidence": ""})
        assert response.status_code == 400 and "Give the evidence" in response.content.decode()
        assert lead.post(f"/accountability/determinations/{determination.pk}/appeal/",
                         {"appeal-reason": "基站故障导致误扣费", "appeal-evidence": "告警单号 123"}).status_code == 302
        determination.refresh_from_db()
        assert determination.status == Determination.Status.APPEALED
        assert lead.post(f"/accountability/determinations/{determination.pk}/rule/",
                         {"ruling-decision": "uphold", "ruling-reason": "x"}).status_code == 403
        determination.refresh_from_db()
        assert determination.status == Determination.Status.APPEALED  # a lead cannot rule on their own appeal
        centre = login_client(province_dispatcher)
        response = centre.post(f"/accountability/determinations/{determination.pk}/rule/", {
            "ruling-decision": "overturn", "ruling-reason": "属网络故障", "ruling-cause": "company",
            "ruling-department_0": network_dept.pk, "ruling-share_0": "1"})
        assert response.status_code == 302
    determination.refresh_from_db()
    assert determination.status == Determination.Status.FINAL
    assert list(determination.shares.values_list("department_id", flat=True)) == [network_dept.pk]


def test_the_ranking_exports_to_excel(login_client, month, quality_manager):
    response = login_client(quality_manager).get("/accountability/ranking/?month=2026-11&export=xlsx&table=ranking")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Rank", "Department", "Score"] and header[-1] == "处理及时率"
    departments = {sheet.cell(row, 2).value for row in range(2, sheet.max_row + 1)}
    assert {"计费账务部", "网络运维部"} <= departments


def test_a_citys_centre_sees_and_rules_on_its_city_only(login_client, month, shenzhen):
    centre = DepartmentFactory(code="sz-centre", name="深圳投诉中心", kind=Department.Kind.COMPLAINT_CENTRE,
                               region=shenzhen)
    sz = UserFactory(username="sz_dispatcher", department=centre, roles=[roles.DISPATCHER])
    client = login_client(sz)
    listing = client.get("/accountability/determinations/?state=to_confirm").content.decode()
    assert month[0].number not in listing  # a Guangzhou complaint
    assert client.get(f"/accountability/determinations/{month[0].determination.pk}/").status_code == 404
    assert client.post(f"/accountability/determinations/{month[0].determination.pk}/decide/",
                       {"decide-confirm": "1"}).status_code == 404


def test_the_orders_behind_a_score(login_client, month, quality_manager, billing_dept):
    page = login_client(quality_manager).get(
        f"/accountability/orders/?department={billing_dept.pk}&month=2026-11&measure=attributed").content.decode()
    assert month[0].number in page and month[1].number not in page


def test_deductions_are_recorded_through_the_form(login_client, month, quality_manager, billing_dept,
                                                  hotline_agent):
    from accountability.models import DeductionItem

    item = DeductionItem.objects.create(year=2026, code="overdue", name="超时工单", kind="overdue",
                                        points=Decimal("2"))
    with time_machine.travel(datetime.datetime(2026, 11, 20, 9, tzinfo=SH), tick=False):
        client = login_client(quality_manager)
        response = client.post("/accountability/deductions/", {"item": item.pk, "department": billing_dept.pk,
                                                               "month": "2026-11", "evidence": ""})
        assert response.status_code == 400 and "Give the evidence." in response.content.decode()
        response = client.post("/accountability/deductions/", {"item": item.pk, "department": billing_dept.pk,
                                                               "month": "2026-11", "evidence": "超时 3 天",
                                                               "order_number": month[0].number})
        assert response.status_code == 302
        assert login_client(hotline_agent).post("/accountability/deductions/", {}).status_code == 403


def test_every_list_exports(login_client, month, quality_manager):
    client = login_client(quality_manager)
    for path in ("/accountability/determinations/?state=final&export=xlsx", "/accountability/deductions/?export=csv",
                 "/accountability/improvements/?state=open&export=xlsx", "/accountability/notices/?export=csv"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(client.get("/accountability/determinations/?state=open&export=xlsx").content)).active
    numbers = {sheet.cell(row, 1).value for row in range(2, sheet.max_row + 1)}
    assert {o.number for o in month} <= numbers


def test_the_ranking_shows_each_figure_once(login_client, month, quality_manager):
    Indicator.objects.create(year=2026, code="attributed", name="认责投诉量", measure="attributed",
                             higher_is_better=False, target=Decimal("5"), weight=Decimal("20"))
    with time_machine.travel(datetime.datetime(2026, 12, 1, 8, tzinfo=SH), tick=False):
        month_scores_recompute(actor=quality_manager, month=datetime.date(2026, 11, 1), reason="新增指标")
    page = login_client(quality_manager).get("/accountability/ranking/?month=2026-11&indicator=attributed")
    html = page.content.decode()
    header = html[html.index('data-table="ranking"'):].split("</thead>")[0]
    titles = re.findall(r"<th[^>]*>([^<]*)</th>", header)
    assert len(titles) == len(set(titles)), titles
    assert "Complaints attributed" not in titles and "认责投诉量" in titles
    assert 'th class="num">Score' in header  # a column of numbers: its title right-aligned with them


def test_the_orders_behind_a_score_say_how_many(login_client, month, quality_manager, billing_dept):
    page = login_client(quality_manager).get(
        f"/accountability/orders/?department={billing_dept.pk}&month=2026-11&measure=attributed").content.decode()
    assert 'id="list-total"' in page and "1 in all" in page
