from django.contrib import admin
from django.utils import timezone

from complaints.admin import ReadOnlyAdmin
from support.models import SupportEvent, SupportPolicy, SupportRequest, SupportTask
from workflow.admin import TransitionAdmin, task_step


@admin.register(SupportPolicy)
class SupportPolicyAdmin(admin.ModelAdmin):
    """Versioned by effective date: a request is judged by the version in force the day it was raised, so change
    the rules by adding a version from a later date rather than editing one already in use."""

    list_display = ["effective_from", "problem_working_days", "requirement_working_days",
                    "max_deferral_working_days", "warn_percent", "rating_window_working_days", "reopen_at_or_below",
                    "calendar"]

    @staticmethod
    def _in_use(obj) -> bool:
        """In force already, or named by a request: its values decide requests' dates, so it stays as it is."""
        return obj is not None and (obj.effective_from <= timezone.localdate()
                                    or SupportRequest.objects.filter(policy=obj).exists())

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._in_use(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._in_use(obj)


class SupportEventInline(admin.TabularInline):
    model = SupportEvent
    fields = ["created_at", "action", "actor_name", "from_status_label", "to_status_label", "comment"]
    readonly_fields = fields

    from_status_label = TransitionAdmin.from_status_label
    to_status_label = TransitionAdmin.to_status_label
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SupportRequest)
class SupportRequestAdmin(ReadOnlyAdmin):
    """Read-only: requests change only through their workflow (the pages and the API)."""

    list_display = ["number", "kind", "title", "status", "requester_department", "department", "due_at",
                    "answered_at", "answered_on_time", "rating"]
    list_filter = ["status", "kind", "answered_on_time"]
    search_fields = ["=number", "title"]
    list_select_related = ["requester_department", "department"]
    show_full_result_count = False
    inlines = [SupportEventInline]


@admin.register(SupportEvent)
class SupportEventAdmin(TransitionAdmin):
    """The history can be read in admin, never added to, edited or deleted."""

    list_display = ["request", "action", "actor_name", "from_status_label", "to_status_label", "created_at"]
    list_filter = ["action"]
    search_fields = ["=request__number", "actor_name"]
    list_select_related = ["request"]
    show_full_result_count = False


@admin.register(SupportTask)
class SupportTaskAdmin(ReadOnlyAdmin):
    list_display = ["process", task_step, "status", "department", "owner", "created", "finished"]
    fields = ["process", task_step, "status", "department", "owner", "created", "assigned", "started", "finished"]
    readonly_fields = [task_step]
    list_filter = ["status"]
    list_select_related = ["process", "department", "owner"]
