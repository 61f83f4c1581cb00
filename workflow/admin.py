from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow import models as viewflow_models

from complaints.admin import ReadOnlyAdmin, WorkOrderAdmin
from complaints.models import WorkOrder
from workflow.calendars import work_calendar
from workflow.forms import CancelForm
from workflow.models import (
    BusinessCalendar,
    CalendarDay,
    CalendarYear,
    ExtensionRequest,
    Notification,
    OrderEvent,
    OrderProcess,
    OrderStage,
    OrderTask,
    SlaAlert,
    StageLimit,
    TimeLimitPolicy,
    WorkflowPolicy,
    WorkingPeriod,
)
from workflow.services import ActionNotPossible, order_cancel
from workflow.steps import step_label

# viewflow's own default Process/Task tables are unused here (orders have their own); hide their editable admin.
for model in (viewflow_models.Process, viewflow_models.Task):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class TransitionAdmin(ReadOnlyAdmin):
    """An audit row whose from/to columns hold status codes: shown by their labels, in the list and the page."""

    exclude = ["from_status", "to_status"]
    readonly_fields = ["from_status_label", "to_status_label"]

    @admin.display(description=_("from"), ordering="from_status")
    def from_status_label(self, obj):
        return obj.from_label

    @admin.display(description=_("to"), ordering="to_status")
    def to_status_label(self, obj):
        return obj.to_label


@admin.register(OrderEvent)
class OrderEventAdmin(TransitionAdmin):
    """The audit trail can be read in admin, never added to, edited or deleted."""

    list_display = ["order", "action", "actor_name", "from_status_label", "to_status_label", "created_at"]
    list_filter = ["action"]
    search_fields = ["=order__number", "actor_name"]
    list_select_related = ["order"]
    show_full_result_count = False


@admin.display(description=_("step"))
def task_step(task):
    return step_label(task)


class OrderTaskInline(admin.TabularInline):
    model = OrderTask
    fields = [task_step, "status", "department", "owner", "created", "finished"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OrderProcess)
class OrderProcessAdmin(ReadOnlyAdmin):
    """Each order's viewflow process and its steps, for support; changed only through the workflow services."""

    list_display = ["order", "status", "created", "finished"]
    fields = ["order", "status", "created", "finished"]  # not viewflow's internals (flow class path, data)
    list_filter = ["status"]
    search_fields = ["=order__number"]
    list_select_related = ["order"]
    inlines = [OrderTaskInline]
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["recipient", "kind", "order", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    search_fields = ["=order__number", "recipient__username"]
    list_select_related = ["recipient", "order"]
    show_full_result_count = False


@admin.register(WorkflowPolicy)
class WorkflowPolicyAdmin(admin.ModelAdmin):
    list_display = ["effective_from", "callback_max_attempts", "dissatisfied_at_or_below", "satisfied_at_or_above", "max_wait_days"]


@admin.action(description=_("Cancel the selected orders (duplicates, withdrawn)"))
def cancel_orders(modeladmin, request, queryset):
    """Asks for the reason first, then cancels each order through the same service as the order page."""
    form = CancelForm(request.POST if "apply" in request.POST else None)
    if not form.is_valid():
        return render(request, "admin/workflow/cancel_orders.html", {
            **modeladmin.admin_site.each_context(request), "form": form, "orders": queryset,
            "title": _("Cancel orders"), "opts": modeladmin.model._meta,
        })
    done = 0
    for order in queryset:
        try:
            order_cancel(actor=request.user, order=order, **form.cleaned_data)
        except (ActionNotPossible, PermissionDenied, ValidationError) as exc:
            modeladmin.message_user(request, f"{order.number}: {' '.join(getattr(exc, 'messages', [str(exc)]))}",
                                    messages.ERROR)
        else:
            done += 1
    modeladmin.message_user(request, _("%(count)s orders cancelled.") % {"count": done}, messages.SUCCESS)
    return None


@admin.register(WorkOrder)
class OrderAdmin(WorkOrderAdmin):
    """The order record's admin (complaints) with the lifecycle's action: cancel, through the order service."""

    actions = [cancel_orders]


class WorkingPeriodInline(admin.TabularInline):
    model = WorkingPeriod
    extra = 0


class CalendarYearInline(admin.TabularInline):
    model = CalendarYear
    fields = ["year", "confirmed", "note", "note_en", "admins_told_at"]
    readonly_fields = ["admins_told_at"]
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["__str__", "code", "is_default"]
    inlines = [WorkingPeriodInline, CalendarYearInline]

    def changelist_view(self, request, extra_context=None):
        next_year = timezone.localdate().year + 1
        missing = CalendarYear.objects.filter(year=next_year, confirmed=False).exists() or not (
            CalendarYear.objects.filter(year=next_year).exists())
        if missing:
            self.message_user(request, _("The official holiday notice for %(year)s is not in the calendar yet: "
                                         "deadlines in %(year)s are provisional. Enter it under Calendar days, or "
                                         "run manage.py calendar_load --year %(year)s after upgrading the holidays "
                                         "package.") % {"year": next_year}, messages.WARNING)
        return super().changelist_view(request, extra_context)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        work_calendar.cache_clear()


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """The day table: holidays and make-up working days from the official notice, and local changes."""

    list_display = ["date", "calendar", "is_working", "source", "note_in_language"]
    list_filter = ["calendar", "is_working", "source"]
    date_hierarchy = "date"
    search_fields = ["note", "note_en"]

    @admin.display(description=_("note"), ordering="note")
    def note_in_language(self, obj):
        return obj.note_label

    def save_model(self, request, obj, form, change):
        obj.source = CalendarDay.Source.ADMIN
        super().save_model(request, obj, form, change)
        work_calendar.cache_clear()


class StageLimitInline(admin.TabularInline):
    model = StageLimit
    extra = 0


@admin.register(TimeLimitPolicy)
class TimeLimitPolicyAdmin(admin.ModelAdmin):
    """Which orders a set of stage limits applies to; the most specific match wins (category, then tier,
    severity, channel, kind); a version with the same criteria takes over on its effective date."""

    list_display = ["policy_name", "effective_from", "kind", "severity", "customer_tier", "channel", "category",
                    "warn_percent", "limits_summary"]
    list_filter = ["effective_from", "kind", "severity", "customer_tier", "channel"]
    search_fields = ["name", "name_en", "category__name", "category__code"]
    autocomplete_fields = ["category"]
    inlines = [StageLimitInline]

    @admin.display(description=_("name"), ordering="name")
    def policy_name(self, obj):
        return obj.label

    @admin.display(description=_("limits"))
    def limits_summary(self, obj):
        return "; ".join(str(limit) for limit in obj.limits.all())

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("channel", "category").prefetch_related("limits")

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        from workflow.sla import _policies

        _policies.cache_clear()  # this process at once; the others within a minute (config.memo)


@admin.register(OrderStage)
class OrderStageAdmin(ReadOnlyAdmin):
    list_display = ["order", "kind", "started_at", "warn_at", "due_at", "ended_at", "outcome", "overdue_at", "extended",
                    "calendar_unconfirmed"]
    list_filter = ["kind", "outcome", "extended", "calendar_unconfirmed"]
    search_fields = ["=order__number"]
    list_select_related = ["order"]
    show_full_result_count = False


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(ReadOnlyAdmin):
    list_display = ["order", "requested_by_name", "until", "status", "decided_by", "decided_at"]
    list_filter = ["status"]
    search_fields = ["=order__number"]
    list_select_related = ["order", "decided_by"]


@admin.register(SlaAlert)
class SlaAlertAdmin(ReadOnlyAdmin):
    list_display = ["order", "kind", "level", "happened_at", "detected_at", "notified_at"]
    list_filter = ["kind", "level"]
    search_fields = ["=order__number"]
    list_select_related = ["order"]
    show_full_result_count = False
