"""A hand-made week of orders whose KPIs are worked out by hand below, lived through the real services at the
moments they happen (Monday 2 – Sunday 8 November 2026, Asia/Shanghai).

    O1  complaint, Guangzhou, network   Mon 10:00 received, 10:05 claimed, 14:00 replied (4 h), reviewed,
                                        Tue 10:00 called back: 5 → closed
    O2  complaint, Guangzhou, network   Mon 11:00, claimed 11:05, replied Wed 12:00 (past its 24 h: breached),
                                        reviewed, Wed 15:00 called back: 1, not solved → reopened; replied Thu 10:00
                                        (71 h after receipt), reviewed, Thu 15:00 called back: 4 → closed
    O3  complaint, Guangzhou            Mon 12:00 resolved on the spot
    O4  inquiry, Guangzhou              Mon 13:00, answered by the complaint centre Mon 14:00 (1 h) → closed
    O5  complaint, Shenzhen, network    Tue 09:00, escalated 09:10 (regulator), claimed by the lead 09:12, replied
                                        12:00 (3 h), reviewed, callback not reached three times → closed Wed 15:00
    O6  complaint, Guangzhou, network   Wed 09:00, same customer and category as O1: a repeat; still queued
    O7  complaint, Guangzhou, billing   Tue 10:00, cancelled 11:00 as a duplicate

By hand, for the week, complaints only (the default slice):
    volume 6; on-spot 1/6; repeat 1/6; escalated 1/6
    closed 4 (O1 O2 O3 O5), all timed; in time 3 (O2 late) → timeliness 75 %; breached 1 → overdue rate 25 %
    handling: O1 4 h, O2 71 h, O5 3 h → average 26 h; p90 from buckets: rank 2.7 falls in [60, 72) → 68.4 h
    ratings 5, 1, 4 → satisfaction 2/3, dissatisfaction 1/3
    callback rate: O1 O2 reached of O1 O2 O5 → 2/3
    closed loop: due O1 O2 O3 O5 O6 (O7 cancelled is never due), looped O1 O2 O3 O5 → 80 %
    reopen rate 1/4; complaint-to-inquiry ratio 6 / 1
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from tests.factories import channel
from workflow import services as flow
from workflow.intake import OnSpotAnswer, order_create

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAYS = {"Mon": 2, "Tue": 3, "Wed": 4, "Thu": 5, "Fri": 6}


def at(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, DAYS[day], hour, minute, tzinfo=SHANGHAI)


def build_week(*, agent, outsider, dispatcher, handler, lead, coverage, dispute) -> dict:
    orders = {}

    def on(moment, function, **kwargs):
        with time_machine.travel(moment, tick=False):
            return function(**kwargs)

    def create(moment, actor, phone, category=coverage, **extra):
        with time_machine.travel(moment, tick=False):
            return order_create(actor=actor, kind=extra.pop("kind", "complaint"), channel=channel("hotline"),
                                category=category, severity="ordinary", description="测试", customer_phone=phone,
                                **extra).order

    o1 = orders["O1"] = create(at("Mon", 10), agent, "13800000001")
    o1 = on(at("Mon", 10, 5), flow.order_claim, actor=handler, order=o1)
    o1 = on(at("Mon", 14), flow.order_reply, actor=handler, order=o1, answer="已处理", result_code="resolved")
    o1 = on(at("Mon", 14, 30), flow.order_review, actor=dispatcher, order=o1, accept=True)
    orders["O1"] = on(at("Tue", 10), flow.order_callback, actor=agent, order=o1, reached=True, satisfaction=5,
                      solved=True)

    o2 = create(at("Mon", 11), agent, "13800000002")
    o2 = on(at("Mon", 11, 5), flow.order_claim, actor=handler, order=o2)
    o2 = on(at("Wed", 12), flow.order_reply, actor=handler, order=o2, answer="已处理", result_code="resolved")
    o2 = on(at("Wed", 12, 30), flow.order_review, actor=dispatcher, order=o2, accept=True)
    o2 = on(at("Wed", 15), flow.order_callback, actor=agent, order=o2, reached=True, satisfaction=1, solved=False)
    o2 = on(at("Thu", 10), flow.order_reply, actor=handler, order=o2, answer="再次处理", result_code="resolved")
    o2 = on(at("Thu", 10, 30), flow.order_review, actor=dispatcher, order=o2, accept=True)
    orders["O2"] = on(at("Thu", 15), flow.order_callback, actor=agent, order=o2, reached=True, satisfaction=4,
                      solved=True)

    orders["O3"] = create(at("Mon", 12), agent, "13800000003", on_spot=OnSpotAnswer("已现场解释"))

    o4 = create(at("Mon", 13), agent, "13800000004", kind="inquiry")
    orders["O4"] = on(at("Mon", 14), flow.order_reply, actor=dispatcher, order=o4, answer="解答",
                      result_code="explained")

    o5 = create(at("Tue", 9), outsider, "13800000005")
    o5 = on(at("Tue", 9, 10), flow.order_escalate, actor=outsider, order=o5, reason_kind="regulator",
            reason="客户称将向工信部申诉")
    o5 = on(at("Tue", 9, 12), flow.order_claim, actor=lead, order=o5)
    o5 = on(at("Tue", 12), flow.order_reply, actor=lead, order=o5, answer="已处理", result_code="resolved")
    o5 = on(at("Tue", 12, 30), flow.order_review, actor=dispatcher, order=o5, accept=True)
    for moment in (at("Tue", 15), at("Wed", 10), at("Wed", 15)):
        o5 = on(moment, flow.order_callback, actor=outsider, order=o5, reached=False)
    orders["O5"] = o5

    orders["O6"] = create(at("Wed", 9), agent, "13800000001")

    o7 = create(at("Tue", 10), agent, "13800000007", category=dispute)
    orders["O7"] = on(at("Tue", 11), flow.order_cancel, actor=dispatcher, order=o7, reason_kind="duplicate",
                      reason="重复")
    return orders
