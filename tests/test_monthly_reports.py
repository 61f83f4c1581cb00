"""The monthly quality report: its figures, the PDF (with the Chinese font embedded), the schedule on the first
working day, versions, and who may read and make them."""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from pypdf import PdfReader

from org import roles
from org.models import Department
from quality.models import KpiTarget
from reports.models import MonthlyReport
from reports.monthly import monthly_reports_due, report_generate
from tests.factories import DepartmentFactory, UserFactory

NOVEMBER = datetime.date(2026, 11, 1)


@pytest.fixture
def week(week):
    """The week of the conftest, read on 2 December (November has ended)."""
    with time_machine.travel(datetime.datetime(2026, 12, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield week


def pdf_text_and_fonts(report):
    reader = PdfReader(io.BytesIO(report.pdf.open("rb").read()))
    text = "".join(page.extract_text() for page in reader.pages)
    fonts = {str(font.get_object()["/BaseFont"]) for page in reader.pages
             for font in page["/Resources"]["/Font"].values()}
    return text, fonts


def test_the_province_report_has_its_figures_in_html_and_pdf(week, province):
    KpiTarget.objects.create(kpi="timeliness", region=None, effective_from=datetime.date(2026, 1, 1), value=90)
    report = report_generate(region=province, month=NOVEMBER)
    assert (report.version, report.trigger) == (1, MonthlyReport.Trigger.ON_DEMAND)
    headline = {row["code"]: row for row in report.data["headline"]}
    assert headline["volume"]["value"] == 6
    assert headline["timeliness"]["value"] == pytest.approx(75.0)
    assert headline["timeliness"]["target"] == 90.0 and headline["timeliness"]["met"] is False
    assert headline["satisfaction"]["value"] == pytest.approx(200 / 3)
    assert report.data["departments"][0]["department"] == "网络运维部"
    numbers = [case["number"] for case in report.data["cases"]]
    assert week["O5"].number in numbers  # escalated to the regulator
    html = report.html
    assert "投诉质量月报" in html and "75.0%" in html
    assert "138****0005" in html and "13800000005" not in html  # no personal data in an archived document
    text, fonts = pdf_text_and_fonts(report)
    assert "投诉质量月报" in text and "广东省" in text and "75.0%" in text
    assert any("Noto-Sans-CJK" in font for font in fonts), fonts


def test_generating_again_makes_a_new_version(week, province):
    first = report_generate(region=province, month=NOVEMBER)
    second = report_generate(region=province, month=NOVEMBER)
    assert (first.version, second.version) == (1, 2)
    assert first.pdf.name != second.pdf.name


def test_the_schedule_makes_each_report_once_from_the_first_working_day(week, province, guangzhou, shenzhen,
                                                                        tianhe):
    made = monthly_reports_due(today=datetime.date(2026, 12, 1))  # a Tuesday: the first working day
    assert sorted(r.region.code for r in made) == ["44", "4401", "4403"]  # the province and its cities
    assert all(r.month == NOVEMBER and r.trigger == MonthlyReport.Trigger.SCHEDULED for r in made)
    assert monthly_reports_due(today=datetime.date(2026, 12, 2)) == []
    city = MonthlyReport.objects.get(region=shenzhen)
    assert {row["code"]: row for row in city.data["headline"]}["volume"]["value"] == 1


def test_nothing_is_made_before_the_first_working_day(week):
    with time_machine.travel(datetime.datetime(2027, 1, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        assert monthly_reports_due(today=datetime.date(2027, 1, 1)) == []  # New Year's Day


@pytest.fixture
def shenzhen_quality(shenzhen):
    dept = DepartmentFactory(code="sz-quality", name="深圳品质", kind=Department.Kind.QUALITY, region=shenzhen)
    return UserFactory(username="quality_sz", department=dept, roles=[roles.QUALITY_MANAGER])


def test_who_reads_and_who_makes_reports(week, login_client, province, shenzhen, quality_manager,
                                         province_dispatcher, hotline_agent, shenzhen_quality):
    province_report = report_generate(region=province, month=NOVEMBER)
    city_report = report_generate(region=shenzhen, month=NOVEMBER)
    client = login_client(quality_manager)
    listing = client.get("/reports/monthly/").content.decode()
    assert f"/reports/monthly/{province_report.pk}/" in listing and f"/reports/monthly/{city_report.pk}/" in listing
    response = client.get(f"/reports/monthly/{province_report.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert "投诉质量月报" in client.get(f"/reports/monthly/{province_report.pk}/").content.decode()

    city = login_client(shenzhen_quality)
    listing = city.get("/reports/monthly/").content.decode()
    assert f"/reports/monthly/{city_report.pk}/" in listing
    assert f"/reports/monthly/{province_report.pk}/" not in listing
    assert city.get(f"/reports/monthly/{province_report.pk}/pdf/").status_code == 404
    response = city.post("/reports/monthly/generate/", {"region": province.pk, "month": "2026-11", "choose": "1"})
    assert not MonthlyReport.objects.filter(region=province, version=2).exists()  # not a region it may choose

    dispatcher = login_client(province_dispatcher)
    assert dispatcher.get("/reports/monthly/").status_code == 200
    assert dispatcher.post("/reports/monthly/generate/", {"region": province.pk, "month": "2026-11"}).status_code == 403
    agent = login_client(hotline_agent)
    assert agent.get("/reports/monthly/").status_code == 403
    assert agent.get(f"/reports/monthly/{province_report.pk}/pdf/").status_code == 403

    client = login_client(quality_manager)  # one test client: log the quality manager in again
    response = client.post("/reports/monthly/generate/", {"region": province.pk, "month": "2026-12", "choose": "1"})
    assert response.status_code == 302 and not MonthlyReport.objects.filter(month=datetime.date(2026, 12, 1))
    response = client.post("/reports/monthly/generate/", {"region": province.pk, "month": "2026-11", "choose": "1"})
    assert response.status_code == 302
    assert MonthlyReport.objects.filter(region=province, month=NOVEMBER).count() == 2
