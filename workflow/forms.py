"""Browser forms of the order actions. Field names are the service functions' keyword arguments; the services
do the real checking (reasons required, departments allowed, ranges), the forms only parse."""

from django import forms
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from complaints.models import Kind, OrderStatus, Rating, ReplyMethod, ResultCode, Severity
from org.models import Department, User
from workflow.models import WorkflowPolicy
from workflow.selectors import department_handlers, dispatch_targets
from workflow.services import CancelReason, EscalationReason, ReturnReason


def _reason(label=None, required=True):
    return forms.CharField(label=label or _("Reason"), max_length=2000, required=required, widget=forms.Textarea(attrs={"rows": 2}))


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


class EmptyForm(forms.Form):
    pass


class DispatchForm(forms.Form):
    department = DepartmentChoiceField(label=_("Department"), queryset=Department.objects.none())
    comment = _reason(_("Comment"), required=False)

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if departments is not None:
            self.fields["department"].queryset = departments


class TransferForm(DispatchForm):
    comment = None
    reason = _reason()


class ReleaseForm(forms.Form):
    comment = _reason(_("Comment"), required=False)


class AssignForm(forms.Form):
    assignee = UserChoiceField(label=_("Handler"), queryset=User.objects.none())
    comment = _reason(_("Comment"), required=False)

    def __init__(self, *args, handlers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if handlers is not None:
            self.fields["assignee"].queryset = handlers


class ReturnForm(forms.Form):
    reason_kind = forms.ChoiceField(label=_("Why"), choices=ReturnReason.choices)
    reason = _reason()


class WaitForm(forms.Form):
    until = forms.DateTimeField(label=_("Wait until"),
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                                input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    comment = _reason(_("What the customer was asked for"))


class ResumeForm(forms.Form):
    comment = _reason(_("Comment"), required=False)


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Note"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    internal = forms.BooleanField(label=_("Internal (never shown to the customer)"), required=False, initial=True)


class ReplyForm(forms.Form):
    answer = forms.CharField(label=_("Answer to the customer"), max_length=4000,
                             widget=forms.Textarea(attrs={"rows": 4}))
    result_code = forms.ChoiceField(label=_("Result"), choices=ResultCode.choices)
    compensation = forms.DecimalField(label=_("Compensation (yuan)"), max_digits=10, decimal_places=2, min_value=0,
                                      required=False)
    reply_method = forms.ChoiceField(label=_("Answer given by"), choices=ReplyMethod.choices, initial=ReplyMethod.PHONE,
                                     required=False,
                                     help_text=_("How the customer was given the answer; the answer SMS says it."))

    def clean_reply_method(self):
        return self.cleaned_data["reply_method"] or ReplyMethod.PHONE  # a form without the field: by phone, as before


class ReviewForm(forms.Form):
    accept = forms.TypedChoiceField(label=_("Decision"), coerce=lambda v: v == "1",
                                    choices=[("1", _("Accept the reply")), ("0", _("Send it back"))],
                                    widget=forms.RadioSelect, initial="1")
    reason = _reason(_("Reason (required when sending back)"), required=False)


class CallbackForm(forms.Form):
    reached = forms.TypedChoiceField(label=_("Customer reached?"), coerce=lambda v: v == "1",
                                     choices=[("1", _("Reached")), ("0", _("Not reached"))],
                                     widget=forms.RadioSelect, initial="1")
    satisfaction = forms.TypedChoiceField(label=_("Satisfaction"), coerce=int, required=False, empty_value=None,
                                          choices=[(str(value), format_lazy("{} {}", value, label))
                                                   for value, label in Rating.choices],
                                          widget=forms.RadioSelect)
    solved = forms.TypedChoiceField(label=_("Problem solved?"), required=False, empty_value=None,
                                    coerce=lambda v: v == "1", choices=[("1", _("Yes")), ("0", _("No"))],
                                    widget=forms.RadioSelect)
    comment = _reason(_("Comment"), required=False)

    def __init__(self, *args, policy=None, **kwargs):
        super().__init__(*args, **kwargs)
        policy = policy or WorkflowPolicy()
        self.fields["satisfaction"].help_text = rating_policy_text(policy)


def _span(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}–{high}"


def rating_policy_text(policy) -> str:
    """What the agent's choice does, from the thresholds the order is judged by."""
    return _("%(dissatisfied)s: dissatisfied — the order goes back to the department that answered it and the "
             "customer is listed under Dissatisfied customers for a follow-up. %(neutral)s: neutral, "
             "%(satisfied)s: satisfied — the order is closed (unless the problem is not solved, which also reopens "
             "it).") % {
        "dissatisfied": _span(1, policy.dissatisfied_at_or_below),
        "neutral": _span(policy.dissatisfied_at_or_below + 1, policy.satisfied_at_or_above - 1)
        if policy.satisfied_at_or_above - policy.dissatisfied_at_or_below > 1 else "—",
        "satisfied": _span(policy.satisfied_at_or_above, 5),
    }


class ReopenForm(forms.Form):
    reason = _reason()


class CancelForm(forms.Form):
    reason_kind = forms.ChoiceField(label=_("Why"), choices=CancelReason.choices)
    reason = _reason()


class EscalateForm(forms.Form):
    reason_kind = forms.ChoiceField(label=_("Why"),
                                    choices=[c for c in EscalationReason.choices if c[0] != EscalationReason.OVERDUE])
    reason = _reason()


class ExtendForm(forms.Form):
    until = forms.DateTimeField(label=_("New deadline asked for"),
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                                input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    reason = _reason()


class DecideExtensionForm(forms.Form):
    approve = forms.TypedChoiceField(label=_("Decision"), coerce=lambda v: v == "1",
                                     choices=[("1", _("Approve")), ("0", _("Refuse"))], widget=forms.RadioSelect,
                                     initial="1")
    reason = _reason(_("Reason (required when refusing)"), required=False)


ACTION_FORMS = {
    "dispatch": DispatchForm,
    "claim": EmptyForm,
    "release": ReleaseForm,
    "assign": AssignForm,
    "transfer": TransferForm,
    "return": ReturnForm,
    "wait": WaitForm,
    "resume": ResumeForm,
    "note": NoteForm,
    "reply": ReplyForm,
    "review": ReviewForm,
    "callback": CallbackForm,
    "reopen": ReopenForm,
    "cancel": CancelForm,
    "escalate": EscalateForm,
    "extend": ExtendForm,
    "decide_extension": DecideExtensionForm,
}


class WorkListFilterForm(forms.Form):
    q = forms.CharField(label=_("Order number or mobile number"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("All kinds")), *Kind.choices], required=False)
    severity = forms.ChoiceField(label=_("Severity"), choices=[("", _("All severities")), *Severity.choices],
                                 required=False)
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("All statuses")), *OrderStatus.choices],
                               required=False)
    escalated = forms.BooleanField(label=_("Escalated only"), required=False)
    reopened = forms.BooleanField(label=_("Reopened only"), required=False)
    deadline = forms.ChoiceField(label=_("Deadline"), required=False, choices=[
        ("", _("Any")), ("warning", _("Warning (past 80%)")), ("overdue", _("Overdue")),
    ])
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=[
        ("deadline", _("Nearest deadline first")), ("received", _("Oldest first")), ("-received", _("Newest first")),
        ("stage", _("Longest in this step")),
    ])


def action_form_kwargs(action: str, order) -> dict:
    if action in ("dispatch", "transfer"):
        return {"departments": dispatch_targets().exclude(pk=order.current_department_id or 0)}
    if action == "assign":
        return {"handlers": department_handlers(department=order.current_department)}
    if action == "callback":
        return {"policy": WorkflowPolicy.in_force(on=timezone.localdate(order.received_at))}
    return {}


def action_form(action: str, order, data=None) -> forms.Form:
    return ACTION_FORMS[action](data, prefix=action, **action_form_kwargs(action, order))


def action_forms(*, order, available: list[str], bound: dict | None = None) -> dict:
    """One form per action the user may take now; `bound` replaces one of them with the submitted form."""
    forms_by_action = {action: action_form(action, order) for action in available}
    if "reply" in forms_by_action and order.category.standard_answer:
        forms_by_action["reply"].initial["answer"] = order.category.standard_answer
    forms_by_action.update(bound or {})
    return forms_by_action
