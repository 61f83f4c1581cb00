from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from quality.kpis import KPIS
from quality.models import CallbackSurvey, FollowUp, FollowUpEvent, KpiTarget, QualityPolicy, SubscriberCount
from workflow.admin import ReadOnlyAdmin


class KpiTargetForm(forms.ModelForm):
    kpi = forms.ChoiceField(label=_("KPI"), choices=[(k.code, k.label) for k in KPIS.values()])

    class Meta:
        model = KpiTarget
        fields = ["kpi", "region", "effective_from", "value"]


@admin.register(KpiTarget)
class KpiTargetAdmin(admin.ModelAdmin):
    form = KpiTargetForm
    list_display = ["kpi_label", "region", "effective_from", "value"]
    list_filter = ["kpi", "region"]
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
    list_display = ["order", "at", "rating", "solved", "agent_name", "round"]
    list_filter = ["rating", "solved", "round"]
    search_fields = ["=order__number"]
    list_select_related = ["order"]
    date_hierarchy = "at"
    show_full_result_count = False


class FollowUpEventInline(admin.TabularInline):
    model = FollowUpEvent
    fields = ["at", "action", "actor_name", "comment"]
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
