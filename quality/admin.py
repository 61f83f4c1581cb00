from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from complaints.admin import ReadOnlyAdmin
from quality.kpis import KPIS
from quality.models import (
    BatchAlert,
    BatchPolicy,
    Bulletin,
    CallbackSurvey,
    FollowUp,
    FollowUpEvent,
    Incident,
    KpiTarget,
    QualityPolicy,
    SubscriberCount,
)


class KpiTargetForm(forms.ModelForm):
    kpi = forms.ChoiceField(label=_("KPI"), choices=[(k.code, k.label) for k in KPIS.values()])

    class Meta:
        model = KpiTarget
        fields = ["kpi", "region", "effective_from", "value"]


class KpiFilter(admin.SimpleListFilter):
    """The KPIs by their names (the column holds codes)."""

    title = _("KPI")
    parameter_name = "kpi"

    def lookups(self, request, model_admin):
        codes = model_admin.get_queryset(request).values_list("kpi", flat=True).distinct()
        return [(code, KPIS[code].label if code in KPIS else code) for code in sorted(set(codes))]

    def queryset(self, request, queryset):
        return queryset.filter(kpi=self.value()) if self.value() else queryset


@admin.register(KpiTarget)
class KpiTargetAdmin(admin.ModelAdmin):
    form = KpiTargetForm
    list_display = ["kpi_label", "region", "effective_from", "value"]
    list_filter = [KpiFilter, "region"]
    autocomplete_fields = ["region"]

    @admin.display(description=_("KPI"), ordering="kpi")
    def kpi_label(self, obj):
        kpi = KPIS.get(obj.kpi)
        return f"{kpi.label} ({kpi.unit or '—'})" if kpi else obj.kpi


@admin.register(SubscriberCount)
class SubscriberCountAdmin(admin.ModelAdmin):
    list_display = ["region", "month", "subscribers"]
    list_filter = ["month", "region__level"]
    search_fields = ["region__name", "region__code"]
    autocomplete_fields = ["region"]


@admin.register(QualityPolicy)
class QualityPolicyAdmin(admin.ModelAdmin):
    list_display = ["effective_from", "follow_up_working_days", "hotspot_baseline_weeks", "hotspot_min_count",
                    "hotspot_max_p"]


@admin.register(CallbackSurvey)
class CallbackSurveyAdmin(ReadOnlyAdmin):
    list_display = ["order", "at", "rating", "solved", "method", "agent_name", "round"]
    list_filter = ["rating", "solved", "method", "round"]
    search_fields = ["=order__number"]
    list_select_related = ["order"]
    date_hierarchy = "at"
    show_full_result_count = False


class FollowUpEventInline(admin.TabularInline):
    model = FollowUpEvent
    fields = ["created_at", "action", "actor_name", "comment"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    """Read-only here: follow-ups are worked on their own page (and by their service functions)."""

    list_display = ["customer", "order", "reason", "status", "due_at", "assignee", "outcome"]
    list_filter = ["status", "reason", "outcome"]
    search_fields = ["=customer__phone", "=order__number"]
    list_select_related = ["customer", "order", "assignee"]
    inlines = [FollowUpEventInline]


@admin.register(BatchPolicy)
class BatchPolicyAdmin(admin.ModelAdmin):
    list_display = ["effective_from", "window_minutes", "baseline_weeks", "category_level", "region_level",
                    "min_count", "min_ratio", "orange_count", "red_count"]


@admin.register(BatchAlert)
class BatchAlertAdmin(ReadOnlyAdmin):
    list_display = ["category", "region", "area", "level", "status", "window_count", "total_count", "raised_at"]
    list_filter = ["status", "level"]


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    """Read-only: incidents are worked on their own pages (and by their service functions)."""

    list_display = ["title", "department", "region", "level", "status", "opened_at", "resolved_at"]
    list_filter = ["status", "level"]
    search_fields = ["title"]


@admin.register(Bulletin)
class BulletinAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "department", "starts_at", "ends_at", "published_at", "late", "withdrawn_at"]
    list_filter = ["kind", "late"]
    search_fields = ["title", "answer"]
