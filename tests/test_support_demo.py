"""demo/support_requests.py, which seed_demo calls: requests in every state, lived through the services; nothing twice."""

import time_machine

from demo.support_requests import seed_support_requests
from org import roles
from org.models import Department
from support.models import SupportRequest
from tests import test_support_world as world
from tests.factories import DepartmentFactory, UserFactory

support_reference_data = world.support_reference_data


def demo_users(province, hotline_agent, quality_manager, network_handler, network_lead, billing_handler,
               billing_lead):
    users = {u.username: u for u in (hotline_agent, quality_manager, network_handler, network_lead, billing_handler,
                                     billing_lead)}
    for code, name in (("it", "IT支撑中心"), ("vas", "增值业务部")):
        department = DepartmentFactory(code=code, name=name, kind=Department.Kind.BACK_OFFICE, region=province)
        users[f"handler_{code}"] = UserFactory(username=f"handler_{code}", department=department,
                                               roles=[roles.HANDLER])
        users[f"lead_{code}"] = UserFactory(username=f"lead_{code}", department=department, roles=[roles.LEAD])
    return users


def test_the_demo_has_a_request_in_each_state_and_adds_nothing_twice(province, hotline_agent, quality_manager,
                                                                     network_handler, network_lead, billing_handler,
                                                                     billing_lead):
    users = demo_users(province, hotline_agent, quality_manager, network_handler, network_lead, billing_handler,
                       billing_lead)
    with time_machine.travel(world.at(17, 15), tick=False):
        assert seed_support_requests(users=users, password="demo-password") == 5
        assert seed_support_requests(users=users, password="demo-password") == 0
    lead = users["lead_gz_hotline"]
    assert lead.department == hotline_agent.department and lead.has_role(roles.LEAD)
    assert lead.check_password("demo-password")
    by_title = {r.title: r for r in SupportRequest.objects.all()}
    closed = by_title["5G畅享套餐在营业厅系统中无法办理"]
    assert closed.status == "closed" and closed.rating == 5 and closed.answered_on_time
    deferred = by_title["营业厅系统增加集团客户批量开户功能"]
    assert deferred.status == "handling" and deferred.is_deferred and deferred.due_at > deferred.original_due_at
    overdue = by_title["携号转入用户首月账单套餐费计算异常"]
    assert overdue.status == "handling" and overdue.overdue_at is not None
    assert overdue.number.startswith("ZC2026")
    assert by_title["彩铃业务退订后仍收到续订短信"].status == "approval"
    assert by_title["老年人专属套餐的办理条件口径不一致"].status == "sorting"
