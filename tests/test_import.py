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
