"""The API fuzzed from its own OpenAPI schema (schemathesis): whatever a channel system sends, no answer is a 500.

Every operation gets the boundary cases schemathesis derives from the schema and FUZZ_EXAMPLES generated
requests (default 10), derandomised so CI is repeatable (FUZZ_RANDOM=1 explores new inputs), against a small world
where the numbers in the paths sometimes exist. Two callers: a dispatcher of the whole province with every token
scope, and the hotline CTI's account with the scopes a channel system gets (it logs and reads orders); for the
latter an operation outside its scopes must be refused before anything else (403), whatever the body says.
"""

import json
import os

import pytest
import schemathesis
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings

from config.wsgi import application

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"


def _schema() -> dict:
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


schema = schemathesis.openapi.from_dict(_schema())
schema.app = application


@pytest.fixture
def in_process_requests():
    """The WSGI handler closes the database connection around each request; inside a test's transaction it must
    not (Django's own test client does the same)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=["dispatcher", "channel"])
def fuzz_world(request, in_process_requests, province_dispatcher, channel_system, hotline_agent, make_order,
               network_handler):
    """Orders whose numbers the generated paths may hit; the caller's key and scopes."""
    from org.models import ApiScope
    from org.tokens import token_issue

    orders = [make_order(hotline_agent, description=f"信号差 {i}") for i in range(3)]
    if request.param == "dispatcher":
        user, scopes = province_dispatcher, list(ApiScope.values)
    else:
        user, scopes = channel_system, [ApiScope.ORDERS_READ, ApiScope.ORDERS_WRITE]
    _token, key = token_issue(actor=None, user=user, name="fuzz", scopes=scopes)
    return {"key": key, "orders": orders, "scopes": set(scopes)}


def _scope_needed(case):
    """The scope the view names for this method; None for OPTIONS (metadata) and a method the view lacks (405)."""
    method = case.method.upper()
    view_class = getattr(resolve(case.formatted_path).func, "cls", None)
    if method == "OPTIONS" or view_class is None or not hasattr(view_class, method.lower()):
        return None
    scopes = getattr(view_class, "required_scopes", {})
    return scopes.get(method, scopes.get("GET", "") if method == "HEAD" else "")


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error(case, fuzz_world):
    number = (case.path_parameters or {}).get("number")
    if isinstance(number, str) and len(number) % 2:  # about half the time, an order that exists
        case.path_parameters["number"] = fuzz_world["orders"][len(number) % 3].number
    response = case.call(headers={"Authorization": f"Token {fuzz_world['key']}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} answered {response.status_code}:\n{response.text[:2000]}\n"
        f"query={case.query} body={case.body!r}")
    needed = _scope_needed(case)
    if needed is not None and needed not in fuzz_world["scopes"]:
        assert response.status_code == 403, (
            f"{case.method} {case.formatted_path} needs {needed!r}, which the token lacks, and answered "
            f"{response.status_code}:\n{response.text[:500]}")
