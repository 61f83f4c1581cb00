"""Any dashboard table as CSV (UTF-8 with a byte-order mark, so Excel reads the Chinese) or as an Excel workbook."""

import csv
import io
import logging
import re

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font

log = logging.getLogger("reports.exports")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filename(table, extension: str) -> str:
    stem = re.sub(r"[^\w.-]+", "-", table.name).strip("-") or "table"
    return f"{stem}-{timezone.localdate():%Y%m%d}.{extension}"


def _raw(cell):
    return cell.raw if cell.raw is not None else ("" if cell.text == "—" else cell.text)


def table_response(table, export: str, *, user, page: str, filters: str = "", unmasked: bool = False) -> HttpResponse:
    """The table as a download; the export is recorded (who, which page and table, filters, rows, whether it
    carried full phone numbers, when)."""
    from reports.models import ExportRecord

    ExportRecord.objects.create(user=user if user.is_authenticated else None, user_name=user.get_username()[:150],
                                page=page[:64], table=table.name[:64], format=export, filters=filters[:2000],
                                rows=len(table.rows), unmasked=unmasked)
    log.info("export %s of %s/%s by %s (%s rows%s)", export, page, table.name, user.username, len(table.rows),
             ", full phone numbers" if unmasked else "")
    if export == "xlsx":
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = (table.title or table.name)[:31].replace("/", "-")
        sheet.append([str(c) for c in table.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_raw(cell) for cell in row])
        for column in sheet.columns:
            width = max(len(str(c.value or "")) for c in column)
            sheet.column_dimensions[column[0].column_letter].width = min(max(10, width * 1.6), 60)
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{_filename(table, "xlsx")}"'
        return response
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([str(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([_raw(cell) for cell in row])
    response = HttpResponse(buffer.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(table, "csv")}"'
    return response
