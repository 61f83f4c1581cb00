from django.contrib import admin

from workflow.models import OrderEvent


@admin.register(OrderEvent)
class OrderEventAdmin(admin.ModelAdmin):
    """The audit trail can be read in admin, never added to, edited or deleted."""

    list_display = ["order", "action", "actor_name", "from_status", "to_status", "created_at"]
    list_filter = ["action"]
    search_fields = ["=order__number", "actor_name"]
    list_select_related = ["order"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
