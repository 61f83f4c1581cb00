from django.contrib import admin

from jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "title", "status", "done", "total", "created_by_name", "created_at", "finished_at")
    list_filter = ("kind", "status")
    search_fields = ("title", "created_by_name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
