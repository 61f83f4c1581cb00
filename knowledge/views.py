"""The knowledge base and the case library in the browser: parse, call one service or selector, render."""

from __future__ import annotations

import difflib

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from complaints.models import Category, WorkOrder
from complaints.selectors import orders_visible_to
from core.permissions import is_quality, staff_required
from core.web.exports import ExportAbout
from core.web.forms import apply_service_errors
from core.web.pagination import page_without_count
from core.web.tables import Cell, Table, table_page
from knowledge import search, selectors, services
from knowledge.forms import ArticleForm, CaseForm, CaseReviewForm, FeedbackForm, SearchForm, WithdrawForm
from knowledge.models import Article, ArticleVersion, Case

PER_PAGE = 30


def _context(request, **extra) -> dict:
    user = request.user
    return {"may_write": services.may_write_articles(user), "is_quality": is_quality(user),
            "to_review": Case.objects.filter(status=Case.Status.PROPOSED).count() if is_quality(user) else 0,
            **extra}


@require_GET
@staff_required
def search_page(request):
    form = SearchForm(request.GET or None)
    hits, query = [], ""
    if form.is_valid() and form.cleaned_data["q"].strip():
        data = form.cleaned_data
        query = data["q"].strip()
        category = Category.objects.filter(pk=data["category"]).first() if data["category"] else None
        hits = search.search(user=request.user, query=query, kind=data["kind"] or None, category=category, limit=30)
    recent = []
    if not query:
        recent = list(selectors.articles_in_force().filter(search.audience_q(request.user))
                      .select_related("category", "current").order_by("-updated_at")[:15])
    return render(request, "knowledge/search.html", _context(
        request, form=form, hits=hits, query=query, recent=recent, tab="search",
        cases=list(Case.objects.filter(status=Case.Status.PUBLISHED).order_by("-published_at")[:8]) if not query
        else []))


def _article_for(request, pk) -> Article:
    article = Article.objects.select_related("current", "category", "owner_department", "audience_department").filter(
        pk=pk).first()
    if article is None or not services.may_read(request.user, article):
        raise Http404(_("No such article that you may read."))
    return article


@require_GET
@staff_required
def article_detail(request, pk):
    article = _article_for(request, pk)
    versions = list(article.versions.order_by("-number"))
    counts = {"helped": article.feedback.filter(helpful=True).count(),
              "not_helped": article.feedback.filter(helpful=False).count()}
    mine = article.feedback.filter(user=request.user, version=article.current).first()
    return render(request, "knowledge/article.html", _context(
        request, article=article, version=article.current, versions=versions, counts=counts, mine=mine,
        may_edit=services.may_edit(request.user, article), in_force=article.in_force(),
        uses=sum(v.uses.count() for v in versions), tab="search"))


@require_GET
@staff_required
def article_version(request, pk, number):
    article = _article_for(request, pk)
    version = article.versions.filter(number=number).first()
    if version is None:
        raise Http404(_("No such version."))
    previous = article.versions.filter(number=number - 1).first()
    diff = []
    if previous is not None:
        for line in difflib.ndiff(previous.body.splitlines(), version.body.splitlines()):
            if line.startswith("? "):
                continue
            diff.append((line[:1], line[2:]))
    return render(request, "knowledge/version.html", _context(
        request, article=article, version=version, previous=previous, diff=diff, tab="search"))


def _article_form_values(data) -> dict:
    values = {name: data[name] for name in ("title", "kind", "category", "audience", "audience_department",
                                            "effective_from", "expires_on")}
    if "owner_department" in data:
        values["owner_department"] = data["owner_department"]
    return values


@staff_required
def article_new(request):
    if not services.may_write_articles(request.user):
        raise PermissionDenied(_("Articles are written by the quality team and department leads."))
    owner_choice = is_quality(request.user)
    form = ArticleForm(request.POST or None, owner_choice=owner_choice,
                       initial={"effective_from": timezone.localdate(), "category": request.GET.get("category")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            article = services.article_create(actor=request.user, body=data["body"], change_note=data["change_note"],
                                              **_article_form_values(data))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Article published."))
            return redirect("knowledge:article", article.pk)
    return render(request, "knowledge/article_form.html", _context(request, form=form, article=None, tab="search"))


@staff_required
def article_edit(request, pk):
    article = _article_for(request, pk)
    if not services.may_edit(request.user, article):
        raise PermissionDenied(_("You may not edit this article."))
    owner_choice = is_quality(request.user)
    initial = {name: getattr(article, name) for name in services.FIELDS}
    initial.update(body=article.current.body, change_note="")
    form = ArticleForm(request.POST or None, owner_choice=owner_choice, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.article_revise(actor=request.user, article=article, body=data["body"],
                                    change_note=data["change_note"], **_article_form_values(data))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("New version saved."))
            return redirect("knowledge:article", article.pk)
    return render(request, "knowledge/article_form.html", _context(request, form=form, article=article, tab="search"))


@require_POST
@staff_required
def article_archive(request, pk):
    article = _article_for(request, pk)
    try:
        services.article_archive(actor=request.user, article=article)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Article archived: it no longer appears in searches."))
    return redirect("knowledge:article", article.pk)


@require_POST
@staff_required
def article_feedback(request, pk):
    article = _article_for(request, pk)
    form = FeedbackForm(request.POST)
    version = None
    if form.is_valid():
        version = (ArticleVersion.objects.filter(article=article, pk=form.cleaned_data["version"]).first()
                   if form.cleaned_data["version"] else article.current)
        if version is None:
            form.add_error("version", _("Unknown article version."))
    if not form.is_valid():
        if request.headers.get("HX-Request"):
            return HttpResponse(_("Say whether the article helped."), status=400)
        messages.error(request, _("Say whether the article helped."))
        return redirect("knowledge:article", article.pk)
    services.article_feedback(actor=request.user, version=version, helpful=form.cleaned_data["helpful"],
                              comment=form.cleaned_data["comment"])
    if request.headers.get("HX-Request"):
        return render(request, "knowledge/_feedback_done.html", {"article": article,
                                                                  "helpful": form.cleaned_data["helpful"]})
    messages.success(request, _("Thank you: your feedback is recorded."))
    return redirect("knowledge:article", article.pk)


FEEDBACK_COMMENTS = 500  # the latest feedback comments the report lists


@require_GET
@staff_required
def feedback_report(request):
    if not services.may_write_articles(request.user):
        raise PermissionDenied(_("The feedback report is for the quality team and department leads."))
    rows = selectors.feedback_report(request.user)
    table = Table(name="feedback", title=_("Article feedback"),
                  columns=[_("Article"), _("Category"), _("Version"), _("Used for answers"), _("Helped"),
                           _("Did not help"), _("Helped (%)")],
                  empty=_("No articles yet."))
    for a in rows[:500]:
        answered = a.helped + a.not_helped
        share = round(100 * a.helped / answered, 1) if answered else None
        table.rows.append([
            Cell(a.title, reverse("knowledge:article", args=[a.pk])), Cell(a.category.name if a.category else "—"),
            Cell(f"v{a.current.number}" if a.current else "—"), Cell(str(a.uses), raw=a.uses),
            Cell(str(a.helped), raw=a.helped), Cell(str(a.not_helped), raw=a.not_helped),
            Cell("—" if share is None else f"{share}", raw=share, fmt="percent")])
    comments = Table(name="comments", title=_("Feedback comments"),
                     columns=[_("Article"), _("Version"), _("Helped"), _("Comment"), _("Given at"), _("Agent")],
                     empty=_("No comments yet."))
    for f in selectors.feedback_comments(request.user)[:FEEDBACK_COMMENTS]:
        comments.rows.append([
            Cell(f.article.title, reverse("knowledge:article", args=[f.article_id])), Cell(f"v{f.version.number}"),
            Cell(_("yes") if f.helpful else _("no")), Cell(f.comment),
            Cell(f"{timezone.localtime(f.created_at):%Y-%m-%d %H:%M}", raw=f.created_at), Cell(str(f.user))])
    return table_page(request, "knowledge/feedback.html", _context(request, table=table, comments=comments,
                                                                   tab="feedback"),
                      [table, comments], about=lambda chosen: ExportAbout(title=str(chosen.title)), default=table.name,
                      page="knowledge-feedback")


# --- cases -----------------------------------------------------------------------------------------------------


@require_GET
@staff_required
def case_list(request):
    state = request.GET.get("state", "published")
    cases = selectors.cases_readable(request.user).select_related("category", "proposed_by")
    if state == "review" and is_quality(request.user):
        cases = cases.filter(status=Case.Status.PROPOSED).order_by("proposed_at")
    elif state == "mine":
        cases = cases.filter(proposed_by=request.user)
    else:
        state = "published"
        cases = cases.filter(status=Case.Status.PUBLISHED).order_by("-published_at")
    tag = request.GET.get("tag", "").strip()
    if tag:
        cases = cases.filter(tags__name=tag)
    page = page_without_count(cases.prefetch_related("tags"), request.GET.get("page"), PER_PAGE)
    return render(request, "knowledge/cases.html", _context(
        request, page=page, state=state, tag=tag, tab="cases",
        query_string=f"state={state}" + (f"&tag={tag}" if tag else "")))


def _case_for(request, pk) -> Case:
    case = selectors.cases_readable(request.user).select_related("category", "source_order", "proposed_by",
                                                                 "reviewed_by").filter(pk=pk).first()
    if case is None:
        raise Http404(_("No such case that you may read."))
    return case


@staff_required
def case_detail(request, pk):
    case = _case_for(request, pk)
    review_form = withdraw_form = None
    if is_quality(request.user) and case.status == Case.Status.PROPOSED:
        review_form = CaseReviewForm(request.POST or None, initial={
            "title": case.title, "problem": case.problem, "handling": case.handling, "lessons": case.lessons})
        if request.method == "POST" and review_form.is_valid():
            data = review_form.cleaned_data
            publish = request.POST.get("decision") == "publish"
            try:
                services.case_review(actor=request.user, case=case, publish=publish, comment=data["comment"],
                                     tags=data["tags"].replace("，", ",").split(","), title=data["title"],
                                     problem=data["problem"], handling=data["handling"], lessons=data["lessons"])
            except ValidationError as exc:
                apply_service_errors(review_form, exc)
            else:
                messages.success(request, _("Case published.") if publish else _("Case not published."))
                return redirect("knowledge:case", case.pk)
    elif is_quality(request.user) and case.status == Case.Status.PUBLISHED:
        withdraw_form = WithdrawForm(request.POST or None)
        if request.method == "POST" and withdraw_form.is_valid():
            try:
                services.case_withdraw(actor=request.user, case=case, comment=withdraw_form.cleaned_data["comment"])
            except ValidationError as exc:
                apply_service_errors(withdraw_form, exc)
            else:
                messages.success(request, _("Case withdrawn."))
                return redirect("knowledge:case", case.pk)
    elif request.method == "POST":
        raise PermissionDenied(_("Cases are reviewed by the quality team."))
    source_visible = case.source_order_id and orders_visible_to(request.user).filter(pk=case.source_order_id).exists()
    return render(request, "knowledge/case.html", _context(
        request, case=case, review_form=review_form, withdraw_form=withdraw_form, source_visible=source_visible,
        tab="cases"))


@staff_required
def case_propose(request, number):
    order = orders_visible_to(request.user).filter(number=number).select_related("category", "customer").first()
    if order is None:
        raise Http404(_("No such order that you may see."))
    if not services.may_propose_case(request.user):
        raise PermissionDenied(_("You may not propose this order as a case."))
    draft = services.case_draft(order)
    form = CaseForm(request.POST or None, initial=draft)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_propose(actor=request.user, order=order, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Proposed for the case library: the quality team reviews it."))
            return redirect("knowledge:case", case.pk)
    return render(request, "knowledge/case_propose.html", _context(request, form=form, order=order, tab="cases"))


def order_knowledge(*, order: WorkOrder, user, stage: str | None, actions) -> dict:
    """For the order page (workflow.hooks.order_page_panel): the article versions used for it, and whether it may
    be proposed as a case."""
    uses = list(order.article_uses.select_related("version__article", "used_by"))
    live_case = None
    if order.closed_at is not None or order.reopen_count:  # only a closed order can become a case
        live_case = order.cases.exclude(status__in=[Case.Status.REJECTED, Case.Status.WITHDRAWN]).first()
    readable = live_case is not None and selectors.cases_readable(user).filter(pk=live_case.pk).exists()
    return {"article_uses": uses, "live_case": live_case, "live_case_readable": readable,
            "may_propose_case": order.status == "closed" and live_case is None and services.may_propose_case(user)}


def intake_suggestions_panel(*, user, customer, category, description: str) -> dict:
    """The intake panel's suggested articles (workflow.hooks.intake_panel)."""
    return {"suggestions": selectors.intake_suggestions(user=user, category=category, description=description)}
