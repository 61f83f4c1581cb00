"""Reads of the knowledge base: what a user may read, the suggestions at intake, the feedback report."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q

from core.permissions import is_quality
from knowledge import search
from knowledge.models import Article, ArticleFeedback, Case


def articles_in_force(*, on=None):
    return Article.objects.filter(archived_at__isnull=True).in_force(on=on)


def articles_readable(user):
    return Article.objects.filter(search.audience_q(user))


def cases_readable(user):
    """Published cases for everyone; proposals for the quality team and their proposer."""
    if is_quality(user):
        return Case.objects.all()
    return Case.objects.filter(Q(status=Case.Status.PUBLISHED) | Q(proposed_by=user))


@dataclass
class Suggestions:
    for_category: list = field(default_factory=list)  # articles of the category or a category above it
    articles: list = field(default_factory=list)  # articles whose text matches the description, best first
    cases: list = field(default_factory=list)  # search hits (cases)

    def __bool__(self):
        return bool(self.for_category or self.articles or self.cases)


def intake_suggestions(*, user, category=None, description: str = "", limit: int = 3) -> Suggestions:
    """What the intake panel offers: the articles that answer this category (deepest first), then articles and
    similar published cases whose text matches the description, within the category's family."""
    out = Suggestions()
    if category is not None:
        ancestors = [c for c in category.path.strip("/").split("/") if c]
        out.for_category = list(
            articles_in_force().filter(search.audience_q(user), category__code__in=ancestors)
            .select_related("current", "category").order_by("-category__level", "title")[:limit])
    if description.strip():
        hits = search.search(user=user, query=description, family=category, limit=limit * 3,
                             exclude_articles=[a.pk for a in out.for_category])
        article_ids = [h.source_id for h in hits if h.kind == "article"][:limit]
        articles = Article.objects.select_related("current", "category").in_bulk(article_ids)
        out.articles = [articles[pk] for pk in article_ids if pk in articles]
        out.cases = [h for h in hits if h.kind == "case"][:limit]
    return out


def feedback_report(user):
    """Per article: how often it was used for an answer, and how often it helped or did not."""
    return (articles_readable(user).filter(archived_at__isnull=True)
            .annotate(helped=Count("feedback", filter=Q(feedback__helpful=True), distinct=True),
                      not_helped=Count("feedback", filter=Q(feedback__helpful=False), distinct=True),
                      uses=Count("versions__uses", distinct=True))
            .select_related("category", "current").order_by("-not_helped", "-uses", "title"))


def feedback_comments(user):
    """What agents wrote with their feedback on the articles the user may read, latest first."""
    return (ArticleFeedback.objects.filter(article__in=articles_readable(user).filter(archived_at__isnull=True))
            .exclude(comment="").select_related("article", "version", "user").order_by("-created_at", "-id"))
