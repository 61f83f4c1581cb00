"""Channel systems' API tokens: scoped, revocable, expiring, kept as a hash, with their last use."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.views import APIView

from complaints.models import WorkOrder
from org.models import ApiScope, ApiToken
from org.tokens import TokenScope, key_hash, token_issue, token_revoke
from tests.factories import UserFactory

URL = "/api/v1/orders/"


@pytest.fixture
def payload(coverage):
    return {"kind": "complaint", "channel": "hotline", "category": "NET-MOB-COV", "description": "客户家中信号弱",
            "customer_phone": "13800138000"}


def _client(key, scheme="Token", **extra):
    client = APIClient(**extra)
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
    return client


def _issue(user, scopes, **kwargs):
    return token_issue(actor=None, user=user, name="热线CTI", scopes=scopes, **kwargs)


def test_the_key_is_shown_once_and_kept_only_as_a_hash(channel_system):
    token, key = _issue(channel_system, [ApiScope.ORDERS_READ])
    assert key.startswith("ct_") and len(key) > 40 and token.prefix == key[:10]
    stored = ApiToken.objects.values().get(pk=token.pk)
    assert key not in str(stored) and stored["key_hash"] == key_hash(key)
    assert _client(key).get(URL).status_code == 200
    assert _client(key, scheme="Bearer").get(URL).status_code == 200
    assert _client(key[:-1] + ("A" if key[-1] != "A" else "B")).get(URL).status_code == 401
    assert _client("").get(URL).status_code == 401  # "Token" without a key
    assert APIClient().get(URL, HTTP_AUTHORIZATION=f"Token {key} extra").status_code == 401


def test_a_token_does_only_what_its_scopes_allow(channel_system, hotline_agent, make_order, payload):
    order = make_order(hotline_agent)
    _token, reader = _issue(channel_system, [ApiScope.ORDERS_READ])
    refused = _client(reader).post(URL, payload, format="json")
    assert refused.status_code == 403 and "orders:write" in refused.json()["detail"]
    assert WorkOrder.objects.count() == 1
    assert _client(reader).get(f"{URL}{order.number}/timeline/").status_code == 200
    _token, writer = _issue(channel_system, [ApiScope.ORDERS_WRITE])
    assert _client(writer).post(URL, payload, format="json").status_code == 201
    assert _client(writer).get(URL).status_code == 403
    assert _client(writer).post(f"{URL}{order.number}/actions/note/", {"body": "x"}, format="json").status_code == 403
    assert _client(writer).get("/api/v1/support/requests/").status_code == 403


def test_scopes_do_not_widen_a_role(channel_system, billing_handler, payload):
    """A token with every scope still acts as its account: a handler cannot log orders with one."""
    _token, key = _issue(billing_handler, list(ApiScope.values))
    assert _client(key).post(URL, payload, format="json").status_code == 403


def test_a_revoked_or_expired_token_is_refused_at_once(channel_system):
    token, key = _issue(channel_system, [ApiScope.ORDERS_READ])
    assert _client(key).get(URL).status_code == 200
    revoked = token_revoke(actor=None, token=token)
    answer = _client(key).get(URL)
    assert answer.status_code == 401 and "revoked" in answer.json()["detail"]
    first = revoked.revoked_at
    assert token_revoke(actor=None, token=token).revoked_at == first  # revoking again changes nothing

    expired, key = _issue(channel_system, [ApiScope.ORDERS_READ],
                          expires_at=timezone.now() + datetime.timedelta(seconds=30))
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    answer = _client(key).get(URL)
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]

    _token, key = _issue(channel_system, [ApiScope.ORDERS_READ])
    channel_system.is_active = False
    channel_system.save()
    assert _client(key).get(URL).status_code == 401


def test_the_last_use_is_recorded_at_most_once_a_minute(channel_system):
    token, key = _issue(channel_system, [ApiScope.ORDERS_READ])
    assert token.last_used_at is None
    client = _client(key, REMOTE_ADDR="10.1.2.3")
    client.get(URL)
    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_ip == "10.1.2.3"
    with CaptureQueriesContext(connection) as queries:
        client.get(URL)
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE") and "org_apitoken" in q["sql"]]
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - datetime.timedelta(minutes=2))
    client.get(URL)
    token.refresh_from_db()
    assert timezone.now() - token.last_used_at < datetime.timedelta(seconds=30)


@pytest.mark.parametrize("kwargs, field", [
    ({"scopes": []}, "scopes"),
    ({"scopes": ["orders:everything"]}, "scopes"),
    ({"scopes": ["orders:read"], "name": " "}, "name"),
    ({"scopes": ["orders:read"], "expires_at": "past"}, "expires_at"),
])
def test_a_bad_token_request_says_what_is_wrong_and_issues_nothing(channel_system, kwargs, field):
    if kwargs.get("expires_at") == "past":
        kwargs["expires_at"] = timezone.now() - datetime.timedelta(days=1)
    values = {"name": "CTI", **kwargs}
    with pytest.raises(ValidationError) as raised:
        token_issue(actor=None, user=channel_system, **values)
    assert field in raised.value.message_dict
    assert not ApiToken.objects.exists()


def _api_views(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from _api_views(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            view_class = getattr(entry.callback, "cls", None)
            if view_class is not None and issubclass(view_class, APIView) and (prefix + str(entry.pattern)).startswith(
                    "api/v1/"):
                yield prefix + str(entry.pattern), view_class


def test_every_api_endpoint_names_the_scope_of_each_method():
    """A new endpoint without scopes would be closed to every token; this says so before a channel system does."""
    views = list(_api_views())
    assert len(views) > 20
    for route, view_class in views:
        if route.startswith("api/v1/sms/"):  # the SMS gateway's calls: its own token and a signed body (sms/api.py)
            continue
        assert any(isinstance(p, TokenScope) for p in view_class().get_permissions()), route
        methods = [m.upper() for m in view_class.http_method_names if m not in ("options", "head")
                   and hasattr(view_class, m)]
        missing = [m for m in methods if m not in getattr(view_class, "required_scopes", {})]
        assert not missing, f"{route} names no scope for {missing}"


def test_the_management_command_issues_lists_and_revokes(channel_system):
    out = io.StringIO()
    call_command("api_token", "issue", "--user", "cti", "--name", "web portal", "--scope", "orders:read",
                 "--days", "30", stdout=out)
    key = out.getvalue().split(": ")[1].split()[0]
    token = ApiToken.objects.get(key_hash=key_hash(key))
    assert token.expires_at is not None and token.scopes == ["orders:read"]
    out = io.StringIO()
    call_command("api_token", "list", stdout=out)
    assert token.prefix in out.getvalue() and "live" in out.getvalue() and "never" in out.getvalue()
    call_command("api_token", "revoke", token.prefix, stdout=io.StringIO())
    assert _client(key).get(URL).status_code == 401
    with pytest.raises(CommandError, match="No account"):
        call_command("api_token", "issue", "--user", "ghost", "--name", "x", "--scope", "orders:read")
    with pytest.raises(CommandError, match="0 tokens"):
        call_command("api_token", "revoke", "ct_nothing")


def test_admin_issues_a_token_once_and_revokes_it(client, channel_system):
    root = UserFactory(username="root", is_staff=True, is_superuser=True, department=None)
    client.force_login(root)
    answer = client.post("/admin/org/apitoken/add/", {"name": "网厅", "user": channel_system.pk,
                                                      "scopes": ["orders:read", "orders:write"]}, follow=True)
    assert answer.status_code == 200
    token = ApiToken.objects.get()
    key = next(word for word in answer.content.decode().split() if word.startswith("ct_"))
    assert key_hash(key) == token.key_hash and token.created_by == root
    assert key not in client.get(f"/admin/org/apitoken/{token.pk}/change/").content.decode()
    assert _client(key).get(URL).status_code == 200
    refused = client.post("/admin/org/apitoken/add/", {"name": "x", "user": channel_system.pk, "scopes": []})
    assert refused.status_code == 200 and ApiToken.objects.count() == 1  # the form again, with the error
    client.post("/admin/org/apitoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == root
    assert _client(key).get(URL).status_code == 401
    assert client.get(f"/admin/org/apitoken/{token.pk}/delete/").status_code == 403


def test_drf_tokens_of_an_earlier_installation_keep_working(channel_system):
    import importlib

    from django.apps import apps

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id bigint, "
                       "created timestamptz)")
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, now())", ["0123456789abcdef" * 2 + "01234567",
                                                                             channel_system.pk])
    migration = importlib.import_module("org.migrations.0006_import_drf_tokens")
    with connection.schema_editor() as editor:
        migration.import_tokens(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    assert _client("0123456789abcdef" * 2 + "01234567").get(URL).status_code == 200
