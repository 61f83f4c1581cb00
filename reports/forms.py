import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints.models import Brand, Category, Channel, Kind, Severity, Tier
from complaints.selectors import (
    categories_active_list,
    channels_by_code,
    regions_visible_list,
    regions_visible_to,
)
from core.permissions import is_centre_or_quality
from core.widgets import DateInput
from org.models import Region
from quality.kpis import KPIS, PERIOD_PRESETS, Period, period_preset
from quality.selectors import departments_viewable_by, departments_viewable_list, viewer_slice

KIND_CHOICES = [*Kind.choices, ("all", _("All kinds"))]
MAX_DAYS = 3 * 366


class TreeChoiceField(forms.ModelChoiceField):
    """Regions and categories listed as an indented tree."""

    def label_from_instance(self, obj):
        return "　" * (obj.level - 1) + (obj.label if hasattr(obj, "label") else obj.name)


def _choices_from(field: forms.ModelChoiceField, objects) -> None:
    field.choices = [("", field.empty_label), *((obj.pk, field.label_from_instance(obj)) for obj in objects)]


class DashboardForm(forms.Form):
    """The period and the slice every dashboard is read for; the user's own region (and, for a department lead,
    department) always applies on top."""

    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_PRESETS, initial="30d", required=False)
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())
    kind = forms.ChoiceField(label=_("Kind"), choices=KIND_CHOICES, initial=Kind.COMPLAINT, required=False)
    region = TreeChoiceField(label=_("Region"), queryset=Region.objects.none(), required=False,
                             empty_label=_("All I may see"))
    category = TreeChoiceField(label=_("Category"), queryset=Category.objects.none(), required=False,
                               empty_label=_("All"))
    channel = forms.ModelChoiceField(label=_("Channel"), queryset=Channel.objects.filter(is_active=True),
                                     required=False, empty_label=_("All"))
    department = forms.ModelChoiceField(label=_("Department"), queryset=Region.objects.none(), required=False,
                                        empty_label=_("All"))
    severity = forms.ChoiceField(label=_("Severity"), choices=[("", _("All")), *Severity.choices], required=False)
    tier = forms.ChoiceField(label=_("Customer tier"), choices=[("", _("All")), *Tier.choices], required=False)
    brand = forms.ChoiceField(label=_("Brand"), choices=[("", _("All")), *Brand.choices], required=False)

    def __init__(self, data=None, *, user, default_period="30d", **kwargs):
        if data is not None and not data.get("period"):
            data = data.copy()  # a link that names no period means the page's default one, and shows it
            data["period"] = default_period
        super().__init__(data, **kwargs)
        self.user = user
        self.fields["period"].initial = default_period
        self.fields["region"].queryset = regions_visible_to(user).order_by("path")
        self.fields["category"].queryset = Category.objects.filter(is_active=True).order_by("path")
        self.fields["department"].queryset = departments_viewable_by(user)
        # The lists offered come from the memos of the trees (every dashboard page renders them); what is
        # submitted is still checked against the querysets above.
        _choices_from(self.fields["region"], regions_visible_list(user))
        _choices_from(self.fields["category"], categories_active_list())
        _choices_from(self.fields["channel"], [c for c in channels_by_code().values() if c.is_active])
        if is_centre_or_quality(user):
            _choices_from(self.fields["department"], departments_viewable_list(user))
        else:
            del self.fields["department"]  # a department lead's dashboards are their department's

    def clean(self):
        data = super().clean()
        if data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise ValidationError({"start": _("A custom period needs both dates.")})
            if end < start:
                raise ValidationError({"end": _("The period ends before it starts.")})
            if (end - start).days >= MAX_DAYS:
                raise ValidationError({"end": _("At most three years at a time.")})
        return data

    def period_value(self, today: datetime.date | None = None) -> Period:
        today = today or timezone.localdate()
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        name = data.get("period") or self.fields["period"].initial
        if name == "custom":
            return Period(data["start"], data["end"])
        return period_preset(name, today)

    def slice_value(self):
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        kind = data.get("kind") or Kind.COMPLAINT
        filters = {
            "region": data.get("region"), "category": data.get("category"),
            "channel_id": data["channel"].pk if data.get("channel") else None,
            "severity": data.get("severity") or "", "tier": data.get("tier") or "", "brand": data.get("brand") or "",
            "kinds": () if kind == "all" else (kind,),
        }
        if data.get("department"):
            filters["department_id"] = data["department"].pk
        return viewer_slice(self.user, **filters)


COMPARABLE_KPIS = [(code, kpi.label) for code, kpi in KPIS.items()
                   if code not in ("complaint_inquiry_ratio", "per_10k", "overdue_count", "escalation_count")]


class CompareForm(forms.Form):
    kpi = forms.ChoiceField(label=_("KPI"), choices=COMPARABLE_KPIS, initial="timeliness")
    change_date = forms.DateField(label=_("Change date"), widget=DateInput(),
                                  help_text=_("The first day under the change."))
    days = forms.IntegerField(label=_("Days on each side"), min_value=7, max_value=180, initial=28)
    pairing = forms.ChoiceField(label=_("Pair by"), initial="", required=False, choices=[
        ("", _("No pairing")), ("department", _("Department")), ("region2", _("City")),
        ("agent", _("First responder"))])

    def clean_change_date(self):
        value = self.cleaned_data["change_date"]
        if value > timezone.localdate():
            raise ValidationError(_("The change date lies in the future: there is nothing after it to compare."))
        return value


class HotspotForm(forms.Form):
    category_level = forms.ChoiceField(label=_("Category level"), initial="3", required=False,
                                       choices=[("1", "1"), ("2", "2"), ("3", "3"), ("4", "4")])
    region_level = forms.ChoiceField(label=_("Region level"), initial="2", required=False,
                                     choices=[("2", _("City")), ("3", _("County"))])
    week_end = forms.DateField(label=_("Week ending"), required=False,
                               widget=DateInput(),
                               help_text=_("Empty: today."))

    def clean_week_end(self):
        value = self.cleaned_data.get("week_end")
        if value and value > timezone.localdate():
            raise ValidationError(_("The week cannot end in the future."))
        return value


class MonthInput(forms.DateInput):
    input_type = "month"

    def format_value(self, value):
        return value.strftime("%Y-%m") if isinstance(value, datetime.date) else value


class ReportGenerateForm(forms.Form):
    region = forms.ModelChoiceField(label=_("Region"), queryset=Region.objects.none())
    month = forms.DateField(label=_("Month"), input_formats=["%Y-%m"], widget=MonthInput())

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["region"].queryset = regions_visible_to(user).filter(level__lte=Region.Level.CITY).order_by("path")
        last = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
        self.fields["month"].initial = last.replace(day=1)

    def clean_month(self):
        month = self.cleaned_data["month"].replace(day=1)
        if month >= timezone.localdate().replace(day=1):
            raise ValidationError(_("Only a month that has ended can be reported on."))
        return month
