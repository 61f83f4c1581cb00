from django import forms
from django.utils.translation import gettext_lazy as _

from quality.models import Bulletin, FollowUp, Incident


class FollowUpContactForm(forms.Form):
    reached = forms.TypedChoiceField(label=_("Customer reached"), coerce=lambda v: v == "yes",
                                     choices=[("yes", _("Yes")), ("no", _("No"))], widget=forms.RadioSelect)
    outcome = forms.ChoiceField(label=_("How the customer feels now"), required=False,
                                choices=[("", "—"), *FollowUp.Outcome.choices])
    # Required, but checked by the service so every missing field is reported at once.
    note = forms.CharField(label=_("What was said or tried"), widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=4000, required=False)
    close = forms.BooleanField(label=_("Close the follow-up"), required=False)


def intake_form_fields() -> dict:
    """The intake form's fields of early warning (workflow.hooks.intake_form_fields)."""
    return {
        # Set by "Answer from this bulletin" in the side panel.
        "bulletin": forms.ModelChoiceField(queryset=Bulletin.objects.filter(withdrawn_at__isnull=True),
                                           required=False, widget=forms.HiddenInput),
        # Set by "The customer is in this area: join" next to a known fault in the side panel.
        "incident": forms.ModelChoiceField(
            queryset=Incident.objects.filter(status=Incident.Status.OPEN), required=False, widget=forms.HiddenInput,
            error_messages={"invalid_choice": _("That incident is resolved or unknown.")}),
    }
