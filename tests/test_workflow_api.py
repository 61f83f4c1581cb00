"""Every order action over the API: 200 for the right user, 403 for the wrong one, 404 for another city,
409 when the order's step does not allow it, 400 for bad input; and the timeline."""

from datetime import timedelta

import pytest
from django.utils import timezone

from complaints.models import OrderStatus
from workflow import services

URL = "/api/v1/orders/{number}/actions/{action}/"


def reply(order, handler):
    return services.order_reply(actor=handler, order=order, answer="已处理", result_code="resolved")


@pytest.fixture
def world(hotline_agent, make_order, province_dispatcher, network_handler, network_handler_2, network_lead,
          billing_handler, billing_dept, outsider):
    """Orders standing at each step, and the people around them."""

    def new():
        return make_order(hotline_agent, severity="difficult")

    def queued():
        return make_order(hotline_agent)

    def claimed():
        return services.order_claim(actor=network_handler, order=make_order(hotline_agent))

    def waiting():
        return services.order_wait(actor=network_handler, order=claimed(), comment="等待客户",
                                   until=timezone.now() + timedelta(days=1))

    def review():
        return reply(claimed(), network_handler)

    def callback():
        return services.order_review(actor=province_dispatcher, order=review(), accept=True)

    def extension_pending():
        return services.order_extension_request(actor=network_handler, order=claimed(), reason="需要现场测试",
                                                until=timezone.now() + timedelta(days=2))

    return {"new": new, "queued": queued, "claimed": claimed, "waiting": waiting, "review": review,
            "callback": callback, "extension_pending": extension_pending}


# action: (step, right user, wrong users, body)
CASES = {
    "dispatch": ("new", "province_dispatcher", ["hotline_agent", "network_handler"], {"department": "billing"}),
    "claim": ("queued", "network_handler", ["billing_handler", "hotline_agent"], {}),
    "release": ("claimed", "network_handler", ["network_handler_2", "billing_handler"], {}),
    "assign": ("queued", "network_lead", ["network_handler", "province_dispatcher"], {"assignee": "handler_network"}),
    "transfer": ("claimed", "network_handler", ["network_handler_2", "billing_handler"],
                 {"department": "billing", "reason": "属计费问题"}),
    "return": ("claimed", "network_handler", ["billing_handler", "hotline_agent"],
               {"reason_kind": "wrong_department", "reason": "派错部门"}),
    "wait": ("claimed", "network_handler", ["network_handler_2", "network_lead"],
             {"until": "__tomorrow__", "comment": "请客户提供截图"}),
    "resume": ("waiting", "network_handler", ["billing_handler", "network_handler_2"], {}),
    "note": ("claimed", "hotline_agent", [], {"body": "客户来电催办", "internal": False}),
    "reply": ("claimed", "network_handler", ["hotline_agent", "network_handler_2"],
              {"answer": "已优化", "result_code": "resolved", "compensation": "10.00"}),
    "review": ("review", "province_dispatcher", ["network_handler", "hotline_agent"], {"accept": True}),
    "callback": ("callback", "hotline_agent", ["network_handler", "province_dispatcher__never"],
                 {"reached": True, "satisfaction": 5, "solved": True}),
    "reopen": ("callback", "hotline_agent", ["network_handler"], {"reason": "客户称仍无信号"}),
    "cancel": ("claimed", "province_dispatcher", ["network_handler", "hotline_agent"],
               {"reason_kind": "duplicate", "reason": "重复工单"}),
    "escalate": ("queued", "hotline_agent", ["billing_handler"], {"reason_kind": "regulator", "reason": "扬言投诉工信部"}),
    "extend": ("claimed", "network_handler", ["network_handler_2", "billing_handler"],
               {"until": "__in_two_days__", "reason": "需要现场测试"}),
    "decide_extension": ("extension_pending", "province_dispatcher", ["network_handler", "network_lead"],
                         {"approve": True}),
}


def _body(body):
    if body.get("until") == "__tomorrow__":
        return {**body, "until": (timezone.now() + timedelta(days=1)).isoformat()}
    if body.get("until") == "__in_two_days__":
        return {**body, "until": (timezone.now() + timedelta(days=2)).isoformat()}
    return body


def test_every_action_is_covered():
    assert set(CASES) == set(services.ACTIONS)


@pytest.mark.parametrize("action", sorted(CASES))
def test_the_right_user_may_act(action, world, api_for, request):
    step, right, _wrong, body = CASES[action]
    order = world[step]()
    response = api_for(request.getfixturevalue(right)).post(URL.format(number=order.number, action=action),
                                                            _body(body), format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["number"] == order.number
    assert order.events.order_by("-id").first().action != "received"


@pytest.mark.parametrize("action", sorted(a for a, case in CASES.items() if case[2]))
def test_the_wrong_user_is_refused_and_nothing_changes(action, world, api_for, request):
    step, _right, wrong_users, body = CASES[action]
    for name in wrong_users:
        if name.endswith("__never"):
            continue
        order = world[step]()
        before = (order.status, order.events.count())
        response = api_for(request.getfixturevalue(name)).post(URL.format(number=order.number, action=action),
                                                               _body(body), format="json")
        assert response.status_code == 403, (name, response.json())
        assert response.json()["detail"]
        order.refresh_from_db()
        assert (order.status, order.events.count()) == before


@pytest.mark.parametrize("action", sorted(CASES))
def test_a_user_of_another_city_cannot_even_see_the_order(action, world, api_for, outsider):
    step, _right, _wrong, body = CASES[action]
    order = world[step]()
    response = api_for(outsider).post(URL.format(number=order.number, action=action), _body(body), format="json")
    assert response.status_code == 404


def test_an_action_the_step_does_not_allow_is_a_conflict_with_the_status(world, api_for, network_handler,
                                                                          province_dispatcher):
    order = world["review"]()
    response = api_for(network_handler).post(URL.format(number=order.number, action="claim"), {}, format="json")
    assert response.status_code == 409
    assert response.json()["status"] == OrderStatus.REVIEW
    assert "Awaiting review" in response.json()["detail"]
    response = api_for(province_dispatcher).post(URL.format(number=order.number, action="dispatch"),
                                                 {"department": "billing"}, format="json")
    assert response.status_code == 409


def test_bad_input_names_the_fields(world, api_for, network_handler, province_dispatcher):
    order = world["claimed"]()
    client = api_for(network_handler)
    response = client.post(URL.format(number=order.number, action="reply"), {"result_code": "magic"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"answer", "result_code"}
    response = client.post(URL.format(number=order.number, action="transfer"),
                           {"department": "nowhere", "reason": "x"}, format="json")
    assert response.status_code == 400 and "department" in response.json()
    response = client.post(URL.format(number=order.number, action="transfer"),
                           {"department": "network", "reason": "x"}, format="json")
    assert response.status_code == 400 and "already with" in response.json()["department"][0]
    response = api_for(province_dispatcher).post(URL.format(number=order.number, action="cancel"),
                                                 {"reason_kind": "duplicate", "reason": " "}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_PROGRESS


def test_the_order_says_what_the_caller_may_do_next(world, api_for, network_handler, network_handler_2):
    order = world["queued"]()
    body = api_for(network_handler).get(f"/api/v1/orders/{order.number}/").json()
    assert "claim" in body["available_actions"] and "reply" not in body["available_actions"]
    body = api_for(network_handler).post(URL.format(number=order.number, action="claim"), {}, format="json").json()
    assert body["current_owner"] == "handler_network"
    assert {"reply", "release", "transfer", "return", "wait"} <= set(body["available_actions"])
    assert "claim" not in api_for(network_handler_2).get(f"/api/v1/orders/{order.number}/").json()[
        "available_actions"]


def test_the_timeline_lists_every_step(world, api_for, network_handler, province_dispatcher, outsider):
    order = world["callback"]()
    timeline = api_for(province_dispatcher).get(f"/api/v1/orders/{order.number}/timeline/").json()
    assert [row["action"] for row in timeline] == ["received", "auto_dispatched", "claimed", "replied",
                                                    "review_accepted"]
    assert timeline[2]["actor_name"] == "网络处理员"
    assert timeline[3]["from_status"] == "in_progress" and timeline[3]["to_status"] == "review"
    assert api_for(outsider).get(f"/api/v1/orders/{order.number}/timeline/").status_code == 404


def test_channel_systems_create_and_follow_but_do_not_handle(world, api_for, channel_system):
    order = world["queued"]()
    client = api_for(channel_system)
    assert client.get(f"/api/v1/orders/{order.number}/timeline/").status_code == 200
    response = client.post(URL.format(number=order.number, action="claim"), {}, format="json")
    assert response.status_code == 403
