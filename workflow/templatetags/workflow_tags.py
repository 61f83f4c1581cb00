from datetime import timedelta
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from complaints.phone import mask, phone_for
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


# --- the rows of the order lists, rendered in Python -------------------------------------------------------------
# A work list or an order table shows 50 rows of ten cells; through the template language each page took some
# 40,000 variable lookups (about two thirds of the page's time). These tags write the same markup directly.

def _detail_link(number: str, base: list) -> str:
    if not base:
        base.append(reverse("complaints:order_detail", args=["__number__"]))
    return base[0].replace("__number__", quote(number, safe=""))


def _number_tags(order, *, repeat_first: bool, reopened: bool) -> list:
    tags = []
    escalation = (format_html(' <span class="tag tag-err">{}</span>', _("L%(level)s") % {"level": order.escalation_level})
                  if order.escalation_level else "")
    repeat = format_html(' <span class="tag">{}</span>', _("repeat")) if order.repeat_of_id else ""
    if repeat_first:
        tags += [repeat, escalation]
    else:
        tags += [escalation, format_html(' <span class="tag tag-warn">{}</span>', _("reopened"))
                 if reopened and order.reopen_count else "", repeat]
    return tags


def _labels(model, *fields) -> dict:
    """Each field's choice labels in the active language, read once per list (get_FOO_display hashes the choices
    and translates the label again on every call)."""
    return {name: {value: str(label) for value, label in model._meta.get_field(name).flatchoices} for name in fields}


def _row(order, label, base: list, *, repeat_first: bool, reopened: bool, cells) -> SafeString:
    """One row: the number cell (link and tags), then the other cells."""
    return format_html('<tr><td class="card-title" data-label="{}"><a href="{}">{}</a>{}</td>{}</tr>', label,
                       _detail_link(order.number, base), order.number,
                       mark_safe("".join(_number_tags(order, repeat_first=repeat_first, reopened=reopened))),
                       _cells(cells))


def _when(moment, pattern="%Y-%m-%d %H:%M") -> str:
    return timezone.localtime(moment).strftime(pattern) if moment else ""


def _cells(pairs) -> SafeString:
    return mark_safe("".join(f'<td data-label="{conditional_escape(label)}">{conditional_escape(value)}</td>'
                             for label, value in pairs))


@register.simple_tag(takes_context=True)
def work_list_rows(context, page, labels):
    """The rows of a work list (workflow/work_list.html); `labels` the column headings, in order."""
    user, now, base, rows = context.get("user"), timezone.now(), [], []
    l_number, l_received, l_category, l_customer, l_status, l_dept, l_held, l_step, l_deadline, l_promised = labels
    shown = None
    for order in page:
        if shown is None:
            shown = {**_labels(type(order), "status", "severity"), **_labels(type(order.customer), "tier")}
            lead_queue = format_html(' <span class="tag">{}</span>', _("lead's queue"))
        customer = order.customer
        tier = (format_html(' <span class="tag">{}</span>', shown["tier"].get(customer.tier, customer.tier))
                if customer.is_vip or customer.tier == "group" else "")
        lead = lead_queue if order.queue_level == "lead" and order.status == "queued" else ""
        rows.append(_row(order, l_number, base, repeat_first=False, reopened=True, cells=[
                (l_received, _when(order.received_at)),
                (l_category, format_html('{} <span class="muted">· {}</span>', order.category,
                                         shown["severity"].get(order.severity, order.severity))),
                (l_customer, format_html("{} {}{}", customer.name or "—", phone_for(user, customer.phone), tier)),
                (l_status, format_html('<span class="status status-{}">{}</span>{}', order.status,
                                       shown["status"].get(order.status, order.status), lead)),
                (l_dept, order.current_department.name if order.current_department_id else "—"),
                (l_held, str(order.current_owner) if order.current_owner_id else "—"),
                (l_step, elapsed(order.stage_started_at, now) if order.stage_started_at else "—"),
                (l_deadline, deadline_badge(order, now)),
                (l_promised, promise_cell(order, now)),
            ]))
    if not rows:
        return format_html('<tr class="empty"><td colspan="10" class="muted">{}</td></tr>', _("Nothing here."))
    return mark_safe("\n".join(rows))


@register.simple_tag(takes_context=True)
def order_table_rows(context, page, labels, mask_phones=False):
    """The rows of an order table (complaints/_order_table.html); `labels` the column headings, in order."""
    user, now, base, rows = context.get("user"), timezone.now(), [], []
    l_number, l_received, l_kind, l_channel, l_category, l_customer, l_region, l_status, l_deadline, l_promised = labels
    shown = None
    for order in page:
        shown = shown or _labels(type(order), "status", "kind")
        customer = order.customer
        number = mask(customer.phone) if mask_phones and customer.phone else phone_for(user, customer.phone)
        on_spot = format_html(' <span class="tag">{}</span>', _("on the spot")) if order.resolved_on_spot else ""
        rows.append(_row(order, l_number, base, repeat_first=True, reopened=False, cells=[
                (l_received, _when(order.received_at)),
                (l_kind, shown["kind"].get(order.kind, order.kind)),
                (l_channel, order.channel),
                (l_category, order.category),
                (l_customer, format_html("{} {}", customer.name or "—", number)),
                (l_region, order.region),
                (l_status, format_html('<span class="status status-{}">{}</span>{}', order.status,
                                       shown["status"].get(order.status, order.status), on_spot)),
                (l_deadline, deadline_badge(order, now)),
                (l_promised, promise_cell(order, now)),
            ]))
    if not rows:
        return format_html('<tr class="empty"><td colspan="10" class="muted">{}</td></tr>', _("No orders match."))
    return mark_safe("\n".join(rows))


@register.simple_tag
def list_of(*items):
    return list(items)
