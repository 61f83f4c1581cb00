"""The events the order workflow announces, and the questions it asks of the apps above it (core.hooks).
Accountability, quality and knowledge subscribe in their AppConfig.ready; tests/test_hooks.py lists the wiring."""

from core.hooks import Hook

# --- events --------------------------------------------------------------------------------------------------

order_received = Hook("order_received", arguments=("order", "actor", "article_version"), doc=(
    "A new order was written at intake (before its workflow starts); `article_version`: the knowledge article the "
    "agent answered from, or None."))
order_closed = Hook("order_closed", arguments=("order",), doc=(
    "An order closed: the workflow's archive step, resolved on the spot, or imported as closed."))
orders_imported_closed = Hook("orders_imported_closed", arguments=("orders", "memo"), doc=(
    "Closed orders of another system written in bulk by the historical import; `memo` is kept for a whole run."))
order_rated = Hook("order_rated", arguments=("order", "actor", "rating", "verdict", "solved", "comment", "at",
                                             "method"), doc=(
    "The customer, reached at callback, rated the answer; `verdict` is the workflow policy's reading of the rating; "
    "`method`: CallbackMethod (an agent's call, or the customer's SMS reply, whose `solved` is None: not asked)."))
order_answered = Hook("order_answered", arguments=("order",), doc=(
    "The answer reached the customer's side: replied with no review, or its review accepted (the order is at "
    "callback, or closed for an inquiry or a suggestion). Announced again for the answer after a reopen."))
order_promise_moved = Hook("order_promise_moved", arguments=("order", "cause"), doc=(
    "The customer was promised a new reply time after receipt (`order.promised_at`): `cause` is `extension` (an "
    "approved extension moved it) or `reopen` (a new promise after the callback)."))
order_reopened = Hook("order_reopened", arguments=("order", "actor", "reason", "rating"), doc=(
    "The order went back to its department after callback; `reason`: low_rating or reopened."))

# --- questions (hook.gather) ---------------------------------------------------------------------------------

incident_for_new_order = Hook("incident_for_new_order", arguments=("order",), doc=(
    "The open incident a newly received order joins at intake, or None."))
months_closed = Hook("months_closed", arguments=("months",), doc=(
    "Of these months (their first days), the closed ones: an order arriving for them is marked a late arrival."))
intake_panel = Hook("intake_panel", arguments=("user", "customer", "category", "description"), doc=(
    "The intake page's side panel: each answer is a dict added to the panel's template context (`customer`: the "
    "known customer the agent may see, or None)."))
order_page_panel = Hook("order_page_panel", arguments=("order", "user", "stage", "actions"), doc=(
    "The order page: each answer is a dict added to the page's template context (`stage`: the workflow step the "
    "order is at, or None; `actions`: what the user may do to the order now, by its action table)."))
intake_form_fields = Hook("intake_form_fields", arguments=(), doc=(
    "The intake form's fields that belong to other apps: each answer is a dict of new form fields by name."))
