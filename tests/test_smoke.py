from complaints.models import OrderStatus


def test_agent_logs_an_order_through_the_service(hotline_agent, make_order):
    order = make_order(hotline_agent)
    assert order.number.startswith("TS")
    assert order.status == OrderStatus.QUEUED
    assert order.events.filter(action="received").exists()
