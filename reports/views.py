"""Dashboards: parse the filters, build the page from the KPI library, render (or export one of its tables)."""

from __future__ import annotations

import datetime
import re
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.fields.json import KT
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from complaints.phone import mask
from complaints.redaction import redact_name
from complaints.selectors import regions_visible_to
from core.permissions import (
    is_admin,
    is_centre_or_quality,
    is_quality,
    may_see_full_phone,
    may_unmask_phone,
    staff_required,
)
from core.web.exports import ExportAbout, form_filters, table_response
from core.web.pagination import count_bounded, page_without_count
from core.web.tables import Cell, Table, table_page
from org.models import Department
from quality import analysis
from quality.facts import rollup_state
from quality.kpis import (
    GROUPING_LABELS,
    GROUPINGS,
    KPIS,
    TABLE_KPIS,
    TIME_GROUPS,
    Context,
    kpi_value,
    subscribers_of,
)
from quality.models import QualityPolicy
from quality.selectors import (
    departments_viewable_by,
    drill_orders,
    drill_parts,
    group_q,
    may_see_dashboards,
)
from reports import dashboards as d
from reports import monthly
from reports.forms import CompareForm, DashboardForm, HotspotForm, ReportGenerateForm
from reports.models import MonthlyReport, ReportWithdrawal

ORDERS_PER_PAGE = 50
ORDERS_EXPORT_LIMIT = 10_000
SOURCE_LABELS = {
    "daily": gettext_lazy("daily rollup"), "hourly": gettext_lazy("hourly rollup"),
    "category": gettext_lazy("category rollup"), "department": gettext_lazy("department rollup"),
    "category_all": gettext_lazy("category rollup, all regions"),
    "channel": gettext_lazy("channel rollup"), "county": gettext_lazy("county rollup"),
    "customer": gettext_lazy("customer rollup"), "facts": gettext_lazy("order facts"),
}


def dashboard_required(view):
    @wraps(view)
    @staff_required
    def wrapper(request, *args, **kwargs):
        if not may_see_dashboards(request.user):
            raise PermissionDenied(_("Dashboards are for quality managers, the complaint centre and department "
                                     "leads."))
        return view(request, *args, **kwargs)

    return wrapper


def _about(table, context: dict, period=None) -> ExportAbout:
    """What an exported table of a dashboard is: its title, the page's period and every filter it was read with."""
    filters = []
    for name in ("form", "spot_form", "compare_form"):
        filters += form_filters(context.get(name))
    period = period or context.get("period") or context.get("week")
    return ExportAbout(title=str(table.title or table.name), period=str(period) if period else "", filters=filters)


def _page(request, template: str, context: dict, tables: list, *, period=None):
    """Render, or answer ?export=csv|xlsx&table=NAME with that table of the page."""
    if not request.GET.get("export"):
        context.update({"freshness": rollup_state(), "can_see_centre": is_centre_or_quality(request.user)})
    return table_page(request, template, context, tables, about=lambda table: _about(table, context, period))


def _base(request, *, default_period="30d"):
    form = DashboardForm(request.GET or None, user=request.user, default_period=default_period)
    ctx = Context()
    return form, form.period_value(), form.slice_value(), ctx, d.Labels(ctx), d.Links(form)


@dashboard_required
@require_GET
def overview(request):
    if not is_centre_or_quality(request.user):
        return redirect("reports:department")
    form, period, slice_, ctx, labels, links = _base(request)
    subscribers = d.region_subscribers(period=period, ctx=ctx)
    charts = [
        d.intake_by_hour_chart(slice_=slice_, ctx=ctx, labels=labels, links=links),
        d.open_orders_chart(slice_=slice_, ctx=ctx),
        d.trend_chart(chart_id="trend", title=_("Rates over the period"), period=period, slice_=slice_,
                      codes=("timeliness", "satisfaction", "repeat_rate", "escalation_rate"), links=links, ctx=ctx,
                      labels=labels),
        d.ranked_chart(chart_id="top-categories", title=_("Top categories"), period=period, slice_=slice_,
                       grouping="category3", links=links, ctx=ctx, labels=labels),
        d.ranked_chart(chart_id="regions", title=_("Regions"), period=period, slice_=slice_, grouping="region2",
                       links=links, ctx=ctx, labels=labels, limit=50, subscribers=subscribers,
                       rank_by="per_10k" if any(subscribers.values()) else "volume",
                       codes=("volume", "per_10k", "timeliness", "satisfaction", "repeat_rate", "escalation_rate")),
    ]
    context = {"form": form, "period": period, "tiles": d.tiles(period=period, slice_=slice_, links=links, ctx=ctx),
               "charts": charts, "tab": "overview"}
    return _page(request, "reports/overview.html", context, [c.table for c in charts])


@dashboard_required
@require_GET
def department(request):
    form, period, slice_, ctx, labels, links = _base(request)
    allowed = departments_viewable_by(request.user)
    chosen = form.cleaned_data.get("department") if form.is_bound and form.is_valid() else None
    if chosen is None and slice_.department_id:
        chosen = allowed.filter(pk=slice_.department_id).first()
    if chosen is None:
        chosen = allowed.filter(kind=Department.Kind.BACK_OFFICE).first() or allowed.first()
    if chosen is None:
        raise PermissionDenied(_("You have no department to look at."))
    slice_ = slice_.narrowed(department_id=chosen.pk)
    if "department" in form.fields:
        form.fields["department"].initial = chosen.pk
        if form.is_bound:
            form.data = form.data.copy()
            form.data["department"] = chosen.pk
    charts = [
        d.trend_chart(chart_id="dept-volume", title=_("Volume"), period=period, slice_=slice_, codes=("volume",),
                      links=links, ctx=ctx, labels=labels),
        d.trend_chart(chart_id="dept-rates", title=_("Timeliness and satisfaction"), period=period, slice_=slice_,
                      codes=("timeliness", "overdue_rate", "satisfaction"), links=links, ctx=ctx, labels=labels),
        d.open_orders_chart(slice_=slice_, ctx=ctx, department_id=chosen.pk),
        d.ranked_chart(chart_id="dept-categories", title=_("Top categories"), period=period, slice_=slice_,
                       grouping="category3", links=links, ctx=ctx, labels=labels,
                       codes=("volume", "timeliness", "avg_handling", "satisfaction", "reopen_rate")),
    ]
    context = {"form": form, "period": period, "department": chosen, "departments": allowed, "tab": "department",
               "tiles": d.tiles(period=period, slice_=slice_, links=links, ctx=ctx,
                                codes=("volume", "timeliness", "overdue_rate", "avg_handling", "p90_handling",
                                       "satisfaction", "dissatisfaction", "reopen_rate", "escalation_rate",
                                       "closed_loop_rate")),
               "charts": charts}
    return _page(request, "reports/department.html", context, [c.table for c in charts])


@dashboard_required
@require_GET
def analysis_page(request):
    form, period, slice_, ctx, labels, links = _base(request)
    grouping = request.GET.get("group") or "category2"
    if grouping not in GROUPINGS:
        grouping = "category2"
    chart_kpi = request.GET.get("chart") or "volume"
    if chart_kpi not in KPIS:
        chart_kpi = "volume"
    table = d.measure_sums(period=period, slice_=slice_, group_by=[grouping], ctx=ctx)
    if grouping in TIME_GROUPS:
        keys = [(k,) for k in d.time_keys(grouping, period)]
    else:
        keys = sorted(table.keys(), key=lambda k: -table.kpi("volume", k).value)
    codes = TABLE_KPIS
    subscribers = None
    if grouping in ("region1", "region2", "region3"):
        subscribers = d.region_subscribers(period=period, ctx=ctx)
        codes = (*TABLE_KPIS[:1], "per_10k", *TABLE_KPIS[1:])
    kpis = d.kpi_table(name="kpis", title=_("KPIs by %(grouping)s") % {"grouping": GROUPING_LABELS[grouping]},
                       table=table, grouping=grouping, keys=keys, labels=labels, codes=codes, links=links,
                       period=period, subscribers=subscribers)
    total_row = [Cell(_("Total"), raw=_("Total"))]
    total_row += [d.value_cell(_total(table, code, slice_, subscribers, period, ctx), links.orders(code, period))
                  for code in codes]
    kpis.rows.append(total_row)
    values = [d.group_kpi(table, chart_kpi, k, grouping, subscribers=(subscribers or {}).get(k[0])) for k in keys]
    chart = d.Chart(id="analysis", type="line" if grouping in TIME_GROUPS else "bar",
                    title=f"{KPIS[chart_kpi].label} · {GROUPING_LABELS[grouping]}",
                    x=[labels(grouping, k[0]) for k in keys],
                    series=[{"name": str(KPIS[chart_kpi].label),
                             "data": [None if v.value is None else round(v.value, 2) for v in values],
                             "links": [links.orders(chart_kpi, d._group_period(grouping, k[0], period),
                                                    group="" if grouping in TIME_GROUPS else grouping,
                                                    value=None if grouping in TIME_GROUPS else k[0])
                                       for k in keys]}],
                    unit=d.unit_label(chart_kpi))
    chart.table = kpis
    context = {"form": form, "period": period, "chart": chart, "table": kpis, "tab": "analysis",
               "grouping": grouping, "groupings": [(g, GROUPING_LABELS[g]) for g in GROUPINGS],
               "chart_kpi": chart_kpi, "kpi_choices": [(c, KPIS[c].label) for c in codes],
               "source": SOURCE_LABELS.get(table.source, table.source)}
    return _page(request, "reports/analysis.html", context, [kpis])


def _total(table, code, slice_, subscribers, period, ctx):
    """The KPI over every group of the table together."""
    merged: dict[str, dict[str, int]] = {}
    for kinds in table.groups.values():
        for kind, sums in kinds.items():
            target = merged.setdefault(kind, dict.fromkeys(sums, 0))
            for measure, value in sums.items():
                target[measure] += value
    total_subscribers = None
    if subscribers is not None:
        total_subscribers = subscribers_of(slice_.region or slice_.regions, month=period.end.replace(day=1), ctx=ctx)
    return kpi_value(code, merged, slice_kinds=table.kinds, subscribers=total_subscribers)


@dashboard_required
@require_GET
def hotspots(request):
    form, _period, slice_, ctx, labels, links = _base(request)
    spot_form = HotspotForm(request.GET or None)
    data = spot_form.cleaned_data if spot_form.is_valid() else {}
    category_level = int(data.get("category_level") or 3)
    region_level = int(data.get("region_level") or 2)
    week_end = data.get("week_end") or timezone.localdate()
    policy = QualityPolicy.in_force(on=week_end)  # the rules of the week looked at
    found, week, baseline = analysis.weekly_hotspots(week_end=week_end, slice_=slice_, category_level=category_level,
                                              region_level=region_level, policy=policy, ctx=ctx)
    category_group, region_group = f"category{category_level}", f"region{region_level}"
    table = Table(name="hotspots", title=_("Hot spots"), empty=_("No hot spot this week."), columns=[
        _("Category"), _("Region"), _("This week"), _("Weekly baseline"), _("Ratio"), _("p-value"), _("Orders")])
    for spot in found:
        link = links.orders("volume", week, group=category_group, value=spot.category_id) + \
            f"&g2={region_group}&v2={spot.region_id}"
        table.rows.append([
            Cell(labels(category_group, spot.category_id), raw=labels(category_group, spot.category_id)),
            Cell(labels(region_group, spot.region_id), raw=labels(region_group, spot.region_id)),
            Cell(f"{spot.count:,}", link, spot.count),
            Cell(f"{spot.baseline:.1f}", raw=round(spot.baseline, 2)),
            Cell("∞" if spot.baseline == 0 else f"{spot.ratio:.1f}×", raw=None if spot.baseline == 0 else
                   round(spot.ratio, 2)),
            Cell(f"{spot.p:.2g}", raw=spot.p),
            Cell(_("List"), link, ""),
        ])
    top = found[:15]
    chart = d.Chart(id="hotspots", type="hbar", title=_("This week against the baseline"),
                    x=[f"{labels(category_group, s.category_id)} · {labels(region_group, s.region_id)}" for s in top],
                    series=[{"name": _("This week"), "data": [s.count for s in top],
                             "links": [table.rows[i][2].link for i in range(len(top))]},
                            {"name": _("Weekly baseline"), "data": [round(s.baseline, 1) for s in top]}],
                    unit=str(d.UNIT_ORDERS))
    chart.table = table
    context = {"form": form, "spot_form": spot_form, "chart": chart, "table": table, "week": week,
               "baseline": baseline, "policy": policy, "tab": "hotspots"}
    return _page(request, "reports/hotspots.html", context, [table])


@dashboard_required
@require_GET
def compare(request):
    form, _period, slice_, ctx, labels, links = _base(request)
    compare_form = CompareForm(request.GET if "kpi" in request.GET else None,
                               initial={"change_date": timezone.localdate() - datetime.timedelta(days=28)})
    context = {"form": form, "compare_form": compare_form, "tab": "compare"}
    tables = []
    if compare_form.is_bound and compare_form.is_valid():
        data = compare_form.cleaned_data
        result = analysis.compare(kpi_code=data["kpi"], change_date=data["change_date"], days=data["days"],
                                  slice_=slice_, pairing=data.get("pairing") or "", ctx=ctx)
        context["result"] = result
        context["chart"] = _compare_chart(result, slice_, ctx, labels, links)
        tables.append(context["chart"].table)
        if result.pairs:
            pairing = data["pairing"]
            pairs = Table(name="pairs", title=_("Pairs"), columns=[
                str(GROUPING_LABELS[pairing]), _("Before"), _("After"), pgettext("compared with before", "Change")])
            code = data["kpi"]
            for pair in result.pairs:
                pairs.rows.append([
                    Cell(labels(pairing, pair.key), raw=labels(pairing, pair.key)),
                    Cell(f"{pair.before:.2f}", links.orders(code, result.before, group=pairing, value=pair.key),
                           round(pair.before, 3)),
                    Cell(f"{pair.after:.2f}", links.orders(code, result.after, group=pairing, value=pair.key),
                           round(pair.after, 3)),
                    Cell(f"{pair.after - pair.before:+.2f}", raw=round(pair.after - pair.before, 3))])
            context["pairs"] = pairs
            tables.append(pairs)
    whole = d.Period(context["result"].before.start, context["result"].after.end) if "result" in context else None
    return _page(request, "reports/compare.html", context, tables, period=whole)


def _compare_chart(result, slice_, ctx, labels, links) -> d.Chart:
    whole = d.Period(result.before.start, result.after.end)
    chart = d.trend_chart(chart_id="compare", title=str(KPIS[result.kpi_code].label), period=whole, slice_=slice_,
                          codes=(result.kpi_code,), links=links, ctx=ctx, labels=labels)
    grouping = d.trend_grouping(whole)
    chart.mark_x = labels(grouping, d.time_keys(grouping, d.Period(result.after.start, result.after.start))[0])
    return chart


@dashboard_required
@require_GET
def orders(request):
    """The orders behind a number of any dashboard."""
    form, period, slice_, ctx, labels, _links = _base(request)
    kpi_code = request.GET.get("kpi", "volume")
    if kpi_code not in KPIS or not KPIS[kpi_code].numerator_drill:
        raise Http404(_("Unknown KPI."))
    parts = drill_parts(kpi_code)
    part = request.GET.get("part", "num")
    if part not in parts:
        part = "num"
    extra = None
    described = []
    for g_param, v_param in (("g", "v"), ("g2", "v2")):
        grouping, raw = request.GET.get(g_param, ""), request.GET.get(v_param, "")
        if not grouping:
            continue
        value = _group_value(grouping, raw)
        condition, narrowed = group_q(grouping, value, ctx)
        extra = condition if extra is None else extra & condition
        if narrowed is not None:
            period = narrowed
        described.append((str(GROUPING_LABELS[grouping]), labels(grouping, value)))
    queryset = drill_orders(user=request.user, drills=parts[part], period=period, slice_=slice_, extra=extra,
                            ctx=ctx)
    if request.GET.get("export"):
        part_label = {"num": _("Counted"), "rest": _("Not counted")}.get(part, _("All in the denominator"))
        filters = [*form_filters(form), *((label, value) for label, value in described),
                   (_("Orders"), part_label)]
        about = ExportAbout(title=_("Orders behind %(kpi)s") % {"kpi": KPIS[kpi_code].label}, period=str(period),
                            filters=filters)
        return _orders_export(request, queryset, about=about)
    page = page_without_count(queryset, request.GET.get("page"), ORDERS_PER_PAGE)
    query = request.GET.copy()
    query.pop("page", None)
    part_links = []
    for name in parts:
        q = request.GET.copy()
        q["part"] = name
        q.pop("page", None)
        part_links.append((name, q.urlencode()))
    return _page(request, "reports/orders.html", {
        "form": form, "kpi": KPIS[kpi_code], "part": part, "part_links": part_links, "period": period,
        "described": [f"{label}: {value}" for label, value in described], "page": page,
        "total": count_bounded(queryset), "pager_query": query.urlencode(), "tab": "",
        "export_limit": ORDERS_EXPORT_LIMIT, "may_export_full_phones": may_see_full_phone(request.user) or may_unmask_phone(
            request.user),
    }, [])


def _orders_export(request, queryset, *, about: ExportAbout):
    """The drill-down's orders as a file: phone numbers masked unless the reader asks for them in full
    (?unmask=1) and may see or reveal them; the export record says which."""
    export = request.GET["export"]
    if export not in ("csv", "xlsx"):
        raise Http404(_("Unknown export format."))
    unmasked = request.GET.get("unmask") == "1"
    if unmasked and not (may_see_full_phone(request.user) or may_unmask_phone(request.user)):
        raise PermissionDenied(_("Your role may not export customers' full phone numbers."))
    show = (lambda number: number) if unmasked else mask
    # The customer's name goes with the numbers: in full in a full-number export (recorded as such), else the
    # surname only.
    name = (lambda value: value or "") if unmasked else redact_name
    if unmasked:
        about.filters.append((_("Phone numbers"), _("in full (this export is recorded as carrying them)")))
    else:
        about.filters.append((_("Phone numbers"), _("masked")))
    table = Table(name="orders", title=str(about.title), columns=[
        _("Number"), _("Received"), _("Kind"), _("Channel"), _("Category"), _("Customer"), _("Customer mobile number"),
        _("Contact number"), _("Region"), _("Status"), _("Department")])
    for order in queryset[:ORDERS_EXPORT_LIMIT]:
        table.rows.append([Cell(order.number), Cell("", raw=order.received_at),
                           Cell(order.get_kind_display()), Cell(str(order.channel)), Cell(str(order.category)),
                           Cell(name(order.customer.name), personal=True),
                           Cell(show(order.customer.phone), personal=True),
                           Cell(show(order.contact_phone) if order.contact_phone else "", personal=True),
                           Cell(str(order.region)), Cell(order.get_status_display()),
                           Cell(str(order.current_department or ""))])
    return table_response(table, export, user=request.user, page=request.resolver_match.url_name, about=about,
                          filters=request.GET.urlencode(), unmasked=unmasked)


def _group_value(grouping: str, raw: str):
    if grouping not in GROUPINGS:
        raise Http404(_("Unknown grouping."))
    try:
        if GROUPINGS[grouping] == "day":
            return datetime.date.fromisoformat(raw)
        if GROUPINGS[grouping].endswith("_id"):
            return int(raw)
        if grouping == "hour":
            hour = int(raw)
            if not 0 <= hour <= 23:
                raise ValueError(raw)
            return hour
    except ValueError:
        raise Http404(_("Unknown group.")) from None
    return raw


@dashboard_required
@require_GET
def definitions(request):
    return _page(request, "reports/definitions.html", {"kpis": KPIS.values(), "tab": "definitions"}, [])


# --- monthly reports -------------------------------------------------------------------------------------------


def _reports_visible(user):
    return MonthlyReport.objects.filter(region__in=regions_visible_to(user)) if not user.is_superuser \
        else MonthlyReport.objects.all()


def centre_required(view):
    """The monthly reports: the quality team and the complaint centre, and the administrators, who withdraw
    archived versions and so must be able to find them."""
    @wraps(view)
    @staff_required
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not is_admin(user):
            if not may_see_dashboards(user):
                raise PermissionDenied(_("Dashboards are for quality managers, the complaint centre and department "
                                         "leads."))
            if not is_centre_or_quality(user):
                raise PermissionDenied(_("Monthly reports are for quality managers and the complaint centre."))
        return view(request, *args, **kwargs)

    return wrapper


@centre_required
@require_GET
def monthly_list(request):
    reports = (_reports_visible(request.user).select_related("region", "withdrawal").defer("html", "data")
               .annotate(cases_chosen=KT("data__cases_chosen")))
    page = page_without_count(reports, request.GET.get("page"), ORDERS_PER_PAGE)
    return render(request, "reports/monthly_list.html", {
        "page": page, "tab": "monthly", "query_string": "", "can_see_centre": True,
        "generate_form": ReportGenerateForm(user=request.user) if is_quality(request.user) else None,
        "may_withdraw": is_admin(request.user),
    })


def _report_or_404(request, pk):
    report = _reports_visible(request.user).filter(pk=pk).first()
    if report is None:
        raise Http404(_("No such report that you may see."))
    return report


def _withdrawn_page(request, report):
    """A withdrawn version is no longer served, except to administrators (kept as evidence): 410, naming the
    version made in its place."""
    withdrawal = ReportWithdrawal.objects.select_related("replacement").filter(report=report).first()
    return render(request, "reports/monthly_withdrawn.html", {
        "tab": "monthly", "can_see_centre": True, "report": report, "withdrawal": withdrawal}, status=410)


def _withdrawn_banner(report) -> str:
    withdrawal = ReportWithdrawal.objects.filter(report=report).first()
    text = _("Withdrawn on %(at)s by %(who)s: %(reason)s. Kept as evidence; the current version is %(version)s.") % {
        "at": f"{timezone.localtime(report.withdrawn_at):%Y-%m-%d %H:%M}",
        "who": withdrawal.actor_name if withdrawal else "", "reason": withdrawal.reason if withdrawal else "",
        "version": f"v{withdrawal.replacement.version}" if withdrawal else "—"}
    return ('<p style="border:2px solid #b00;color:#b00;padding:6px 10px;margin:0 0 12px;font-weight:bold">'
            f"{escape(text)}</p>")


@centre_required
@require_GET
def monthly_detail(request, pk):
    report = _report_or_404(request, pk)
    html = report.html
    if report.is_withdrawn:
        if not is_admin(request.user):
            return _withdrawn_page(request, report)
        # The stored document is unchanged; what is served to an administrator says it was withdrawn.
        html = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + _withdrawn_banner(report), html, count=1)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    # The archived report is one self-contained document (its styles inline, its charts inline SVG) and runs no
    # script at all: a policy of its own, stricter on scripts than the site's.
    response["Content-Security-Policy"] = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                           "font-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                                           "form-action 'none'")
    return response


@centre_required
@require_GET
def monthly_pdf(request, pk):
    report = _report_or_404(request, pk)
    name = f"{report.region.name}-{report.month:%Y-%m}-v{report.version}.pdf"
    if report.is_withdrawn:
        if not is_admin(request.user):
            return _withdrawn_page(request, report)
        name = f"{report.region.name}-{report.month:%Y-%m}-v{report.version}-{_('withdrawn')}.pdf"
    return FileResponse(report.pdf.open("rb"), content_type="application/pdf", filename=name)


def admin_required(view):
    @wraps(view)
    @staff_required
    def wrapper(request, *args, **kwargs):
        if not is_admin(request.user):
            raise PermissionDenied(_("Archived reports are withdrawn by administrators."))
        return view(request, *args, **kwargs)

    return wrapper


@admin_required
@require_http_methods(["GET", "POST"])
def monthly_withdraw(request, pk):
    """An administrator withdraws an archived version, saying why, and a new version is made in its place."""
    report = _report_or_404(request, pk)
    errors, status = [], 200
    if request.method == "POST":
        try:
            replacement = monthly.report_withdraw(actor=request.user, report=report,
                                                  reason=request.POST.get("reason", ""))
        except ValidationError as exc:
            errors, status = exc.messages, 409 if getattr(exc, "code", None) == "withdrawn" else 400
        except monthly.ReportError as exc:
            errors, status = [str(exc)], 503
        else:
            messages.success(request, _("Version %(old)s of %(region)s for %(month)s withdrawn; version %(new)s "
                                        "generated in its place.") % {
                "old": report.version, "new": replacement.version, "region": report.region.name,
                "month": f"{report.month:%Y-%m}"})
            return redirect("reports:monthly_list")
    withdrawal = ReportWithdrawal.objects.select_related("replacement").filter(report=report).first()
    return render(request, "reports/monthly_withdraw.html", {
        "tab": "monthly", "can_see_centre": True, "report": report, "withdrawal": withdrawal, "errors": errors,
        "reason": request.POST.get("reason", "")}, status=status)


def _prepare_page(request, form, *, chosen: list[str] | None = None, added: str = "", errors=None, status=200):
    region, month = form.cleaned_data["region"], form.cleaned_data["month"]
    candidates = monthly.case_candidates(region=region, month=month)
    numbers = {c["number"] for c in candidates}
    if chosen is None:
        chosen = [c["number"] for c in candidates if c["proposed"]]
    for case in candidates:
        case["checked"] = case["number"] in chosen
    if not added:
        added = " ".join(n for n in chosen if n not in numbers)
    return render(request, "reports/monthly_prepare.html", {
        "tab": "monthly", "can_see_centre": True, "region": region, "month": month, "candidates": candidates,
        "added": added, "errors": errors or [], "max_cases": monthly.MAX_CASES,
        "versions": _reports_visible(request.user).filter(region=region, month=month).count(),
    }, status=status)


def _generate_form(request, data):
    if not is_quality(request.user):
        raise PermissionDenied(_("Reports are generated by quality managers."))
    return ReportGenerateForm(data, user=request.user)


@centre_required
@require_GET
def monthly_prepare(request):
    """Before a report is archived: its notable cases as proposed, for the quality manager to keep, drop or add
    to."""
    form = _generate_form(request, request.GET)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("reports:monthly_list")
    return _prepare_page(request, form)


@centre_required
@require_POST
def monthly_generate(request):
    form = _generate_form(request, request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("reports:monthly_list")
    region, month = form.cleaned_data["region"], form.cleaned_data["month"]
    if request.POST.get("choose") != "1":  # nothing is archived before its notable cases were seen
        messages.info(request, _("Choose the notable cases, then archive the report."))
        return redirect(reverse("reports:monthly_prepare") + f"?region={region.pk}&month={month:%Y-%m}")
    added = request.POST.get("add", "")
    cases = request.POST.getlist("cases") + added.replace(",", " ").replace("，", " ").split()
    try:
        report = monthly.report_generate(region=region, month=month, actor=request.user, cases=cases)
    except monthly.CaseChoiceError as exc:
        return _prepare_page(request, form, chosen=[c.strip().upper() for c in cases], added=added,
                             errors=exc.errors["cases"], status=400)
    except monthly.ReportError as exc:
        messages.error(request, str(exc))
        return redirect("reports:monthly_list")
    messages.success(request, _("Report of %(region)s for %(month)s generated (version %(version)s).")
                     % {"region": report.region.name, "month": f"{report.month:%Y-%m}", "version": report.version})
    return redirect("reports:monthly_list")
