"""Browser views of the workflow: parse the form, call one service or selector, render."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from complaints.pagination import page_without_count
from complaints.views import _apply_service_errors, _order_or_404, order_page, search_filters
from core.permissions import staff_required
from workflow import selectors, services
from workflow.forms import WorkListFilterForm, action_form
from workflow.services import ActionNotPossible

PER_PAGE = 50

SUCCESS_MESSAGES = {
    "dispatch": gettext_lazy("Dispatched."),
    "claim": gettext_lazy("Claimed: the order is yours now."),
    "release": gettext_lazy("Released to the department queue."),
    "assign": gettext_lazy("Assigned."),
    "transfer": gettext_lazy("Transferred."),
    "return": gettext_lazy("Returned to the dispatcher."),
    "wait": gettext_lazy("Parked until the customer answers."),
    "resume": gettext_lazy("Resumed."),
    "note": gettext_lazy("Note added."),
    "reply": gettext_lazy("Reply sent."),
    "review": gettext_lazy("Review recorded."),
    "callback": gettext_lazy("Callback recorded."),
    "reopen": gettext_lazy("Reopened."),
    "cancel": gettext_lazy("Cancelled."),
    "escalate": gettext_lazy("Escalated."),
    "extend": gettext_lazy("Extension asked for; the complaint centre decides."),
    "decide_extension": gettext_lazy("Extension decision recorded."),
}


@staff_required
@require_POST
def order_action(request, number, action):
    if action not in services.ACTIONS:
        raise Http404()
    order = _order_or_404(request, number)
    form = action_form(action, order, request.POST)
    if form.is_valid():
        try:
            services.order_act(action=action, actor=request.user, order=order, **form.cleaned_data)
        except ValidationError as exc:
            _apply_service_errors(form, exc)
        except ActionNotPossible as exc:
            messages.error(request, str(exc))
            return redirect("complaints:order_detail", number=order.number)
        except PermissionDenied as exc:
            messages.error(request, str(exc) or _("You may not do this."))
            return redirect("complaints:order_detail", number=order.number)
        else:
            messages.success(request, str(SUCCESS_MESSAGES[action]))
            return redirect("complaints:order_detail", number=order.number)
    return order_page(request, order, bound={action: form}, status=400)


@staff_required
@require_GET
def work_list(request, key=None):
    lists = selectors.work_lists_for(request.user)
    if not lists:
        raise PermissionDenied(_("Your role has no work lists; use the order search instead."))
    keys = [w.key for w in lists]
    if key is None:
        return redirect("workflow:work_list", key=keys[0])
    if key not in keys:
        raise Http404(_("No such work list for your role."))
    form = WorkListFilterForm(request.GET or None)
    filters, sort = {}, "deadline"
    if form.is_valid():
        data = form.cleaned_data
        filters.update(search_filters(data.get("q")))
        filters.update({name: data.get(name) for name in ("kind", "severity", "status", "escalated", "reopened",
                                                          "deadline")})
        sort = data.get("sort") or sort
    orders = selectors.work_list_orders(user=request.user, key=key, filters=filters, sort=sort)
    page = page_without_count(orders, request.GET.get("page"), PER_PAGE)
    query_string = request.GET.copy()
    query_string.pop("page", None)
    return render(request, "workflow/work_list.html", {
        "lists": lists, "current": selectors.WORK_LISTS[key], "form": form, "page": page,
        "query_string": query_string.urlencode(),
    })


@staff_required
@require_GET
def notification_list(request):
    page = page_without_count(selectors.notifications_for(user=request.user), request.GET.get("page"), PER_PAGE)
    return render(request, "workflow/notifications.html", {"page": page})


@staff_required
@require_POST
def notification_open(request, notification_id):
    notification = services.notification_open(user=request.user, notification_id=notification_id)
    if notification is None:
        raise Http404()
    if notification.order_id is None:
        return redirect(notification.link or "workflow:notifications")
    return redirect("complaints:order_detail", number=notification.order.number)


@staff_required
@require_POST
def notifications_read_all(request):
    services.notifications_mark_all_read(user=request.user)
    return redirect("workflow:notifications")
