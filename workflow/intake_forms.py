"""The intake page's form: it only parses; workflow.intake.order_create does the real checking."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from complaints.models import Brand, Category, Channel, Kind, Severity, Tier
from complaints.phone import normalise_mobile
from workflow import hooks


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class IntakeForm(forms.Form):
    customer_phone = forms.CharField(label=_("Customer mobile number"), max_length=32,
                                     widget=forms.TextInput(attrs={"autofocus": True, "inputmode": "tel",
                                                                   "autocomplete": "off"}))
    customer_name = forms.CharField(label=_("Customer name"), max_length=64, required=False)
    customer_tier = forms.ChoiceField(label=_("Tier"), choices=[("", "—"), *Tier.choices], required=False)
    customer_brand = forms.ChoiceField(label=_("Brand"), choices=[("", "—"), *Brand.choices], required=False)
    # 更新客户资料: the name, tier and brand typed above go on the order; the customer's record takes them only when
    # the agent ticks this (the page offers it when they differ from the record).
    update_customer = forms.BooleanField(
        label=_("Update the customer's record"), required=False, initial=False,
        help_text=_("Save the name, tier and brand above to the customer's record (logged). Otherwise they are "
                    "kept with this order only."))
    contact_phone = forms.CharField(label=_("Contact number"), max_length=32, required=False,
                                    help_text=_("Leave empty to use the mobile number."))
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices, initial=Kind.COMPLAINT, widget=forms.RadioSelect)
    channel = forms.ModelChoiceField(label=_("Channel"), queryset=Channel.objects.filter(is_active=True),
                                     to_field_name="code", empty_label=None)
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.filter(is_active=True),
                                      widget=forms.HiddenInput,
                                      error_messages={"required": _("Choose a category."),
                                                      "invalid_choice": _("Unknown category.")})
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial=Severity.ORDINARY)
    description = forms.CharField(label=_("Description"), max_length=4000,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    note = forms.CharField(label=_("Internal note"), max_length=4000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
    attachments = MultipleFileField(label=_("Attachments"), required=False,
                                    help_text=_("Images or PDF."))
    resolve_on_spot = forms.BooleanField(label=_("Resolve on the spot"), required=False)
    answer = forms.CharField(label=_("Answer to the customer"), max_length=4000, required=False,
                             widget=forms.Textarea(attrs={"rows": 3}))
    compensation = forms.DecimalField(label=_("Compensation (yuan)"), max_digits=10, decimal_places=2,
                                      min_value=0, required=False)
    area = forms.CharField(label=_("Cell or area"), max_length=64, required=False,
                           help_text=_("The cell, base station or area, if the customer knows it."))
    # The side panel's choices — a bulletin answered from, a known fault joined (quality), an article version used
    # (knowledge) — are fields of those apps (hooks.intake_form_fields), added in __init__.

    # The intake page's memory of which fields the agent set by hand (comma-separated names), kept through a form
    # sent back with an error: what the page filled in itself (the category's severity, the known customer's
    # name, tier and brand) may be replaced, what the agent set may not. Not saved with the order.
    agent_edited = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for fields in hooks.intake_form_fields.gather():
            self.fields.update(fields)

    def clean_customer_phone(self):
        try:
            return normalise_mobile(self.cleaned_data["customer_phone"])
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None

    def clean(self):
        data = super().clean()
        if data.get("resolve_on_spot") and not (data.get("answer") or "").strip():
            self.add_error("answer", _("An order closed on the spot needs the answer given to the customer."))
        return data
