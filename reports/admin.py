from django.contrib import admin

from reports.models import ExportRecord
from workflow.admin import ReadOnlyAdmin


@admin.register(ExportRecord)
class ExportRecordAdmin(ReadOnlyAdmin):
    """The export audit: read-only, kept as evidence."""

    list_display = ["exported_at", "user_name", "page", "table", "format", "rows", "unmasked", "filters"]
    list_filter = ["format", "unmasked", "page"]
    search_fields = ["user_name", "page", "table"]
    date_hierarchy = "exported_at"
