"""Browser views: parse the form, call one service or selector, render."""

import datetime
import math

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from complaints import selectors, services
from complaints.files import DOWNLOAD_POLICY, INLINE_TYPES, attachment_filename, stored_file_type
from complaints.forms import OrderFilterForm
from complaints.models import Attachment
from core.permissions import staff_required
from core.security import client_network
from core.throttles import browser_create_refusal
from core.web.pagination import page_without_count

ORDERS_PER_PAGE = 50




search_filters = selectors.order_search_filters  # the work lists' search box too


@staff_required
@require_GET
def order_list(request):
    form = OrderFilterForm(request.GET or None)
    filters = {}
    if form.is_valid():
        data = form.cleaned_data
        filters.update(search_filters(data.get("q")))
        filters["status"] = data.get("status")
        filters["kind"] = data.get("kind")
        filters["channel"] = data["channel"].code if data.get("channel") else None
        filters["deadline"] = data.get("deadline")
        filters["region"] = data.get("region")
        filters["current_department"] = data.get("current_department")
        tz = timezone.get_current_timezone()
        if data.get("received_from"):
            filters["received_from"] = datetime.datetime.combine(data["received_from"], datetime.time.min, tz)
        if data.get("received_to"):
            filters["received_to"] = datetime.datetime.combine(
                data["received_to"] + datetime.timedelta(days=1), datetime.time.min, tz
            )
    orders = selectors.order_list_for_user(user=request.user, filters=filters)
    page = page_without_count(orders, request.GET.get("page"), ORDERS_PER_PAGE)
    query_string = request.GET.copy()
    query_string.pop("page", None)
    return render(
        request,
        "complaints/order_list.html",
        {"form": form, "page": page, "query_string": query_string.urlencode()},
    )


def creation_budget_refusal(request, form):
    """A script driving the order form meets the same creation budget as the API's (core.throttles): the
    refusal, with its error on the form, or None."""
    refused = browser_create_refusal(request)
    if refused is not None:
        form.add_error(None, _("Too many orders logged in a short time: at most %(limit)d in %(seconds)d "
                               "seconds. Try again in %(wait)d seconds.")
                       % {"limit": refused.limit, "seconds": refused.window_seconds,
                          "wait": math.ceil(refused.wait)})
    return refused


def _order_or_404(request, number):
    order = selectors.order_get_for_user(user=request.user, number=number)
    if order is None:
        raise Http404(_("No order %(number)s that you may see.") % {"number": number})
    return order


@staff_required
@require_GET
def attachment_download(request, number, attachment_id):
    order = _order_or_404(request, number)
    attachment = Attachment.objects.filter(order=order, pk=attachment_id).first()
    if attachment is None:
        raise Http404()
    # Served by the type its bytes show, under a name with that type's extension, never as a page.
    handle = attachment.file.open("rb")
    content_type = stored_file_type(handle)
    response = FileResponse(handle, content_type=content_type, as_attachment=content_type not in INLINE_TYPES,
                            filename=attachment_filename(attachment.original_name, content_type))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_POLICY
    return response


@staff_required
@require_POST
def order_phone(request, number):
    """Reveal the order's masked phone numbers (logged); htmx swaps the answer in place of the button."""
    order = _order_or_404(request, number)
    page = request.POST.get("page", "order_detail")
    try:
        order = services.phone_disclose(actor=request.user, order=order, page=page)
    except ValidationError as exc:
        return HttpResponseBadRequest(" ".join(exc.messages), content_type="text/plain; charset=utf-8")
    template = "complaints/_phone_revealed.html" if request.headers.get("HX-Request") else \
        "complaints/phone_revealed.html"
    return render(request, template, {"order": order, "page": page})


def track_rate_limited(request) -> bool:
    """A fixed window per client address in the shared cache, so every web process counts together."""
    window = int(timezone.now().timestamp()) // settings.TRACK_RATE_WINDOW_SECONDS
    key = f"track-rate:{client_network(request)}:{window}"
    cache.add(key, 0, timeout=settings.TRACK_RATE_WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=settings.TRACK_RATE_WINDOW_SECONDS * 2)
        count = 1
    return count > settings.TRACK_RATE_LIMIT
