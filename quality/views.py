"""Browser views of the dissatisfied-customer follow-ups: parse, call one service or selector, render."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.permissions import is_centre_or_quality, staff_required
from core.web.forms import form_submit
from core.web.pagination import page_without_count
from quality import selectors, services
from quality.forms import FollowUpContactForm

PER_PAGE = 50
STATES = ("open", "overdue", "mine", "closed")


def follow_ups_required(view):
    @wraps(view)
    @staff_required
    def wrapper(request, *args, **kwargs):
        if not is_centre_or_quality(request.user):
            raise PermissionDenied(_("Follow-ups of dissatisfied customers are worked by the quality team and the "
                                     "complaint centre."))
        return view(request, *args, **kwargs)

    return wrapper


@follow_ups_required
@require_GET
def follow_up_list(request):
    state = request.GET.get("state", "open")
    if state not in STATES:
        state = "open"
    page = page_without_count(selectors.follow_up_list(user=request.user, state=state), request.GET.get("page"),
                              PER_PAGE)
    return render(request, "quality/follow_ups.html", {
        "page": page, "state": state, "now": timezone.now(), "tab": "follow_ups", "query_string": f"state={state}",
        "can_see_centre": is_centre_or_quality(request.user),
    })


def _get(request, pk):
    follow_up = selectors.follow_up_get(user=request.user, pk=pk)
    if follow_up is None:
        raise Http404(_("No such follow-up that you may see."))
    return follow_up


def _detail(request, follow_up, *, form=None, status=200):
    return render(request, "quality/follow_up.html", {
        "follow_up": follow_up, "events": follow_up.events.all(), "form": form or FollowUpContactForm(),
        "history": follow_up.customer.orders.select_related("category").order_by("-received_at")[:10],
        "surveys": follow_up.order.surveys.order_by("at"), "now": timezone.now(), "tab": "follow_ups",
        "can_see_centre": is_centre_or_quality(request.user),
    }, status=status)


@follow_ups_required
@require_GET
def follow_up_detail(request, pk):
    return _detail(request, _get(request, pk))


@follow_ups_required
@require_POST
def follow_up_take(request, pk):
    follow_up = _get(request, pk)
    try:
        services.follow_up_take(actor=request.user, follow_up=follow_up)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The follow-up is yours."))
    return redirect("quality:follow_up", pk=pk)


@follow_ups_required
@require_POST
def follow_up_contact(request, pk):
    follow_up = _get(request, pk)
    form = FollowUpContactForm(request.POST)
    return form_submit(request, form, lambda f: services.follow_up_contact(actor=request.user, follow_up=follow_up,
                                                                           **f.cleaned_data),
                       success=_("Recorded."), done=lambda _result: redirect("quality:follow_up", pk=pk),
                       again=lambda f: _detail(request, follow_up, form=f, status=400))
