"""Every download of a table is recorded (ExportRecord): who, which page and table, the filters, how many rows,
whether it carried full phone numbers. Registered with the export writer (core.web.exports) when reports is ready."""

import logging

from reports.models import ExportRecord

log = logging.getLogger("reports.exports")


def export_record(*, table, export: str, user, page: str, about, filters: str, unmasked: bool) -> None:
    described = "; ".join(f"{label}: {value}" for label, value in about.filters)
    record_filters = " | ".join(part for part in (about.period, described, filters) if part)
    ExportRecord.objects.create(user=user if user.is_authenticated else None, user_name=user.get_username()[:150],
                                page=page[:64], table=table.name[:64], format=export, filters=record_filters[:2000],
                                rows=len(table.rows), unmasked=unmasked)
    log.info("export %s of %s/%s by %s (%s rows%s)", export, page, table.name, user.username, len(table.rows),
             ", full phone numbers" if unmasked else "")
