from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from viewflow.workflow import models as viewflow_models

from workflow.forms import CancelForm
from workflow.models import Notification, OrderEvent, OrderProcess, OrderTask, WorkflowPolicy
from workflow.services import ActionNotPossible, order_cancel

# viewflow's own default Process/Task tables are unused here (orders have their own); hide their editable admin.
for model in (viewflow_models.Process, viewflow_models.Task):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    """The audit trail can be read in admin, never added to, edited or deleted."""

    list_display = ["order", "action", "actor_name", "from_status", "to_status", "created_at"]
    list_filter = ["action"]
    search_fields = ["=order__number", "actor_name"]
    list_select_related = ["order"]
    show_full_result_count = False


class OrderTaskInline(admin.TabularInline):
    model = OrderTask
    fields = ["flow_task", "status", "department", "owner", "created", "finished"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OrderProcess)
class OrderProcessAdmin(ReadOnlyAdmin):
    """Each order's viewflow process and its steps, for support; changed only through the workflow services."""

    list_display = ["order", "status", "created", "finished"]
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
    list_display = ["effective_from", "callback_max_attempts", "reopen_at_or_below", "max_wait_days"]


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
