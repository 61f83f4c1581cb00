"""The knowledge base (standard answers 口径, policies, procedures — versioned) and the case library (closed
complaints handled well, anonymised, reviewed and published), with one search index over both."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.effective import EffectiveDated


class Audience(models.TextChoices):
    EVERYONE = "everyone", _("Everyone")
    FRONTLINE = "frontline", _("Frontline")
    DEPARTMENT = "department", _("One department")


class Article(EffectiveDated):
    """An article's current state; its text lives in its versions (the newest is `current`)."""

    ENDS_ON = "expires_on"

    class Kind(models.TextChoices):
        STANDARD_ANSWER = "standard_answer", _("Standard answer (口径)")
        POLICY = "policy", _("Policy")
        PROCEDURE = "procedure", _("Procedure")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.STANDARD_ANSWER)
    title = models.CharField(_("title"), max_length=200)
    category = models.ForeignKey("complaints.Category", verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+",
                                 help_text=_("The category (and below) it answers; empty: general."))
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices, default=Audience.EVERYONE)
    audience_department = models.ForeignKey("org.Department", verbose_name=_("audience department"), null=True,
                                            blank=True, on_delete=models.PROTECT, related_name="+")
    owner_department = models.ForeignKey("org.Department", verbose_name=_("owned by"), null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="+",
                                         help_text=_("Its lead may edit it, besides the quality team."))
    effective_from = models.DateField(_("effective from"), default=timezone.localdate)
    expires_on = models.DateField(_("expires on"), null=True, blank=True, help_text=_("Empty: until replaced."))
    current = models.ForeignKey("ArticleVersion", verbose_name=_("current version"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(audience="department", audience_department__isnull=False)
                | (~Q(audience="department") & Q(audience_department__isnull=True)),
                name="article_department_audience_names_it"),
            models.CheckConstraint(condition=Q(expires_on__isnull=True) | Q(expires_on__gte=models.F("effective_from")),
                                   name="article_expires_after_effective"),
        ]

    def __str__(self):
        return self.title

    def in_force(self, on=None) -> bool:
        return self.archived_at is None and self.is_in_force(on)


class ArticleVersion(models.Model):
    """One version of an article's text, never changed afterwards: who wrote what, when, and why."""

    article = models.ForeignKey(Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    change_note = models.CharField(_("what changed"), max_length=200, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT,
                               related_name="+")
    author_name = models.CharField(_("author"), max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["article", "-number"]
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="article_version_number")]

    def __str__(self):
        return f"{self.title} v{self.number}"


class ArticleUse(models.Model):
    """An agent answered a customer with this version of an article: kept with the order."""

    order = models.ForeignKey("complaints.WorkOrder", verbose_name=_("order"), on_delete=models.CASCADE,
                              related_name="article_uses")
    version = models.ForeignKey(ArticleVersion, verbose_name=_("version"), on_delete=models.PROTECT,
                                related_name="uses")
    used_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("used by"), on_delete=models.PROTECT,
                                related_name="+")
    used_at = models.DateTimeField(_("used at"), default=timezone.now)

    class Meta:
        verbose_name = _("article use")
        verbose_name_plural = _("article uses")
        constraints = [models.UniqueConstraint(fields=["order", "version"], name="article_use_once_per_order")]

    def __str__(self):
        return f"{self.order_id}: {self.version}"


class ArticleFeedback(models.Model):
    """“This answer helped / did not help”, from one agent, about one version (once per agent and version)."""

    article = models.ForeignKey(Article, verbose_name=_("article"), on_delete=models.CASCADE,
                                related_name="feedback")
    version = models.ForeignKey(ArticleVersion, verbose_name=_("version"), on_delete=models.PROTECT,
                                related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="+")
    helpful = models.BooleanField(_("helped"))
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("article feedback")
        verbose_name_plural = _("article feedback")
        constraints = [models.UniqueConstraint(fields=["version", "user"], name="article_feedback_once")]
        indexes = [models.Index(fields=["article", "helpful"], name="article_feedback_article")]

    def __str__(self):
        return f"{self.version}: {'+' if self.helpful else '-'}"


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=32, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Case(models.Model):
    """案例: a closed complaint handled well, told without the customer's personal data."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        PUBLISHED = "published", _("Published")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    source_order = models.ForeignKey("complaints.WorkOrder", verbose_name=_("from order"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="cases")
    title = models.CharField(_("title"), max_length=200)
    category = models.ForeignKey("complaints.Category", verbose_name=_("category"), on_delete=models.PROTECT,
                                 related_name="+")
    problem = models.TextField(_("what the customer raised"))
    handling = models.TextField(_("how it was handled"))
    lessons = models.TextField(_("what others can learn"), blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="cases")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("proposed by"),
                                    on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reviewed by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_comment = models.CharField(_("review comment"), max_length=500, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("case library")
        ordering = ["-proposed_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status="published", published_at__isnull=False)
                                   | (~Q(status="published") & Q(published_at__isnull=True)),
                                   name="case_published_iff_published_at"),
            # One live proposal or publication per order; a rejected one may be proposed again.
            models.UniqueConstraint(fields=["source_order"], condition=Q(status__in=["proposed", "published"]),
                                    name="case_one_live_per_order"),
        ]

    def __str__(self):
        return self.title


class SearchEntry(models.Model):
    """One searchable document (an article in force or a published case): its text cut into search tokens
    (Chinese as overlapping character pairs, Latin words and numbers whole). On PostgreSQL a generated
    `tsv` column with a GIN index holds them; see knowledge/search.py."""

    class Kind(models.TextChoices):
        ARTICLE = "article", _("Article")
        CASE = "case", _("Case")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    article = models.OneToOneField(Article, null=True, blank=True, on_delete=models.CASCADE, related_name="entry")
    case = models.OneToOneField(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="entry")
    title = models.CharField(_("title"), max_length=200)
    snippet = models.CharField(_("snippet"), max_length=300)
    category_path = models.CharField(max_length=400, blank=True, db_index=True)
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.EVERYONE)
    audience_department = models.ForeignKey("org.Department", null=True, blank=True, on_delete=models.CASCADE,
                                            related_name="+")
    effective_from = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    tokens = models.TextField(blank=True, help_text="The distinct tokens of title and text; title tokens again "
                                                    "with a leading ^.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("search entry")
        verbose_name_plural = _("search entries")
        constraints = [
            models.CheckConstraint(condition=Q(kind="article", article__isnull=False, case__isnull=True)
                                   | Q(kind="case", case__isnull=False, article__isnull=True),
                                   name="search_entry_one_source"),
        ]

    def __str__(self):
        return self.title


class TermStat(models.Model):
    """How many documents hold a search token (for ranking: rare tokens weigh more), refreshed from the index."""

    term = models.CharField(max_length=64, primary_key=True)
    documents = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("search term statistics")
        verbose_name_plural = _("search term statistics")

    def __str__(self):
        return f"{self.term}: {self.documents}"
