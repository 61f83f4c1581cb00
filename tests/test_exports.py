"""Exports say what they are and run nothing: every CSV and Excel file of the product goes through one writer
(reports.exports) that writes the period and filters into the file and its name, keeps numbers, percentages and
dates typed, and never lets a text cell become a formula (OWASP, CSV injection)."""

import csv
import datetime
import io
import zipfile
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import load_workbook

from complaints.redaction import redact_name
from reports.models import ExportRecord
from tests.test_accountability_views import month  # noqa: F401  (the fixture: November closed and scored)

SH = ZoneInfo("Asia/Shanghai")
WEEK = "period=custom&start=2026-11-02&end=2026-11-08"
FORMULA = '=HYPERLINK("http://x","y")'
# Every way a spreadsheet starts a formula (OWASP), as free text a user or a channel system may send.
FORMULAS = [FORMULA, "+1+2", "-3+4", "@SUM(A1)", "\t=1+1", "\r=1+1"]


def csv_parts(response) -> tuple[dict, list[list[str]]]:
    """The header block (label → value) and the table (column row first) of a CSV export."""
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    blank = rows.index([])
    return {row[0]: row[1] for row in rows[:blank]}, rows[blank + 1:]


def workbook(response):
    return load_workbook(io.BytesIO(response.content))


def data_sheet(response):
    book = workbook(response)
    return book.worksheets[1]


def formulas_in(response) -> list[str]:
    """The <f> elements of every sheet of an xlsx: a formula cell, whatever openpyxl makes of it on reading."""
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return [name for name in archive.namelist() if name.startswith("xl/worksheets/")
                and (b"<f>" in archive.read(name) or b"<f " in archive.read(name))]


def file_name(response) -> str:
    header = response["Content-Disposition"]
    assert header.startswith("attachment;") and 'filename="' in header
    return unquote(header.split("filename*=UTF-8''", 1)[1])


# --- what a file says it is -----------------------------------------------------------------------------------


def test_a_csv_export_opens_with_its_title_period_filters_and_who_exported_it(login_client, week, quality_manager,
                                                                              guangzhou):
    client = login_client(quality_manager)
    with time_machine.travel(datetime.datetime(2026, 11, 18, 10, 30, tzinfo=SH), tick=False):
        response = client.get(f"/dashboard/kpis/?{WEEK}&group=day&region={guangzhou.pk}&export=csv&table=kpis")
    assert response.status_code == 200
    about, table = csv_parts(response)
    assert about["Title"] == "KPIs by Day"
    assert about["Period"] == "2026-11-02 – 2026-11-08"
    assert about["Region"] == "广州市" and about["Kind"] == "Complaint"
    assert about["Exported by"].endswith(f"({quality_manager.username})")
    assert about["Exported at"] == "2026-11-18 10:30 (Asia/Shanghai)"
    assert table[0][0] == "Day" and len(table) == 1 + 7 + 1  # the columns, seven days, the total
    # The day is a date, a rate a percentage, a count a number.
    monday = table[1]
    assert monday[0] == "2026-11-02"
    columns = table[0]
    assert monday[columns.index("Volume")] == "3"  # O1 O2 O3 in Guangzhou on Monday
    assert all(row[columns.index("Timeliness rate")].endswith("%") or row[columns.index("Timeliness rate")] == ""
               for row in table[1:])
    assert table[-1][columns.index("Timeliness rate")] == "66.67%"  # Guangzhou: O1, O3 in time, O2 late
    name = file_name(response)
    assert name == "KPIs-by-Day_2026-11-02~2026-11-08_Complaint_广州市_20261118-1030.csv"
    assert 'filename="kpis-20261118-1030.csv"' in response["Content-Disposition"]  # for clients without RFC 5987
    record = ExportRecord.objects.get()
    assert "2026-11-02 – 2026-11-08" in record.filters and "Region: 广州市" in record.filters


def test_an_excel_export_has_an_about_sheet_first_and_keeps_dates_percentages_and_numbers(login_client, week,
                                                                                          quality_manager):
    response = login_client(quality_manager).get(f"/dashboard/kpis/?{WEEK}&group=day&export=xlsx&table=kpis")
    assert response.status_code == 200 and file_name(response).endswith(".xlsx")
    book = workbook(response)
    about, sheet = book.worksheets
    assert about.title == "About" and book.active.title == sheet.title
    labels = {about.cell(r, 1).value: about.cell(r, 2).value for r in range(1, about.max_row + 1)}
    assert labels["Period"] == "2026-11-02 – 2026-11-08" and labels["Title"] == "KPIs by Day"
    assert labels["Kind"] == "Complaint"
    header = [c.value for c in sheet[1]]
    assert header[0] == "Day"
    monday = sheet.cell(2, 1)
    assert monday.value == datetime.datetime(2026, 11, 2) and monday.is_date and monday.number_format == "yyyy-mm-dd"
    volume = sheet.cell(2, header.index("Volume") + 1)
    assert volume.value == 3 and volume.data_type == "n"  # Monday: O1 O2 O3 (O4 is an inquiry)
    total = sheet.max_row
    timeliness = sheet.cell(total, header.index("Timeliness rate") + 1)
    assert timeliness.value == pytest.approx(0.75) and timeliness.number_format == "0.0%"
    assert sheet.cell(total, 1).value == "Total"


def test_the_orders_export_has_the_received_time_as_a_shanghai_date_and_says_numbers_are_masked(login_client, week,
                                                                                               quality_manager):
    client = login_client(quality_manager)
    response = client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&export=xlsx")
    sheet = data_sheet(response)
    header = [c.value for c in sheet[1]]
    rows = {sheet.cell(r, 1).value: r for r in range(2, sheet.max_row + 1)}
    received = sheet.cell(rows[week["O1"].number], header.index("Received") + 1)
    assert received.value == datetime.datetime(2026, 11, 2, 10, 0) and received.number_format == "yyyy-mm-dd hh:mm"
    about = workbook(response).worksheets[0]
    labels = {about.cell(r, 1).value: about.cell(r, 2).value for r in range(1, about.max_row + 1)}
    assert labels["Phone numbers"] == "masked" and labels["Orders"] == "Counted"
    assert labels["Title"] == "Orders behind Volume"
    full = client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&export=csv&unmask=1")
    about, table = csv_parts(full)
    assert about["Phone numbers"].startswith("in full")


def test_accountability_exports_name_the_month_and_keep_months_and_rates_typed(login_client, request,
                                                                              quality_manager):
    request.getfixturevalue("month")
    client = login_client(quality_manager)
    response = client.get("/accountability/ranking/?month=2026-11&export=xlsx&table=ranking")
    about = workbook(response).worksheets[0]
    labels = {about.cell(r, 1).value: about.cell(r, 2).value for r in range(1, about.max_row + 1)}
    assert labels["Period"] == "2026-11" and labels["Title"] == "Ranking of 2026-11"
    assert "2026-11" in file_name(response)
    sheet = data_sheet(response)
    header = [c.value for c in sheet[1]]
    rate = sheet.cell(2, header.index("处理及时率") + 1)
    assert rate.value == pytest.approx(1.0) and rate.number_format == "0.0%"  # both closed in time: 100 %
    response = client.get("/accountability/determinations/?state=final&export=csv")
    about, table = csv_parts(response)
    assert about["State"] == "Final" and "Final" in file_name(response)
    response = client.get("/accountability/notices/?export=xlsx")
    sheet = data_sheet(response)
    assert sheet.cell(2, 1).is_date and sheet.cell(2, 1).number_format == "yyyy-mm"


def test_the_full_number_label_says_what_each_export_holds(login_client, week, quality_manager, network_lead):
    page = login_client(quality_manager).get(f"/dashboard/orders/?kpi=volume&{WEEK}").content.decode()
    assert "Export with phone numbers masked" in page
    assert "Export with full phone numbers (the export is recorded)" in page
    assert "(phone numbers masked; at most" not in page  # the old label that contradicted itself
    assert "&amp;export=csv&amp;unmask=1" in page and "&amp;export=xlsx&amp;unmask=1" in page


def test_the_export_labels_read_truthfully_in_chinese(login_client, week, quality_manager, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    page = login_client(quality_manager).get(f"/dashboard/orders/?kpi=volume&{WEEK}",
                                             HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "导出（号码已脱敏）" in page and "导出含完整号码（本次导出将被记录）" in page
    assert "含完整号码的 Excel（号码已脱敏" not in page and "号码已脱敏；最多" not in page


# --- formulas never run ---------------------------------------------------------------------------------------


@pytest.fixture
def formula_order(api_for, channel_system, coverage):
    """A channel system sends a customer whose name is a formula."""
    from quality.facts import rollups_apply

    with time_machine.travel(datetime.datetime(2026, 11, 4, 10, tzinfo=SH), tick=False):
        answer = api_for(channel_system).post("/api/v1/orders/", {
            "kind": "complaint", "channel": "hotline", "category": "NET-MOB-COV", "description": "无信号",
            "customer_phone": "13900139000", "customer_name": FORMULA}, format="json")
    assert answer.status_code == 201, answer.content
    rollups_apply()
    return answer.json()["number"]


def test_a_customer_name_from_a_channel_system_is_text_in_both_orders_exports(login_client, formula_order,
                                                                             quality_manager):
    client = login_client(quality_manager)
    response = client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&export=xlsx")
    sheet = data_sheet(response)
    header = [c.value for c in sheet[1]]
    (row,) = [r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == formula_order]
    name = sheet.cell(row, header.index("Customer") + 1)
    masked = redact_name(FORMULA)  # the masked export shows the surname only: here still a formula start
    assert name.value == masked and name.data_type == "s" and name.quotePrefix
    assert formulas_in(response) == []
    _about, table = csv_parts(client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&export=csv"))
    (line,) = [r for r in table if r[0] == formula_order]
    assert line[table[0].index("Customer")] == "'" + masked
    full = client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&export=xlsx&unmask=1")
    sheet = data_sheet(full)
    (row,) = [r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == formula_order]
    name = sheet.cell(row, header.index("Customer") + 1)
    assert name.value == FORMULA and name.data_type == "s" and name.quotePrefix
    assert formulas_in(full) == []
    _about, table = csv_parts(client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&export=csv&unmask=1"))
    (line,) = [r for r in table if r[0] == formula_order]
    assert line[table[0].index("Customer")] == "'" + FORMULA


def test_every_formula_start_is_neutralised_in_an_appeal_reason(login_client, request, billing_lead,
                                                               province_dispatcher):
    from accountability import services

    determination = request.getfixturevalue("month")[0].determination
    with time_machine.travel(datetime.datetime(2026, 11, 5, 9, tzinfo=SH), tick=False):
        services.appeal_file(actor=billing_lead, determination=determination, reason=FORMULA,
                             evidence="@SUM(1+1)")
    client = login_client(province_dispatcher)
    response = client.get("/accountability/appeals/?export=xlsx")
    assert response.status_code == 200
    sheet = data_sheet(response)
    header = [c.value for c in sheet[1]]
    reason, evidence = sheet.cell(2, header.index("Reason") + 1), sheet.cell(2, header.index("Evidence") + 1)
    assert (reason.value, reason.data_type) == (FORMULA, "s") and (evidence.value, evidence.data_type) == (
        "@SUM(1+1)", "s")
    filed = sheet.cell(2, header.index("Filed") + 1)
    assert filed.value == datetime.datetime(2026, 11, 5, 9, 0) and filed.is_date
    assert formulas_in(response) == []
    _about, table = csv_parts(client.get("/accountability/appeals/?export=csv"))
    assert table[1][table[0].index("Reason")] == "'" + FORMULA
    assert table[1][table[0].index("Evidence")] == "'@SUM(1+1)"


def test_deduction_evidence_of_any_formula_start_is_text(login_client, request, province_dispatcher, billing_dept):
    request.getfixturevalue("month")
    from accountability.models import DeductionItem
    from accountability.services import deduction_record

    item = DeductionItem.objects.create(year=2026, code="late", name="+迟报", points=2, kind="late_report")
    typed = FORMULAS[:4]  # the service strips the text: a leading tab or return does not survive it
    for text in typed:
        deduction_record(actor=province_dispatcher, item=item, department=billing_dept,
                         month=datetime.date(2026, 11, 1), evidence=text)
    client = login_client(province_dispatcher)
    response = client.get("/accountability/deductions/?export=xlsx")
    sheet = data_sheet(response)
    header = [c.value for c in sheet[1]]
    column = header.index("Evidence") + 1
    written = {sheet.cell(r, column).value for r in range(2, sheet.max_row + 1)}
    assert written == set(typed)
    assert all(sheet.cell(r, column).data_type == "s" for r in range(2, sheet.max_row + 1))
    assert sheet.cell(2, header.index("Item") + 1).value == "+迟报"
    month_cell = sheet.cell(2, header.index("Month") + 1)
    assert month_cell.is_date and month_cell.number_format == "yyyy-mm"
    assert sheet.cell(2, header.index("Points") + 1).data_type == "n"
    assert formulas_in(response) == []
    _about, table = csv_parts(client.get("/accountability/deductions/?export=csv"))
    evidence = {row[table[0].index("Evidence")] for row in table[1:]}
    assert evidence == {"'" + text for text in typed}
    assert {row[table[0].index("Points")] for row in table[1:]} == {"2"}  # numbers are never prefixed


def test_a_feedback_comment_is_text_in_the_feedback_export(login_client, quality_manager, hotline_agent, coverage):
    from knowledge import services

    article = services.article_create(actor=quality_manager, title="=1+1 口径", category=coverage,
                                      body="您好，我们已记录您的问题。")
    services.article_feedback(actor=hotline_agent, version=article.current, helpful=False, comment=FORMULA)
    client = login_client(quality_manager)
    page = client.get("/knowledge/feedback/").content.decode()
    assert "export=xlsx&table=comments" in page
    response = client.get("/knowledge/feedback/?export=xlsx&table=comments")
    sheet = data_sheet(response)
    header = [c.value for c in sheet[1]]
    comment = sheet.cell(2, header.index("Comment") + 1)
    assert comment.value == FORMULA and comment.data_type == "s"
    assert sheet.cell(2, 1).value == "=1+1 口径" and sheet.cell(2, 1).data_type == "s"
    assert formulas_in(response) == [] and formulas_in(client.get("/knowledge/feedback/?export=xlsx")) == []
    _about, table = csv_parts(client.get("/knowledge/feedback/?export=csv&table=comments"))
    assert table[1][header.index("Comment")] == "'" + FORMULA
    _about, table = csv_parts(client.get("/knowledge/feedback/?export=csv"))
    assert table[1][0] == "'=1+1 口径"


def test_the_writer_neutralises_every_formula_start_and_keeps_numbers():
    from core.web.exports import csv_text, typed_value
    from core.web.tables import Cell

    for text in FORMULAS:
        assert csv_text(*typed_value(Cell(text))) == "'" + text
    assert csv_text(*typed_value(Cell("-1", raw=-1))) == "-1"
    assert csv_text(*typed_value(Cell("12.5%", raw=12.5, fmt="percent"))) == "12.5%"
    assert csv_text(*typed_value(Cell("中文 = 等于"))) == "中文 = 等于"
    assert csv_text(*typed_value(Cell("", raw=12345678.9))) == "12345678.9"  # never 1.23457e+07
    assert csv_text(*typed_value(Cell("", raw=2.0))) == "2"
    assert typed_value(Cell("", raw=float("nan")))[0] == ""


def test_a_chinese_export_has_its_about_sheet_named_and_labelled_in_chinese(login_client, week, quality_manager,
                                                                            settings):
    settings.LANGUAGE_CODE = "zh-hans"
    response = login_client(quality_manager).get(f"/dashboard/kpis/?{WEEK}&group=day&export=xlsx&table=kpis",
                                                 HTTP_ACCEPT_LANGUAGE="zh-hans")
    about = workbook(response).worksheets[0]
    assert about.title == "说明"
    labels = [about.cell(r, 1).value for r in range(1, about.max_row + 1)]
    assert labels[:2] == ["标题", "统计期"] and "导出人" in labels and "导出时间" in labels
    name = file_name(response)
    assert "2026-11-02~2026-11-08" in name and "投诉" in name


# --- personal data never leaves in free text --------------------------------------------------------------------

TYPED = "客户张伟先生（身份证440106199001011234）要求回电13800138000，家住天河路385号"
SECRETS = ("张伟", "440106199001011234", "13800138000", "天河路385号")


def test_the_writer_takes_personal_data_out_of_every_text_cell_but_a_customer_column():
    from core.web.exports import csv_text, typed_value
    from core.web.tables import Cell

    written = csv_text(*typed_value(Cell(TYPED)))
    assert not any(secret in written for secret in SECRETS) and "[证件号]" in written and "[电话]" in written
    assert csv_text(*typed_value(Cell("13800138000", personal=True))) == "13800138000"  # the phone rule decided


def test_an_appeal_reason_quoting_the_customer_is_exported_redacted(login_client, request, billing_lead,
                                                                   province_dispatcher):
    from accountability import services

    determination = request.getfixturevalue("month")[0].determination
    with time_machine.travel(datetime.datetime(2026, 11, 5, 9, tzinfo=SH), tick=False):
        services.appeal_file(actor=billing_lead, determination=determination, reason=TYPED, evidence=TYPED)
    client = login_client(province_dispatcher)
    for export in ("csv", "xlsx"):
        response = client.get(f"/accountability/appeals/?export={export}")
        if export == "csv":
            _about, table = csv_parts(response)
            cells = [table[1][table[0].index("Reason")], table[1][table[0].index("Evidence")]]
        else:
            sheet = data_sheet(response)
            header = [c.value for c in sheet[1]]
            cells = [sheet.cell(2, header.index(name) + 1).value for name in ("Reason", "Evidence")]
        for cell in cells:
            assert "要求回电" in cell and not any(secret in cell for secret in SECRETS), (export, cell)


def test_the_orders_export_masks_the_customers_name_unless_full_numbers_are_asked_for(login_client, week,
                                                                                       province_dispatcher):
    order = week["O1"]
    order.customer.name = "欧阳娜娜"
    order.customer.save(update_fields=["name"])
    client = login_client(province_dispatcher)
    _about, table = csv_parts(client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&export=csv"))
    (line,) = [r for r in table if r[0] == order.number]
    assert line[table[0].index("Customer")] == "欧***"
    assert line[table[0].index("Customer mobile number")] == order.customer.phone[:3] + "****" + order.customer.phone[-4:]
    _about, table = csv_parts(client.get(f"/dashboard/orders/?kpi=volume&{WEEK}&export=csv&unmask=1"))
    (line,) = [r for r in table if r[0] == order.number]
    assert line[table[0].index("Customer")] == "欧阳娜娜"
    assert line[table[0].index("Customer mobile number")] == order.customer.phone
