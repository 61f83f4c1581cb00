"""Review of issue 15, item 2 (redaction): evasions of the one personal-data check (complaints/redaction.py) that
every surface leaving the working screens uses — the monthly report, exports, e-mails, the case library — and one
end-to-end surface (the e-mail). A probe the product resists is a regression test; a hole is an xfail(strict)."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from complaints.redaction import personal_data, redact

RESISTED = [
    ("客户电话１３８００１３８０００", "１３８００１３８０００"),  # full-width digits
    ("回电１３８－００１３－８０００", "８０００"),  # full-width digits and dashes
    ("回电138 0013 8000", "0013 8000"),
    ("回电138-0013-8000", "0013-8000"),
    ("回电1 3 8 0 0 1 3 8 0 0 0", "1 3 8 0 0"),
    ("回电+86 138 0013 8000", "0013 8000"),
    ("回电138.0013.8000", "0013.8000"),
    ("身份证44010619900101123x", "44010619900101123"),  # lower-case x
    ("身份证440106 19900101 123X", "19900101"),
    ("张伟先生来电", "张伟"),
    ("欧阳娜娜女士到厅", "欧阳娜娜"),
    ("客户张伟来电", "张伟"),
    ("客户：王小明称", "王小明"),
    ("住天河路385号3栋1202房", "385号"),
    ("微信号zhangwei88", "zhangwei88"),
]


@pytest.mark.parametrize(("text", "secret"), RESISTED)
def test_what_agents_type_is_taken_out(text, secret):
    assert secret not in redact(text)
    assert personal_data(text)


# Chinese input methods type a dash as — (U+2014, shift+- gives ——) or – (U+2013).
DASHED = ["回电138—0013—8000", "回电138——0013——8000", "回电138–0013–8000",
          "回电１３８—００１３—８０００", "工单123 138—0013—8000", "2026/12/02 138—0013—8000",
          "12月2日9时 139——1234——8000"]


@pytest.mark.parametrize("text", DASHED)
def test_a_mobile_number_grouped_with_the_dashes_of_a_chinese_keyboard_is_taken_out(text):
    """Fixed in review: neither _DIGIT_RUN nor the mobile pattern spanned — or – (what a Chinese keyboard types)."""
    assert "8000" not in redact(text), redact(text)
    assert personal_data(text)


def test_the_case_library_refuses_a_dashed_number_too():
    from knowledge.text import personal_data as library_check

    assert library_check("客户回电号码138—0013—8000")


@pytest.mark.parametrize("text", ["客户邮箱ｚｗ＠ｑｑ．ｃｏｍ", "邮箱ｚｈａｎｇ．ｗｅｉ＠１６３．ｃｏｍ", "zw＠qq.com"])
def test_a_full_width_email_address_is_taken_out(text):
    """Fixed in review: personal_data() folded full-width letters (the case library refused it) but redact() did not,
    so the report, the exports and the e-mails kept it."""
    assert personal_data(text)
    assert redact(text).endswith("[邮箱]"), redact(text)


@pytest.mark.parametrize("text", ["客户: 王小明称已欠费", "联系人：  刘洋，", "机主 陈静表示"])
def test_a_name_after_a_colon_and_a_space_is_taken_out(text):
    """Fixed in review: the name pattern allowed one character between 客户 and the name (客户: 王小明 passed)."""
    assert redact(text).count("[姓名]") == 1, redact(text)
    assert personal_data(text)


def test_the_orders_own_customer_is_taken_out_whatever_the_grouping(make_order, hotline_agent, customer):
    order = make_order(hotline_agent)
    text = "张三说138 0013 8000和１３８００１３８０００都打不通"
    assert redact(text, order=order) == "客户说[电话]和[电话]都打不通"


def test_an_email_carries_no_dashed_number(make_order, hotline_agent, network_lead, network_handler):
    from workflow import notifications
    from workflow.models import Notification

    network_handler.email = "handler@example.cn"
    network_handler.save()
    order = make_order(hotline_agent, severity="major")
    Notification.objects.all().delete()
    notifications.notify(recipients=[network_handler], order=order, kind=Notification.Kind.ESCALATED,
                         actor=network_lead, comment="客户李四要求回电139—1234—5678")
    with time_machine.travel(datetime.datetime(2026, 12, 2, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        assert notifications.notifications_send_pending() == 1
    body = mail.outbox[0].subject + mail.outbox[0].body
    assert "5678" not in body and "李四" not in body, body


def test_the_monthly_report_takes_out_a_number_grouped_with_a_chinese_keyboards_dashes(week, hotline_agent, coverage,
                                                                                       province):
    """End to end through the archived report (HTML, PDF and kept figures), as a quality manager's PDF would be
    read outside."""
    from reports.monthly import report_generate
    from tests.factories import channel
    from tests.test_monthly_reports import NOVEMBER, pdf_text_and_fonts
    from workflow.intake import order_create

    with time_machine.travel(datetime.datetime(2026, 11, 20, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        order = order_create(actor=hotline_agent, kind="complaint", channel=channel("hotline"), category=coverage,
                             severity="major", description="另留号码139——1234——5678和137–0000–4321，要求退费。",
                             customer_phone="13700001234", customer_name="李娜").order
    report = report_generate(region=province, month=NOVEMBER)
    assert order.number in [case["number"] for case in report.data["cases"]]
    text, _fonts = pdf_text_and_fonts(report)
    for surface in (report.html, "".join(text.split()), str(report.data)):
        assert "5678" not in surface and "4321" not in surface
    assert "要求退费" in report.html


def test_the_rejected_rows_of_an_import_are_for_who_ran_it(login_client, hotline_agent, province_dispatcher,
                                                            quality_manager):
    from django.core.files.base import ContentFile

    from jobs.models import Job

    job = Job(kind=Job.Kind.IMPORT_ORDERS, status=Job.Status.SUCCEEDED, title="导入 legacy.csv",
              created_by=hotline_agent, created_by_name="agent_gz", output_name="legacy.rejected.csv")
    job.output_file.save("legacy.rejected.csv", ContentFile("line,external_ref,reasons\n1,X,张三 13800138000\n"
                                                            .encode()))
    for user in (province_dispatcher, quality_manager):
        for url in (f"/jobs/{job.pk}/output/", f"/jobs/{job.pk}/"):
            response = login_client(user).get(url)
            assert response.status_code == 403, (user, url)
    assert login_client(hotline_agent).get(f"/jobs/{job.pk}/output/").status_code == 200
