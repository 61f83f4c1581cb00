"""Browser views of the workflow: parse the form, call one service or selector, render."""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from complaints import selectors as complaint_selectors
from complaints.forms import AttachmentForm, TrackForm
from complaints.phone import normalise_mobile
from complaints.redaction import redact_name
from complaints.views import _order_or_404, search_filters, track_rate_limited
from core.permissions import staff_required
from core.transitions import available_actions
from core.web.forms import apply_service_errors
from core.web.pagination import page_without_count
from workflow import hooks, notes, selectors, services
from workflow.forms import WorkListFilterForm, action_form, action_forms
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


def _related_repeats(user, order) -> dict:
    """The order this one repeats and the orders that repeat it, as far as `user` may open them: the numbers of
    the others are withheld and counted (the same rule as the intake's repeat warning)."""
    visible = complaint_selectors.orders_visible_to(user)
    later = (list(order.repeats.only("number", "received_at").order_by("received_at"))
             if getattr(order, "has_repeats", True) else [])
    shown_ids = set(visible.filter(pk__in=[o.pk for o in later]).values_list("pk", flat=True)) if later else set()
    repeat_of = None
    if order.repeat_of_id:
        repeat_of = visible.filter(pk=order.repeat_of_id).only("number").first()
    return {"repeat_of": repeat_of, "repeat_of_hidden": bool(order.repeat_of_id) and repeat_of is None,
            "repeats": [o for o in later if o.pk in shown_ids], "repeats_hidden": len(later) - len(shown_ids)}


@dataclass(frozen=True)
class Holding:
    clock: selectors.DepartmentClock
    share: float  # per cent of the working time the order was held
    offset: float  # where its segment starts on the bar, per cent


def _holdings(clocks) -> list[Holding]:
    """Each holding's share of the working time the order was held, laid end to end for the bar."""
    held = sum(clock.working_seconds_used for clock in clocks)
    holdings, offset = [], 0.0
    for clock in clocks:
        share = 100 * clock.working_seconds_used / held if held else 100 / len(clocks)
        holdings.append(Holding(clock, round(share, 1), round(offset, 2)))
        offset += share
    return holdings


def order_page(request, order, *, bound: dict | None = None, status: int = 200):
    stages = list(order.stages.select_related("policy", "department").prefetch_related("pauses")
                  .order_by("started_at", "id"))
    ctx = services.order_context(order=order, stages=stages)
    allowed = available_actions(request.user, order, ctx=ctx)  # the order's action table, attach and detach too
    available = [action for action in allowed if action in services.ACTIONS]
    customer_shown = complaint_selectors.customer_visible_to(user=request.user, customer=order.customer)
    clocks = selectors.order_department_clocks(order=order, stages=stages)
    history = [
        other for other in complaint_selectors.customer_history_for_user(user=request.user, phone=order.customer.phone, limit=21)
        if other.pk != order.pk
    ][:20]
    context = {
        "order": order,
        "category_label": complaint_selectors.category_full_label(order.category),
        "task": ctx.task,
        "stage": ctx.stage,
        "history": history,
        "events": selectors.order_timeline(order=order).select_related("actor"),
        # (the page's read says whether there are any: most orders have none, and then nothing is read)
        "notes": order.notes.all() if getattr(order, "has_notes", True) else [],
        "attachments": order.attachments.all() if getattr(order, "has_attachments", True) else [],
        # Repeats are linked across the province, but another region's order is only counted, never named.
        **_related_repeats(request.user, order),
        # Who the customer is, as far as the reader may know (another region's customer: the order's own record).
        "customer_shown": customer_shown,
        "customer_name_shown": order.customer.name if customer_shown else redact_name(order.customer.name),
        "available": available,
        "stages": stages,
        "promises": selectors.order_promises(order=order, stages=stages),
        # who held the order for how long: each holding's share of the working time, for the bar
        "holdings": _holdings(clocks),
        "pending_extension": ctx.pending_extension if order.is_open else None,
        "forms": action_forms(order=order, available=available, bound=bound),
        "attachment_form": AttachmentForm() if order.is_open else None,
    }
    # The incident panel (quality), the articles used and the case proposal (knowledge).
    for panel in hooks.order_page_panel.gather(order=order, user=request.user, stage=ctx.stage, actions=allowed):
        context.update(panel)
    return render(request, "complaints/order_detail.html", context, status=status)


@staff_required
@require_GET
def order_detail(request, number):
    order = complaint_selectors.order_get_for_user(user=request.user, number=number, sections=True)
    if order is None:
        raise Http404(_("No order %(number)s that you may see.") % {"number": number})
    return order_page(request, order)


@staff_required
@require_POST
def order_attachment_add(request, number):
    order = _order_or_404(request, number)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            notes.order_attachment_add(actor=request.user, order=order, upload=form.cleaned_data["file"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Attachment added."))
    else:
        messages.error(request, _("Choose a file."))
    return redirect("complaints:order_detail", number=order.number)


def track(request):
    """Public progress page: the same answer for an unknown number and a wrong phone number."""
    # The SMS link (受理短信) carries the order number: the customer types only their phone number.
    initial = {"number": request.GET.get("number", "")[:20]} if request.method == "GET" else None
    form = TrackForm(request.POST or None, initial=initial)
    context = {"form": form}
    status_code = 200
    if request.method == "POST":
        if track_rate_limited(request):
            context["rate_limited"] = True
            status_code = 429
        elif form.is_valid():
            order = None
            try:
                phone = normalise_mobile(form.cleaned_data["phone"])
            except ValidationError:
                phone = None
            if phone:
                order = complaint_selectors.order_track(number=form.cleaned_data["number"], phone=phone)
            if order is None:
                context["not_found"] = True
            else:
                context["order"] = order
                context["progress"] = selectors.order_progress_public(order=order)
                context["public_notes"] = order.notes.filter(is_internal=False).only("body", "created_at")
    return render(request, "complaints/track.html", context, status=status_code)


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
            apply_service_errors(form, exc)
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
    complaint_selectors.with_reference_data(page)
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
