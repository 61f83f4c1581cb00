"""Historical import of orders from another system's CSV export.

The mapping file (JSON) says how to read the export:

    {
      "source": "fcc-2015",                   # the source system; default: the mapping's name (its file name)
      "encoding": "gb18030",                  # optional, default utf-8-sig
      "delimiter": ",",                       # optional
      "columns": {"customer_phone": "手机号码", "received_at": ["Date", "Time"], ...},  # our field -> header(s)
      "date_format": "%m/%d/%y %I:%M:%S %p",  # or "date_formats": [...]; a cell two of them read differently is
                                              # rejected as ambiguous; ISO 8601 is always accepted
      "received_between": ["2015-04-01", "2015-06-30"],   # rows received outside (inclusive days) are rejected
      "external_ref_pattern": "[0-9]{6,}",    # a reference must match it whole
      "values": {"channel": {"10086热线": "hotline"}, "category": {"旧编码": "NET-..."}, "kind": {"投诉": "complaint"}},
      "defaults": {"kind": "complaint", "channel": "hotline", "customer_phone": ""}   # any field but external_ref
    }

A legacy row's identity is (source, external reference), whoever imports it: a row imported before is reported as
such, never loaded twice. Each row is checked in full first (every reason it is refused is listed, with the line
of the file its record starts on). Closed rows — the bulk of any history — are written in bulk, a batch per
transaction, to the same final state the intake service gives a closed import (order, number of its day, audit
trail, KPI queue, determination); rows still open go through order_create (the one intake path) to start their
workflow, each in its own savepoint.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import DataError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.models import Category, Channel, Kind, OrderSource, Severity, Tier, WorkOrder
from complaints.phone import mask, normalise_contact, normalise_mobile
from core.permissions import may_intake
from core.web.exports import neutralise, unneutralise
from jobs.models import Job
from jobs.services import job_create, job_output_save
from workflow.intake import HistoricalOrder, order_create, orders_historical_create

FIELDS = {
    # our field: must the mapping give it (a column or a default)?
    "external_ref": True,
    "received_at": True,
    "category": True,
    "description": True,
    "kind": True,
    "channel": True,
    "customer_phone": False,  # without one, the rows are filed under the placeholder customer
    "severity": False,
    "customer_name": False,
    "customer_tier": False,
    "contact_phone": False,
    "answer": False,
    "closed_at": False,
}
MAPPED_VALUES = ("kind", "channel", "category", "severity", "customer_tier")
TIME_FIELDS = ("received_at", "closed_at")
TEXT_FIELDS = ("description", "answer")  # several columns are joined line by line; others with a space
MAPPING_KEYS = ("source", "encoding", "delimiter", "columns", "date_format", "date_formats", "values", "defaults",
                "received_between", "external_ref_pattern")
SOURCE_MAX = 64


@dataclass
class Mapping:
    columns: dict[str, list[str]]
    source: str = ""
    date_formats: list[str] = field(default_factory=list)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    received_between: tuple[date, date] | None = None
    external_ref_pattern: re.Pattern | None = None


@dataclass
class RejectedRow:
    line: int
    external_ref: str
    reasons: list[str]
    row: dict[str, str]


@dataclass
class ImportReport:
    read: int = 0
    created: int = 0
    already_imported: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"read": self.read, "created": self.created, "already_imported": self.already_imported,
                "rejected": len(self.rejected)}


@dataclass
class Record:
    """One CSV record: the line it starts on (the header is line 1), its cells by header, and whether it had more
    cells than the header."""

    line: int
    row: dict[str, str]
    overflow: bool = False
    error: str = ""  # the CSV itself could not be read here


# --- the mapping ------------------------------------------------------------------------------------------------


def mapping_parse(data, *, name: str = "") -> Mapping:
    """Check the mapping file as a whole before reading a single row. `name` (the mapping file's name) is the
    source system unless the mapping names one."""
    if not isinstance(data, dict):
        raise ValidationError(_("The mapping must be a JSON object."))
    errors = []
    unknown_keys = sorted(k for k in data if k not in MAPPING_KEYS and not str(k).startswith("_"))
    if unknown_keys:
        errors.append(_("Unknown keys in the mapping: %(keys)s. Known: %(known)s.")
                      % {"keys": ", ".join(unknown_keys), "known": ", ".join(MAPPING_KEYS)})
    columns = data.get("columns")
    if not isinstance(columns, dict):
        errors.append(_("“columns” must map our field names to the CSV's column headers."))
        columns = {}
    unknown = sorted(set(columns) - set(FIELDS))
    if unknown:
        errors.append(_("Unknown fields in “columns”: %(fields)s. Known: %(known)s.")
                      % {"fields": ", ".join(unknown), "known": ", ".join(FIELDS)})
    parsed_columns: dict[str, list[str]] = {}
    for our, header in columns.items():
        headers = header if isinstance(header, list) else [header]
        if not headers or not all(isinstance(h, str) and h.strip() for h in headers):
            errors.append(_("“columns”.%(field)s must be a column header or a list of them.") % {"field": our})
            continue
        parsed_columns[str(our)] = [h.strip() for h in headers]

    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict) or not all(isinstance(v, str | int) for v in defaults.values()):
        errors.append(_("“defaults” must map field names to values."))
        defaults = {}
    defaults = {str(k): str(v) for k, v in defaults.items()}
    bad_defaults = sorted(k for k in defaults if k not in FIELDS or k == "external_ref")
    if bad_defaults:
        errors.append(_("“defaults” cannot give: %(fields)s (a default may be given for any field but "
                        "external_ref).") % {"fields": ", ".join(bad_defaults)})
    if "external_ref" not in parsed_columns:
        missing = ["external_ref"]
    else:
        missing = []
    missing += [name_ for name_, required in FIELDS.items()
                if required and name_ != "external_ref" and name_ not in parsed_columns and name_ not in defaults]
    if missing:
        errors.append(_("The mapping names no column for: %(fields)s (nor a value in “defaults”).")
                      % {"fields": ", ".join(missing)})

    values = data.get("values") or {}
    if not isinstance(values, dict) or any(
        name_ not in MAPPED_VALUES or not isinstance(table, dict) for name_, table in values.items()
    ):
        errors.append(_("“values” holds translation tables only for: %(fields)s.") % {"fields": ", ".join(MAPPED_VALUES)})
        values = {}

    date_formats = data.get("date_formats") or []
    single = data.get("date_format")
    if single is not None:
        date_formats = [single, *(date_formats if isinstance(date_formats, list) else [])]
    if not isinstance(date_formats, list) or not all(isinstance(f, str) and "%" in f for f in date_formats):
        errors.append(_("“date_format” / “date_formats” must be strptime formats such as “%Y-%m-%d %H:%M”."))
        date_formats = []

    received_between = None
    window = data.get("received_between")
    if window is not None:
        try:
            if not isinstance(window, list) or len(window) != 2:
                raise ValueError
            received_between = (date.fromisoformat(str(window[0])), date.fromisoformat(str(window[1])))
            if received_between[0] > received_between[1]:
                raise ValueError
        except ValueError:
            errors.append(_("“received_between” must be two dates, first to last day, such as "
                            "[\"2015-04-01\", \"2015-06-30\"]."))
            received_between = None

    pattern = None
    raw_pattern = data.get("external_ref_pattern")
    if raw_pattern is not None:
        try:
            if not isinstance(raw_pattern, str) or not raw_pattern:
                raise re.error("empty")
            pattern = re.compile(raw_pattern)
        except re.error as exc:
            errors.append(_("“external_ref_pattern” is not a valid regular expression: %(error)s.") % {"error": exc})

    source = data.get("source", name)
    if not isinstance(source, str) or not source.strip() or len(source.strip()) > SOURCE_MAX:
        errors.append(_("Name the source system with “source” (1 to %(max)s characters).") % {"max": SOURCE_MAX})
        source = ""
    encoding = data.get("encoding") or "utf-8-sig"
    try:
        "".encode(encoding)
    except (LookupError, TypeError):
        errors.append(_("Unknown encoding “%(value)s”.") % {"value": encoding})
    delimiter = data.get("delimiter") or ","
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        errors.append(_("“delimiter” must be one character."))
    if errors:
        raise ValidationError(errors)
    return Mapping(columns=parsed_columns, source=source.strip(), date_formats=date_formats,
                   values={k: {str(a): str(b) for a, b in t.items()} for k, t in values.items()},
                   defaults=defaults, encoding=encoding, delimiter=delimiter, received_between=received_between,
                   external_ref_pattern=pattern)


def mapping_check_header(mapping: Mapping, header: Iterable[str]) -> None:
    header = {h.strip() for h in header if h}
    wanted = {col for cols in mapping.columns.values() for col in cols}
    absent = sorted(col for col in wanted if col not in header)
    if absent:
        raise ValidationError(_("The CSV has no column named: %(columns)s.") % {"columns": ", ".join(absent)})


# --- reading the file ---------------------------------------------------------------------------------------------


class CsvRecords:
    """The records of a CSV export, each with the line of the file it starts on (a quoted narrative may span many
    lines). The header is read and checked against the mapping when this is made."""

    def __init__(self, handle, mapping: Mapping):
        self._reader = csv.reader(handle, delimiter=mapping.delimiter)
        try:
            header = next(self._reader)
        except StopIteration:
            raise ValidationError(_("The CSV file is empty.")) from None
        self.fieldnames = [h.strip() for h in header]
        mapping_check_header(mapping, self.fieldnames)

    def __iter__(self) -> Iterator[Record]:
        width = len(self.fieldnames)
        while True:
            start = self._reader.line_num + 1
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Record(start, {}, error=str(exc))
                continue
            if not cells:
                continue  # a blank line
            # A cell we neutralised in a report of rejected rows loads back as it was written.
            row = dict(zip(self.fieldnames, (unneutralise(c) for c in cells), strict=False))
            for name in self.fieldnames[len(cells):]:
                row[name] = ""
            yield Record(start, row, overflow=len(cells) > width)


def csv_rows(handle, mapping: Mapping) -> CsvRecords:
    return CsvRecords(handle, mapping)


def csv_encoding_check(path, encoding: str) -> None:
    """Read the whole file once before importing, so a wrong encoding stops the run before any row loads."""
    line_number = 0
    try:
        with open(path, encoding=encoding, newline="") as handle:
            for _line in handle:
                line_number += 1
    except UnicodeDecodeError as exc:
        raise ValidationError(
            _("The file is not in the encoding %(encoding)s (after line %(line)s: %(reason)s); set “encoding” in "
              "the mapping (exports from Chinese systems are often gb18030). Nothing imported.")
            % {"encoding": encoding, "line": line_number, "reason": exc.reason}) from None


def csv_count_records(path, mapping: Mapping) -> int:
    with open(path, encoding=mapping.encoding, newline="") as handle:
        return sum(1 for _record in CsvRecords(handle, mapping))


# --- one row ------------------------------------------------------------------------------------------------------


def _parse_time(raw: str, formats: list[str]) -> datetime:
    raw = " ".join(raw.split())
    readings: dict[datetime, str] = {}
    for fmt in formats:
        try:
            readings.setdefault(datetime.strptime(raw, fmt), fmt)
        except ValueError:
            continue
    if len(readings) > 1:
        alternatives = "; ".join(f"{value:%Y-%m-%d %H:%M} ({fmt})" for value, fmt in readings.items())
        raise ValidationError(_("“%(value)s” is ambiguous: it reads as %(readings)s. Give one “date_format”.")
                              % {"value": raw, "readings": alternatives})
    if readings:
        parsed = next(iter(readings))
    else:
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            shown = ", ".join(formats) or _("none given")
            raise ValidationError(_("“%(value)s” matches none of the date formats (%(formats)s) and is not ISO "
                                    "8601.") % {"value": raw, "formats": shown}) from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
    return parsed


class _Lookups:
    """Codes resolved once per run instead of once per row."""

    def __init__(self):
        self.channels = {c.code: c for c in Channel.objects.all()}
        self.categories: dict[str, Category | None] = {}
        self.memo: dict = {}  # the bulk writer's look-ups (responsibility rules), kept from batch to batch

    def category(self, code: str) -> Category | None:
        if code not in self.categories:
            self.categories[code] = Category.objects.filter(code=code).first()
        return self.categories[code]


def _cell(row: dict, mapping: Mapping, name: str) -> str:
    columns = mapping.columns.get(name) or []
    separator = "\n" if name in TEXT_FIELDS else " "
    value = separator.join(v for v in ((row.get(c) or "").strip() for c in columns) if v)
    return value or mapping.defaults.get(name, "")


def _translated(mapping: Mapping, name: str, value: str) -> str:
    return mapping.values.get(name, {}).get(value, value)


@dataclass
class ParsedRow:
    line: int
    external_ref: str
    order: HistoricalOrder


def _row_parse(record: Record, mapping: Mapping, lookups: _Lookups, now: datetime) -> ParsedRow:
    """Everything one row would become, or a ValidationError naming every bad field with each of its reasons."""
    row = record.row
    errors: dict[str, list[str]] = {}

    def add(name, message):
        errors.setdefault(name, []).append(message)

    if record.error:
        add("row", _("The CSV cannot be read here: %(error)s.") % {"error": record.error})
    if record.overflow:
        add("row", _("The row has more cells than the header."))
    ref = _cell(row, mapping, "external_ref")
    if not ref:
        add("external_ref", _("The source system's order number is empty."))
    elif len(ref) > 64:
        add("external_ref", _("The source system's order number is longer than 64 characters."))
    elif mapping.external_ref_pattern is not None and not mapping.external_ref_pattern.fullmatch(ref):
        add("external_ref", _("“%(value)s” does not match the pattern %(pattern)s.")
            % {"value": ref, "pattern": mapping.external_ref_pattern.pattern})

    times: dict[str, datetime] = {}
    for name in TIME_FIELDS:
        raw = _cell(row, mapping, name)
        if not raw:
            if name == "received_at":
                add(name, _("The received time is empty."))
            continue
        try:
            times[name] = _parse_time(raw, mapping.date_formats)
        except ValidationError as exc:
            for message in exc.messages:
                add(name, message)
    received_at, closed_at = times.get("received_at"), times.get("closed_at")
    if received_at is not None:
        if received_at > now + timedelta(minutes=5):
            add("received_at", _("The received time lies in the future."))
        if mapping.received_between is not None:
            first, last = mapping.received_between
            day = timezone.localtime(received_at).date()
            if not first <= day <= last:
                add("received_at", _("%(day)s lies outside the export's period %(first)s to %(last)s (day and "
                                     "month swapped?).") % {"day": day, "first": first, "last": last})
    if closed_at is not None:
        if received_at is not None and closed_at < received_at:
            add("closed_at", _("The closing time lies before the received time."))
        if closed_at > now + timedelta(minutes=5):
            add("closed_at", _("The closing time lies in the future."))

    kind = _translated(mapping, "kind", _cell(row, mapping, "kind"))
    if kind not in Kind.values:
        add("kind", _("Unknown kind “%(value)s” (add it to values.kind).") % {"value": kind})
    severity = _translated(mapping, "severity", _cell(row, mapping, "severity") or Severity.ORDINARY)
    if severity not in Severity.values:
        add("severity", _("Unknown severity “%(value)s” (add it to values.severity).") % {"value": severity})
    tier = _translated(mapping, "customer_tier", _cell(row, mapping, "customer_tier"))
    if tier and tier not in Tier.values:
        add("customer_tier", _("Unknown tier “%(value)s” (add it to values.customer_tier).") % {"value": tier})
    channel_code = _translated(mapping, "channel", _cell(row, mapping, "channel"))
    channel = lookups.channels.get(channel_code)
    if channel is None:
        add("channel", _("Unknown channel “%(value)s” (add it to values.channel).") % {"value": channel_code})
    elif not channel.is_active:
        add("channel", _("The channel “%(value)s” is inactive.") % {"value": channel_code})
    category_code = _translated(mapping, "category", _cell(row, mapping, "category"))
    category = lookups.category(category_code) if category_code else None
    if category is None:
        add("category", _("Unknown category “%(value)s” (add it to values.category).") % {"value": category_code})
    elif not category.is_active:
        add("category", _("The category “%(value)s” is inactive.") % {"value": category_code})
    description = _cell(row, mapping, "description").strip()
    if not description:
        add("description", _("Describe the complaint."))

    phone = None  # None: the placeholder customer
    raw_phone = _cell(row, mapping, "customer_phone")
    phone_cell = "".join((row.get(c) or "").strip() for c in mapping.columns.get("customer_phone", []))
    if phone_cell:
        try:
            phone = normalise_mobile(phone_cell)
        except ValidationError as exc:
            for message in exc.messages:
                add("customer_phone", message)
    elif "customer_phone" in mapping.columns and "customer_phone" not in mapping.defaults:
        add("customer_phone", _("The phone number is empty (give “defaults”: {“customer_phone”: “”} to file rows "
                                "without one under the placeholder customer)."))
    elif raw_phone:
        try:
            phone = normalise_mobile(raw_phone)
        except ValidationError:
            phone = None  # a default that is no mobile number stands for "unknown"
    contact = None
    raw_contact = _cell(row, mapping, "contact_phone")
    if raw_contact:
        try:
            contact = normalise_contact(raw_contact)
        except ValidationError as exc:
            for message in exc.messages:
                add("contact_phone", message)
    if errors:
        raise ValidationError(errors)
    return ParsedRow(line=record.line, external_ref=ref, order=HistoricalOrder(
        external_ref=ref, external_source=mapping.source, kind=kind, severity=severity, channel=channel,
        category=category, customer_tier=tier or None, customer_phone=phone,
        customer_name=_cell(row, mapping, "customer_name")[:64], contact_phone=contact or "",
        description=description, received_at=received_at, closed_at=closed_at,
        answer=_cell(row, mapping, "answer").strip(),
    ))


def _reasons(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{name}: {message}" for name, messages in exc.message_dict.items() for message in messages]
    return list(exc.messages)


def _already_imported(source: str, refs: Iterable[str]) -> set[str]:
    """The references of this source already in the database (orders imported before sources were named count as
    this source's: their reference was all they had)."""
    refs = list(set(refs))
    if not refs:
        return set()
    return set(WorkOrder.objects.filter(
        Q(external_source=source) | Q(external_source="", source=OrderSource.IMPORT), external_ref__in=refs,
    ).values_list("external_ref", flat=True))


# --- the run -------------------------------------------------------------------------------------------------------


def orders_import(*, actor, rows: Iterable, mapping: Mapping, batch_size: int = 500,
                  progress: Callable[[int], None] | None = None) -> ImportReport:
    """Load the records (from CsvRecords) as orders logged by `actor`. Safe to run again, or to resume after a
    crash: each batch commits whole, and rows already imported from this source are skipped."""
    if not may_intake(actor):
        raise PermissionDenied(_("The import account must be allowed to log orders (frontline agent, dispatcher "
                                 "or channel system)."))
    report = ImportReport()
    lookups = _Lookups()
    batch: list[Record] = []
    for record in rows:
        if not isinstance(record, Record):  # a plain dict per row, lines counted from 2
            record = Record(report.read + 2, {str(k).strip(): (v or "") for k, v in record.items() if k is not None},
                            overflow=None in record)
        report.read += 1
        batch.append(record)
        if len(batch) >= batch_size:
            _import_batch(actor=actor, batch=batch, mapping=mapping, lookups=lookups, report=report)
            batch = []
            if progress is not None:
                progress(report.read)
    if batch:
        _import_batch(actor=actor, batch=batch, mapping=mapping, lookups=lookups, report=report)
    if progress is not None:
        progress(report.read)
    return report


def _import_batch(*, actor, batch: list[Record], mapping: Mapping, lookups: _Lookups, report: ImportReport) -> None:
    now = timezone.now()
    parsed: list[ParsedRow] = []
    for record in batch:
        try:
            parsed.append(_row_parse(record, mapping, lookups, now))
        except ValidationError as exc:
            report.rejected.append(RejectedRow(record.line, _cell(record.row, mapping, "external_ref"),
                                               _reasons(exc), record.row))
    rows_by_line = {record.line: record.row for record in batch}
    for attempt in range(3):
        try:
            created, already, rejected = _write_batch(actor=actor, parsed=parsed, mapping=mapping,
                                                      rows_by_line=rows_by_line, memo=lookups.memo)
            break
        except IntegrityError:
            # Another run of the same source committed some of these references first: look again.
            if attempt == 2:
                raise
    report.created += created
    report.already_imported += already
    report.rejected.extend(rejected)


def _write_batch(*, actor, parsed: list[ParsedRow], mapping: Mapping, rows_by_line, memo) -> tuple[int, int, list]:
    """One transaction: the batch's closed rows in bulk, its open rows one by one through the intake service."""
    rejected: list[RejectedRow] = []
    created = already = 0
    with transaction.atomic():
        known = _already_imported(mapping.source, (p.external_ref for p in parsed))
        closed: list[ParsedRow] = []
        open_rows: list[ParsedRow] = []
        for item in parsed:
            if item.external_ref in known:
                already += 1  # imported before, or earlier in this file
                continue
            known.add(item.external_ref)
            (closed if item.order.closed_at is not None else open_rows).append(item)
        if closed:
            orders_historical_create(actor=actor, rows=[item.order for item in closed], memo=memo)
            created += len(closed)
        for item in open_rows:
            row = item.order
            try:
                order_create(
                    actor=actor, source=OrderSource.IMPORT, kind=row.kind, channel=row.channel, category=row.category,
                    severity=row.severity, description=row.description, customer_phone=row.customer_phone or "",
                    placeholder_customer=row.customer_phone is None, contact_phone=row.contact_phone,
                    customer_name=row.customer_name, customer_tier=row.customer_tier, received_at=row.received_at,
                    external_ref=row.external_ref, external_source=row.external_source,
                )
            except (ValidationError, PermissionDenied, DataError) as exc:
                # order_create's own savepoint has already undone whatever this row wrote.
                reasons = _reasons(exc) if isinstance(exc, ValidationError) else [str(exc).strip()]
                rejected.append(RejectedRow(item.line, item.external_ref, reasons, rows_by_line[item.line]))
                continue
            created += 1
    return created, already, rejected


def rejected_write(handle, report: ImportReport, header: list[str]) -> None:
    writer = csv.writer(handle)
    writer.writerow(["line", "external_ref", "reasons", *(neutralise(h) for h in header)])
    for reject in report.rejected:
        writer.writerow([reject.line, neutralise(reject.external_ref), neutralise("; ".join(reject.reasons)),
                         *(neutralise(reject.row.get(h, "")) for h in header)])


# --- the dry run ---------------------------------------------------------------------------------------------------


@dataclass
class PreviewRow:
    line: int
    external_ref: str
    outcome: str  # "closed", "open", "already", "rejected"
    fields: list[tuple[str, str]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def orders_import_preview(*, actor, rows: Iterable[Record], mapping: Mapping, limit: int = 20) -> list[PreviewRow]:
    """What the first `limit` rows would become, or why each would be refused; writes nothing."""
    if not may_intake(actor):
        raise PermissionDenied(_("The import account must be allowed to log orders."))
    lookups = _Lookups()
    now = timezone.now()
    preview: list[PreviewRow] = []
    parsed: list[tuple[PreviewRow, ParsedRow]] = []
    for record in rows:
        if len(preview) >= limit:
            break
        try:
            item = _row_parse(record, mapping, lookups, now)
        except ValidationError as exc:
            preview.append(PreviewRow(record.line, _cell(record.row, mapping, "external_ref"), "rejected",
                                      reasons=_reasons(exc)))
            continue
        entry = PreviewRow(record.line, item.external_ref, "closed" if item.order.closed_at else "open")
        preview.append(entry)
        parsed.append((entry, item))
    known = _already_imported(mapping.source, (item.external_ref for _entry, item in parsed))
    for entry, item in parsed:
        row = item.order
        if item.external_ref in known:
            entry.outcome = "already"
        known.add(item.external_ref)
        local = timezone.localtime
        entry.fields = [
            (_("Kind"), str(Kind(row.kind).label)),
            (_("Category"), f"{row.category.code} {row.category.label} (L{row.category.level})"),
            (_("Channel"), row.channel.name),
            (_("Customer"), mask(row.customer_phone) if row.customer_phone else _("placeholder (no phone number)")),
            (_("Received"), f"{local(row.received_at):%Y-%m-%d %H:%M}"),
            (_("Closed"), f"{local(row.closed_at):%Y-%m-%d %H:%M}" if row.closed_at else _("open: enters the workflow")),
            (_("Description"), row.description[:80]),
        ]
    return preview


# --- the background job (jobs.services) ----------------------------------------------------------------------------


def job_run_import(*, job, progress) -> dict:
    """The import page's job: the stored file with the stored mapping, by the account that started it. Safe to run
    again from the start: rows committed by an earlier attempt are skipped as already imported."""


    mapping = mapping_parse(job.params["mapping"], name=job.params.get("mapping_name", ""))
    path = job.input_file.path
    csv_encoding_check(path, mapping.encoding)
    total = csv_count_records(path, mapping)
    progress(0, total, _("Importing"))
    with open(path, encoding=mapping.encoding, newline="") as handle:
        records = CsvRecords(handle, mapping)
        report = orders_import(actor=job.created_by, rows=records, mapping=mapping,
                               batch_size=int(job.params.get("batch_size", 500)),
                               progress=lambda done: progress(done, total))
        header = records.fieldnames
    if report.rejected:
        out = io.StringIO()
        out.write("\ufeff")
        rejected_write(out, report, header)
        job_output_save(job=job, name=f"{job.input_name or 'import'}.rejected.csv",
                        content=ContentFile(out.getvalue().encode("utf-8")))
    return {"source": mapping.source, **report.as_dict()}


def order_import_prepare(*, actor, csv_upload, mapping_data, mapping_name: str = ""):
    """The import page's first step: check the mapping and the file (encoding, header) and keep them as a draft job
    whose dry run the page shows; nothing is imported until the job is started (jobs.services.job_queue)."""
    if not may_intake(actor):
        raise PermissionDenied(_("Only administrators and the accounts that log orders may import history."))
    mapping = mapping_parse(mapping_data, name=mapping_name)
    name = (getattr(csv_upload, "name", "") or "export.csv").rsplit("/", 1)[-1]
    job = job_create(actor=actor, kind=Job.Kind.IMPORT_ORDERS, queue=False, input_file=csv_upload, input_name=name,
                     title=_("Import of %(file)s (%(source)s)") % {"file": name, "source": mapping.source},
                     params={"mapping": mapping_data, "mapping_name": mapping_name})
    try:
        csv_encoding_check(job.input_file.path, mapping.encoding)
        with open(job.input_file.path, encoding=mapping.encoding, newline="") as handle:
            CsvRecords(handle, mapping)
    except ValidationError:
        job.input_file.delete(save=False)
        job.delete()
        raise
    return job


def order_import_preview_of(*, actor, job, limit: int = 20) -> list[PreviewRow]:
    """The dry run of a prepared import: what its first rows would become."""
    mapping = mapping_parse(job.params["mapping"], name=job.params.get("mapping_name", ""))
    with open(job.input_file.path, encoding=mapping.encoding, newline="") as handle:
        return orders_import_preview(actor=actor, rows=CsvRecords(handle, mapping), mapping=mapping, limit=limit)
