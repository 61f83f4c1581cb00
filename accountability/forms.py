import datetime
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accountability.models import Cause, DeductionItem
from accountability.services import target_field
from complaints.selectors import order_get_for_user
from org.models import Department, User

SHARE_ROWS = 3


def _departments():
    return Department.objects.filter(is_active=True).exclude(kind=Department.Kind.QUALITY).order_by("kind", "name")


class MonthField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "month"})

    def __init__(self, **kwargs):
        super().__init__(input_formats=["%Y-%m"], **kwargs)

    def prepare_value(self, value):
        return value.strftime("%Y-%m") if isinstance(value, datetime.date) else value


class MonthForm(forms.Form):
    month = MonthField(label=_("Month"), required=False)


class RecomputeForm(forms.Form):
    month = MonthField(label=_("Month"))
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class SharesForm(forms.Form):
    """The department(s) that answer for a complaint, with their shares, and the cause."""

    cause = forms.ChoiceField(label=_("Cause"), choices=Cause.choices)

    def __init__(self, *args, require_reason=True, **kwargs):
        super().__init__(*args, **kwargs)
        for n in range(SHARE_ROWS):
            self.fields[f"department_{n}"] = forms.ModelChoiceField(
                label=_("Department %(n)s") % {"n": n + 1}, queryset=_departments(), required=n == 0)
            self.fields[f"share_{n}"] = forms.DecimalField(
                label=_("Share %(n)s") % {"n": n + 1}, max_digits=5, decimal_places=4, required=False,
                min_value=Decimal("0.0001"), max_value=Decimal("1"), initial=Decimal("1") if n == 0 else None)
        self.fields["reason"] = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}),
                                                required=False)

    def shares(self) -> list[tuple[Department, Decimal]]:
        out = []
        for n in range(SHARE_ROWS):
            department = self.cleaned_data.get(f"department_{n}")
            share = self.cleaned_data.get(f"share_{n}")
            if department is not None:
                out.append((department, share if share is not None else Decimal("1")))
        return out


class AppealForm(forms.Form):
    reason = forms.CharField(label=_("Why the department should not answer for it"),
                             widget=forms.Textarea(attrs={"rows": 3}), required=False)
    evidence = forms.CharField(label=_("Evidence"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class AppealDecisionForm(SharesForm):
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect, choices=[
        ("uphold", _("Uphold: the original stands")), ("overturn", _("Overturn"))])

    def __init__(self, *args, for_deduction=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.for_deduction = for_deduction
        if for_deduction:  # a deduction overturned is cancelled: no new departments
            for name in list(self.fields):
                if name.startswith(("department_", "share_")) or name == "cause":
                    del self.fields[name]
        else:
            self.fields["department_0"].required = False
            self.fields["cause"].required = False


class DeductionForm(forms.Form):
    item = forms.ModelChoiceField(label=_("Deduction item"), queryset=DeductionItem.objects.none())
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.none())
    person = forms.ModelChoiceField(label=_("Person (where it applies)"), queryset=User.objects.none(),
                                    required=False)
    order_number = forms.CharField(label=_("Work order (number)"), max_length=20, required=False)
    month = MonthField(label=_("Month"))
    evidence = forms.CharField(label=_("Evidence"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    summary = forms.CharField(label=_("Summary for the accountability record (major incidents)"),
                              widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.user = user
        self.fields["item"].queryset = DeductionItem.objects.filter(year__in=[today.year - 1, today.year])
        self.fields["department"].queryset = _departments()
        self.fields["person"].queryset = User.objects.filter(is_active=True, department__isnull=False).order_by(
            "department__name", "display_name")
        self.fields["month"].initial = today.replace(day=1)

    def clean_order_number(self):
        number = (self.cleaned_data.get("order_number") or "").strip().upper()
        if not number:
            return None
        order = order_get_for_user(user=self.user, number=number)
        if order is None:
            raise ValidationError(_("No order %(number)s that you may see.") % {"number": number})
        return order

    def clean_month(self):
        return self.cleaned_data["month"].replace(day=1)


class NoticeAckForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ImprovementAnswerForm(forms.Form):
    cause_analysis = forms.CharField(label=_("Cause analysis"), widget=forms.Textarea(attrs={"rows": 4}),
                                     required=False)
    measures = forms.CharField(label=_("Measures"), widget=forms.Textarea(attrs={"rows": 4}), required=False)


class ImprovementReviewForm(forms.Form):
    accept = forms.TypedChoiceField(label=_("Review"), coerce=lambda v: v == "accept", widget=forms.RadioSelect,
                                    choices=[("accept", _("Accept the measures")), ("return", _("Return the answer"))])
    reason = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}), required=False)



class TargetGridForm(forms.Form):
    """A department's targets of a year: one cell per indicator and month, empty where no new step starts."""

    def __init__(self, data=None, *, rows: list[dict], **kwargs):
        super().__init__(data, **kwargs)
        self.rows = []
        for row in rows:
            indicator = row["indicator"]
            cells = []
            for cell in row["cells"]:
                name = target_field(indicator.pk, cell["month"])
                self.fields[name] = forms.DecimalField(
                    label=_("%(indicator)s, month %(month)s") % {"indicator": indicator.name, "month": cell["month"]},
                    required=False, min_value=Decimal("0"), max_value=Decimal("100") if indicator.is_rate else None,
                    max_digits=10, decimal_places=2, initial=cell["step"],
                    widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6,
                                                  "placeholder": f"{cell['in_force'].normalize():f}"}))
                cells.append((name, cell))
            self.rows.append((indicator, cells))

    def grid(self):
        """Rows of (indicator, [(bound field, cell)]) for the template."""
        return [(indicator, [(self[name], cell) for name, cell in cells]) for indicator, cells in self.rows]

    def steps(self) -> dict[tuple[int, int], Decimal | None]:
        return {(indicator.pk, cell["month"]): self.cleaned_data.get(name)
                for indicator, cells in self.rows for name, cell in cells}
