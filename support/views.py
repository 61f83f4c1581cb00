"""Support requests in the browser: parse the form, call one service or selector, render."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from core.permissions import staff_required
from core.transitions import available_actions
from core.web.forms import apply_service_errors
from core.web.pagination import page_without_count
from support import selectors, services
from support.forms import ListFilterForm, RaiseForm, action_form
from support.models import SupportPolicy
from support.selectors import ListFilters, OnTimeRate
from support.services import RequestNotPossible

PER_PAGE = 50

ACTION_BUTTONS = {
    "route": gettext_lazy("Route to a department"),
    "answer": gettext_lazy("Write the answer"),
    "reject": gettext_lazy("Reject: not a support matter"),
    "return": gettext_lazy("Return to the quality department"),
    "defer": gettext_lazy("Defer"),
    "approve": gettext_lazy("Approve and send to the requester"),
    "send_back": gettext_lazy("Send back to the handler"),
    "rate": gettext_lazy("Rate the answer"),
    "comment": gettext_lazy("Add a comment"),
}
# Shown open on the page (the others are folded until clicked).
OPEN_ACTIONS = {"route", "answer", "approve", "rate"}

SUCCESS_MESSAGES = {
    "route": gettext_lazy("Routed to the department."),
    "answer": gettext_lazy("Answer saved."),
    "reject": gettext_lazy("Rejected; the requester is told why."),
    "return": gettext_lazy("Returned to the quality department."),
    "defer": gettext_lazy("Deferred: the promised date has moved."),
    "approve": gettext_lazy("Approved: the answer went to the requester."),
    "send_back": gettext_lazy("Sent back to the handler."),
    "rate": gettext_lazy("Thank you for your rating."),
    "comment": gettext_lazy("Comment added."),
}


def support_required(view):
    @wraps(view)
    @staff_required
    def wrapper(request, *args, **kwargs):
        if not selectors.may_use_support(request.user):
            raise PermissionDenied(_("Support requests are for frontline units, back-office departments and the "
                                     "quality department."))
        return view(request, *args, **kwargs)

    return wrapper


@support_required
@require_GET
def request_list(request):
    form = ListFilterForm(request.GET or None)
    scope = "mine" if request.GET.get("scope") == "mine" else "all"
    filters, answered_from, answered_to = ListFilters(scope=scope), None, None
    if form.is_valid():
        data = form.cleaned_data
        filters = ListFilters(scope=scope, state=data["state"], kind=data["kind"], department=data["department"],
                              q=data["q"])
        answered_from, answered_to = data["answered_from"], data["answered_to"]
    now = timezone.now()
    page = page_without_count(selectors.request_list(user=request.user, filters=filters, now=now),
                              request.GET.get("page"), PER_PAGE)
    rates = selectors.on_time_rates(answered_from=answered_from, answered_to=answered_to)
    selected = None
    if filters.department is not None:
        selected = next((r for r in rates if r.department_id == filters.department.pk),
                        OnTimeRate(filters.department.pk, filters.department.name, 0, 0))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("scope", None)
    filters_query = query.urlencode()
    return render(request, "support/list.html", {
        "form": form, "page": page, "scope": scope, "rates": rates, "selected": selected, "now": now,
        "may_raise": selectors.may_raise(request.user), "filters_query": filters_query,
        "answered_from": answered_from, "answered_to": answered_to,
        "query_string": f"scope={scope}&{filters_query}",
    })


@support_required
def request_new(request):
    if not selectors.may_raise(request.user):
        raise PermissionDenied(_("Support requests are raised by agents and leads of frontline units."))
    form = RaiseForm(request.POST or None, policy=SupportPolicy.in_force())
    if request.method == "POST" and form.is_valid():
        try:
            created = services.request_raise(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Support request %(number)s raised; the quality department sorts it.")
                             % {"number": created.number})
            return redirect("support:detail", number=created.number)
    return render(request, "support/new.html", {"form": form}, status=400 if form.is_bound else 200)


def _request_or_404(request, number):
    found = selectors.request_get_for_user(user=request.user, number=number)
    if found is None:
        raise Http404(_("No such support request that you may see."))
    return found


def _detail_page(request, support_request, *, bound=None, status=200):
    ctx = services.request_context(request=support_request)
    bound = bound or {}
    actions = []
    for action in available_actions(request.user, support_request, ctx=ctx):
        label = ACTION_BUTTONS[action]
        if action == "answer" and ctx.stage == "sort":
            label = _("Answer directly")
        actions.append({"name": action, "label": label, "form": bound.get(action) or action_form(action, support_request),
                        "open": action in OPEN_ACTIONS or action in bound, "danger": action == "reject"})
    return render(request, "support/detail.html", {
        "r": support_request, "actions": actions, "events": selectors.request_events(request=support_request),
        "policy_days": services.request_policy(support_request).working_days_for(support_request.kind),
        "stage": ctx.stage,
    }, status=status)


@support_required
@require_GET
def request_detail(request, number):
    return _detail_page(request, _request_or_404(request, number))


@support_required
@require_POST
def request_action(request, number, action):
    if action not in services.ACTIONS:
        raise Http404()
    support_request = _request_or_404(request, number)
    form = action_form(action, support_request, request.POST)
    if form.is_valid():
        try:
            services.request_act(action=action, actor=request.user, request=support_request, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except RequestNotPossible as exc:
            messages.error(request, str(exc))
            return _detail_page(request, _request_or_404(request, number), status=409)
        except PermissionDenied as exc:
            messages.error(request, str(exc) or _("You may not do this."))
            return _detail_page(request, support_request, status=403)
        else:
            messages.success(request, str(SUCCESS_MESSAGES[action]))
            return redirect("support:detail", number=number)
    return _detail_page(request, support_request, bound={action: form}, status=400)
