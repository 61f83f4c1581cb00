"""Browser views: parse the form, call one service or selector, render."""

import datetime
import math
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from complaints import selectors, services
from complaints.authority import authority_levels_in_force
from complaints.files import DOWNLOAD_POLICY, INLINE_TYPES, attachment_filename, stored_file_type
from complaints.forms import AttachmentForm, IntakeForm, OrderFilterForm, TrackForm
from complaints.models import Attachment, Category, OrderSource
from complaints.pagination import page_without_count
from complaints.phone import mask, normalise_mobile
from complaints.redaction import redact_name
from core.permissions import may_intake, may_see_full_phone, staff_required
from core.security import client_network
from core.throttles import browser_create_refusal

ORDERS_PER_PAGE = 50


@staff_required
def home(request):
    if may_intake(request.user):
        return redirect("complaints:intake")
    return redirect("complaints:order_list")


def _apply_service_errors(form, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        for field_name, errors in exc.message_dict.items():
            form.add_error(field_name if field_name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def intake_required(view):
    """The intake page and its panels: for those who may log orders (core.permissions.may_intake, the rule of
    order_create); any other role is refused (403)."""
    @staff_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not may_intake(request.user):
            raise PermissionDenied(_("Only frontline agents, dispatchers and channel systems may log orders."))
        return view(request, *args, **kwargs)

    return wrapper


@intake_required
def intake(request):
    default_channel = request.user.department.channel if request.user.department_id else None
    refused = None
    if request.method == "POST":
        form = IntakeForm(request.POST, request.FILES)
        refused = browser_create_refusal(request)
        if refused is not None:  # a script driving the form: the same creation budget as the API's
            form.add_error(None, _("Too many orders logged in a short time: at most %(limit)d in %(seconds)d "
                                   "seconds. Try again in %(wait)d seconds.")
                           % {"limit": refused.limit, "seconds": refused.window_seconds,
                              "wait": math.ceil(refused.wait)})
        elif form.is_valid():
            data = form.cleaned_data
            try:
                result = services.order_create(
                    actor=request.user,
                    kind=data["kind"],
                    channel=data["channel"],
                    category=data["category"],
                    severity=data["severity"],
                    description=data["description"],
                    customer_phone=data["customer_phone"],
                    contact_phone=data["contact_phone"],
                    customer_name=data["customer_name"],
                    customer_tier=data["customer_tier"] or None,
                    customer_brand=data["customer_brand"] or None,
                    note=data["note"],
                    attachments=data["attachments"],
                    on_spot=services.OnSpotAnswer(data["answer"], data["compensation"])
                    if data["resolve_on_spot"] else None,
                    source=OrderSource.BROWSER,
                    area=data["area"],
                    bulletin=data["bulletin"] if data["resolve_on_spot"] else None,
                    incident=data["incident"],
                    article_version=data["article_version"],
                    update_customer=data["update_customer"],
                )
            except ValidationError as exc:
                _apply_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error("resolve_on_spot", str(exc))
            else:
                order = result.order
                if order.resolved_on_spot:
                    messages.success(request, _("Order %(number)s logged and closed on the spot.") % {"number": order.number})
                else:
                    messages.success(request, _("Order %(number)s logged.") % {"number": order.number})
                for warning in result.warnings:
                    messages.warning(request, warning)
                return redirect("complaints:order_detail", number=order.number)
    else:
        form = IntakeForm(initial={"channel": default_channel.code if default_channel else None})
    selected_category = form["category"].value()
    category = Category.objects.filter(pk=selected_category).first() if str(selected_category or "").isdigit() else None
    context = {
        "form": form,
        "selected_category": category,
        "has_authority": bool(authority_levels_in_force(user=request.user)),
    }
    response = render(request, "complaints/intake.html", context, status=429 if refused is not None else 200)
    if refused is not None:
        response["Retry-After"] = str(math.ceil(refused.wait))
    return response


@intake_required
@require_GET
def intake_category_options(request):
    query = request.GET.get("q", "")
    categories = selectors.category_search(query=query)
    return render(request, "complaints/_category_options.html", {"categories": categories, "query": query.strip()})


@intake_required
@require_GET
def intake_customer_panel(request):
    """The right-hand panel: who the customer is, everything they raised before, a repeat warning, the 口径 — as far
    as the agent may see them (selectors.intake_customer_for_user)."""
    raw_phone = request.GET.get("customer_phone", "").strip()
    category_id = request.GET.get("category", "")
    category = Category.objects.filter(pk=category_id).first() if category_id.isdigit() else None
    # Echoed back so the page can tell an answer to an older request (the category or the number changed since)
    # from a current one; the number as the reader may see it.
    full = may_see_full_phone(request.user)
    context = {"raw_phone": raw_phone if full else mask(raw_phone), "phone_masked": not full,
               "requested_category": category_id, "category": category}
    panel = None
    if raw_phone:
        try:
            phone = normalise_mobile(raw_phone)
        except ValidationError as exc:
            context["phone_error"] = exc.messages[0]
        else:
            panel = selectors.intake_customer_for_user(user=request.user, phone=phone, category=category)
            context.update(phone=phone, panel=panel, customer=panel.customer, history=panel.history,
                           repeat_of=panel.repeat, repeat_window_days=panel.window_days)
    from quality.batch import bulletins_matching, order_region_for

    # The customer's region only when the agent may see it (the faults of the district would tell it).
    region = order_region_for(customer=panel.customer if panel else None, actor=request.user)
    context["bulletins"] = bulletins_matching(region=region, category=category)
    from knowledge.selectors import intake_suggestions

    context["suggestions"] = intake_suggestions(user=request.user, category=category,
                                                description=request.GET.get("description", "")[:2000])
    context["chosen_version"] = request.GET.get("article_version", "")
    context["incidents"] = _incidents_matching(region=region, category=category)
    if category is not None:
        context["responsible_department"] = selectors.category_responsible_department(category=category)
    return render(request, "complaints/_customer_panel.html", context)


def _incidents_matching(*, region, category):
    """Open incidents of this category covering the region (a new complaint joins them by itself) or an area
    within it (the agent asks the customer where they are, and joins it with one click: `incident.joins_by_itself`
    is False)."""
    from quality.models import Incident

    if region is None or category is None:
        return []
    codes = [c for c in category.path.strip("/").split("/") if c]
    region_codes = [c for c in region.path.strip("/").split("/") if c]
    incidents = list(Incident.objects.filter(status=Incident.Status.OPEN, category__code__in=codes)
                     .filter(Q(region__code__in=region_codes) | Q(region__path__startswith=region.path))
                     .select_related("region").order_by("-opened_at")[:5])
    for incident in incidents:
        incident.joins_by_itself = region.path.startswith(incident.region.path)
    return incidents


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


def _incident_actions(user, order, ctx) -> dict:
    """Open incidents the order could join (while it waits at dispatch or in a queue), and whether it may leave."""
    from quality.warning_views import incidents_for_order
    from workflow.services import (  # local: the views move to workflow/
        may_attach_incident,
        may_detach_incident,
    )

    may_attach = order.is_open and order.incident_id is None and ctx.stage in ("dispatch", "handle") \
        and order.status in ("new", "queued", "in_progress") and order.kind == "complaint" \
        and may_attach_incident(user, department_id=order.current_department_id)
    return {"joinable_incidents": incidents_for_order(order) if may_attach else [],
            "may_detach": order.status == "in_incident" and may_detach_incident(user)}


def _order_or_404(request, number):
    order = selectors.order_get_for_user(user=request.user, number=number)
    if order is None:
        raise Http404(_("No order %(number)s that you may see.") % {"number": number})
    return order


def _related_repeats(user, order) -> dict:
    """The order this one repeats and the orders that repeat it, as far as `user` may open them: the numbers of
    the others are withheld and counted (the same rule as the intake's repeat warning)."""
    visible = selectors.orders_visible_to(user)
    later = list(order.repeats.only("number", "received_at").order_by("received_at"))
    shown_ids = set(visible.filter(pk__in=[o.pk for o in later]).values_list("pk", flat=True)) if later else set()
    repeat_of = None
    if order.repeat_of_id:
        repeat_of = visible.filter(pk=order.repeat_of_id).only("number").first()
    return {"repeat_of": repeat_of, "repeat_of_hidden": bool(order.repeat_of_id) and repeat_of is None,
            "repeats": [o for o in later if o.pk in shown_ids], "repeats_hidden": len(later) - len(shown_ids)}


def order_page(request, order, *, bound: dict | None = None, status: int = 200):
    from knowledge.views import order_knowledge
    from workflow.forms import action_forms
    from workflow.selectors import order_promises, order_timeline
    from workflow.services import order_actions_available, order_context

    ctx = order_context(order=order)
    available = order_actions_available(user=request.user, order=order, ctx=ctx)
    customer_shown = selectors.customer_visible_to(user=request.user, customer=order.customer)
    stages = list(order.stages.select_related("policy").order_by("started_at", "id"))
    history = [
        other for other in selectors.customer_history_for_user(user=request.user, phone=order.customer.phone, limit=21)
        if other.pk != order.pk
    ][:20]
    context = {
        "order": order,
        "task": ctx.task,
        "stage": ctx.stage,
        "history": history,
        "events": order_timeline(order=order).select_related("actor"),
        "notes": order.notes.all(),
        "attachments": order.attachments.all(),
        # Repeats are linked across the province, but another region's order is only counted, never named.
        **_related_repeats(request.user, order),
        # Who the customer is, as far as the reader may know (another region's customer: the order's own record).
        "customer_shown": customer_shown,
        "customer_name_shown": order.customer.name if customer_shown else redact_name(order.customer.name),
        "available": available,
        "stages": stages,
        "promises": order_promises(order=order, stages=stages),
        "pending_extension": ctx.pending_extension if order.is_open else None,
        "forms": action_forms(order=order, available=available, bound=bound),
        "attachment_form": AttachmentForm() if order.is_open else None,
        **_incident_actions(request.user, order, ctx),
        **order_knowledge(order, request.user),
    }
    return render(request, "complaints/order_detail.html", context, status=status)


@staff_required
@require_GET
def order_detail(request, number):
    return order_page(request, _order_or_404(request, number))


@staff_required
@require_POST
def order_attachment_add(request, number):
    order = _order_or_404(request, number)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.order_attachment_add(actor=request.user, order=order, upload=form.cleaned_data["file"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Attachment added."))
    else:
        messages.error(request, _("Choose a file."))
    return redirect("complaints:order_detail", number=order.number)


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




def _track_rate_limited(request) -> bool:
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


def track(request):
    """Public progress page: the same answer for an unknown number and a wrong phone number."""
    form = TrackForm(request.POST or None)
    context = {"form": form}
    status_code = 200
    if request.method == "POST":
        if _track_rate_limited(request):
            context["rate_limited"] = True
            status_code = 429
        elif form.is_valid():
            order = None
            try:
                phone = normalise_mobile(form.cleaned_data["phone"])
            except ValidationError:
                phone = None
            if phone:
                order = selectors.order_track(number=form.cleaned_data["number"], phone=phone)
            if order is None:
                context["not_found"] = True
            else:
                from workflow.selectors import order_progress_public

                context["order"] = order
                context["progress"] = order_progress_public(order=order)
                context["public_notes"] = order.notes.filter(is_internal=False).only("body", "created_at")
    return render(request, "complaints/track.html", context, status=status_code)


