from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from workflow.countdown import countdown_text, duration_text

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
    "extend": _("Ask for an extension"),
    "decide_extension": _("Decide on the extension"),
}


@register.simple_tag
def action_label(action: str) -> str:
    return ACTION_BUTTONS.get(action, action)


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)


STATE_LABELS = {
    "on_track": _("on track"),
    "warning": _("deadline near"),
    "overdue": _("overdue"),
    "closed": _("closed"),
}


@register.simple_tag
def deadline_badge(order, now=None):
    """The order's nearest deadline as a countdown with its colour: on track, warning (orange), overdue (red),
    closed (black). static/js/deadlines.js keeps the countdown ticking, in the same words (workflow.countdown)."""
    now = now or timezone.now()
    state = order.deadline_state(now)
    if state == "closed":
        return format_html('<span class="deadline deadline-closed">{}</span>', STATE_LABELS["closed"])
    if state == "none":
        return "—"
    due = order.stage_due_at
    return format_html(
        '<span class="deadline deadline-{}" data-due="{}" data-warn="{}" title="{} {}">{}</span>',
        state, due.isoformat(), order.stage_warn_at.isoformat() if order.stage_warn_at else "",
        STATE_LABELS[state], timezone.localtime(due).strftime("%Y-%m-%d %H:%M"), countdown_text(due, now),
    )


@register.filter
def elapsed(since, now=None):
    """Time since a moment in the countdown's format ("2 小时 5 分"), e.g. how long an order is in its step."""
    if not since:
        return ""
    return duration_text((now or timezone.now()) - since)


@register.simple_tag
def promise_cell(order, now=None):
    """The customer's promised reply time in a list: marked when an open order has run past it."""
    if not order.promised_at or order.resolved_on_spot:
        return "—"
    broken = order.is_open and order.replied_at is None and order.promised_at < (now or timezone.now())
    return format_html('<span class="promise{}" title="{}">{}</span>', " promise-broken" if broken else "",
                       _("past the customer's promise") if broken else _("promised reply"),
                       timezone.localtime(order.promised_at).strftime("%m-%d %H:%M"))


@register.filter
def working_time(seconds) -> str:
    """Working seconds in the countdown's format ("2 小时 5 分"); "0 分" for none."""
    return duration_text(timedelta(seconds=int(seconds or 0)))


# What timers, tasks and imports write as the actor's name, in whichever language the writing process ran.
SYSTEM_ACTOR_NAMES = frozenset({"system", "系统"})


@register.filter
def actor(name: str) -> str:
    """Who did it, in the reader's language: the stored name of a person, or "system" translated."""
    return _("system") if (name or "").strip().lower() in SYSTEM_ACTOR_NAMES else name
