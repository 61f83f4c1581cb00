"""The intake page and its side panels: parse the form, call one service or selector, render."""

import math
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from complaints import selectors
from complaints.authority import authority_levels_in_force
from complaints.models import Category, OrderSource
from complaints.phone import mask, normalise_mobile
from complaints.views import creation_budget_refusal
from core.permissions import may_intake, may_see_full_phone, staff_required
from core.web.forms import apply_service_errors
from workflow import hooks
from workflow import intake as intake_services
from workflow.intake_forms import IntakeForm


@staff_required
def home(request):
    if may_intake(request.user):
        return redirect("complaints:intake")
    return redirect("complaints:order_list")


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
        refused = creation_budget_refusal(request, form)
        if refused is None and form.is_valid():
            data = form.cleaned_data
            try:
                result = intake_services.order_create(
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
                    on_spot=intake_services.OnSpotAnswer(data["answer"], data["compensation"])
                    if data["resolve_on_spot"] else None,
                    source=OrderSource.BROWSER,
                    area=data["area"],
                    bulletin=data["bulletin"] if data["resolve_on_spot"] else None,
                    incident=data["incident"],
                    article_version=data["article_version"],
                    update_customer=data["update_customer"],
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
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
    # Bulletins and incidents (quality), suggested articles (knowledge).
    for panel_context in hooks.intake_panel.gather(user=request.user, customer=panel.customer if panel else None,
                                                   category=category,
                                                   description=request.GET.get("description", "")[:2000]):
        context.update(panel_context)
    context["chosen_version"] = request.GET.get("article_version", "")
    if category is not None:
        context["responsible_department"] = selectors.category_responsible_department(category=category)
    return render(request, "complaints/_customer_panel.html", context)
