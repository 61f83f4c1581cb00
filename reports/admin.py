from django.contrib import admin

from complaints.admin import ReadOnlyAdmin
from reports.models import ExportRecord, MonthlyReport, ReportWithdrawal


@admin.register(ExportRecord)
class ExportRecordAdmin(ReadOnlyAdmin):
    """The export audit: read-only, kept as evidence."""

    list_display = ["exported_at", "user_name", "page", "table", "format", "rows", "unmasked", "filters"]
    list_filter = ["format", "unmasked", "page"]
    search_fields = ["user_name", "page", "table"]
    date_hierarchy = "exported_at"


@admin.register(MonthlyReport)
class MonthlyReportAdmin(ReadOnlyAdmin):
    """The archive of monthly reports: listed, never added, changed (its HTML, its PDF) or deleted here. A version
    is withdrawn and regenerated on the report's page (/reports/monthly/), with the reason recorded."""

    list_display = ["month", "region", "version", "trigger", "generated_at", "generated_by_name", "withdrawn_at"]
    list_filter = ["trigger", ("withdrawn_at", admin.EmptyFieldListFilter)]
    list_select_related = ["region"]
    fields = ["region", "month", "version", "trigger", "generated_at", "generated_by_name", "withdrawn_at"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("html", "data")


@admin.register(ReportWithdrawal)
class ReportWithdrawalAdmin(ReadOnlyAdmin):
    """Who withdrew which archived report, when and why: read-only, kept as evidence."""

    list_display = ["created_at", "report", "replacement", "actor_name", "reason"]
    list_select_related = ["report__region", "replacement__region"]
    search_fields = ["actor_name", "reason"]
