"""Writes of the knowledge base and the case library: each checks the actor, validates everything before it
writes, and writes in one transaction (an article and its version, a case and its index entry)."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.models import Category, OrderStatus, WorkOrder
from complaints.redaction import personal_data
from complaints.redaction import redact as anonymise
from core.permissions import has_role, is_lead, is_lead_of, is_quality
from knowledge import search
from knowledge.models import (
    Article,
    ArticleFeedback,
    ArticleUse,
    ArticleVersion,
    Audience,
    Case,
    SearchEntry,
    Tag,
)
from org import roles
from org.models import Department

SNIPPET = 160


# --- who may ---------------------------------------------------------------------------------------------------


def may_write_articles(user) -> bool:
    """The quality team writes the knowledge base; a department lead writes the articles of their department."""
    return is_quality(user) or is_lead(user)


def may_edit(user, article: Article) -> bool:
    return is_quality(user) or is_lead_of(user, article.owner_department_id)


def may_read(user, article: Article) -> bool:
    if may_edit(user, article) or search.sees_everything(user):
        return True
    if article.audience == Audience.EVERYONE:
        return True
    if article.audience == Audience.FRONTLINE:
        return search.is_frontline_reader(user)
    return user.department_id is not None and user.department_id == article.audience_department_id


def may_propose_case(user) -> bool:
    return bool(user.is_superuser or has_role(user, roles.QUALITY_MANAGER, roles.DISPATCHER, roles.LEAD,
                                              roles.HANDLER, roles.FRONTLINE_AGENT))


# --- articles --------------------------------------------------------------------------------------------------


def _article_errors(*, title, body, kind, audience, audience_department, owner_department, effective_from,
                    expires_on, category) -> dict:
    errors = {}
    if not title:
        errors["title"] = [_("Give the article a title.")]
    if not body:
        errors["body"] = [_("Write the article's text.")]
    if kind not in Article.Kind.values:
        errors["kind"] = [_("Choose the kind of article.")]
    if audience not in Audience.values:
        errors["audience"] = [_("Choose who the article is for.")]
    elif audience == Audience.DEPARTMENT and not isinstance(audience_department, Department):
        errors["audience_department"] = [_("Name the department the article is for.")]
    if not isinstance(effective_from, datetime.date):
        errors["effective_from"] = [_("Give the day the article takes effect.")]
    elif expires_on is not None and expires_on < effective_from:
        errors["expires_on"] = [_("It expires before it takes effect.")]
    if category is not None and not isinstance(category, Category):
        errors["category"] = [_("Unknown category.")]
    if owner_department is not None and not isinstance(owner_department, Department):
        errors["owner_department"] = [_("Unknown department.")]
    return errors


def article_create(*, actor, title: str, body: str, kind: str = Article.Kind.STANDARD_ANSWER, category=None,
                   audience: str = Audience.EVERYONE, audience_department=None, owner_department=None,
                   effective_from: datetime.date | None = None, expires_on: datetime.date | None = None,
                   change_note: str = "") -> Article:
    title, body = (title or "").strip(), (body or "").strip()
    effective_from = effective_from or timezone.localdate()
    if not may_write_articles(actor):
        raise PermissionDenied(_("Articles are written by the quality team and department leads."))
    if not is_quality(actor):
        owner_department = actor.department  # a lead writes for their own department
    errors = _article_errors(title=title, body=body, kind=kind, audience=audience,
                             audience_department=audience_department, owner_department=owner_department,
                             effective_from=effective_from, expires_on=expires_on, category=category)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        article = Article.objects.create(
            kind=kind, title=title, category=category, audience=audience,
            audience_department=audience_department if audience == Audience.DEPARTMENT else None,
            owner_department=owner_department, effective_from=effective_from, expires_on=expires_on)
        version = ArticleVersion.objects.create(article=article, number=1, title=title, body=body,
                                                change_note=(change_note or _("First version"))[:200],
                                                author=actor, author_name=str(actor)[:64])
        article.current = version
        article.save(update_fields=["current"])
        _index_article(article)
        return article


FIELDS = ("title", "kind", "category", "audience", "audience_department", "owner_department", "effective_from",
          "expires_on")


def article_revise(*, actor, article: Article, body: str, change_note: str, **changes) -> Article:
    """A new version: the text (and what else changed); who, when and why are kept, the old versions stay."""
    body, change_note = (body or "").strip(), (change_note or "").strip()
    with transaction.atomic():
        locked = Article.objects.select_for_update(of=("self",)).select_related("current").get(pk=article.pk)
        if not may_edit(actor, locked):
            raise PermissionDenied(_("You may not edit this article."))
        if locked.archived_at is not None:
            raise ValidationError(_("The article is archived."))
        values = {name: changes.get(name, getattr(locked, name)) for name in FIELDS}
        values["title"] = (values["title"] or "").strip()
        if not is_quality(actor):
            values["owner_department"] = locked.owner_department
        if values["audience"] != Audience.DEPARTMENT:
            values["audience_department"] = None
        errors = _article_errors(body=body, **values)
        if not change_note:
            errors["change_note"] = [_("Say what changed.")]
        if not errors and body == locked.current.body and all(getattr(locked, n) == v for n, v in values.items()):
            errors["body"] = [_("Nothing changed.")]
        if errors:
            raise ValidationError(errors)
        for name, value in values.items():
            setattr(locked, name, value)
        version = ArticleVersion.objects.create(article=locked, number=locked.current.number + 1,
                                                title=values["title"], body=body, change_note=change_note[:200],
                                                author=actor, author_name=str(actor)[:64])
        locked.current = version
        locked.updated_at = timezone.now()
        locked.save()
        _index_article(locked)
        return locked


def article_archive(*, actor, article: Article) -> Article:
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)
        if not may_edit(actor, locked):
            raise PermissionDenied(_("You may not edit this article."))
        if locked.archived_at is None:
            locked.archived_at = timezone.now()
            locked.save(update_fields=["archived_at"])
            search.entry_drop(article=locked)
        return locked


def _index_article(article: Article) -> None:
    version = article.current
    search.entry_put(kind=SearchEntry.Kind.ARTICLE, source=article, title=version.title, body=version.body,
                     snippet=_snippet(version.body), category_path=article.category.path if article.category else "",
                     audience=article.audience, audience_department_id=article.audience_department_id,
                     effective_from=article.effective_from, expires_on=article.expires_on)


def _snippet(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= SNIPPET else text[:SNIPPET - 1] + "…"


def article_feedback(*, actor, version: ArticleVersion, helpful: bool, comment: str = "") -> ArticleFeedback:
    """Helped or did not help; an agent may change their mind (one answer per agent and version)."""
    if not may_read(actor, version.article):
        raise PermissionDenied(_("You may not read this article."))
    feedback, _created = ArticleFeedback.objects.update_or_create(
        version=version, user=actor,
        defaults={"article": version.article, "helpful": bool(helpful), "comment": (comment or "").strip()[:500],
                  "created_at": timezone.now()})
    return feedback


def article_use_record(*, order: WorkOrder, version: ArticleVersion, actor) -> ArticleUse:
    """The version the agent chose for this order's answer, kept with the order (called inside intake)."""
    article = Article.objects.get(pk=version.article_id)  # as it stands now, not as the caller last read it
    if not may_read(actor, article) or not article.in_force():
        raise ValidationError({"article_version": [_("That article is not in force for you.")]})
    use, _created = ArticleUse.objects.get_or_create(order=order, version=version, defaults={"used_by": actor})
    return use


def article_use_at_intake(*, order: WorkOrder, actor, article_version: ArticleVersion | None) -> None:
    """A new order (workflow.hooks.order_received): the article the agent answered from, if they chose one."""
    if article_version is not None:
        article_use_record(order=order, version=article_version, actor=actor)


# --- cases -----------------------------------------------------------------------------------------------------


def case_draft(order: WorkOrder) -> dict:
    """What a proposal starts from: the order's complaint and answer with the customer's data taken out."""
    problem = anonymise(order.description, order=order)
    answer = order.answer or ""
    return {"title": f"{order.category.name}：{_snippet(problem)[:40]}", "problem": problem,
            "handling": anonymise(answer, order=order), "category": order.category}


def _case_text_errors(fields: dict, order) -> dict:
    errors = {}
    for name, text in fields.items():
        found = personal_data(text, order=order)
        if found:
            errors[name] = [_("Take out the personal data first: %(found)s.")
                            % {"found": "、".join(sorted({value for _kind, value in found}))}]
    return errors


def case_propose(*, actor, order: WorkOrder, title: str, problem: str, handling: str, lessons: str = "",
                 category=None) -> Case:
    from complaints.selectors import orders_visible_to

    if not may_propose_case(actor) or not orders_visible_to(actor).filter(pk=order.pk).exists():
        raise PermissionDenied(_("You may not propose this order as a case."))
    if order.status != OrderStatus.CLOSED:
        raise ValidationError(_("Only a closed order can become a case."))
    fields = {"title": (title or "").strip(), "problem": (problem or "").strip(),
              "handling": (handling or "").strip(), "lessons": (lessons or "").strip()}
    errors = {name: [_("This field is required.")] for name in ("title", "problem", "handling") if not fields[name]}
    errors.update({k: v for k, v in _case_text_errors(fields, order).items() if k not in errors})
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return Case.objects.create(source_order=order, category=category or order.category,
                                       proposed_by=actor, **fields)
    except IntegrityError:
        raise ValidationError(_("This order has been proposed as a case already.")) from None


def case_review(*, actor, case: Case, publish: bool, comment: str = "", tags=(), **edits) -> Case:
    """A quality manager publishes (tagged; the text checked again, as edited) or rejects with a reason."""
    comment = (comment or "").strip()
    if not is_quality(actor):
        raise PermissionDenied(_("Cases are reviewed by the quality team."))
    with transaction.atomic():
        locked = Case.objects.select_for_update(of=("self",)).select_related("source_order__customer").get(pk=case.pk)
        if locked.status != Case.Status.PROPOSED:
            raise ValidationError(_("The case is “%(status)s” already.") % {"status": locked.get_status_display()})
        for name in ("title", "problem", "handling", "lessons"):
            if name in edits:
                setattr(locked, name, (edits[name] or "").strip())
        names = [t.strip()[:32] for t in tags if t and t.strip()] if publish else []
        # Everything published with the case is checked: its texts, its tags and the reviewer's comment.
        errors = _case_text_errors({"comment": comment, "tags": " ".join(names)}, locked.source_order)
        if publish:
            errors |= _case_text_errors({n: getattr(locked, n) for n in ("title", "problem", "handling", "lessons")},
                                        locked.source_order)
        if errors:
            raise ValidationError(errors)
        if not publish and not comment:
            raise ValidationError({"comment": [_("Say why the case is not published.")]})
        now = timezone.now()
        locked.status = Case.Status.PUBLISHED if publish else Case.Status.REJECTED
        locked.reviewed_by, locked.reviewed_at, locked.review_comment = actor, now, comment[:500]
        locked.published_at = now if publish else None
        locked.save()
        if publish:
            locked.tags.set([Tag.objects.get_or_create(name=name)[0] for name in dict.fromkeys(names)])
            _index_case(locked)
        return locked


def case_withdraw(*, actor, case: Case, comment: str) -> Case:
    comment = (comment or "").strip()
    if not is_quality(actor):
        raise PermissionDenied(_("Cases are reviewed by the quality team."))
    if not comment:
        raise ValidationError({"comment": [_("Say why the case is withdrawn.")]})
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.status != Case.Status.PUBLISHED:
            raise ValidationError(_("Only a published case can be withdrawn."))
        locked.status, locked.published_at, locked.review_comment = Case.Status.WITHDRAWN, None, comment[:500]
        locked.save(update_fields=["status", "published_at", "review_comment"])
        search.entry_drop(case=locked)
        return locked


def _index_case(case: Case) -> None:
    tags = " ".join(case.tags.values_list("name", flat=True))
    search.entry_put(kind=SearchEntry.Kind.CASE, source=case, title=case.title,
                     body="\n".join([case.problem, case.handling, case.lessons, tags]), snippet=_snippet(case.problem),
                     category_path=case.category.path, audience=Audience.EVERYONE, audience_department_id=None)
