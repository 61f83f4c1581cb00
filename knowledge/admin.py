"""Admin views of the knowledge base: read-only, because every change goes through the product's pages (a new
version, the search index, the personal-data check), tags included (a tag is published with its cases)."""

from django.contrib import admin

from knowledge.models import Article, ArticleFeedback, ArticleVersion, Case, Tag


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class VersionInline(admin.TabularInline):
    model = ArticleVersion
    fields = ("number", "title", "change_note", "author_name", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Article)
class ArticleAdmin(ReadOnly):
    list_display = ("title", "kind", "category", "audience", "effective_from", "expires_on", "archived_at")
    list_filter = ("kind", "audience", "archived_at")
    search_fields = ("title",)
    inlines = [VersionInline]


@admin.register(ArticleFeedback)
class FeedbackAdmin(ReadOnly):
    list_display = ("article", "version", "user", "helpful", "created_at")
    list_filter = ("helpful",)


@admin.register(Case)
class CaseAdmin(ReadOnly):
    list_display = ("title", "category", "status", "proposed_by", "proposed_at", "published_at")
    list_filter = ("status",)
    search_fields = ("title",)


@admin.register(Tag)
class TagAdmin(ReadOnly):
    search_fields = ("name",)
