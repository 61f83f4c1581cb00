"""Support requests in the browser (Django's test client), over the REST API, and in admin: the pages, who is
offered and refused what (the wrong user on every action, in the browser and the API), the list's colours and
on-time rates, bounded queries."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from support.models import SupportPolicy, SupportRequest
from tests import test_support_world as world
from tests.conftest import api_client_for
from tests.factories import UserFactory
from tests.test_support_world import answered, approved, at, raised, rated, routed
from workflow.models import Notification

support_reference_data, hotline_lead, cast, at_stage = (world.support_reference_data, world.hotline_lead,
                                                        world.cast, world.at_stage)
Status = SupportRequest.Status
DURING = at(10, 10)  # Thursday: every request of at_stage is still within its promise


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


def form_data(action, network_dept):
    return {
        "route": {"route-department": network_dept.pk, "route-kind": "", "route-comment": "请核查"},
        "answer": {"answer-answer": "已配置完成"},
        "reject": {"reject-reason": "不属于支撑需求"},
        "return": {"return-reason": "不属于本部门"},
        "defer": {"defer-until": "2026-12-24", "defer-reason": "待投资决策"},
        "approve": {"approve-comment": ""},
        "send_back": {"send_back-reason": "请补充"},
        "rate": {"rate-rating": "5", "rate-comment": ""},
        "comment": {"comment-body": "留言"},
    }[action]


# --- navigation, raising --------------------------------------------------------------------------------------


def test_the_navigation_links_support_requests_for_those_who_work_with_them(login, cast, channel_system,
                                                                          emergency_member):
    for who in ("agent", "unit_lead", "quality", "handler", "lead", "dispatcher"):
        assert 'id="nav-support"' in login(cast[who]).get("/support/").content.decode()
    for user in (channel_system, emergency_member):
        page = login(user).get("/notifications/").content.decode()
        assert 'id="nav-support"' not in page
        assert login(user).get("/support/").status_code == 403


def test_an_agent_raises_a_request_from_the_browser(login, cast):
    with time_machine.travel(world.RAISED_AT, tick=False):  # logged in then: an idle session would have expired
        client = login(cast["agent"])
        assert 'id="raise-request"' in client.get("/support/").content.decode()
        page = client.get("/support/new/")
        assert page.status_code == 200 and "5 working days" in page.content.decode()
        response = client.post("/support/new/", {"kind": "requirement", "title": "营业厅系统增加批量开户功能",
                                                 "description": "集团客户批量开户需逐个录入，效率低。"})
    request = SupportRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/support/{request.number}/"
    page = client.get(response["Location"]).content.decode()
    assert request.number in page and "营业厅系统增加批量开户功能" in page
    assert "Being sorted" in page and "2026-12-21 09:00" in page


def test_raising_refuses_bad_input_with_field_errors_and_other_roles_outright(login, cast):
    response = login(cast["agent"]).post("/support/new/", {"kind": "problem", "title": "", "description": ""})
    assert response.status_code == 400 and 'id="field-title"' in response.content.decode()
    assert "field-error" in response.content.decode()
    for who in ("handler", "quality", "dispatcher"):
        client = login(cast[who])
        assert 'id="raise-request"' not in client.get("/support/").content.decode()
        assert client.get("/support/new/").status_code == 403
        assert client.post("/support/new/", {"kind": "problem", "title": "x", "description": "y"}).status_code == 403
    assert not SupportRequest.objects.exists()


# --- the whole way in the browser ---------------------------------------------------------------------------


def test_the_whole_way_through_the_pages(login, cast, network_dept):
    request = raised(cast["agent"])
    url = f"/support/{request.number}/"

    def act(who, action, when, data=None):
        with time_machine.travel(when, tick=False):
            response = login(cast[who]).post(f"{url}actions/{action}/", data or form_data(action, network_dept))
        assert response.status_code == 302, response.content.decode()[:2000]
        return login(cast[who]).get(url).content.decode()

    page = login(cast["quality"]).get(url).content.decode()
    assert 'id="action-route"' in page and 'id="action-reject"' in page and 'id="action-answer"' in page
    page = act("quality", "route", at(7, 10))
    assert "Routed to the department." in page and network_dept.name in page
    page = login(cast["handler"]).get(url).content.decode()
    assert 'id="action-answer"' in page and 'id="action-return"' in page and 'id="action-defer"' not in page
    assert 'id="action-defer"' in login(cast["lead"]).get(url).content.decode()
    act("handler", "answer", at(8, 10), {"answer-answer": "已在营业厅系统配置完成"})
    page = act("lead", "approve", at(8, 11))
    assert "the answer went to the requester" in page
    page = login(cast["agent"]).get(url).content.decode()
    assert 'id="action-rate"' in page and "已在营业厅系统配置完成" in page
    page = act("agent", "rate", at(9, 9), {"rate-rating": "4", "rate-comment": "好"})
    assert "Closed" in page and "4/5" in page
    request.refresh_from_db()
    assert request.status == Status.CLOSED and request.rating == 4
    timeline = page.split('id="timeline"')[1]
    for label in ("Request raised", "Routed to a department", "Answer written", "Answer approved and sent", "Rated"):
        assert label in timeline


def test_a_deferral_from_the_page_shows_the_new_and_the_original_date(login, cast, at_stage, network_dept):
    request = at_stage("handle")
    url = f"/support/{request.number}/"
    with time_machine.travel(DURING, tick=False):
        page = login(cast["lead"]).get(url).content.decode()
        assert 'max="2027-01-22"' in page
        response = login(cast["lead"]).post(f"{url}actions/defer/", {"defer-until": "2027-02-01", "defer-reason": "x"})
        assert response.status_code == 400 and "at most 30 working days" in response.content.decode()
        response = login(cast["lead"]).post(f"{url}actions/defer/", form_data("defer", network_dept))
        assert response.status_code == 302
        page = login(cast["agent"]).get(url).content.decode()
    deferral = page.split('id="request-deferral"')[1].split("</dd>")[0]
    assert "2026-12-14 09:00" in deferral and "待投资决策" in deferral
    assert "2026-12-24 17:30" in page.split('id="request-due"')[1]


def test_bad_input_re_renders_the_page_with_the_field_error(login, cast, at_stage):
    request = at_stage("approve")
    response = login(cast["lead"]).post(f"/support/{request.number}/actions/send_back/", {"send_back-reason": ""})
    assert response.status_code == 400
    assert 'id="action-send_back"' in response.content.decode() and "field-error" in response.content.decode()


# --- the wrong user on every action, in the browser -----------------------------------------------------------


# action, step, who may, who sees the request but may not (outsiders get a 404)
MATRIX = [
    ("route", "sort", "quality", ["agent", "unit_lead", "dispatcher"]),
    ("reject", "sort", "quality", ["agent", "unit_lead", "dispatcher"]),
    ("answer", "sort", "quality", ["agent", "dispatcher"]),
    ("answer", "handle", "handler", ["quality", "agent", "unit_lead", "dispatcher"]),
    ("return", "handle", "handler", ["quality", "agent", "dispatcher"]),
    ("defer", "handle", "lead", ["handler", "quality", "agent", "unit_lead", "dispatcher"]),
    ("approve", "approve", "lead", ["handler", "quality", "agent", "dispatcher"]),
    ("send_back", "approve", "lead", ["handler", "quality", "agent", "dispatcher"]),
    ("rate", "rate", "agent", ["unit_lead", "lead", "handler", "quality", "dispatcher"]),
    ("comment", "handle", "agent", []),
]
MATRIX_IDS = [f"{a}-at-{s}" for a, s, _r, _w in MATRIX]


@pytest.mark.parametrize(("action", "stage", "right", "wrong"), MATRIX, ids=MATRIX_IDS)
def test_every_action_in_the_browser_refuses_the_wrong_user(login, cast, at_stage, network_dept, action, stage,
                                                           right, wrong):
    request = at_stage(stage)
    url = f"/support/{request.number}/actions/{action}/"
    with time_machine.travel(DURING, tick=False):
        for who in wrong:  # they see the request, so they are told why (403) and offered nothing
            response = login(cast[who]).post(url, form_data(action, network_dept))
            assert response.status_code == 403, who
            assert f'id="action-{action}"' not in response.content.decode()
            assert "msg-error" in response.content.decode()
        for who in ("outsider", "billing_handler", "billing_lead"):  # they do not: there is nothing there
            assert login(cast[who]).post(url, form_data(action, network_dept)).status_code == 404
        request.refresh_from_db()
        assert request.status == {"sort": "sorting", "handle": "handling", "approve": "approval",
                                  "rate": "rating"}[stage]
        assert login(cast[right]).post(url, form_data(action, network_dept)).status_code == 302


def test_an_action_at_the_wrong_step_is_a_409_that_says_where_the_request_stands(login, cast, at_stage,
                                                                                network_dept):
    request = at_stage("rate")
    response = login(cast["lead"]).post(f"/support/{request.number}/actions/approve/", form_data("approve", network_dept))
    assert response.status_code == 409 and "Answered, awaiting rating" in response.content.decode()
    assert login(cast["lead"]).post(f"/support/{request.number}/actions/nonsense/", {}).status_code == 404


def test_an_outsider_sees_neither_the_page_nor_the_request_in_lists(login, cast, at_stage):
    request = at_stage("handle")
    client = login(cast["outsider"])
    assert client.get(f"/support/{request.number}/").status_code == 404
    assert request.number not in client.get("/support/").content.decode()


# --- the list --------------------------------------------------------------------------------------------------


def test_the_list_shows_closed_in_black_in_progress_in_orange_and_overdue_in_red(login, cast, at_stage,
                                                                               network_dept):
    closed = rated(at_stage("rate"), cast["agent"])
    overdue = at_stage("handle")
    in_progress = raised(cast["agent"], when=at(14, 8))
    with time_machine.travel(at(14, 10), tick=False):
        page = login(cast["quality"]).get("/support/").content.decode()
    rows = {number: page.split(f'data-number="{number}"')[0].rsplit("<tr", 1)[1]
            for number in (closed.number, overdue.number, in_progress.number)}
    assert "support-closed" in rows[closed.number]
    assert "support-overdue" in rows[overdue.number]
    assert "support-open" in rows[in_progress.number]
    with time_machine.travel(at(14, 10), tick=False):
        only_overdue = login(cast["quality"]).get("/support/?state=overdue").content.decode()
    assert overdue.number in only_overdue and in_progress.number not in only_overdue
    assert closed.number not in only_overdue


def test_the_list_shows_the_selected_departments_on_time_rate_and_a_table_of_all(login, cast, network_dept,
                                                                               billing_dept):
    for when in (at(8, 10), at(15, 10)):  # one on time, one late
        request = routed(raised(cast["agent"]), cast["quality"], network_dept)
        approved(answered(request, cast["handler"], when=when), cast["lead"], when=when)
    request = routed(raised(cast["agent"]), cast["quality"], billing_dept)
    approved(answered(request, cast["billing_lead"]), cast["billing_lead"])
    page = login(cast["agent"]).get(f"/support/?department={network_dept.pk}").content.decode()
    tile = page.split('id="selected-rate"')[1].split("</div>")[0]
    assert network_dept.name in tile and "50.0%" in tile and "1 of 2" in tile
    table = page.split('id="support-rates"')[1].split("</table>")[0]
    assert network_dept.name in table and billing_dept.name in table and "100.0%" in table
    page = login(cast["agent"]).get(f"/support/?department={network_dept.pk}&answered_from=2026-12-10").content.decode()
    assert "100.0%" not in page.split('id="selected-rate"')[1].split("</div>")[0]


def test_waiting_for_me_is_a_tab_of_the_list(login, cast, at_stage):
    sorting, handling = at_stage("sort"), at_stage("handle")
    page = login(cast["quality"]).get("/support/?scope=mine").content.decode()
    assert sorting.number in page and handling.number not in page
    page = login(cast["handler"]).get("/support/?scope=mine").content.decode()
    assert handling.number in page and sorting.number not in page


@pytest.mark.parametrize("who", ["quality", "agent", "lead"])
def test_the_list_page_queries_do_not_grow_with_rows(login, cast, at_stage, who):
    client = login(cast[who])

    def queries():
        client.get("/support/")  # warm the session and the per-process memos
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/support/").status_code == 200
        return len(captured)

    for stage in ("handle", "rate"):
        at_stage(stage)
    few = queries()
    for stage in ("sort", "handle", "approve", "rate", "handle", "rate"):
        at_stage(stage)
    assert queries() == few


# --- notifications -------------------------------------------------------------------------------------------


def test_a_notification_opens_the_request(login, cast):
    request = raised(cast["agent"])
    note = Notification.objects.get(recipient=cast["quality"], kind="support")
    client = login(cast["quality"])
    assert request.number in client.get("/notifications/").content.decode()
    response = client.post(f"/notifications/{note.pk}/open/")
    assert response.status_code == 302 and response["Location"] == f"/support/{request.number}/"


# --- the REST API -----------------------------------------------------------------------------------------------


def api_body(action, network_dept):
    return {
        "route": {"department": network_dept.code},
        "answer": {"answer": "已配置"},
        "reject": {"reason": "不属于支撑需求"},
        "return": {"reason": "不属于本部门"},
        "defer": {"until": "2026-12-24", "reason": "待投资决策"},
        "approve": {},
        "send_back": {"reason": "请补充"},
        "rate": {"rating": 5},
        "comment": {"body": "留言"},
    }[action]


def test_the_api_raises_lists_reads_and_acts(cast, network_dept):
    agent, quality = api_client_for(cast["agent"]), api_client_for(cast["quality"])
    with time_machine.travel(world.RAISED_AT, tick=False):
        response = agent.post("/api/v1/support/requests/", {"kind": "problem", "title": "套餐无法办理",
                                                            "description": "提示产品未配置"}, format="json")
    assert response.status_code == 201, response.json()
    number = response.json()["number"]
    assert response.json()["status"] == "sorting" and response.json()["due_at"].startswith("2026-12-14T09:00")
    assert [r["number"] for r in agent.get("/api/v1/support/requests/").json()["results"]] == [number]
    with time_machine.travel(at(7, 10), tick=False):
        response = quality.post(f"/api/v1/support/requests/{number}/actions/route/", {"department": "network"},
                                format="json")
    assert response.status_code == 200 and response.json()["department"] == "network"
    detail = agent.get(f"/api/v1/support/requests/{number}/").json()
    assert [e["action"] for e in detail["events"]] == ["raised", "routed"]


def test_the_api_answers_400_403_404_and_409(cast, at_stage, network_dept, channel_system):
    request = at_stage("handle")
    url = f"/api/v1/support/requests/{request.number}/actions/"
    lead = api_client_for(cast["lead"])
    with time_machine.travel(DURING, tick=False):
        response = lead.post(f"{url}defer/", {"until": "2026-12-19", "reason": "x"}, format="json")
        assert response.status_code == 400 and "until" in response.json()
        response = api_client_for(cast["handler"]).post(f"{url}defer/", api_body("defer", network_dept),
                                                        format="json")
        assert response.status_code == 403 and "lead" in response.json()["detail"]
        response = lead.post(f"{url}approve/", {}, format="json")
        assert response.status_code == 409
        assert response.json() == {"detail": response.json()["detail"], "number": request.number,
                                   "status": "handling"}
        assert api_client_for(cast["outsider"]).get(f"/api/v1/support/requests/{request.number}/").status_code == 404
        assert api_client_for(channel_system).get("/api/v1/support/requests/").status_code == 403
        response = api_client_for(cast["handler"]).post("/api/v1/support/requests/",
                                                        {"kind": "problem", "title": "x", "description": "y"},
                                                        format="json")
        assert response.status_code == 403


@pytest.mark.parametrize(("action", "stage", "right", "wrong"), MATRIX, ids=MATRIX_IDS)
def test_every_action_over_the_api_refuses_the_wrong_user(cast, at_stage, network_dept, action, stage, right,
                                                         wrong):
    request = at_stage(stage)
    url = f"/api/v1/support/requests/{request.number}/actions/{action}/"
    with time_machine.travel(DURING, tick=False):
        for who in wrong:
            assert api_client_for(cast[who]).post(url, api_body(action, network_dept), format="json").status_code == 403
        for who in ("outsider", "billing_handler"):
            assert api_client_for(cast[who]).post(url, api_body(action, network_dept), format="json").status_code == 404
        assert api_client_for(cast[right]).post(url, api_body(action, network_dept), format="json").status_code == 200


def test_the_api_schema_documents_every_support_action(client, cast):
    client.force_login(cast["agent"])
    schema = client.get("/api/schema/").content.decode()
    for action in ("route", "answer", "reject", "return", "defer", "approve", "send_back", "rate", "comment"):
        assert f"support_requests_action_{action}" in schema


# --- admin -------------------------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, province):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True, department=None))
    return client


def test_admins_version_the_policy_and_read_requests_without_editing_them(admin_client, cast, at_stage):
    response = admin_client.post("/admin/support/supportpolicy/add/", {
        "effective_from": "2027-01-01", "problem_working_days": 4, "requirement_working_days": 8,
        "max_deferral_working_days": 20, "warn_percent": 75, "rating_window_working_days": 3,
        "reopen_at_or_below": 1, "calendar": ""})
    assert response.status_code == 302
    assert SupportPolicy.objects.get(effective_from=datetime.date(2027, 1, 1)).problem_working_days == 4
    request = at_stage("handle")
    event = request.events.first()
    assert admin_client.get("/admin/support/supportrequest/", {"q": request.number}).status_code == 200
    assert admin_client.get(f"/admin/support/supportrequest/{request.pk}/change/").status_code == 200
    assert admin_client.post(f"/admin/support/supportrequest/{request.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.post(f"/admin/support/supportevent/{event.pk}/change/", {"comment": "x"}).status_code == 403
    assert admin_client.get("/admin/support/supportrequest/add/").status_code == 403
    assert admin_client.get("/admin/support/supportevent/").status_code == 200


def test_the_sweep_command_runs_once(cast, capsys):
    from django.core.management import call_command

    raised(cast["agent"])
    call_command("support_sweep", "--at", "2026-12-15T09:00:00+08:00")
    assert "'overdue': 1" in capsys.readouterr().out


def test_a_support_policy_in_force_cannot_be_edited_in_admin_only_a_later_version_added(client, django_user_model):
    import datetime

    from django.utils import timezone

    from support.models import SupportPolicy

    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client.force_login(root)
    in_force = SupportPolicy.objects.filter(effective_from__lte=timezone.localdate()).first()
    later = SupportPolicy.objects.create(effective_from=timezone.localdate() + datetime.timedelta(days=30))
    assert client.get(f"/admin/support/supportpolicy/{in_force.pk}/change/").status_code == 200  # to read
    response = client.post(f"/admin/support/supportpolicy/{in_force.pk}/change/", {
        "effective_from": in_force.effective_from, "problem_working_days": 1, "requirement_working_days": 1,
        "max_deferral_working_days": 1, "warn_percent": 50, "rating_window_working_days": 1, "reopen_at_or_below": 0})
    assert response.status_code == 403
    in_force.refresh_from_db()
    assert in_force.problem_working_days == 5
    assert client.post(f"/admin/support/supportpolicy/{in_force.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/support/supportpolicy/{later.pk}/delete/", {"post": "yes"}).status_code == 302
