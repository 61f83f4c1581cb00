"""Give the improvement orders opened before their history was kept the events their columns still tell: opened,
the latest answer, the latest review, closed (earlier answers were overwritten and cannot be recovered)."""

from django.db import migrations


def _name(user) -> str:
    if user is None:
        return "system"
    full = f"{user.first_name} {user.last_name}".strip()
    return (user.display_name or full or user.username)[:64]


def backfill(apps, schema_editor):
    ImprovementOrder = apps.get_model("accountability", "ImprovementOrder")
    AccountabilityEvent = apps.get_model("accountability", "AccountabilityEvent")
    events = []
    orders = ImprovementOrder.objects.filter(events__isnull=True).select_related("answered_by", "reviewed_by")
    for order in orders.iterator():
        events.append(AccountabilityEvent(improvement=order, action="improvement_opened", actor_name="system",
                                          at=order.opened_at, data={"month": f"{order.opened_month:%Y-%m}"}))
        if order.answered_at:
            events.append(AccountabilityEvent(
                improvement=order, action="improvement_answered", actor=order.answered_by,
                actor_name=_name(order.answered_by), at=order.answered_at,
                data={"cause_analysis": order.cause_analysis, "measures": order.measures}))
        if order.reviewed_at:
            returned = order.status == "open"
            events.append(AccountabilityEvent(
                improvement=order, action="improvement_returned" if returned else "improvement_accepted",
                actor=order.reviewed_by, actor_name=_name(order.reviewed_by), at=order.reviewed_at,
                comment=order.review_reason))
        if order.closed_at:
            events.append(AccountabilityEvent(improvement=order, action="improvement_closed", actor_name="system",
                                              at=order.closed_at, data={"month": f"{order.latest_month:%Y-%m}"}))
    AccountabilityEvent.objects.bulk_create(events, batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ("accountability", "0007_improvement_history"),
        ("org", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
