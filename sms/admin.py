from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from complaints.admin import ReadOnlyAdmin
from complaints.phone import mask
from sms import services
from sms.models import SmsInbound, SmsMessage, SmsOptOut, SmsPolicy, SmsSurvey, SmsTemplate
from sms.texts import PLACEHOLDERS, SAMPLE, render, sms_length, template_check


@admin.register(SmsPolicy)
class SmsPolicyAdmin(admin.ModelAdmin):
    list_display = ["effective_from", "enabled", "quiet_from", "quiet_until", "daily_cap", "survey_enabled",
                    "survey_window_hours", "survey_scale"]


class SmsTemplateForm(forms.ModelForm):
    class Meta:
        model = SmsTemplate
        fields = ["kind", "channel", "body", "is_active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 4, "cols": 80})}

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") and cleaned.get("body") is not None:
            try:
                template_check(kind=cleaned["kind"], body=cleaned["body"])
            except ValidationError as exc:
                for message in exc.message_dict.get("body", exc.messages):
                    self.add_error("body", message)
        return cleaned


def _length_text(length) -> str:
    return ngettext("%(characters)s characters, %(segments)s segment", "%(characters)s characters, %(segments)s "
                    "segments", length.segments) % {"characters": length.characters, "segments": length.segments}


@admin.register(SmsTemplate)
class SmsTemplateAdmin(admin.ModelAdmin):
    form = SmsTemplateForm
    list_display = ["kind", "channel", "is_active", "length", "updated_at"]
    list_filter = ["kind", "channel", "is_active"]
    readonly_fields = ["placeholders", "preview", "length"]

    @admin.display(description=_("length (SMS segments; 70 Chinese characters in one)"))
    def length(self, obj):
        if obj is None or not obj.body:
            return "-"
        try:
            return _length_text(sms_length(render(obj.body, SAMPLE)))
        except (ValidationError, KeyError, ValueError):
            return "-"

    @admin.display(description=_("placeholders"))
    def placeholders(self, obj):
        kind = obj.kind if obj is not None and obj.kind else None
        names = PLACEHOLDERS.get(kind) or PLACEHOLDERS["receipt"]
        return "; ".join(f"{{{name}}} {label}" for name, label in names.items())

    @admin.display(description=_("preview, placeholders at their longest"))
    def preview(self, obj):
        if obj is None or not obj.body:
            return "-"
        try:
            return render(obj.body, SAMPLE)
        except (ValidationError, KeyError, ValueError):
            return "-"


@admin.action(description=_("Send the selected failed or unconfirmed messages again"))
def send_again(modeladmin, request, queryset):
    done = sum(services.message_send_again(actor=request.user, message=m) for m in queryset)
    messages.info(request, ngettext("%(n)s message queued again.", "%(n)s messages queued again.", done) % {"n": done})


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "order", "masked", "status", "suppressed", "attempts", "sent_at",
                    "receipt_code"]
    list_filter = ["status", "kind", "suppressed"]
    search_fields = ["order__number", "gateway_id"]
    list_select_related = ["order"]
    exclude = ["phone"]
    readonly_fields = ["masked"]
    actions = [send_again]

    @admin.display(description=_("mobile number"))
    def masked(self, obj):
        return mask(obj.phone)


@admin.register(SmsOptOut)
class SmsOptOutAdmin(ReadOnlyAdmin):
    list_display = ["masked", "at", "text"]
    exclude = ["phone"]
    readonly_fields = ["masked"]

    @admin.display(description=_("mobile number"))
    def masked(self, obj):
        return mask(obj.phone)


@admin.register(SmsSurvey)
class SmsSurveyAdmin(ReadOnlyAdmin):
    list_display = ["order", "round", "status", "opened_at", "expires_at", "answered_at", "rating"]
    list_filter = ["status"]
    search_fields = ["order__number"]
    exclude = ["phone", "message"]
    list_select_related = ["order"]


@admin.register(SmsInbound)
class SmsInboundAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "masked", "text", "outcome", "order"]
    list_filter = ["outcome"]
    search_fields = ["order__number"]
    exclude = ["phone", "survey"]
    readonly_fields = ["masked"]
    list_select_related = ["order"]

    @admin.display(description=_("mobile number"))
    def masked(self, obj):
        return mask(obj.phone)
