from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

# Button and heading texts of the order actions, in the imperative.
ACTION_BUTTONS = {
    "dispatch": _("Dispatch"),
    "claim": _("Claim"),
    "release": _("Release to the queue"),
    "assign": _("Assign to a handler"),
    "transfer": _("Transfer to another department"),
    "return": _("Return to the dispatcher"),
    "wait": _("Wait for the customer"),
    "resume": _("Resume handling"),
    "note": _("Add a note"),
    "reply": _("Reply"),
    "review": _("Review the reply"),
    "callback": _("Record the callback"),
    "reopen": _("Reopen"),
    "cancel": _("Cancel the order"),
    "escalate": _("Escalate"),
}


@register.simple_tag
def action_label(action: str) -> str:
    return ACTION_BUTTONS.get(action, action)


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)
