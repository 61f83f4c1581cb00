"""Early warning in the browser: alerts, incidents and bulletins. Parse, call one service or selector, render."""

from __future__ import annotations

import datetime
from functools import wraps

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from complaints.models import Category, OrderStatus, WorkOrder
from complaints.selectors import category_responsible_department, order_get_for_user, regions_visible_to
from core.permissions import has_role, is_dispatcher, staff_required
from core.transitions import available_actions
from core.web.forms import apply_service_errors, form_submit
from core.web.pagination import page_without_count
from org import roles
from org.models import Department, Region
from quality import batch
from quality.models import BatchAlert, Bulletin, Incident, WarningLevel
from workflow.services import (
    ActionNotPossible,
    order_attach_incident,
    order_detach_incident,
)

PER_PAGE = 50
WARNING_ROLES = (roles.DISPATCHER, roles.QUALITY_MANAGER, roles.LEAD, roles.HANDLER, roles.FRONTLINE_AGENT)


def may_see_warnings(user) -> bool:
    """Early warning is for the complaint centre, departments and the frontline (and the quality team)."""
    return bool(user.is_authenticated and (user.is_superuser or has_role(user, *WARNING_ROLES)))


def warning_required(view):
    @wraps(view)
    @staff_required
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not may_see_warnings(user):
            raise PermissionDenied(_("Early warning is for the complaint centre, departments and the frontline."))
        return view(request, *args, **kwargs)

    return wrapper


def _in_region(qs, user, field="region"):
    return qs if user.is_superuser else qs.filter(**{f"{field}__in": regions_visible_to(user)})


def _dt(attrs=None):
    return forms.DateTimeInput(attrs={"type": "datetime-local", **(attrs or {})}, format="%Y-%m-%dT%H:%M")


class IncidentForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    department = forms.ModelChoiceField(label=gettext_lazy("Responsible department"),
                                        queryset=Department.objects.filter(kind=Department.Kind.BACK_OFFICE,
                                                                           is_active=True))
    category = forms.ModelChoiceField(label=gettext_lazy("Category (and below)"),
                                      queryset=Category.objects.filter(is_active=True).order_by("path"))
    region = forms.ModelChoiceField(label=gettext_lazy("Affected area"), queryset=Region.objects.order_by("path"))
    area = forms.CharField(label=gettext_lazy("Cell or area"), max_length=64, required=False)
    services = forms.CharField(label=gettext_lazy("Affected services"), max_length=200, required=False)
    cause = forms.CharField(label=gettext_lazy("Cause (as far as known)"), widget=forms.Textarea(attrs={"rows": 2}),
                            required=False)
    expected_recovery_at = forms.DateTimeField(label=gettext_lazy("Expected recovery"), widget=_dt(),
                                               input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])


class DismissForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why it is not an incident"), widget=forms.Textarea(attrs={"rows": 2}),
                             required=False)


class LevelForm(forms.Form):
    level = forms.ChoiceField(label=gettext_lazy("Level"), choices=WarningLevel.choices)
    reason = forms.CharField(label=gettext_lazy("Why (media, government attention…)"), required=False)


class FeedbackForm(forms.Form):
    feedback = forms.CharField(label=gettext_lazy("Progress"), widget=forms.Textarea(attrs={"rows": 3}),
                               required=False)


class ResolveForm(forms.Form):
    answer = forms.CharField(label=gettext_lazy("Answer to every attached customer"),
                             widget=forms.Textarea(attrs={"rows": 3}), required=False)
    cause_report = forms.CharField(label=gettext_lazy("Cause report"), widget=forms.Textarea(attrs={"rows": 3}),
                                   required=False)


class BulletinForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Bulletin.Kind.choices)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200, required=False)
    department = forms.ModelChoiceField(label=gettext_lazy("Department"),
                                        queryset=Department.objects.filter(is_active=True).order_by("name"))
    regions = forms.ModelMultipleChoiceField(label=gettext_lazy("Area (regions and below)"),
                                             queryset=Region.objects.order_by("path"), required=False)
    categories = forms.ModelMultipleChoiceField(label=gettext_lazy("Categories (and below; none: all)"),
                                                queryset=Category.objects.filter(is_active=True, level__lte=3)
                                                .order_by("path"), required=False)
    services = forms.CharField(label=gettext_lazy("Affected services"), max_length=200, required=False)
    starts_at = forms.DateTimeField(label=gettext_lazy("From"), widget=_dt(),
                                    input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    ends_at = forms.DateTimeField(label=gettext_lazy("Until"), widget=_dt(), required=False,
                                  input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    answer = forms.CharField(label=gettext_lazy("Suggested answer for the frontline"),
                             widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not is_dispatcher(user) and user.department_id:
            self.fields["department"].queryset = Department.objects.filter(pk=user.department_id)
            self.fields["department"].initial = user.department_id


def _context(request, **extra):
    user = request.user
    return {"tab": "", "is_dispatcher": is_dispatcher(user), **extra}


@warning_required
@require_GET
def alert_list(request):
    state = request.GET.get("state", "live")
    qs = _in_region(BatchAlert.objects.select_related("category", "region", "incident"), request.user)
    qs = qs.filter(status__in=["open", "confirmed"]) if state == "live" else qs.exclude(status__in=["open",
                                                                                                  "confirmed"])
    page = page_without_count(qs.order_by("-raised_at", "-id"), request.GET.get("page"), PER_PAGE)
    return render(request, "quality/alerts.html", _context(request, tab="alerts", page=page, state=state,
                                                           query_string=f"state={state}"))


def _alert(request, pk) -> BatchAlert:
    alert = _in_region(BatchAlert.objects.select_related("category", "region", "incident"), request.user).filter(
        pk=pk).first()
    if alert is None:
        raise Http404(_("No such alert that you may see."))
    return alert


def _alert_page(request, alert, *, forms_=None, status=200):
    forms_ = forms_ or {}

    department = category_responsible_department(category=alert.category)
    initial = {"title": f"{alert.region} · {alert.category.label}", "department": department.pk if department else None,
               "category": alert.category_id, "region": alert.region_id, "area": alert.area,
               "expected_recovery_at": timezone.localtime() + datetime.timedelta(hours=4)}
    return render(request, "quality/alert.html", _context(
        request, tab="alerts", alert=alert,
        incident_form=forms_.get("incident") or IncidentForm(initial=initial),
        dismiss_form=forms_.get("dismiss") or DismissForm(), level_form=forms_.get("level") or LevelForm(),
        orders=batch._slice_orders((alert.category_id, alert.region_id, alert.area), ctx=batch.Context())
        .filter(received_at__gte=alert.first_order_at).select_related("category", "region")
        .order_by("-received_at")[:20]), status=status)


@warning_required
@require_GET
def alert_detail(request, pk):
    return _alert_page(request, _alert(request, pk))


@warning_required
@require_POST
def alert_confirm(request, pk):
    alert = _alert(request, pk)
    form = IncidentForm(request.POST)
    return form_submit(request, form, lambda f: batch.incident_open(actor=request.user, alert=alert, **f.cleaned_data),
                       success=_("Incident opened; the open complaints join it."),
                       done=lambda incident: redirect("quality:incident", pk=incident.pk),
                       again=lambda f: _alert_page(request, alert, forms_={"incident": f}, status=400))


@warning_required
@require_POST
def alert_dismiss(request, pk):
    alert = _alert(request, pk)
    form = DismissForm(request.POST)
    return form_submit(request, form, lambda f: batch.alert_dismiss(actor=request.user, alert=alert, **f.cleaned_data),
                       success=_("Alert dismissed."), done=lambda _alert: redirect("quality:alerts"),
                       again=lambda f: _alert_page(request, alert, forms_={"dismiss": f}, status=400))


@warning_required
@require_POST
def alert_level(request, pk):
    alert = _alert(request, pk)
    form = LevelForm(request.POST)
    return form_submit(request, form, lambda f: batch.alert_raise_level(actor=request.user, alert=alert,
                                                                        **f.cleaned_data),
                       success=_("Level raised."), done=lambda _alert: redirect("quality:alert", pk=pk),
                       again=lambda f: _alert_page(request, alert, forms_={"level": f}, status=400))


@warning_required
def incident_list(request):
    form = None
    if is_dispatcher(request.user):
        form = IncidentForm(request.POST or None)
        if request.method == "POST":
            done = form_submit(request, form, lambda f: batch.incident_open(actor=request.user, **f.cleaned_data),
                               success=_("Incident opened; the open complaints join it."),
                               done=lambda incident: redirect("quality:incident", pk=incident.pk),
                               again=lambda f: None)  # the list below, with the form's errors
            if done is not None:
                return done
    elif request.method == "POST":
        raise PermissionDenied(_("Incidents are opened by dispatchers of the complaint centre."))
    state = request.GET.get("state", "open")
    qs = _in_region(Incident.objects.select_related("department", "category", "region"), request.user)
    qs = qs.filter(status=state if state in ("open", "resolved") else "open")
    page = page_without_count(qs.order_by("-opened_at"), request.GET.get("page"), PER_PAGE)
    return render(request, "quality/incidents.html", _context(
        request, tab="incidents", page=page, state=state, form=form, query_string=f"state={state}",
        now=timezone.now()), status=400 if form is not None and form.is_bound else 200)


def _incident(request, pk) -> Incident:
    incident = _in_region(Incident.objects.select_related("department", "category", "region", "opened_by",
                                                          "resolved_by"), request.user).filter(pk=pk).first()
    if incident is None:
        raise Http404(_("No such incident that you may see."))
    return incident


def _incident_page(request, incident, *, forms_=None, status=200):
    forms_ = forms_ or {}
    user = request.user
    children = incident.orders.select_related("customer", "channel", "category", "region", "current_department")
    page = page_without_count(children.order_by("-received_at"), request.GET.get("page"), PER_PAGE)
    offered = available_actions(user, incident)
    return render(request, "quality/incident.html", _context(
        request, tab="incidents", incident=incident, page=page, now=timezone.now(),
        waiting=incident.orders.filter(status=OrderStatus.IN_INCIDENT).count(),
        total=incident.orders.count(),
        feedback_form=forms_.get("feedback") or FeedbackForm(), resolve_form=forms_.get("resolve") or ResolveForm(),
        may_feedback="feedback" in offered, may_resolve="resolve" in offered,
        query_string=""), status=status)


@warning_required
@require_GET
def incident_detail(request, pk):
    return _incident_page(request, _incident(request, pk))


@warning_required
@require_POST
def incident_feedback(request, pk):
    incident = _incident(request, pk)
    form = FeedbackForm(request.POST)
    return form_submit(request, form, lambda f: batch.incident_feedback(actor=request.user, incident=incident,
                                                                        **f.cleaned_data),
                       success=_("Feedback recorded."), done=lambda _incident: redirect("quality:incident", pk=pk),
                       again=lambda f: _incident_page(request, incident, forms_={"feedback": f}, status=400))


@warning_required
@require_POST
def incident_resolve(request, pk):
    incident = _incident(request, pk)
    form = ResolveForm(request.POST)
    return form_submit(request, form, lambda f: batch.incident_resolve(actor=request.user, incident=incident,
                                                                       **f.cleaned_data),
                       success=_("Incident resolved: every attached customer is answered and will be called back."),
                       done=lambda _incident: redirect("quality:incident", pk=pk),
                       again=lambda f: _incident_page(request, incident, forms_={"resolve": f}, status=400))


@staff_required
@require_POST
def order_incident(request, number):
    """Attach an order to an open incident (one click on the order page), or detach it."""
    order = order_get_for_user(user=request.user, number=number)
    if order is None:
        raise Http404(_("No order %(number)s that you may see.") % {"number": number})
    try:
        if request.POST.get("detach"):
            order_detach_incident(actor=request.user, order=order, reason=request.POST.get("reason", ""))
            messages.success(request, _("Detached from the incident."))
        else:
            incident = Incident.objects.filter(pk=request.POST.get("incident") or 0, status="open").first()
            if incident is None:
                raise ValidationError(_("Choose an open incident."))
            order_attach_incident(actor=request.user, order=order, incident=incident)
            messages.success(request, _("Attached to the incident."))
    except (ValidationError, ActionNotPossible) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return redirect("complaints:order_detail", number=number)


def incidents_for_order(order: WorkOrder) -> list[Incident]:
    """Open incidents an order could join (for its page)."""
    codes = [c for c in order.category.path.strip("/").split("/") if c]
    region_codes = [c for c in order.region.path.strip("/").split("/") if c]
    return list(Incident.objects.filter(status="open", category__code__in=codes, region__code__in=region_codes)[:5])


def order_incident_panel(*, order: WorkOrder, user, stage: str | None, actions) -> dict:
    """The order page's incident panel (workflow.hooks.order_page_panel): open incidents the order could join
    (while it waits at dispatch or in a queue), and whether it may leave, as the order's action table allows."""
    return {"joinable_incidents": incidents_for_order(order) if "attach" in actions else [],
            "may_detach": "detach" in actions}


def _incidents_matching(*, region, category):
    """Open incidents of this category covering the region (a new complaint joins them by itself) or an area
    within it (the agent asks the customer where they are, and joins it with one click: `incident.joins_by_itself`
    is False)."""
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


def intake_incident_panel(*, user, customer, category, description: str) -> dict:
    """The intake panel's bulletins and incidents (workflow.hooks.intake_panel): the customer's region only when
    the agent may see it (the faults of the district would tell it)."""
    region = batch.order_region_for(customer=customer, actor=user)
    return {"bulletins": batch.bulletins_matching(region=region, category=category),
            "incidents": _incidents_matching(region=region, category=category)}


@warning_required
def bulletin_list(request):
    user = request.user
    may_publish = user.is_superuser or has_role(user, roles.DISPATCHER, roles.LEAD, roles.HANDLER)
    form = BulletinForm(request.POST or None, user=user) if may_publish else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(_("Bulletins are published by the department concerned or the complaint centre."))
        if form.is_valid():
            try:
                bulletin = batch.bulletin_publish(actor=user, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                if bulletin.late:
                    messages.warning(request, _("Published, and recorded as late: %(why)s.") % {
                        "why": bulletin.late_reason})
                else:
                    messages.success(request, _("Bulletin published."))
                return redirect("quality:bulletins")
    live = request.GET.get("state", "live") == "live"
    qs = Bulletin.objects.select_related("department", "published_by").prefetch_related("regions")
    now = timezone.now()
    if live:
        qs = qs.filter(withdrawn_at__isnull=True).exclude(ends_at__lt=now)
    page = page_without_count(qs.order_by("-published_at"), request.GET.get("page"), PER_PAGE)
    return render(request, "quality/bulletins.html", _context(
        request, tab="bulletins", page=page, form=form, live=live, now=now,
        query_string="state=live" if live else "state=all"), status=400 if form is not None and form.is_bound else 200)


@warning_required
@require_POST
def bulletin_withdraw(request, pk):
    bulletin = Bulletin.objects.filter(pk=pk).first()
    if bulletin is None:
        raise Http404()
    batch.bulletin_withdraw(actor=request.user, bulletin=bulletin)
    messages.success(request, _("Bulletin withdrawn."))
    return redirect("quality:bulletins")
