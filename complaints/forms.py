from django import forms
from django.utils.translation import gettext_lazy as _

from complaints.models import Channel, Kind, OrderStatus
from core.widgets import DateInput
from org.models import Department, Region


class OrderFilterForm(forms.Form):
    q = forms.CharField(label=_("Order number or mobile number"), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("All statuses")), *OrderStatus.choices],
                               required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("All kinds")), *Kind.choices], required=False)
    channel = forms.ModelChoiceField(label=_("Channel"), queryset=Channel.objects.all(), to_field_name="code",
                                     required=False, empty_label=_("All channels"))
    received_from = forms.DateField(label=_("Received from"), required=False,
                                    widget=DateInput())
    received_to = forms.DateField(label=_("Received to"), required=False,
                                  widget=DateInput())
    deadline = forms.ChoiceField(label=_("Deadline"), required=False, choices=[
        ("", _("Any")), ("warning", _("Warning (past 80%)")), ("overdue", _("Overdue"))])
    # Set by the dashboards' links (the open orders of a region or a department); not shown in the filter bar.
    region = forms.ModelChoiceField(queryset=Region.objects.all(), required=False, widget=forms.HiddenInput)
    current_department = forms.ModelChoiceField(queryset=Department.objects.all(), required=False,
                                                widget=forms.HiddenInput)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))


class TrackForm(forms.Form):
    number = forms.CharField(label=_("Order number"), max_length=20)
    phone = forms.CharField(label=_("Mobile number"), max_length=32)


class OrderImportForm(forms.Form):
    """The historical import page: another system's CSV export and the JSON mapping that reads it."""

    csv_file = forms.FileField(label=_("CSV export"))
    mapping_file = forms.FileField(label=_("Mapping (JSON file)"), required=False,
                                   help_text=_("Its file name is the source system unless the mapping names one in "
                                               "“source”."))
    mapping_text = forms.CharField(label=_("…or paste the mapping"), required=False,
                                   widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
                                   help_text=_("A pasted mapping must name its source system in “source”."))

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("mapping_file") and not (cleaned.get("mapping_text") or "").strip():
            raise forms.ValidationError(_("Give the mapping as a file or paste it."))
        return cleaned
