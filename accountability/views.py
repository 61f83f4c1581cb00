"""Accountability in the browser: parse the form, call one service or selector, render (or export a table)."""

from __future__ import annotations

import datetime
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accountability import scoring, selectors, services
from accountability.forms import (
    AppealDecisionForm,
    AppealForm,
    DeductionForm,
    ImprovementAnswerForm,
    ImprovementReviewForm,
    MonthForm,
    NoticeAckForm,
    RecomputeForm,
    SharesForm,
    TargetGridForm,
)
from accountability.models import DeductionItem, Determination, ImprovementOrder, Indicator, MonthlyScore
from core.permissions import is_centre_or_quality, is_centre_staff, is_lead, is_quality, staff_required
from core.transitions import available_actions
from core.web.exports import ExportAbout
from core.web.forms import apply_service_errors, form_submit
from core.web.pagination import count_bounded, page_without_count
from core.web.tables import Cell, Table, list_export, table_page
from jobs.models import Job
from jobs.selectors import job_latest, job_visible_to
from org.models import Department
from reports.dashboards import UNIT_HOURS, UNIT_ORDERS, UNIT_PER_10K, Chart

PER_PAGE = 50


def accountability_required(view):
    @wraps(view)
    @staff_required
    def wrapper(request, *args, **kwargs):
        if not selectors.may_see_accountability(request.user):
            raise PermissionDenied(_("Accountability is for department leads, the complaint centre and the "
                                     "quality team."))
        return view(request, *args, **kwargs)

    return wrapper


def _context(request, **extra) -> dict:
    user = request.user
    return {"tab": "", "is_lead": is_lead(user), "is_centre": is_centre_staff(user),
            "may_record": is_centre_or_quality(user), "sees_region": is_centre_or_quality(user),
            "may_set_targets": is_quality(user),
            **extra}


def _month(request, default: datetime.date) -> datetime.date:
    form = MonthForm(request.GET or None)
    if form.is_valid() and form.cleaned_data.get("month"):
        return form.cleaned_data["month"].replace(day=1)
    return default


def _export_or_render(request, template, context, tables):
    """The page, or one of its tables as a file of the page's month (about_period) and filters (about_filters)."""
    return table_page(request, template, context, tables, about=lambda table: ExportAbout(
        title=str(table.title), period=context.get("about_period", ""), filters=context.get("about_filters", [])))


def _month_cell(month) -> Cell:
    return Cell(f"{month:%Y-%m}", raw=month, fmt="month")


def _rate_fmt(indicator) -> str:
    return "percent" if indicator.measure in RATE_MEASURES else ""


def _shares_text(determination) -> str:
    return ", ".join(f"{s.department.name} {s.share:g}" for s in determination.shares.all())


@accountability_required
@require_GET
def home(request):
    if is_centre_or_quality(request.user):
        return redirect("accountability:ranking")
    return redirect("accountability:department", pk=request.user.department_id)


RATE_MEASURES = ("timeliness", "overdue_rate", "repeat_rate", "satisfaction", "dissatisfaction", "reopen_rate",
                 "incident_feedback")


def _value_text(value, indicator) -> str:
    if value is None:
        return "—"
    rate = indicator.measure in RATE_MEASURES
    return f"{float(value):.1f}%" if rate else f"{float(value):,.2f}".rstrip("0").rstrip(".")


def indicator_unit(indicator) -> str:
    """The unit of an indicator's values: %, 件, 件/万户, 小时."""
    if indicator.measure in RATE_MEASURES:
        return "%"
    if indicator.measure == Indicator.Measure.PER_10K:
        return str(UNIT_PER_10K)
    if indicator.measure == Indicator.Measure.INCIDENT_RECOVERY:
        return str(UNIT_HOURS)
    return str(UNIT_ORDERS)


@accountability_required
@require_GET
def ranking(request):
    if not is_centre_or_quality(request.user):
        raise PermissionDenied(_("The ranking is for the complaint centre and the quality team."))
    months = selectors.months_scored()
    month = _month(request, months[0] if months else timezone.localdate().replace(day=1))
    scores = list(selectors.scores_visible_to(request.user).filter(month=month).order_by("rank", "department__name")
                  .prefetch_related("results__indicator"))
    indicators = list(Indicator.objects.filter(year=month.year).order_by("code"))
    # An indicator of attributed complaints shows that count already (with its target): no second column of it.
    attributed_column = not any(i.measure == Indicator.Measure.ATTRIBUTED for i in indicators)
    table = Table(name="ranking", title=_("Ranking of %(month)s") % {"month": f"{month:%Y-%m}"},
                  columns=[_("Rank"), _("Department"), _("Score"), _("Indicator points"), _("Deductions"),
                           *([_("Complaints attributed")] if attributed_column else []),
                           *(i.name for i in indicators)])
    for score in scores:
        results = {r.indicator_id: r for r in score.results.all()}
        link = reverse("accountability:department", args=[score.department_id]) + f"?month={month:%Y-%m}"
        row = [Cell(str(score.rank), raw=score.rank), Cell(score.department.name, link, score.department.name),
               Cell(f"{score.total:.2f}", link, float(score.total)), Cell(f"{score.indicator_points:.2f}",
                                                                          raw=float(score.indicator_points)),
               Cell(f"−{score.deduction_points:.2f}" if score.deduction_points else "0", raw=float(score.deduction_points))]
        if attributed_column:
            row.append(Cell(f"{score.attributed:.1f}", _orders_link(score.department_id, month, "attributed"),
                            float(score.attributed)))
        for indicator in indicators:
            result = results.get(indicator.pk)
            text = _value_text(result.value if result else None, indicator)
            row.append(Cell(text + ("" if not result or result.met else " ✗"),
                            _orders_link(score.department_id, month, indicator.measure),
                            float(result.value) if result and result.value is not None else None,
                            css="num" + ("" if not result or result.met else " missed"), fmt=_rate_fmt(indicator)))
        table.rows.append(row)
    chart = _trend_chart(request, indicators, months[:6])
    tables = [table] + ([chart.table] if chart and chart.table else [])
    archive = selectors.month_archive(user=request.user, month=month) if scores else None
    return _export_or_render(request, "accountability/ranking.html", _context(
        request, tab="ranking", month=month, months=months, table=table, chart=chart,
        indicators=indicators, close_job=_close_job(request, month), about_period=f"{month:%Y-%m}",
        archive=archive, may_recompute=selectors.may_recompute_scores(request.user),
        recompute_form=RecomputeForm(initial={"month": month})), tables)


def _close_job(request, month):
    """The month's close that is running, or finished within the hour, for the page to show its progress."""
    job = job_latest(kind=Job.Kind.ACCOUNTABILITY_MONTH, key=f"{month:%Y-%m}")
    if job is None or not job_visible_to(user=request.user, job=job):
        return None
    if job.is_finished and job.finished_at < timezone.now() - datetime.timedelta(hours=1):
        return None
    return job


def _orders_link(department_id, month, measure) -> str:
    return (reverse("accountability:orders") +
            f"?department={department_id}&month={month:%Y-%m}&measure={measure}")


def _trend_chart(request, indicators, months) -> Chart | None:
    code = request.GET.get("indicator") or (indicators[0].code if indicators else "")
    if not code or not months:
        return None
    indicator = next((i for i in indicators if i.code == code), None) or Indicator.objects.filter(code=code).first()
    months = sorted(months)
    trend = selectors.score_trend(user=request.user, indicator_code=code, months=months)
    departments = sorted(trend)[:12]
    chart = Chart(id="indicator-trend", type="line",
                  title=_("%(indicator)s by month") % {"indicator": indicator.name if indicator else code},
                  x=[f"{m:%Y-%m}" for m in months],
                  series=[{"name": name, "data": [None if trend[name].get(m) is None else float(trend[name][m])
                                                  for m in months]} for name in departments],
                  unit=indicator_unit(indicator) if indicator else "")
    table = Table(name="indicator-trend", title=chart.title, columns=[_("Department"), *chart.x])
    for name in departments:
        values = [trend[name].get(m) for m in months]
        table.rows.append([Cell(name, raw=name)] + [
            Cell("—" if v is None else f"{float(v):.2f}", raw=None if v is None else float(v), css="num")
            for v in values])
    chart.table = table
    return chart


@accountability_required
@require_POST
def ranking_compute(request):
    """Closing a month takes a while at a province's size: it runs as a background job whose progress the ranking
    page shows."""
    if not is_centre_or_quality(request.user):
        raise PermissionDenied(_("Scores are computed by the complaint centre and the quality team."))
    form = MonthForm(request.POST)
    if not form.is_valid() or not form.cleaned_data.get("month"):
        messages.error(request, _("Choose a month."))
        return redirect("accountability:ranking")
    month = form.cleaned_data["month"].replace(day=1)
    try:
        services.month_close_start(actor=request.user, month=month)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("accountability:ranking")
    return redirect(reverse("accountability:ranking") + f"?month={month:%Y-%m}")


@accountability_required
@require_POST
def ranking_recompute(request):
    """An archived month computed again, on purpose and on the record (administrators and the quality team)."""
    if not selectors.may_recompute_scores(request.user):
        raise PermissionDenied(_("Archived scores are recomputed only by administrators and quality managers."))
    form = RecomputeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        month = request.POST.get("month", "")
        return redirect(reverse("accountability:ranking") + (f"?month={month}" if len(month) == 7 else ""))
    month = form.cleaned_data["month"].replace(day=1)
    try:
        record = services.month_scores_recompute(actor=request.user, month=month,
                                                 reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The scores of %(month)s were recomputed; the totals before and after are "
                                    "recorded.") % {"month": f"{record.month:%Y-%m}"})
    return redirect(reverse("accountability:ranking") + f"?month={month:%Y-%m}")


@accountability_required
@require_GET
def department(request, pk):
    department = selectors.departments_scored_for(request.user).filter(pk=pk).first()
    if department is None:
        raise Http404(_("No such department that you may see."))
    this_month = timezone.localdate().replace(day=1)
    month = _month(request, this_month)
    running = month >= this_month
    score = None if running else MonthlyScore.objects.filter(department=department, month=month).prefetch_related(
        "results__indicator").first()
    rows = []
    if running or score is None:
        computed = next((m for m in scoring.month_compute(month=month) if m.department.pk == department.pk), None)
        if computed is not None:
            rows = [(indicator, c.value, target, met, points) for indicator, c, target, met, points in computed.results]
            totals = {"total": computed.total, "indicator_points": computed.indicator_points,
                      "deductions": computed.deductions, "attributed": computed.attributed}
        else:
            totals = None
    else:
        rows = [(r.indicator, r.value, r.target, r.met, r.points) for r in score.results.all()]
        totals = {"total": score.total, "indicator_points": score.indicator_points,
                  "deductions": score.deduction_points, "attributed": score.attributed}
    table = Table(name="results", title=_("Indicators of %(month)s") % {"month": f"{month:%Y-%m}"},
                  columns=[_("Indicator"), _("Value"), _("Target"), _("Met"), _("Points"), _("Weight")])
    for indicator, value, target, met, points in rows:
        table.rows.append([
            Cell(indicator.name, raw=indicator.name),
            Cell(_value_text(value, indicator), _orders_link(department.pk, month, indicator.measure),
                 None if value is None else float(value), css="num", fmt=_rate_fmt(indicator)),
            Cell(_value_text(target, indicator), raw=float(target), css="num", fmt=_rate_fmt(indicator)),
            Cell(_("yes") if met else _("no"), raw=_("yes") if met else _("no"), css="" if met else "missed"),
            Cell(f"{points:.2f}", raw=float(points), css="num"), Cell(f"{indicator.weight:.0f}", raw=float(
                indicator.weight), css="num")])
    user = request.user
    open_determinations = selectors.determination_list(user=user, state="open").filter(
        shares__department=department)[:20] if is_lead(user) else []
    context = _context(
        request, tab="department", department=department, month=month, running=running, score=score,
        totals=totals, table=table,
        determinations=open_determinations,
        deductions=selectors.deductions_visible_to(user).filter(department=department, month=month),
        notices=selectors.notices_visible_to(user).filter(department=department).order_by("-month")[:6],
        improvements=selectors.improvements_visible_to(user).filter(department=department).exclude(
            status=ImprovementOrder.Status.CLOSED),
        months=[this_month, *selectors.months_scored()],
        about_period=f"{month:%Y-%m}", about_filters=[(_("Department"), department.name)],
    )
    return _export_or_render(request, "accountability/department.html", context, [table])


@accountability_required
@require_GET
def orders(request):
    try:
        department = selectors.departments_scored_for(request.user).get(pk=int(request.GET.get("department", "")))
    except (ValueError, Department.DoesNotExist):
        raise Http404(_("No such department that you may see.")) from None
    month = _month(request, timezone.localdate().replace(day=1))
    measure = request.GET.get("measure", "attributed")
    if measure not in selectors.INDICATOR_ORDERS:
        raise Http404(_("Unknown indicator."))
    queryset = selectors.attributed_orders(user=request.user, department=department, month=month, measure=measure)
    page = page_without_count(queryset, request.GET.get("page"), PER_PAGE)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "accountability/orders.html", _context(
        request, department=department, month=month, measure=Indicator.Measure(measure).label, page=page,
        total=count_bounded(queryset), query_string=query.urlencode()))


# --- determinations -------------------------------------------------------------------------------------------

DETERMINATION_STATES = ("open", "to_confirm", "appealed", "final")
DETERMINATION_STATE_LABELS = {"open": gettext_lazy("Open to appeal"), "to_confirm": gettext_lazy("To confirm"),
                              "appealed": gettext_lazy("Under appeal"), "final": gettext_lazy("Final")}


@accountability_required
@require_GET
def determination_list(request):
    state = request.GET.get("state", "to_confirm" if is_centre_staff(request.user) else "open")
    if state not in DETERMINATION_STATES:
        state = "open"
    queryset = selectors.determination_list(user=request.user, state=state)
    if request.GET.get("export"):
        return list_export(request, name=f"determinations-{state}", title=_("Determinations"), queryset=queryset,
                           columns=[_("Order"), _("Category"), _("Month"), _("Responsible"), _("Cause"),
                                    _("Status"), _("Appeal until")],
                           filters=[(_("State"), DETERMINATION_STATE_LABELS[state])],
                           row=lambda d: [d.order.number, d.order.category.label, _month_cell(d.month),
                                          _shares_text(d), d.get_cause_display(), d.get_status_display(),
                                          d.appeal_due_at])
    page = page_without_count(queryset, request.GET.get("page"), PER_PAGE)
    return render(request, "accountability/determinations.html", _context(
        request, tab="determinations", page=page, state=state, states=DETERMINATION_STATES,
        query_string=f"state={state}", now=timezone.now()))


def _determination(request, pk) -> Determination:
    determination = selectors.determination_get(user=request.user, pk=pk)
    if determination is None:
        raise Http404(_("No such determination that you may see."))
    return determination


def _determination_page(request, determination, *, forms=None, status=200):
    forms = forms or {}
    shares = list(determination.shares.select_related("department"))
    initial = {"cause": determination.cause}
    for n, share in enumerate(shares[:3]):
        initial[f"department_{n}"] = share.department_id
        initial[f"share_{n}"] = share.share
    pending = determination.appeals.filter(status="pending").select_related("filed_by", "department").first()
    user = request.user
    offered = available_actions(user, determination)
    return render(request, "accountability/determination.html", _context(
        request, tab="determinations", determination=determination, shares=shares, pending=pending,
        appeals=determination.appeals.select_related("filed_by", "decided_by", "department"),
        events=determination.events.all(),
        decide_form=forms.get("decide") or SharesForm(initial=initial, prefix="decide"),
        appeal_form=forms.get("appeal") or AppealForm(prefix="appeal"),
        ruling_form=forms.get("ruling") or AppealDecisionForm(initial=initial, prefix="ruling"),
        may_decide="decide" in offered, may_appeal="appeal" in offered,
        may_rule=pending is not None and "decide" in available_actions(user, pending),
        buck_passing=_buck_passing_link(user, determination),
    ), status=status)


def _buck_passing_link(user, determination) -> str:
    """The deduction form filled in with the proposed buck-passing deduction, for those who record deductions."""
    if not determination.buck_passing_proposed or not is_centre_or_quality(user):
        return ""
    item = DeductionItem.objects.filter(year=determination.month.year,
                                        kind=DeductionItem.Kind.BUCK_PASSING).order_by("code").first()
    query = {"department": determination.passed_on_by_id, "order_number": determination.order.number,
             "month": f"{determination.month:%Y-%m}",
             "evidence": _("Passed between departments %(n)s times (transfers and returns) before it was answered.")
             % {"n": determination.passes}}
    if item is not None:
        query["item"] = item.pk
    return f"{reverse('accountability:deductions')}?{urlencode(query)}#record"


@accountability_required
@require_GET
def determination_detail(request, pk):
    return _determination_page(request, _determination(request, pk))


@accountability_required
@require_POST
def determination_decide(request, pk):
    """Confirm the proposal as it is (the confirm button), or change it (the form)."""
    determination = _determination(request, pk)
    if request.POST.get("decide-confirm") == "1":
        try:
            services.determination_decide(actor=request.user, determination=determination)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Determination confirmed."))
        return redirect("accountability:determination", pk=pk)
    form = SharesForm(request.POST, prefix="decide")
    return form_submit(request, form, lambda f: services.determination_decide(
        actor=request.user, determination=determination, cause=f.cleaned_data["cause"], shares=f.shares(),
        reason=f.cleaned_data["reason"]), success=_("Determination changed."),
        done=lambda _result: redirect("accountability:determination", pk=pk),
        again=lambda f: _determination_page(request, determination, forms={"decide": f}, status=400))


@accountability_required
@require_POST
def determination_appeal(request, pk):
    determination = _determination(request, pk)
    form = AppealForm(request.POST, prefix="appeal")
    return form_submit(request, form, lambda f: services.appeal_file(actor=request.user, determination=determination,
                                                                     **f.cleaned_data),
                       success=_("Appeal filed; the complaint centre decides."),
                       done=lambda _result: redirect("accountability:determination", pk=pk),
                       again=lambda f: _determination_page(request, determination, forms={"appeal": f}, status=400))


@accountability_required
@require_POST
def determination_rule(request, pk):
    determination = _determination(request, pk)
    appeal = determination.appeals.filter(status="pending").first()
    if appeal is None:
        messages.error(request, _("There is no pending appeal."))
        return redirect("accountability:determination", pk=pk)
    form = AppealDecisionForm(request.POST, prefix="ruling")

    def call(f):
        uphold = f.cleaned_data["decision"] == "uphold"
        services.appeal_decide(actor=request.user, appeal=appeal, uphold=uphold, reason=f.cleaned_data["reason"],
                               cause=None if uphold else (f.cleaned_data.get("cause") or None),
                               shares=None if uphold or not f.shares() else f.shares())

    return form_submit(request, form, call, success=_("Appeal decided."),
                       done=lambda _result: redirect("accountability:determination", pk=pk),
                       again=lambda f: _determination_page(request, determination, forms={"ruling": f}, status=400))


@accountability_required
@require_GET
def appeal_list(request):
    appeals = selectors.appeals_visible_to(request.user).order_by("status", "-filed_at")
    if request.GET.get("export"):
        return list_export(request, name="appeals", title=_("Appeals"), queryset=appeals.select_related(
                               "determination__order", "deduction__item", "department", "filed_by", "decided_by"),
                           columns=[_("Against"), _("Department"), _("Filed"), _("Filed by"), _("Reason"),
                                    _("Evidence"), _("Status"), _("Decided"), _("Decision reason")],
                           row=lambda a: [
                               (_("Determination") + " " + a.determination.order.number) if a.determination_id
                               else (_("Deduction") + ": " + a.deduction.item.name),
                               a.department.name, a.filed_at, str(a.filed_by), a.reason, a.evidence,
                               a.get_status_display(), a.decided_at, a.decision_reason])
    page = page_without_count(appeals, request.GET.get("page"), PER_PAGE)
    return render(request, "accountability/appeals.html", _context(request, tab="appeals", page=page,
                                                                   query_string=""))


# --- deductions -----------------------------------------------------------------------------------------------


@accountability_required
def deduction_list(request):
    form = None
    if is_centre_or_quality(request.user):
        # a proposal's link fills the form in (a buck-passing deduction proposed on a determination's page)
        proposed = {k: request.GET[k] for k in ("item", "department", "order_number", "month", "evidence")
                    if request.method == "GET" and k in request.GET}
        form = DeductionForm(request.POST or None, user=request.user, initial=proposed or None)
        if request.method == "POST":
            if form.is_valid():
                data = form.cleaned_data
                try:
                    services.deduction_record(actor=request.user, item=data["item"], department=data["department"],
                                              month=data["month"], evidence=data["evidence"], person=data["person"],
                                              order=data["order_number"], summary=data["summary"])
                except ValidationError as exc:
                    apply_service_errors(form, exc)
                except PermissionDenied as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.success(request, _("Deduction recorded."))
                    return redirect("accountability:deductions")
    elif request.method == "POST":
        raise PermissionDenied(_("Deductions are recorded by the complaint centre and the quality team."))
    deductions = selectors.deductions_visible_to(request.user).order_by("-recorded_at")
    if request.method == "GET" and request.GET.get("export"):
        return list_export(request, name="deductions", title=_("Deductions"), queryset=deductions,
                           columns=[_("Item"), _("Department"), _("Person"), _("Work order"), _("Month"),
                                    _("Points"), _("Status"), _("Evidence")],
                           row=lambda x: [x.item.name, x.department.name, str(x.person or ""),
                                          x.order.number if x.order else "", _month_cell(x.month), float(x.points),
                                          x.get_status_display(), x.evidence])
    page = page_without_count(deductions, request.GET.get("page"), PER_PAGE)
    return render(request, "accountability/deductions.html", _context(
        request, tab="deductions", page=page, form=form, query_string=""),
        status=400 if form is not None and form.is_bound else 200)


def _deduction(request, pk):
    deduction = selectors.deductions_visible_to(request.user).filter(pk=pk).first()
    if deduction is None:
        raise Http404(_("No such deduction that you may see."))
    return deduction


def _deduction_page(request, deduction, *, forms=None, status=200):
    forms = forms or {}
    user = request.user
    pending = deduction.appeals.filter(status="pending").first()
    return render(request, "accountability/deduction.html", _context(
        request, tab="deductions", deduction=deduction, pending=pending, events=deduction.events.all(),
        appeals=deduction.appeals.select_related("filed_by", "decided_by"),
        record=getattr(deduction, "record", None),
        appeal_form=forms.get("appeal") or AppealForm(prefix="appeal"),
        ruling_form=forms.get("ruling") or AppealDecisionForm(prefix="ruling", for_deduction=True),
        may_appeal="appeal" in available_actions(user, deduction),
        may_rule=pending is not None and "decide" in available_actions(user, pending)), status=status)


@accountability_required
@require_GET
def deduction_detail(request, pk):
    return _deduction_page(request, _deduction(request, pk))


@accountability_required
@require_POST
def deduction_appeal(request, pk):
    deduction = _deduction(request, pk)
    form = AppealForm(request.POST, prefix="appeal")
    return form_submit(request, form, lambda f: services.appeal_file(actor=request.user, deduction=deduction,
                                                                     **f.cleaned_data),
                       success=_("Appeal filed; the complaint centre decides."),
                       done=lambda _result: redirect("accountability:deduction", pk=pk),
                       again=lambda f: _deduction_page(request, deduction, forms={"appeal": f}, status=400))


@accountability_required
@require_POST
def deduction_rule(request, pk):
    deduction = _deduction(request, pk)
    appeal = deduction.appeals.filter(status="pending").first()
    if appeal is None:
        messages.error(request, _("There is no pending appeal."))
        return redirect("accountability:deduction", pk=pk)
    form = AppealDecisionForm(request.POST, prefix="ruling", for_deduction=True)
    return form_submit(request, form, lambda f: services.appeal_decide(
        actor=request.user, appeal=appeal, uphold=f.cleaned_data["decision"] == "uphold",
        reason=f.cleaned_data["reason"]), success=_("Appeal decided."),
        done=lambda _result: redirect("accountability:deduction", pk=pk),
        again=lambda f: _deduction_page(request, deduction, forms={"ruling": f}, status=400))


# --- notices and improvement orders ------------------------------------------------------------------------


@accountability_required
def notice_detail(request, pk):
    notice = selectors.notices_visible_to(request.user).filter(pk=pk).first()
    if notice is None:
        raise Http404(_("No such notice that you may see."))
    form = NoticeAckForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.notice_acknowledge(actor=request.user, notice=notice, comment=form.cleaned_data["comment"])
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            except PermissionDenied as exc:
                messages.error(request, str(exc))
                status = 403
            else:
                messages.success(request, _("Notice acknowledged."))
                return redirect("accountability:notice", pk=pk)
    return render(request, "accountability/notice.html", _context(
        request, tab="notices", notice=notice, form=form, now=timezone.now(),
        may_ack="acknowledge" in available_actions(request.user, notice)), status=status)


@accountability_required
@require_GET
def notice_list(request):
    notices = selectors.notices_visible_to(request.user).order_by("-month", "department__name")
    if request.GET.get("export"):
        return list_export(request, name="notices", title=_("Monthly notices"), queryset=notices,
                           columns=[_("Month"), _("Department"), _("Score"), _("Rank"), _("Status")],
                           row=lambda n: [_month_cell(n.month), n.department.name,
                                          None if n.score is None else float(n.score.total),
                                          None if n.score is None else n.score.rank, n.get_status_display()])
    page = page_without_count(notices, request.GET.get("page"), PER_PAGE)
    return render(request, "accountability/notices.html", _context(request, tab="notices", page=page,
                                                                   query_string="", now=timezone.now()))


@accountability_required
@require_GET
def improvement_list(request):
    state = request.GET.get("state", "open")
    qs = selectors.improvements_visible_to(request.user)
    qs = qs.filter(status="closed") if state == "closed" else qs.exclude(status="closed")
    if request.GET.get("export"):
        return list_export(request, name=f"improvements-{state}", title=_("Improvement orders"),
                           queryset=qs.order_by("due_at", "id"),
                           columns=[_("Department"), _("Indicator"), _("Opened for"), _("Latest month"),
                                    _("Latest"), _("Target"), _("Status"), _("Cause analysis"), _("Measures")],
                           filters=[(_("State"), _("Closed") if state == "closed" else _("Open"))],
                           row=lambda o: [o.department.name, o.indicator.name, _month_cell(o.opened_month),
                                          _month_cell(o.latest_month), None if o.latest_value is None else
                                          Cell("", raw=float(o.latest_value), fmt=_rate_fmt(o.indicator)),
                                          Cell("", raw=float(o.target), fmt=_rate_fmt(o.indicator)),
                                          o.get_status_display(), o.cause_analysis, o.measures])
    page = page_without_count(qs.order_by("due_at", "id"), request.GET.get("page"), PER_PAGE)
    return render(request, "accountability/improvements.html", _context(
        request, tab="improvements", page=page, state=state, query_string=f"state={state}", now=timezone.now()))


def _improvement_page(request, improvement, *, forms=None, status=200):
    forms = forms or {}
    user = request.user
    offered = available_actions(user, improvement)
    return render(request, "accountability/improvement.html", _context(
        request, tab="improvements", improvement=improvement, now=timezone.now(),
        events=selectors.improvement_history(improvement=improvement),
        answer_form=forms.get("answer") or ImprovementAnswerForm(prefix="answer", initial={
            "cause_analysis": improvement.cause_analysis, "measures": improvement.measures}),
        review_form=forms.get("review") or ImprovementReviewForm(prefix="review"),
        may_answer="answer" in offered, may_review="review" in offered), status=status)


def _improvement(request, pk):
    improvement = selectors.improvements_visible_to(request.user).filter(pk=pk).first()
    if improvement is None:
        raise Http404(_("No such improvement order that you may see."))
    return improvement


@accountability_required
@require_GET
def improvement_detail(request, pk):
    return _improvement_page(request, _improvement(request, pk))


@accountability_required
@require_POST
def improvement_answer(request, pk):
    improvement = _improvement(request, pk)
    form = ImprovementAnswerForm(request.POST, prefix="answer")
    return form_submit(request, form, lambda f: services.improvement_answer(actor=request.user,
                                                                            improvement=improvement, **f.cleaned_data),
                       success=_("Answer sent; the complaint centre reviews it."),
                       done=lambda _result: redirect("accountability:improvement", pk=pk),
                       again=lambda f: _improvement_page(request, improvement, forms={"answer": f}, status=400))


@accountability_required
@require_POST
def improvement_review(request, pk):
    improvement = _improvement(request, pk)
    form = ImprovementReviewForm(request.POST, prefix="review")
    return form_submit(request, form, lambda f: services.improvement_review(actor=request.user,
                                                                            improvement=improvement, **f.cleaned_data),
                       success=_("Review recorded."),
                       done=lambda _result: redirect("accountability:improvement", pk=pk),
                       again=lambda f: _improvement_page(request, improvement, forms={"review": f}, status=400))


# --- targets by month ---------------------------------------------------------------------------------------


@accountability_required
@require_http_methods(["GET", "POST"])
def targets(request):
    """A department's indicator targets month by month: quality managers set the months where a target steps."""
    if not is_quality(request.user):
        raise PermissionDenied(_("Targets are set by the quality team."))
    departments = selectors.target_departments_for(request.user)
    years = sorted(set(Indicator.objects.values_list("year", flat=True)), reverse=True)
    this_year = timezone.localdate().year
    try:
        year = int(request.GET.get("year") or (this_year if this_year in years or not years else years[0]))
        department = departments.filter(pk=int(request.GET["department"])).first() \
            if request.GET.get("department") else None
    except ValueError:
        raise Http404(_("No such department that you may see.")) from None
    if request.GET.get("department") and department is None:
        raise Http404(_("No such department that you may see."))
    context = _context(request, tab="targets", departments=departments, department=department, year=year,
                       years=years or [this_year])
    if department is None:
        return render(request, "accountability/targets.html", context)
    rows = selectors.department_target_grid(department=department, year=year)
    form = TargetGridForm(request.POST if request.method == "POST" else None, rows=rows)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                changed = services.indicator_targets_set(actor=request.user, department=department, year=year,
                                                         steps=form.steps())
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Targets of %(department)s for %(year)s saved: %(n)s changes.")
                                 % {"department": department.name, "year": year, "n": changed})
                return redirect(reverse("accountability:targets") + f"?department={department.pk}&year={year}")
        status = 400
        messages.error(request, _("Nothing was saved: correct the marked cells."))
    context.update(form=form, months=range(1, 13), changes=selectors.target_changes(department=department, year=year))
    return render(request, "accountability/targets.html", context, status=status)
