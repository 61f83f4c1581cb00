"""Personas and steps shared by the support-request tests (no tests here; the test_support_* files import it).

Personas (with tests/conftest.py): the Guangzhou hotline agent raises requests and the hotline's lead sees them;
the quality manager sorts; the network department (handler, lead) answers; the billing department and the Shenzhen
agent are outsiders; the province dispatcher sees all and acts on nothing.

Time: Monday 2026-12-07 09:00 Asia/Shanghai, office hours 08:30–12:00 and 13:30–17:30 on the default calendar, so a
problem is promised by Monday 2026-12-14 09:00 and warned at Friday 2026-12-11 09:00.
"""

import datetime

import pytest
import time_machine

from org import roles
from support import services
from tests.factories import UserFactory
from workflow.calendar import SHANGHAI


def at(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


RAISED_AT = at(7, 9)
ROUTED_AT, ANSWERED_AT, APPROVED_AT, RATED_AT = at(7, 10), at(8, 10), at(8, 11), at(9, 9)
PROMISED_PROBLEM = at(14, 9)
WARNED_PROBLEM = at(11, 9)


@pytest.fixture(autouse=True)
def support_reference_data(request, _reference_data):
    """Transactional tests flush the tables, taking the policy the data migration seeded; put it back (as
    tests/conftest.py does for the other apps' reference data)."""
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db", "live_server"} & set(
        request.fixturenames)
    if uses_db:
        import importlib

        from django.apps import apps

        importlib.import_module("support.migrations.0003_seed_support_policy").seed(apps, None)


@pytest.fixture
def hotline_lead(hotline_agent):
    """A frontline lead: the lead of the Guangzhou hotline."""
    return UserFactory(username="lead_gz_hotline", display_name="广州热线主管", department=hotline_agent.department,
                       roles=[roles.LEAD])


@pytest.fixture
def cast(hotline_agent, hotline_lead, outsider, quality_manager, network_handler, network_lead, billing_handler,
         billing_lead, province_dispatcher):
    return dict(agent=hotline_agent, unit_lead=hotline_lead, outsider=outsider, quality=quality_manager,
                handler=network_handler, lead=network_lead, billing_handler=billing_handler,
                billing_lead=billing_lead, dispatcher=province_dispatcher)


def step(when, function, **kwargs):
    with time_machine.travel(when, tick=False):
        return function(**kwargs)


def raised(actor, *, kind="problem", when=RAISED_AT, title="新套餐无法在营业厅系统中办理",
           description="客户要求办理新上线的5G畅享套餐，营业厅系统提示“产品未配置”，请核查。"):
    return step(when, services.request_raise, actor=actor, kind=kind, title=title, description=description)


def routed(request, quality, department, when=ROUTED_AT, **kwargs):
    return step(when, services.request_route, actor=quality, request=request, department=department, **kwargs)


def answered(request, handler, when=ANSWERED_AT, answer="套餐已在营业厅系统配置完成，请刷新后重新办理。"):
    return step(when, services.request_answer, actor=handler, request=request, answer=answer)


def approved(request, lead, when=APPROVED_AT):
    return step(when, services.request_approve, actor=lead, request=request)


def rated(request, requester, rating=5, when=RATED_AT, **kwargs):
    return step(when, services.request_rate, actor=requester, request=request, rating=rating, **kwargs)


def actions(request) -> list[str]:
    return list(request.events.order_by("created_at", "id").values_list("action", flat=True))


@pytest.fixture
def at_stage(cast, network_dept):
    """A request of the hotline agent taken to a step: sort, handle, approve or rate."""

    def _at(stage: str):
        request = raised(cast["agent"])
        if stage == "sort":
            return request
        request = routed(request, cast["quality"], network_dept)
        if stage == "handle":
            return request
        request = answered(request, cast["handler"])
        if stage == "approve":
            return request
        request = approved(request, cast["lead"])
        assert stage == "rate"
        return request

    return _at
