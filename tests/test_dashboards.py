"""The dashboards in the browser (Django's test client) over the hand-made week of tests/kpi_world.py: who may see
what, the numbers shown, the orders behind them, exports, and bounded queries."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from org import roles
from org.models import Department
from quality.facts import rollups_apply
from tests.factories import DepartmentFactory, UserFactory

WEEK = "period=custom&start=2026-11-02&end=2026-11-08"
PAGES = ["/dashboard/", "/dashboard/department/", "/dashboard/kpis/", "/dashboard/hotspots/",
         "/dashboard/compare/", "/dashboard/definitions/", "/dashboard/orders/?kpi=volume"]



@pytest.fixture
def shenzhen_quality(shenzhen):
    dept = DepartmentFactory(code="sz-quality", name="深圳品质", kind=Department.Kind.QUALITY, region=shenzhen)
    return UserFactory(username="quality_sz", department=dept, roles=[roles.QUALITY_MANAGER])


def test_quality_managers_and_the_centre_see_every_dashboard(login_client, week, quality_manager,
                                                             province_dispatcher):
    for user in (quality_manager, province_dispatcher):
        client = login_client(user)
        for page in PAGES:
            assert client.get(page).status_code == 200, (user, page)


def test_frontline_agents_and_handlers_see_no_dashboard(login_client, week, hotline_agent, network_handler,
                                                       channel_system):
    for user in (hotline_agent, network_handler, channel_system):
        client = login_client(user)
        for page in PAGES:
            assert client.get(page).status_code == 403, (user, page)


def test_anonymous_visitors_are_sent_to_the_login(client, week):
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_department_lead_sees_only_their_department(login_client, week, network_lead, billing_dept):
    client = login_client(network_lead)
    assert client.get("/dashboard/")["Location"] == "/dashboard/department/"
    page = client.get(f"/dashboard/department/?{WEEK}").content.decode()
    assert "网络运维部" in page
    # The lead cannot choose another department: the filter is not offered and the slice stays theirs.
    page = client.get(f"/dashboard/department/?{WEEK}&department={billing_dept.pk}").content.decode()
    assert 'name="department"' not in page
    volume = client.get(f"/dashboard/orders/?kpi=volume&{WEEK}").content.decode()
    assert week["O7"].number not in volume  # a billing order
    assert week["O1"].number in volume


def test_the_overview_shows_the_hand_computed_figures(login_client, week, quality_manager):
    page = login_client(quality_manager).get(f"/dashboard/?{WEEK}").content.decode()
    tile = page.split('data-kpi="timeliness"')[1].split("</a>")[0]
    assert "75.0%" in tile
    assert "26.0 h" in page.split('data-kpi="avg_handling"')[1].split("</a>")[0]
    assert "80.0%" in page.split('data-kpi="closed_loop_rate"')[1].split("</a>")[0]
    assert 'data-chart="trend-data"' in page and 'id="trend-data"' in page


def test_a_number_opens_the_orders_behind_it(login_client, week, quality_manager):
    client = login_client(quality_manager)
    late = client.get(f"/dashboard/orders/?kpi=timeliness&part=rest&{WEEK}").content.decode()
    assert week["O2"].number in late
    assert week["O1"].number not in late and week["O3"].number not in late
    in_time = client.get(f"/dashboard/orders/?kpi=timeliness&part=num&{WEEK}").content.decode()
    assert all(week[k].number in in_time for k in ("O1", "O3", "O5")) and week["O2"].number not in in_time
    unhappy = client.get(f"/dashboard/orders/?kpi=dissatisfaction&{WEEK}").content.decode()
    assert week["O2"].number in unhappy and week["O1"].number not in unhappy
    inquiries = client.get(f"/dashboard/orders/?kpi=complaint_inquiry_ratio&part=den&{WEEK}").content.decode()
    assert week["O4"].number in inquiries and week["O1"].number not in inquiries


def test_a_group_row_opens_its_own_orders(login_client, week, quality_manager, shenzhen):
    client = login_client(quality_manager)
    page = client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&g=region2&v={shenzhen.pk}").content.decode()
    assert week["O5"].number in page and week["O1"].number not in page
    monday = client.get("/dashboard/orders/?kpi=volume&period=custom&start=2026-11-01&end=2026-11-30"
                        "&g=day&v=2026-11-02").content.decode()
    assert week["O1"].number in monday and week["O5"].number not in monday


def test_another_citys_manager_sees_only_their_city(login_client, week, shenzhen_quality, guangzhou):
    client = login_client(shenzhen_quality)
    page = client.get(f"/dashboard/?{WEEK}").content.decode()
    assert ">1<" in page.split('data-kpi="volume"')[1].split("</a>")[0].replace(" ", "")
    orders = client.get(f"/dashboard/orders/?kpi=volume&{WEEK}").content.decode()
    assert week["O5"].number in orders and week["O1"].number not in orders
    # Asking for Guangzhou is not possible: the region is not among the choices, and the slice stays Shenzhen.
    response = client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&region={guangzhou.pk}")
    assert week["O1"].number not in response.content.decode()
    response = client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&g=region2&v={guangzhou.pk}")
    assert week["O1"].number not in response.content.decode()


def test_every_table_exports_to_csv_and_excel(login_client, week, quality_manager):
    client = login_client(quality_manager)
    response = client.get(f"/dashboard/kpis/?{WEEK}&group=region2&export=csv&table=kpis")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    rows = rows[rows.index([]) + 1:]  # after the header block that says what the file is
    assert rows[0][0] == "City"
    by_city = {row[0]: row for row in rows[1:]}
    assert by_city["广州市"][1] == "5" and by_city["深圳市"][1] == "1"
    response = client.get(f"/dashboard/?{WEEK}&export=xlsx&table=top-categories")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.cell(1, 1).value == "Category, level 3"
    assert sheet.cell(2, 2).value == 5  # 信号覆盖's parent: O1 O2 O3 O5 O6
    assert client.get(f"/dashboard/?{WEEK}&export=pdf&table=regions").status_code == 404
    assert client.get(f"/dashboard/?{WEEK}&export=csv&table=nope").status_code == 404
    # Each export is recorded: who, which page and table, the filters, how many rows (refused ones are not).
    from reports.models import ExportRecord

    records = list(ExportRecord.objects.order_by("id"))
    assert [(r.user, r.page, r.table, r.format) for r in records] == [
        (quality_manager, "analysis", "kpis", "csv"), (quality_manager, "overview", "top-categories", "xlsx")]
    assert "group=region2" in records[0].filters and records[0].rows == len(rows) - 1


def test_the_export_record_is_read_only_in_admin(client, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client.force_login(root)
    assert client.get("/admin/reports/exportrecord/").status_code == 200
    assert client.get("/admin/reports/exportrecord/add/").status_code == 403


def test_bad_filters_say_what_is_wrong(login_client, week, quality_manager):
    client = login_client(quality_manager)
    page = client.get("/dashboard/?period=custom&start=2026-11-08&end=2026-11-02").content.decode()
    assert "The period ends before it starts." in page
    page = client.get("/dashboard/compare/?kpi=timeliness&change_date=2099-01-01&days=28").content.decode()
    assert "lies in the future" in page
    assert client.get("/dashboard/orders/?kpi=nope").status_code == 404
    assert client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&g=region2&v=abc").status_code == 404


def test_the_kpi_analysis_groups_by_anything(login_client, week, quality_manager):
    client = login_client(quality_manager)
    for group in ("day", "week", "month", "region2", "region3", "category1", "category3", "department", "channel",
                  "tier", "brand", "severity", "kind", "agent", "hour"):
        response = client.get(f"/dashboard/kpis/?{WEEK}&group={group}&kind=all")
        assert response.status_code == 200, group
    page = client.get(f"/dashboard/kpis/?{WEEK}&group=department").content.decode()
    assert "网络运维部" in page


def test_dashboard_pages_read_a_bounded_number_of_queries(login_client, week, quality_manager, hotline_agent,
                                                          make_order):
    client = login_client(quality_manager)
    client.get(f"/dashboard/?{WEEK}")  # warm: the session renewed, the per-process memos filled
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/dashboard/?{WEEK}").status_code == 200
    for _ in range(15):
        make_order(hotline_agent)
    rollups_apply()
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"/dashboard/?{WEEK}").status_code == 200
    assert len(many) == len(few) <= 40


def test_the_open_orders_and_the_hours_open_their_orders(login_client, week, quality_manager, network_lead):
    client = login_client(quality_manager)
    page = client.get(f"/dashboard/?{WEEK}").content.decode()
    assert "/orders/?status=queued" in page  # the open-orders chart links into the order list
    queued = client.get("/orders/?status=queued").content.decode()
    assert week["O6"].number in queued
    o6 = week["O6"]
    hour = o6.received_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).hour
    page = client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&g=hour&v={hour}").content.decode()
    assert o6.number in page and week["O5"].number in page and week["O1"].number not in page  # 9:00, not 10:00
    assert client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&g=hour&v=24").status_code == 404
    lead = login_client(network_lead)
    department_page = lead.get(f"/dashboard/department/?{WEEK}").content.decode()
    assert f"current_department={network_lead.department_id}" in department_page
    assert lead.get(f"/orders/?status=queued&current_department={network_lead.department_id}").status_code == 200


def _header_and_cell_classes(html: str, table_name: str) -> list[tuple[str, set[str]]]:
    """Each column of a rendered table: its header's class, and the classes of its cells."""
    from html.parser import HTMLParser

    class Reader(HTMLParser):
        def __init__(self):
            super().__init__()
            self.inside, self.heads, self.rows = False, [], []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "table":
                self.inside = attrs.get("data-table") == table_name
            elif self.inside and tag == "th":
                self.heads.append(attrs.get("class") or "")
            elif self.inside and tag == "tr":
                self.rows.append([])
            elif self.inside and tag == "td" and self.rows:
                self.rows[-1].append(attrs.get("class") or "")

        def handle_endtag(self, tag):
            if tag == "table":
                self.inside = False

    reader = Reader()
    reader.feed(html)
    rows = [row for row in reader.rows if len(row) == len(reader.heads)]
    assert rows, f"no rows in {table_name}"
    return [(head, {row[i] for row in rows}) for i, head in enumerate(reader.heads)]


def test_numeric_headers_are_aligned_with_their_numbers(login_client, week, quality_manager):
    client = login_client(quality_manager)
    page = client.get(f"/dashboard/kpis/?{WEEK}&group=category3&chart=volume").content.decode()
    columns = _header_and_cell_classes(page, "kpis")
    assert columns[0] == ("", {""})  # the category: text, left
    for head, cells in columns[1:]:
        assert head == "num" and cells == {"num"}, (head, cells)
    overview = client.get(f"/dashboard/?{WEEK}").content.decode()
    for head, cells in _header_and_cell_classes(overview, "open-orders")[1:]:
        assert head == "num" and cells == {"num"}, (head, cells)


def test_a_drill_down_says_how_many_orders_it_holds(login_client, week, quality_manager, settings):
    client = login_client(quality_manager)
    page = client.get(f"/dashboard/orders/?kpi=volume&{WEEK}").content.decode()
    assert 'id="list-total"' in page and "6 in all" in page  # the six complaints of the week
    page = client.get(f"/dashboard/orders/?kpi=timeliness&part=rest&{WEEK}").content.decode()
    assert "1 in all" in page  # O2, replied late


def test_a_drill_down_counts_no_further_than_its_bound(login_client, week, quality_manager, monkeypatch):
    from core.web import pagination

    monkeypatch.setattr(pagination, "COUNT_LIMIT", 4)
    monkeypatch.setattr(pagination.count_bounded, "__defaults__", (4,))
    page = login_client(quality_manager).get(f"/dashboard/orders/?kpi=volume&{WEEK}").content.decode()
    assert "More than 4 in all" in page


def test_months_without_data_are_gaps_not_zeros(login_client, week, quality_manager):
    import json
    import re

    page = login_client(quality_manager).get(
        "/dashboard/kpis/?period=custom&start=2026-08-01&end=2026-11-30&group=month&chart=volume").content.decode()
    spec = json.loads(re.search(r'<script id="analysis-data" type="application/json">(.*?)</script>', page).group(1))
    assert spec["x"] == ["2026-08", "2026-09", "2026-10", "2026-11"]
    assert spec["series"][0]["data"] == [None, None, None, 6]  # nothing before the hand-made week
    assert spec["unit"] == "orders"
    table = page.split('data-table="kpis"')[1].split("</table>")[0]
    august = table.split("2026-08</td>")[1].split("</tr>")[0]
    assert ">0<" not in august and "—" in august


def test_times_say_hours_in_chinese(login_client, week, quality_manager, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    page = login_client(quality_manager).get(f"/dashboard/?{WEEK}").content.decode()
    tile = page.split('data-kpi="avg_handling"')[1].split("</a>")[0]
    assert "26.0 小时" in tile and " h" not in tile


@pytest.mark.parametrize("who", ["quality_manager", "province_dispatcher", "network_lead", "hotline_agent"])
def test_the_department_filter_from_the_memo_lists_what_the_queryset_allows(who, request, week):
    """The dashboards' department choices come from the memo; the submitted value is checked against the
    queryset: both state one rule, and must agree (same departments, same order)."""
    from quality.selectors import departments_viewable_by, departments_viewable_list

    user = request.getfixturevalue(who)
    listed = [d.pk for d in departments_viewable_list(user)]
    assert listed == list(departments_viewable_by(user).values_list("pk", flat=True))
    expected = {"network_lead": 1, "hotline_agent": 0}  # the centre and quality see several
    assert len(listed) == expected[who] if who in expected else len(listed) > 1
