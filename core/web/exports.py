"""The one export writer: every CSV or Excel download of the product goes through `table_response`.

A file says what it is: a header block in CSV (title, period, filters with their labels, who exported it and
when, then a blank line and the table) and a first sheet “说明” in Excel with the same; the period and the filters
are in the file name too. Values keep their type: numbers are numbers, percentages are numbers with a percentage
format in Excel (and “12.5%” in CSV), dates and times are Excel dates in the site's time zone (Asia/Shanghai). Text
is never a formula: a cell that begins with = + - @ (or a tab or carriage return) is written as a text cell in Excel
and prefixed with a single quote in CSV (the OWASP advice on CSV injection). Free text leaves the working screens
here: every text cell passes the one personal-data check, which the app that owns it registers
(`export_text_check_set`: complaints/redaction.py) — names, numbers, ID numbers, addresses typed into it are taken
out, for every reader; only a column that is a customer's name or number itself (Cell.personal) is written as
prepared, masked or in full by the phone rule. Without a check registered nothing is written. Every download is
told to the recorders registered (`export_recorder_add`: reports keeps an ExportRecord).
"""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Cell formats a table may ask for (Cell.fmt); without one the raw value's type decides.
PERCENT, DATE, MONTH, DATETIME, NUMBER, TEXT = "percent", "date", "month", "datetime", "number", "text"
EXCEL_FORMATS = {PERCENT: "0.0%", DATE: "yyyy-mm-dd", MONTH: "yyyy-mm", DATETIME: "yyyy-mm-dd hh:mm"}

# --- what an app adds: the personal-data check of the text, the record of each download ---------------------------

_text_check: list[Callable[[str], str]] = []  # one at most
_recorders: list[Callable[..., None]] = []


def export_text_check_set(check: Callable[[str], str]) -> None:
    """The personal-data check every text cell of a file passes (the app that owns the rule registers it when
    ready)."""
    _text_check[:] = [check]


def export_recorder_add(recorder: Callable[..., None]) -> None:
    """A function told of every download, before it is written: recorder(table=, export=, user=, page=, about=,
    filters=, unmasked=)."""
    if recorder not in _recorders:
        _recorders.append(recorder)


def _personal_data_removed(text: str) -> str:
    if not _text_check:
        raise ImproperlyConfigured("No personal-data check is registered for exports (export_text_check_set).")
    return _text_check[0](text)


# --- text bound for a spreadsheet never runs as a formula (OWASP: CSV injection) ------------------------------------

# What spreadsheet programs take for the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def neutralise(text: str) -> str:
    """CSV: text that a spreadsheet would run as a formula starts with a single quote."""
    return "'" + text if looks_like_formula(text) else text


def unneutralise(text: str) -> str:
    """The text `neutralise` was given: a file we wrote (the rejected rows, corrected) loads back as it was."""
    return text[1:] if text.startswith("'") and looks_like_formula(text[1:]) else text


# --- what a file is, and its cells ------------------------------------------------------------------------------


@dataclass
class ExportAbout:
    """What an export is: its title, the period it covers and the filters it was made with (label, value)."""

    title: str
    period: str = ""
    filters: list[tuple[str, str]] = field(default_factory=list)


def form_filters(form, *, skip=("period", "start", "end")) -> list[tuple[str, str]]:
    """The filters a bound form was given, as (field label, the value as the form shows it)."""
    if form is None or not form.is_bound or not form.is_valid():
        return []
    out = []
    for name, value in form.cleaned_data.items():
        if name in skip or name not in form.fields:
            continue
        field_ = form.fields[name]
        if value in (None, "", [], ()):
            value = field_.initial  # what the page reads when the filter is left empty (the kind: complaints)
            if value in (None, "", [], ()):
                continue
        if hasattr(field_, "label_from_instance"):
            shown = field_.label_from_instance(value)
        elif getattr(field_, "choices", None):
            shown = dict((str(k), v) for k, v in field_.choices).get(str(value), value)
        elif isinstance(value, datetime.date):
            shown = f"{value:%Y-%m-%d}"
        else:
            shown = value
        out.append((str(field_.label or name), str(shown).strip().lstrip("\u3000")))
    return out


def _local(value: datetime.datetime) -> datetime.datetime:
    """An Excel date has no zone: the wall-clock time of the site (Asia/Shanghai)."""
    if timezone.is_aware(value):
        value = value.astimezone(timezone.get_default_timezone())
    return value.replace(tzinfo=None, microsecond=0)


def typed_value(cell) -> tuple[object, str]:
    """(value, format) of a table cell for a file: numbers, dates and text keep their type; text leaves the working
    screens here, so it passes the personal-data check (a cell marked `personal` is written as the caller prepared
    it: a customer's name or number, masked or not by the phone rule)."""
    value, fmt = _typed_value(cell)
    if fmt == TEXT and value and not getattr(cell, "personal", False):
        value = _personal_data_removed(value)
    return value, fmt


def _typed_value(cell) -> tuple[object, str]:
    raw = cell.raw if cell.raw is not None else ("" if cell.text == "—" else cell.text)
    fmt = getattr(cell, "fmt", "")
    if raw is None or raw == "":
        return "", TEXT
    if fmt == TEXT or isinstance(raw, bool):
        return str(raw if not isinstance(raw, bool) else cell.text), TEXT
    if isinstance(raw, datetime.datetime):
        return _local(raw), fmt or DATETIME
    if isinstance(raw, datetime.date):
        return raw, fmt or DATE
    if isinstance(raw, decimal.Decimal):
        raw = float(raw)
    if isinstance(raw, float) and not math.isfinite(raw):
        return "", TEXT
    if isinstance(raw, int | float):
        return raw, fmt if fmt == PERCENT else NUMBER
    return str(raw), TEXT


def _number(value) -> str:
    """A number as CSV text: every digit kept, no exponent for ordinary sizes, no trailing .0."""
    text = repr(value) if isinstance(value, float) else str(value)
    return text[:-2] if text.endswith(".0") else text


def csv_text(value, fmt: str) -> str:
    if fmt == PERCENT:
        return f"{_number(value)}%"
    if fmt == DATETIME:
        return f"{value:%Y-%m-%d %H:%M}"
    if fmt == MONTH:
        return f"{value:%Y-%m}"
    if fmt == DATE:
        return f"{value:%Y-%m-%d}"
    if fmt == NUMBER:
        return _number(value)
    return neutralise(str(value))


def _excel_cell(sheet, row: int, column: int, value, fmt: str):
    """Write one cell; text is a string cell whatever it begins with (never a formula)."""
    if fmt == TEXT:
        text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
        cell = sheet.cell(row=row, column=column)
        cell.value = text
        cell.data_type = "s"  # openpyxl takes "=…" for a formula; a string it stays
        if looks_like_formula(text):
            cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
        return cell
    cell = sheet.cell(row=row, column=column, value=value / 100 if fmt == PERCENT else value)
    if fmt in EXCEL_FORMATS:
        cell.number_format = EXCEL_FORMATS[fmt]
    return cell


def _about_rows(about: ExportAbout, *, user, exported_at: datetime.datetime, rows: int) -> list[tuple[str, str]]:
    filters = about.filters or [(_("Filters"), _("none"))]
    zone = timezone.get_default_timezone()
    who = str(user) if str(user) == user.get_username() else f"{user} ({user.get_username()})"
    return [(_("Title"), about.title), (_("Period"), about.period or _("not limited by date")),
            *[(str(label), str(value)) for label, value in filters],
            (_("Rows"), str(rows)), (_("Exported by"), who),
            (_("Exported at"), f"{timezone.localtime(exported_at, zone):%Y-%m-%d %H:%M} ({zone.key})")]


_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\/:*?\"<>|]+")


def file_stem(about: ExportAbout, exported_at: datetime.datetime) -> str:
    """Title, period and filter values, and the moment: characters a file system refuses become '-'."""
    parts = [about.title, about.period.replace(" – ", "~"), *(str(v) for _label, v in about.filters),
             f"{timezone.localtime(exported_at, timezone.get_default_timezone()):%Y%m%d-%H%M}"]
    parts = [re.sub(r"[\s-]+", "-", _UNSAFE.sub("-", str(p).replace("\u3000", ""))).strip("-.") for p in parts]
    stem = "_".join(p for p in parts if p)
    return stem[:150] or "export"


def content_disposition(stem: str, extension: str, fallback: str) -> str:
    """attachment with an ASCII name for old clients and the full UTF-8 name by RFC 5987 (filename*)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._~-]+", "-", fallback).strip("-") or "export"
    return (f'attachment; filename="{ascii_name}.{extension}"; '
            f"filename*=UTF-8''{quote(f'{stem}.{extension}', safe='')}")


def table_response(table, export: str, *, user, page: str, about: ExportAbout, filters: str = "",
                   unmasked: bool = False) -> HttpResponse:
    """The table as a download, told first to every recorder registered (who, which page and table, the filters,
    whether it carries full phone numbers)."""
    exported_at = timezone.now()
    for recorder in _recorders:
        recorder(table=table, export=export, user=user, page=page, about=about, filters=filters, unmasked=unmasked)
    header = _about_rows(about, user=user, exported_at=exported_at, rows=len(table.rows))
    stem = file_stem(about, exported_at)
    fallback = f"{table.name}-{timezone.localtime(exported_at, timezone.get_default_timezone()):%Y%m%d-%H%M}"
    if export == "xlsx":
        body = _xlsx(table, header, about)
        response = HttpResponse(body, content_type=XLSX)
    else:
        body = _csv(table, header)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition(stem, export, fallback)
    return response


def _csv(table, header) -> bytes:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel reads UTF-8 with the byte-order mark
    writer = csv.writer(buffer)
    for label, value in header:
        writer.writerow([neutralise(label), neutralise(value)])
    writer.writerow([])
    writer.writerow([neutralise(str(c)) for c in table.columns])
    for row in table.rows:
        writer.writerow([csv_text(*typed_value(cell)) for cell in row])
    return buffer.getvalue().encode("utf-8")


def _xlsx(table, header, about: ExportAbout) -> bytes:
    workbook = Workbook()
    notes = workbook.active
    notes.title = _("About")[:31]
    for index, (label, value) in enumerate(header, start=1):
        _excel_cell(notes, index, 1, label, TEXT).font = Font(bold=True)
        _excel_cell(notes, index, 2, value, TEXT).alignment = Alignment(wrap_text=True, vertical="top")
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 70
    sheet = workbook.create_sheet(re.sub(r"[\\/*?:\[\]]", "-", table.title or table.name)[:31] or "data")
    for column, title in enumerate(table.columns, start=1):
        _excel_cell(sheet, 1, column, str(title), TEXT).font = Font(bold=True)
    widths = [len(str(c)) for c in table.columns]
    for row_index, row in enumerate(table.rows, start=2):
        for column, cell in enumerate(row, start=1):
            value, fmt = typed_value(cell)
            _excel_cell(sheet, row_index, column, value, fmt)
            if column <= len(widths):
                widths[column - 1] = max(widths[column - 1], 16 if fmt == DATETIME else len(str(value)))
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[sheet.cell(1, column).column_letter].width = min(max(10, width * 1.6), 60)
    sheet.freeze_panes = "A2"
    notes.sheet_view.tabSelected = False
    workbook.active = sheet  # opens on the data; “About” is the first sheet
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
