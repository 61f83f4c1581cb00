"""The web kit (core.web) knows no domain: the app that owns the personal-data rule registers it, and no text cell is
written to a file without it; reports records every download."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from complaints.redaction import redact
from core.web import exports
from core.web.tables import Cell, Table
from reports.exports import export_record


def test_the_apps_register_the_personal_data_check_and_the_export_record():
    assert exports._text_check == [redact]
    assert exports._recorders == [export_record]


def test_no_text_cell_is_written_without_a_personal_data_check(monkeypatch):
    monkeypatch.setattr(exports, "_text_check", [])
    with pytest.raises(ImproperlyConfigured):
        exports.typed_value(Cell("客户张伟来电"))
    assert exports.typed_value(Cell("12", raw=12)) == (12, exports.NUMBER)  # a number is no text to check


def test_a_model_serializer_builds_its_fields_from_the_model_once_and_each_instance_gets_its_own(hotline_agent,
                                                                                                make_order):
    from core.web import serializers as kit
    from workflow.serializers import OrderSerializer

    order = make_order(hotline_agent, customer_phone="13900002222")
    kit._RECIPES.pop(OrderSerializer, None)
    first = OrderSerializer(order, context={"user": hotline_agent})
    first_data = first.data
    assert OrderSerializer in kit._RECIPES
    second = OrderSerializer(order, context={"user": hotline_agent})
    assert second.data == first_data
    assert list(second.fields) == list(first.fields)
    assert all(second.fields[name] is not first.fields[name] for name in first.fields)
    assert second.fields["customer"].parent is second and first.fields["customer"].parent is first


def test_a_tables_rows_are_written_as_html_with_every_text_and_link_escaped():
    table = Table(name="t", title="T", columns=["Name", "Count"])
    table.rows.append([Cell('<b>"北京"</b>', link="/x/?a=1&b=<2>"), Cell("1,234", raw=1234)])
    table.rows.append([Cell("plain"), Cell("—")])
    html = str(table.body_html())
    assert html.count("<tr>") == 2
    assert '<td class=""><a href="/x/?a=1&amp;b=&lt;2&gt;">&lt;b&gt;&quot;北京&quot;&lt;/b&gt;</a></td>' in html
    assert '<td class="num">1,234</td>' in html
    assert '<td class="">plain</td><td class="">—</td>' in html
    assert "<b>" not in html
    empty = Table(name="e", title="E", columns=["A", "B", "C"], empty="nothing <here>")
    assert str(empty.body_html()) == '<tr><td colspan="3" class="muted">nothing &lt;here&gt;</td></tr>'
    assert "colspan=\"3\"" in str(Table(name="e", title="E", columns=["A", "B", "C"]).body_html())
