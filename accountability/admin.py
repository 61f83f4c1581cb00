from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from accountability.models import (
    AccountabilityPolicy,
    AccountabilityRecord,
    Appeal,
    Deduction,
    DeductionItem,
    Determination,
    DeterminationShare,
    ImprovementOrder,
    Indicator,
    IndicatorTarget,
    IndicatorTargetChange,
    MonthlyNotice,
    MonthlyScore,
    ResponsibilityRule,
    RuleShare,
    ScoreRecomputation,
)
from complaints.admin import ReadOnlyAdmin


@admin.register(AccountabilityPolicy)
class AccountabilityPolicyAdmin(admin.ModelAdmin):
    list_display = ["effective_from", "appeal_working_days", "notice_ack_working_days",
                    "improvement_answer_working_days", "warn_percent", "passes_allowed"]


class SharesAddUp(BaseInlineFormSet):
    def clean(self):
        super().clean()
        shares = [form.cleaned_data.get("share") for form in self.forms
                  if form.cleaned_data and not form.cleaned_data.get("DELETE")]
        shares = [s for s in shares if s is not None]
        if not shares:
            raise ValidationError(_("Name at least one responsible department."))
        if sum(shares, Decimal("0")) != Decimal("1"):
            raise ValidationError(_("The shares add up to %(total)s; they must add up to 1.")
                                  % {"total": sum(shares, Decimal("0"))})


class RuleShareInline(admin.TabularInline):
    model = RuleShare
    formset = SharesAddUp
    extra = 1
    autocomplete_fields = ["department"]


@admin.register(ResponsibilityRule)
class ResponsibilityRuleAdmin(admin.ModelAdmin):
    list_display = ["category", "effective_from", "cause", "departments", "note"]
    list_filter = ["effective_from", "cause", "category__level"]
    search_fields = ["category__code", "category__name", "shares__department__name"]
    autocomplete_fields = ["category"]
    inlines = [RuleShareInline]
    list_select_related = ["category"]
    fields = ["category", "effective_from", "cause", "note"]  # the form's order

    @admin.display(description=_("departments"))
    def departments(self, obj):
        return ", ".join(f"{s.department.name} {s.share:g}" for s in obj.shares.select_related("department"))


class IndicatorTargetInline(admin.TabularInline):
    """Shown, not edited: departments' targets are set month by month on /accountability/targets/, which keeps
    the record of every change."""

    model = IndicatorTarget
    extra = 0
    fields = readonly_fields = ["department", "from_month", "target"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IndicatorTargetChange)
class IndicatorTargetChangeAdmin(admin.ModelAdmin):
    list_display = ["changed_at", "changed_by_name", "indicator", "department", "from_month", "old_target",
                    "new_target"]
    list_filter = ["indicator__year", "department"]
    list_select_related = ["indicator", "department"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ["year", "code", "name", "measure", "higher_is_better", "target", "weight"]
    list_filter = ["year", "measure"]
    search_fields = ["code", "name"]
    inlines = [IndicatorTargetInline]


@admin.register(DeductionItem)
class DeductionItemAdmin(admin.ModelAdmin):
    list_display = ["year", "code", "name", "kind", "points", "major"]
    list_filter = ["year", "kind", "major"]
    search_fields = ["code", "name"]


class DeterminationShareInline(admin.TabularInline):
    model = DeterminationShare
    fields = ["department", "share"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Determination)
class DeterminationAdmin(ReadOnlyAdmin):
    """Read-only: determinations change through the complaint centre's decisions and appeals, never by editing."""

    list_display = ["order", "month", "status", "cause", "appeal_due_at"]
    list_filter = ["status", "cause", "month"]
    search_fields = ["=order__number"]
    list_select_related = ["order"]
    inlines = [DeterminationShareInline]
    show_full_result_count = False


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ["department", "filed_at", "status", "decided_at"]
    list_filter = ["status"]


@admin.register(Deduction)
class DeductionAdmin(ReadOnlyAdmin):
    list_display = ["department", "item", "month", "points", "status", "recorded_at"]
    list_filter = ["status", "month", "item__kind"]


@admin.register(AccountabilityRecord)
class AccountabilityRecordAdmin(ReadOnlyAdmin):
    list_display = ["deduction", "created_at"]


@admin.register(MonthlyScore)
class MonthlyScoreAdmin(ReadOnlyAdmin):
    list_display = ["month", "rank", "department", "total", "indicator_points", "deduction_points", "computed_at"]
    list_filter = ["month"]


@admin.register(MonthlyNotice)
class MonthlyNoticeAdmin(ReadOnlyAdmin):
    list_display = ["month", "department", "status", "due_at", "acknowledged_at"]
    list_filter = ["month", "status"]


@admin.register(ImprovementOrder)
class ImprovementOrderAdmin(ReadOnlyAdmin):
    list_display = ["department", "indicator", "opened_month", "status", "latest_month", "due_at"]
    list_filter = ["status", "opened_month"]


@admin.register(ScoreRecomputation)
class ScoreRecomputationAdmin(ReadOnlyAdmin):
    """The record of archived months computed again (made on the ranking page or by `accountability_month
    --recompute`): who, when, why, every department's total before and after."""

    list_display = ["month", "recomputed_at", "actor_name", "reason", "late_arrivals"]
    list_filter = ["month"]
