"""Demo support requests for `manage.py seed_demo`: a few requests lived through the real services at the moments
they would have happened (closed and rated, deferred, overdue, awaiting the lead's approval, just raised).
Re-running adds nothing twice (a request is recognised by its title).

    from demo.support_requests import seed_support_requests
    seed_support_requests(users=users, password=password, stdout=self.stdout)

`users` is seed_demo's dict of demo users by username; the frontline lead `lead_gz_hotline` is taken from it when
present, otherwise created in the Guangzhou hotline with the demo password.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone

from org import roles
from org.models import User
from support import services
from support.models import SupportRequest
from workflow.calendar import SHANGHAI
from workflow.calendars import work_calendar

FRONTLINE_LEAD = ("lead_gz_hotline", "黄丽（广州热线主管）")


def _working_days_ago(days: int, at: time) -> datetime:
    """`at` o'clock on the working day `days` working days before today (today when 0)."""
    calendar, _id = work_calendar(None)
    day, counted = timezone.localdate(), 0
    while counted < days or not calendar.is_working_day(day):
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    return datetime.combine(day, at, SHANGHAI)


def _frontline_lead(users: dict, password: str | None) -> User:
    username, display = FRONTLINE_LEAD
    lead = users.get(username) or User.objects.filter(username=username).first()
    if lead is None:
        lead = User(username=username, display_name=display, department=users["agent_gz"].department)
        if password:
            lead.set_password(password)
        else:
            lead.set_unusable_password()
        lead.save()
        lead.groups.set([Group.objects.get(name=roles.LEAD)])
    users[username] = lead
    return lead


class _Story:
    """One request's steps, each done at its moment; a step still in the future (and all after it) is left."""

    def __init__(self, request: SupportRequest):
        self.request, self.stopped = request, False

    def at(self, moment: datetime, function, **kwargs) -> _Story:
        self.stopped = self.stopped or moment > timezone.now()
        if not self.stopped:
            with time_machine.travel(moment, tick=False):
                self.request = function(request=self.request, **kwargs)
        return self


def seed_support_requests(*, users: dict, password: str | None = None, stdout=None) -> int:
    """Create the demo requests that do not exist yet; returns how many were created."""
    lead_gz = _frontline_lead(users, password)
    quality = users["quality"]
    departments = {code: users[f"lead_{code}"].department for code in ("network", "billing", "it", "vas")}
    stories = [  # title, description, kind, requester, raised how many working days ago, what happened next
        # Closed: routed, answered, approved and rated well, three weeks ago.
        ("5G畅享套餐在营业厅系统中无法办理", "客户要求办理新上线的5G畅享套餐，营业厅系统提示“产品未配置”，全市营业厅均无法办理。",
         "problem", lead_gz, 15, lambda s, t0: (
            s.at(t0 + timedelta(hours=1), services.request_route, actor=quality, department=departments["network"],
                 comment="请网络运维部核查产品配置")
             .at(_later(t0, 2, 10), services.request_answer, actor=users["handler_network"],
                 answer="已在营业厅系统完成5G畅享套餐的产品配置，各营业厅刷新后即可办理。")
             .at(_later(t0, 2, 11), services.request_approve, actor=users["lead_network"])
             .at(_later(t0, 3, 9), services.request_rate, actor=lead_gz, rating=5, comment="已解决，感谢支持"))),
        # Deferred: a requirement that needs an investment decision; the promise moved, the original kept.
        ("营业厅系统增加集团客户批量开户功能", "集团客户一次开户几十张卡，目前只能逐个录入，一单需要半天，客户多次投诉等待时间长。",
         "requirement", users["agent_gz"], 6, lambda s, t0: (
            s.at(t0 + timedelta(hours=2), services.request_route, actor=quality, department=departments["it"],
                 comment="需求评估后答复")
             .at(_later(t0, 3, 10), services.request_defer, actor=users["lead_it"],
                 until=_deferral_day(_later(t0, 3, 10), 20),
                 reason="需纳入明年IT投资计划，待公司投资决策后实施"))),
        # Overdue: a billing question nobody has answered for eight working days.
        ("携号转入用户首月账单套餐费计算异常", "携号转入的用户反映首月套餐费按整月收取，未按入网天数折算，热线无统一口径答复。",
         "problem", lead_gz, 8, lambda s, t0: (
            s.at(t0 + timedelta(hours=1), services.request_route, actor=quality, department=departments["billing"],
                 comment="请计费账务部核查首月账单规则"))),
        # Waiting for the lead's approval.
        ("彩铃业务退订后仍收到续订短信", "多名客户退订彩铃后仍收到“即将自动续订”的短信，来电询问是否会继续扣费。",
         "problem", users["agent_gz"], 1, lambda s, t0: (
            s.at(t0 + timedelta(hours=1), services.request_route, actor=quality, department=departments["vas"])
             .at(t0 + timedelta(hours=4), services.request_answer, actor=users["handler_vas"],
                 answer="系统短信模板配置有误，已修正；退订用户不会再收到续订提醒。"))),
        # Just raised: waiting for the quality department to sort it.
        ("老年人专属套餐的办理条件口径不一致", "营业厅与热线对老年人专属套餐的年龄和证件要求说法不一，请明确统一口径。",
         "problem", lead_gz, 0, lambda s, t0: s),
    ]
    created = 0
    for title, description, kind, requester, days_ago, story in stories:
        if SupportRequest.objects.filter(title=title).exists():
            continue
        raised_at = min(_working_days_ago(days_ago, time(9, 30)), timezone.now())
        with time_machine.travel(raised_at, tick=False):
            request = services.request_raise(actor=requester, kind=kind, title=title, description=description)
        story(_Story(request), raised_at)
        created += 1
    if created:
        report = services.support_sweep()  # what the sweep would have found meanwhile
        if stdout is not None:
            stdout.write(f"Support requests: {created} created; sweep {report}.")
    return created


def _later(start: datetime, working_days: int, hour: int) -> datetime:
    calendar, _id = work_calendar(None)
    day = calendar.add_working_days(start, working_days).at.date()
    return datetime.combine(day, time(hour), SHANGHAI)


def _deferral_day(moment: datetime, working_days: int):
    calendar, _id = work_calendar(None)
    return timezone.localtime(calendar.add_working_days(moment, working_days).at).date()
