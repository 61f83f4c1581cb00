from django import forms
from django.utils.translation import gettext_lazy as _

from quality.models import FollowUp


class FollowUpContactForm(forms.Form):
    reached = forms.TypedChoiceField(label=_("Customer reached"), coerce=lambda v: v == "yes",
                                     choices=[("yes", _("Yes")), ("no", _("No"))], widget=forms.RadioSelect)
    outcome = forms.ChoiceField(label=_("How the customer feels now"), required=False,
                                choices=[("", "—"), *FollowUp.Outcome.choices])
    # Required, but checked by the service so every missing field is reported at once.
    note = forms.CharField(label=_("What was said or tried"), widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=4000, required=False)
    close = forms.BooleanField(label=_("Close the follow-up"), required=False)
