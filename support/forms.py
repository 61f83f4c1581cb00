"""Forms of support requests: they parse and check the shape of the input; the services check the rest."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.widgets import DateInput
from support import selectors
from support.models import SupportRequest


class RaiseForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=SupportRequest.Kind.choices, widget=forms.RadioSelect,
                             initial=SupportRequest.Kind.PROBLEM)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 6}))

    def __init__(self, *args, policy=None, **kwargs):
        super().__init__(*args, **kwargs)
        if policy is not None:
            self.fields["kind"].help_text = _(
                "A problem is answered within %(problem)s working days, a requirement within %(requirement)s."
            ) % {"problem": policy.problem_working_days, "requirement": policy.requirement_working_days}


class RouteForm(forms.Form):
    department = forms.ModelChoiceField(label=_("Department"), queryset=selectors.routable_departments())
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=[("", _("keep as raised")), *SupportRequest.Kind.choices],
                             help_text=_("Correct the kind when it was raised as the other one: the promised date "
                                         "follows."))
    comment = forms.CharField(label=_("Comment for the department"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("Answer"), widget=forms.Textarea(attrs={"rows": 5}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class DeferForm(forms.Form):
    until = forms.DateField(label=_("New date"), widget=DateInput())
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("An investment decision, a study with other departments…"))

    def __init__(self, *args, latest=None, **kwargs):
        super().__init__(*args, **kwargs)
        if latest is not None:
            self.fields["until"].help_text = _("A working day, by %(date)s at the latest.") % {
                "date": f"{latest:%Y-%m-%d}"}
            self.fields["until"].widget.attrs["max"] = f"{latest:%Y-%m-%d}"


class ApproveForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(label=_("Rating"), coerce=int, widget=forms.RadioSelect,
                                    choices=[(n, str(n)) for n in range(5, 0, -1)])
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                              help_text=_("Required with a rating of 1 or 2."))
    reopen = forms.BooleanField(label=_("Not answered: send it back to the quality department"), required=False)

    def __init__(self, *args, may_reopen_at=None, **kwargs):
        super().__init__(*args, **kwargs)
        if may_reopen_at is None:
            del self.fields["reopen"]
        else:
            self.fields["reopen"].help_text = _("Possible once, with a rating of %(max)s or lower.") % {
                "max": may_reopen_at}


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}))


ACTION_FORMS = {
    "route": RouteForm,
    "answer": AnswerForm,
    "reject": ReasonForm,
    "return": ReasonForm,
    "defer": DeferForm,
    "approve": ApproveForm,
    "send_back": ReasonForm,
    "rate": RateForm,
    "comment": CommentForm,
}


def action_form(action: str, request: SupportRequest, data=None) -> forms.Form:
    """The form of one action on this request, prefixed with the action's name (several share a page)."""
    from support import services

    kwargs = {}
    if action == "defer":
        kwargs["latest"] = services.deferral_latest_date(request=request)
    elif action == "rate":
        kwargs["may_reopen_at"] = services.reopen_threshold(request)
    return ACTION_FORMS[action](data, prefix=action, **kwargs)


class ListFilterForm(forms.Form):
    scope = forms.CharField(required=False, widget=forms.HiddenInput)
    state = forms.ChoiceField(label=_("State"), required=False, choices=[
        ("", _("all")), ("open", _("in progress")), ("overdue", _("past the promised date")),
        ("closed", _("closed"))])
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("all")), *SupportRequest.Kind.choices])
    department = forms.ModelChoiceField(label=_("Department"), required=False,
                                        queryset=selectors.answering_departments(), empty_label=_("all"))
    q = forms.CharField(label=_("Number or title"), required=False)
    answered_from = forms.DateField(label=_("Answered from"), required=False,
                                    widget=DateInput())
    answered_to = forms.DateField(label=_("Answered to"), required=False,
                                  widget=DateInput())
