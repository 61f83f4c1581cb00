"""The monthly report's notable cases are proposed, not imposed: the quality manager sees them before the report is
archived, keeps, drops or adds, and the archive shows exactly the choice. Months without data are gaps, every
figure says its unit, and the cases table stays within the PDF's pages."""

import datetime
import io
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from pypdf import PdfReader

from org import roles
from org.models import Department
from reports.models import MonthlyReport
from reports.monthly import report_generate
from tests.factories import DepartmentFactory, UserFactory, channel
from workflow.intake import order_create

NOVEMBER = datetime.date(2026, 11, 1)
SH = ZoneInfo("Asia/Shanghai")
LONG = ("客户反映自十月下旬起家中及小区周边移动网络信号持续很差，室内基本无法正常通话，多次拨打客服热线均只登记"
        "未见处理，期间还被误扣国际漫游流量费用共计三百二十八元，客户情绪激动，表示若本周内仍不解决将向工信部"
        "申诉并联系媒体曝光，要求书面答复处理结果与赔偿方案。")


@pytest.fixture
def week(week):
    with time_machine.travel(datetime.datetime(2026, 12, 2, 9, 0, tzinfo=SH), tick=False):
        yield week


@pytest.fixture
def majors(week, hotline_agent, coverage):
    """Three major complaints in Guangzhou in November, with long descriptions."""
    made = []
    for n in range(3):
        received = datetime.datetime(2026, 11, 12 + n, 10, tzinfo=SH)
        with time_machine.travel(received, tick=False):
            made.append(order_create(actor=hotline_agent, kind="complaint", channel=channel("hotline"),
                                     category=coverage, severity="major", description=f"{n}号 {LONG}",
                                     customer_phone=f"1390000{n:04d}").order)
    return made


def _numbers(html: str) -> set[str]:
    return set(re.findall(r"TS\d{14}", html))


def test_the_quality_manager_chooses_the_cases_before_the_report_is_archived(login_client, week, majors, province,
                                                                               quality_manager):
    client = login_client(quality_manager)
    page = client.get(f"/reports/monthly/new/?region={province.pk}&month=2026-11")
    assert page.status_code == 200
    html = page.content.decode()
    proposed = {o.number for o in majors} | {week["O5"].number}  # the escalated one and the major ones
    checked = set(re.findall(r'name="cases" value="(TS\d+)"[^>]* checked', html))
    assert checked == proposed
    assert not MonthlyReport.objects.exists()  # nothing archived by looking

    keep, drop = majors[0].number, {majors[1].number, majors[2].number, week["O5"].number}
    response = client.post("/reports/monthly/generate/", {
        "region": province.pk, "month": "2026-11", "choose": "1", "cases": [keep], "add": week["O1"].number})
    assert response.status_code == 302
    report = MonthlyReport.objects.get()
    assert [c["number"] for c in report.data["cases"]] == [keep, week["O1"].number]
    assert report.data["cases_chosen"] is True and report.data["cases_chosen_by"] == "品质经理"
    assert set(report.data["cases_proposed"]) == proposed
    section = report.html.split('id="notable-cases"')[1].split("</table>")[0]
    assert _numbers(section) == {keep, week["O1"].number} and not drop & _numbers(report.html)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(report.pdf.open("rb").read())).pages)
    assert keep in text and not any(n in text for n in drop)

    listing = client.get("/reports/monthly/").content.decode()
    assert "Choose notable cases" not in listing  # this version's cases were chosen


def test_no_case_at_all_is_a_choice_too(login_client, week, majors, province, quality_manager):
    client = login_client(quality_manager)
    client.post("/reports/monthly/generate/", {"region": province.pk, "month": "2026-11", "choose": "1"})
    report = MonthlyReport.objects.get()
    assert report.data["cases"] == [] and "本月未选定典型案例" in report.html


def test_a_case_from_elsewhere_is_refused_and_nothing_archived(login_client, week, majors, shenzhen, province,
                                                                quality_manager):
    client = login_client(quality_manager)
    guangzhou_order = majors[0].number
    for add in (guangzhou_order, "TS20991231000001", week["O5"].number + " " + "nonsense"):
        response = client.post("/reports/monthly/generate/", {
            "region": shenzhen.pk, "month": "2026-11", "choose": "1", "cases": [week["O5"].number], "add": add})
        assert response.status_code == 400
        assert "Not a complaint of" in response.content.decode()
        assert f'value="{week["O5"].number}" id="case-{week["O5"].number}" checked' in response.content.decode()
    assert not MonthlyReport.objects.exists()


def test_the_archive_is_never_made_without_the_choice_by_hand(login_client, week, majors, province,
                                                              quality_manager):
    response = login_client(quality_manager).post("/reports/monthly/generate/",
                                                  {"region": province.pk, "month": "2026-11"})
    assert response.status_code == 302 and "/reports/monthly/new/" in response["Location"]
    assert not MonthlyReport.objects.exists()


def test_the_schedule_marks_its_cases_as_proposed(login_client, week, majors, province, quality_manager):
    report = report_generate(region=province, month=NOVEMBER, trigger=MonthlyReport.Trigger.SCHEDULED)
    assert report.data["cases_chosen"] is False and "尚未经品质管理人员审定" in report.html
    listing = login_client(quality_manager).get("/reports/monthly/").content.decode()
    assert f"/reports/monthly/new/?region={province.pk}&amp;month=2026-11" in listing


def test_only_quality_managers_choose(login_client, week, majors, province, shenzhen, province_dispatcher,
                                      hotline_agent, network_lead):
    url = f"/reports/monthly/new/?region={province.pk}&month=2026-11"
    post = {"region": province.pk, "month": "2026-11", "choose": "1", "cases": [majors[0].number]}
    for user in (province_dispatcher, hotline_agent, network_lead):
        client = login_client(user)
        assert client.get(url).status_code == 403, user
        assert client.post("/reports/monthly/generate/", post).status_code == 403, user
    with pytest.raises(PermissionDenied):
        report_generate(region=province, month=NOVEMBER, actor=province_dispatcher, cases=[majors[0].number])
    dept = DepartmentFactory(code="sz-quality", name="深圳品质", kind=Department.Kind.QUALITY, region=shenzhen)
    city = login_client(UserFactory(username="quality_sz", department=dept, roles=[roles.QUALITY_MANAGER]))
    assert city.get(url).status_code == 302  # not a region it may choose: back to the list, with the error
    city.post("/reports/monthly/generate/", post)
    assert not MonthlyReport.objects.exists()


def test_months_without_data_are_gaps_and_every_figure_has_its_unit(week, province):
    report = report_generate(region=province, month=NOVEMBER)
    assert report.data["trend_months"] == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    assert report.data["trends"]["volume"] == [None, None, None, None, None, 6]  # no data before November
    assert report.data["trends"]["timeliness"][:5] == [None] * 5
    headline = {row["code"]: row for row in report.data["headline"]}
    assert headline["volume"]["last"] is None and headline["volume"]["last_display"] == "—"
    assert headline["volume"]["change"] is None
    html = report.html
    volume_chart = html.split("<svg")[1]
    assert "<polyline" not in volume_chart  # one month of data: a point, no line drawn down from zero
    assert "单位：件" in volume_chart and "无数据" in volume_chart
    assert "单位：%" in html.split("<svg")[2]
    assert "（件）" in html and "（小时）" in html and "（%）" in html
    row = html.split("平均处理时长</td>")[1].split("</tr>")[0]
    assert "<td>小时</td>" in row


def test_the_cases_table_stays_within_the_pdf_pages(week, majors, province):
    from weasyprint import HTML

    report = report_generate(region=province, month=NOVEMBER)
    document = HTML(string=report.html).render()
    overflowing = []
    for number, page in enumerate(document.pages, 1):
        page_box = page._page_box
        limit = page_box.content_box_x() + page_box.width  # the right margin's edge
        for box in page_box.descendants():
            if not hasattr(box, "border_width"):
                continue
            right = box.position_x + box.margin_left + box.border_width()
            if right > limit + 0.5:
                overflowing.append((number, type(box).__name__, getattr(box, "element_tag", ""),
                                    round(right - limit, 1)))
    assert not overflowing, overflowing[:10]
    # The complaint is read in lines of a readable length: its cell takes most of the text width.
    complaint_cells = []
    for page in document.pages:
        page_box = page._page_box
        for box in page_box.descendants():
            if type(box).__name__ == "TableCellBox" and LONG[:10] in "".join(
                    getattr(b, "text", "") for b in box.descendants()):
                complaint_cells.append(box.width / page_box.width)
    assert complaint_cells and min(complaint_cells) > 0.6, complaint_cells
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(report.pdf.open("rb").read())).pages)
    compact = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", LONG[:60]) in compact  # the complaint is written out, wrapped, not cut off at the edge
