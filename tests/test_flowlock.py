"""A flow's start does not lock the process row its own transaction has just inserted; every other step does."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.flowlock import starting_flows
from workflow import services
from workflow.flows import ComplaintFlow
from workflow.models import OrderProcess

pytestmark = pytest.mark.django_db


def _locks(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "FOR UPDATE" in q["sql"] and "orderprocess" in q["sql"]]


def test_an_intake_starts_its_flow_without_locking_the_new_process_and_a_claim_locks_it(hotline_agent, make_order,
                                                                                         network_handler):
    with CaptureQueriesContext(connection) as captured:
        order = make_order(hotline_agent, customer_phone="13900001234")
    assert _locks(captured) == []
    assert OrderProcess.objects.filter(order=order).exists()
    with CaptureQueriesContext(connection) as captured:
        services.order_claim(actor=network_handler, order=order)
    assert len(_locks(captured)) == 1


def test_inside_a_start_a_process_it_did_not_create_is_locked_as_always(hotline_agent, make_order):
    older = make_order(hotline_agent, customer_phone="13900001235")
    process = OrderProcess.objects.get(order=older)
    with starting_flows(), CaptureQueriesContext(connection) as captured, \
            ComplaintFlow.lock_impl(ComplaintFlow, process.pk):
        pass
    assert len(_locks(captured)) == 1
    with CaptureQueriesContext(connection) as captured, ComplaintFlow.lock_impl(ComplaintFlow, process.pk):
        pass
    assert len(_locks(captured)) == 1
