"""Historical import of orders from another system's CSV export.

The mapping file (JSON) says how to read the export:

    {
      "encoding": "gb18030",                  # optional, default utf-8-sig
      "delimiter": ",",                       # optional
      "columns": {"customer_phone": "手机号码", "received_at": "受理时间", ...},   # our field -> CSV header
      "date_formats": ["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"],                 # tried in order; ISO 8601 always
      "values": {"channel": {"10086热线": "hotline"}, "category": {"旧编码": "NET-..."}, "kind": {"投诉": "complaint"}},
      "defaults": {"kind": "complaint", "severity": "ordinary", "channel": "hotline"}
    }

Each row goes through order_create (the one intake path) in its own savepoint, so a bad row is reported and
skipped without touching the others. Rows are committed in batches. The source system's order number (the
"external_ref" column) keys a re-run: a row imported before is reported as such, never loaded twice.
"""

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.models import Category, Channel, Kind, OrderSource, Severity, Tier
from complaints.services import HistoricalClose, order_create, user_may_intake

FIELDS = {
    # our field: required in the mapping?
    "external_ref": True,
    "received_at": True,
    "customer_phone": True,
    "category": True,
    "description": True,
    "kind": False,
    "channel": False,
    "severity": False,
    "customer_name": False,
    "customer_tier": False,
    "contact_phone": False,
    "answer": False,
    "closed_at": False,
}
MAPPED_VALUES = ("kind", "channel", "category", "severity", "customer_tier")
DEFAULTS_ALLOWED = ("kind", "channel", "severity")


@dataclass
class Mapping:
    columns: dict[str, str]
    date_formats: list[str] = field(default_factory=list)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    encoding: str = "utf-8-sig"
    delimiter: str = ","


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


def mapping_parse(data) -> Mapping:
    """Check the mapping file as a whole before reading a single row."""
    if not isinstance(data, dict):
        raise ValidationError(_("The mapping must be a JSON object."))
    errors = []
    columns = data.get("columns")
    if not isinstance(columns, dict):
        errors.append(_("“columns” must map our field names to the CSV's column headers."))
        columns = {}
    unknown = sorted(set(columns) - set(FIELDS))
    if unknown:
        errors.append(_("Unknown fields in “columns”: %(fields)s. Known: %(known)s.")
                      % {"fields": ", ".join(unknown), "known": ", ".join(FIELDS)})
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict) or set(defaults) - set(DEFAULTS_ALLOWED):
        errors.append(_("“defaults” may only give: %(fields)s.") % {"fields": ", ".join(DEFAULTS_ALLOWED)})
        defaults = {}
    missing = [name for name, required in FIELDS.items() if required and name not in columns]
    missing += [name for name in ("kind", "channel") if name not in columns and name not in defaults]
    if missing:
        errors.append(_("The mapping names no column for: %(fields)s.") % {"fields": ", ".join(missing)})
    values = data.get("values") or {}
    if not isinstance(values, dict) or any(
        name not in MAPPED_VALUES or not isinstance(table, dict) for name, table in values.items()
    ):
        errors.append(_("“values” holds translation tables only for: %(fields)s.") % {"fields": ", ".join(MAPPED_VALUES)})
        values = {}
    date_formats = data.get("date_formats") or []
    if not isinstance(date_formats, list) or not all(isinstance(f, str) and "%" in f for f in date_formats):
        errors.append(_("“date_formats” must be a list of strptime formats such as “%%Y-%%m-%%d %%H:%%M”."))
        date_formats = []
    encoding = data.get("encoding") or "utf-8-sig"
    try:
        "".encode(encoding)
    except LookupError:
        errors.append(_("Unknown encoding “%(value)s”.") % {"value": encoding})
    delimiter = data.get("delimiter") or ","
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        errors.append(_("“delimiter” must be one character."))
    if errors:
        raise ValidationError(errors)
    return Mapping(columns={k: str(v) for k, v in columns.items()}, date_formats=date_formats,
                   values={k: {str(a): str(b) for a, b in t.items()} for k, t in values.items()},
                   defaults={k: str(v) for k, v in defaults.items()}, encoding=encoding, delimiter=delimiter)


def mapping_check_header(mapping: Mapping, header: Iterable[str]) -> None:
    header = {h.strip() for h in header if h}
    absent = sorted(col for col in mapping.columns.values() if col not in header)
    if absent:
        raise ValidationError(_("The CSV has no column named: %(columns)s.") % {"columns": ", ".join(absent)})


def _parse_time(raw: str, formats: list[str]) -> datetime:
    raw = raw.strip()
    parsed = None
    for fmt in formats:
        try:
            parsed = datetime.strptime(raw, fmt)
            break
        except ValueError:
            continue
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            raise ValidationError(_("“%(value)s” matches none of the date formats.") % {"value": raw}) from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
    return parsed


class _Lookups:
    """Codes resolved once per run instead of once per row."""

    def __init__(self):
        self.channels = {c.code: c for c in Channel.objects.all()}
        self.categories: dict[str, Category | None] = {}

    def category(self, code: str) -> Category | None:
        if code not in self.categories:
            self.categories[code] = Category.objects.filter(code=code).first()
        return self.categories[code]


def _cell(row: dict, mapping: Mapping, name: str) -> str:
    column = mapping.columns.get(name)
    value = (row.get(column) or "").strip() if column else ""
    return value or mapping.defaults.get(name, "")


def _translated(mapping: Mapping, name: str, value: str) -> str:
    return mapping.values.get(name, {}).get(value, value)


def _row_to_order_args(row: dict, mapping: Mapping, lookups: _Lookups) -> dict:
    """Everything order_create needs from one row, or a ValidationError naming each bad field."""
    errors: dict[str, list[str]] = {}
    args = {}
    args["external_ref"] = _cell(row, mapping, "external_ref")
    if not args["external_ref"]:
        errors["external_ref"] = [_("The source system's order number is empty.")]
    elif len(args["external_ref"]) > 64:
        errors["external_ref"] = [_("The source system's order number is longer than 64 characters.")]
    for name in ("received_at", "closed_at"):
        raw = _cell(row, mapping, name)
        if not raw:
            if name == "received_at":
                errors[name] = [_("The received time is empty.")]
            continue
        try:
            args[name] = _parse_time(raw, mapping.date_formats)
        except ValidationError as exc:
            errors[name] = exc.messages

    kind = _translated(mapping, "kind", _cell(row, mapping, "kind"))
    if kind not in Kind.values:
        errors["kind"] = [_("Unknown kind “%(value)s” (add it to values.kind).") % {"value": kind}]
    severity = _translated(mapping, "severity", _cell(row, mapping, "severity") or Severity.ORDINARY)
    if severity not in Severity.values:
        errors["severity"] = [_("Unknown severity “%(value)s” (add it to values.severity).") % {"value": severity}]
    tier = _translated(mapping, "customer_tier", _cell(row, mapping, "customer_tier"))
    if tier and tier not in Tier.values:
        errors["customer_tier"] = [_("Unknown tier “%(value)s” (add it to values.customer_tier).") % {"value": tier}]
    channel_code = _translated(mapping, "channel", _cell(row, mapping, "channel"))
    channel = lookups.channels.get(channel_code)
    if channel is None:
        errors["channel"] = [_("Unknown channel “%(value)s” (add it to values.channel).") % {"value": channel_code}]
    category_code = _translated(mapping, "category", _cell(row, mapping, "category"))
    category = lookups.category(category_code) if category_code else None
    if category is None:
        errors["category"] = [_("Unknown category “%(value)s” (add it to values.category).") % {"value": category_code}]
    if errors:
        raise ValidationError(errors)

    answer = _cell(row, mapping, "answer")
    closed_at = args.pop("closed_at", None)
    return {
        **args,
        "kind": kind,
        "severity": severity,
        "channel": channel,
        "category": category,
        "customer_tier": tier or None,
        "description": _cell(row, mapping, "description"),
        "customer_phone": _cell(row, mapping, "customer_phone"),
        "customer_name": _cell(row, mapping, "customer_name")[:64],
        "contact_phone": _cell(row, mapping, "contact_phone"),
        "historical_close": HistoricalClose(answer=answer, closed_at=closed_at) if closed_at else None,
    }


def _reasons(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{name}: {message}" for name, messages in exc.message_dict.items() for message in messages]
    return list(exc.messages)


def orders_import(*, actor, rows: Iterator[dict], mapping: Mapping, batch_size: int = 500) -> ImportReport:
    """Load rows (dicts keyed by CSV header) as orders logged by `actor`. Line numbers count the header as 1."""
    if not user_may_intake(actor):
        raise PermissionDenied(_("The import account must be allowed to log orders (frontline agent, dispatcher "
                                 "or channel system)."))
    report = ImportReport()
    lookups = _Lookups()
    batch: list[tuple[int, dict]] = []
    for line, row in enumerate(rows, start=2):
        report.read += 1
        batch.append((line, row))
        if len(batch) >= batch_size:
            _import_batch(actor=actor, batch=batch, mapping=mapping, lookups=lookups, report=report)
            batch = []
    if batch:
        _import_batch(actor=actor, batch=batch, mapping=mapping, lookups=lookups, report=report)
    return report


def _import_batch(*, actor, batch, mapping, lookups, report) -> None:
    # One commit per batch; each row's order_create runs in its own savepoint inside it.
    with transaction.atomic():
        for line, row in batch:
            clean_row = {str(k).strip(): (v or "") for k, v in row.items() if k is not None}
            if None in row:  # more cells than headers
                reject = RejectedRow(line, "", [_("The row has more cells than the header.")], clean_row)
                report.rejected.append(reject)
                continue
            try:
                args = _row_to_order_args(clean_row, mapping, lookups)
                result = order_create(actor=actor, source=OrderSource.IMPORT,
                                      idempotency_key=f"import:{args['external_ref']}", **args)
            except (ValidationError, PermissionDenied, DataError, IntegrityError) as exc:
                # order_create's own savepoint has already undone whatever this row wrote.
                reasons = _reasons(exc) if isinstance(exc, ValidationError) else [str(exc).strip()]
                report.rejected.append(
                    RejectedRow(line, _cell(clean_row, mapping, "external_ref"), reasons, clean_row)
                )
                continue
            if result.created:
                report.created += 1
            else:
                report.already_imported += 1


def csv_rows(handle, mapping: Mapping) -> Iterator[dict]:
    reader = csv.DictReader(handle, delimiter=mapping.delimiter)
    mapping_check_header(mapping, reader.fieldnames or [])
    return reader


def rejected_write(handle, report: ImportReport, header: list[str]) -> None:
    writer = csv.writer(handle)
    writer.writerow(["line", "external_ref", "reasons", *header])
    for reject in report.rejected:
        writer.writerow([reject.line, reject.external_ref, "; ".join(reject.reasons),
                         *(reject.row.get(h, "") for h in header)])
