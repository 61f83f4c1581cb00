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


PERSONAL = ("客户张伟先生来电，身份证440106199001011234，回电13912345678或020-87654321，"
            "家住天河路385号，客户王女士代为投诉，要求退还误扣的彩铃费。")


@pytest.fixture
def personal_case(week, hotline_agent, coverage):
    """A major complaint of November whose description carries what agents type: a name, an ID, numbers."""
    from tests.factories import channel
    from workflow.intake import order_create

    with time_machine.travel(datetime.datetime(2026, 11, 20, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        return order_create(actor=hotline_agent, kind="complaint", channel=channel("hotline"), category=coverage,
                            severity="major", description=PERSONAL, customer_phone="13700001234",
                            customer_name="李娜").order


SECRETS = ("张伟", "王女士", "440106199001011234", "13912345678", "87654321", "天河路385号", "13700001234", "李娜")


def test_the_report_shows_notable_cases_redacted_in_html_and_pdf(personal_case, province):
    report = report_generate(region=province, month=NOVEMBER)
    assert personal_case.number in [case["number"] for case in report.data["cases"]]
    text, _fonts = pdf_text_and_fonts(report)
    compact = "".join(text.split())
    for secret in SECRETS:
        assert secret not in report.html, secret
        assert secret not in compact, secret
        assert secret not in str(report.data), secret
    assert "要求退还误扣的彩铃费" in report.html and "要求退还误扣的彩铃费" in compact  # the complaint is still told
    assert "[证件号]" in report.html and "[电话]" in report.html


# --- withdrawing an archived version -------------------------------------------------------------------------


@pytest.fixture
def administrators(province):
    dept = DepartmentFactory(code="it-admin", name="系统管理", kind=Department.Kind.COMPLAINT_CENTRE, region=province)
    superuser = UserFactory(username="root", department=dept, roles=[roles.ADMIN], is_superuser=True, is_staff=True)
    role_admin = UserFactory(username="role_admin", department=dept, roles=[roles.ADMIN])
    return superuser, role_admin


def _pdf_response_text(response) -> str:
    reader = PdfReader(io.BytesIO(b"".join(response.streaming_content)))
    return "".join(page.extract_text() for page in reader.pages)


def test_an_administrator_withdraws_a_version_with_the_reason_and_a_new_one_replaces_it(
        week, province, login_client, administrators, quality_manager):
    from django.db import DatabaseError, connection, transaction

    from reports.models import ReportWithdrawal

    old = report_generate(region=province, month=NOVEMBER)
    superuser, _role_admin = administrators
    client = login_client(superuser)
    page = client.get(f"/reports/monthly/{old.pk}/withdraw/")
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()

    response = client.post(f"/reports/monthly/{old.pk}/withdraw/", {"reason": "  "})
    assert response.status_code == 400 and "the reason is recorded" in response.content.decode()
    old.refresh_from_db()
    assert not old.is_withdrawn and MonthlyReport.objects.count() == 1 and not ReportWithdrawal.objects.exists()

    response = client.post(f"/reports/monthly/{old.pk}/withdraw/", {"reason": "案例摘要含客户身份证号，按规定撤回"})
    assert response.status_code == 302
    old.refresh_from_db()
    new = MonthlyReport.objects.get(region=province, month=NOVEMBER, version=2)
    assert old.is_withdrawn and new.trigger == MonthlyReport.Trigger.REGENERATED and not new.is_withdrawn
    withdrawal = ReportWithdrawal.objects.get()
    assert (withdrawal.report, withdrawal.replacement, withdrawal.actor) == (old, new, superuser)
    assert withdrawal.reason == "案例摘要含客户身份证号，按规定撤回" and withdrawal.actor_name == str(superuser)
    assert old.pdf.open("rb").read().startswith(b"%PDF")  # the withdrawn file stays stored
    assert client.post(f"/reports/monthly/{old.pk}/withdraw/", {"reason": "again"}).status_code == 409

    # The administrator may still read the withdrawn version, marked; the list marks it.
    detail = client.get(f"/reports/monthly/{old.pk}/").content.decode()
    assert "Withdrawn on" in detail and "案例摘要含客户身份证号" in detail
    response = client.get(f"/reports/monthly/{old.pk}/pdf/")
    assert response.status_code == 200 and "withdrawn" in response["Content-Disposition"]
    listing = client.get("/reports/monthly/").content.decode()
    assert "withdrawn" in listing and f"/reports/monthly/{new.pk}/withdraw/" in listing

    # Readers are served the new version, not the withdrawn one.
    reader = login_client(quality_manager)
    assert reader.get(f"/reports/monthly/{old.pk}/").status_code == 410
    assert reader.get(f"/reports/monthly/{old.pk}/pdf/").status_code == 410
    assert f"/reports/monthly/{new.pk}/" in reader.get(f"/reports/monthly/{old.pk}/").content.decode()
    assert "投诉质量月报" in _pdf_response_text(reader.get(f"/reports/monthly/{new.pk}/pdf/"))
    listing = reader.get("/reports/monthly/").content.decode()
    assert f"/reports/monthly/{old.pk}/pdf/" not in listing and "/withdraw/" not in listing

    # Neither the record nor the archived document can be changed behind the product's back.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ReportWithdrawal.objects.filter(pk=withdrawal.pk).update(reason="")
    with pytest.raises(DatabaseError, match="cannot be changed"), transaction.atomic():
        MonthlyReport.objects.filter(pk=old.pk).update(html="<p>edited</p>")
    with pytest.raises(DatabaseError, match="cannot be changed"), transaction.atomic():
        MonthlyReport.objects.filter(pk=old.pk).update(withdrawn_at=None)
    with pytest.raises(DatabaseError, match="cannot be changed"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM reports_monthlyreport WHERE id = %s", [new.pk])


def test_the_administrator_role_withdraws_too_and_the_chosen_cases_are_kept(week, majors_and_personal, province,
                                                                             login_client, administrators,
                                                                             quality_manager):
    chosen = [o.number for o in majors_and_personal]
    old = report_generate(region=province, month=NOVEMBER, actor=quality_manager, cases=chosen)
    _superuser, role_admin = administrators
    response = login_client(role_admin).post(f"/reports/monthly/{old.pk}/withdraw/", {"reason": "重新生成"})
    assert response.status_code == 302
    new = MonthlyReport.objects.get(region=province, month=NOVEMBER, version=2)
    assert [c["number"] for c in new.data["cases"]] == chosen
    assert new.data["cases_chosen"] is True and new.data["cases_chosen_by"] == str(quality_manager)
    assert "13700001234" not in new.html and "440106199001011234" not in new.html
    # The administrator role finds what it withdraws: the list (with the withdraw link), both versions' documents.
    listing = login_client(role_admin).get("/reports/monthly/")
    assert listing.status_code == 200 and f"/reports/monthly/{new.pk}/withdraw/" in listing.content.decode()
    assert login_client(role_admin).get(f"/reports/monthly/{old.pk}/").status_code == 200
    assert login_client(role_admin).get(f"/reports/monthly/{new.pk}/pdf/").status_code == 200


@pytest.fixture
def majors_and_personal(personal_case, week):
    return [personal_case, week["O5"]]


def test_nobody_but_an_administrator_withdraws(week, province, login_client, quality_manager, network_lead,
                                               hotline_agent, province_dispatcher, centre_lead):
    from django.core.exceptions import PermissionDenied

    from reports.models import ReportWithdrawal
    from reports.monthly import report_withdraw

    report = report_generate(region=province, month=NOVEMBER)
    for user in (quality_manager, network_lead, hotline_agent, province_dispatcher, centre_lead):
        client = login_client(user)
        assert client.get(f"/reports/monthly/{report.pk}/withdraw/").status_code == 403, user
        assert client.post(f"/reports/monthly/{report.pk}/withdraw/", {"reason": "x"}).status_code == 403, user
        with pytest.raises(PermissionDenied):
            report_withdraw(actor=user, report=report, reason="x")
    report.refresh_from_db()
    assert not report.is_withdrawn and MonthlyReport.objects.count() == 1 and not ReportWithdrawal.objects.exists()
    client.logout()
    assert client.get(f"/reports/monthly/{report.pk}/withdraw/").status_code == 302  # to the login page


def test_the_archive_is_read_only_in_django_admin(week, province, login_client, administrators):
    report = report_generate(region=province, month=NOVEMBER)
    client = login_client(administrators[0])
    assert client.get("/admin/reports/monthlyreport/").status_code == 200
    page = client.get(f"/admin/reports/monthlyreport/{report.pk}/change/")
    assert page.status_code == 200 and 'type="file"' not in page.content.decode()
    assert client.post(f"/admin/reports/monthlyreport/{report.pk}/change/", {"version": 9}).status_code == 403
    assert client.get("/admin/reports/monthlyreport/add/").status_code == 403
    assert client.post(f"/admin/reports/monthlyreport/{report.pk}/delete/", {"post": "yes"}).status_code == 403
    report.refresh_from_db()
    assert report.version == 1
