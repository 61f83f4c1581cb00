"""Every audit table is a core.audit.AuditEvent: the same columns under the same names, written the same way, and
append-only in PostgreSQL through the one trigger function core.audit.AppendOnly installs."""

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from accountability.models import AccountabilityEvent
from complaints.models import CustomerChange
from core.audit import AuditEvent
from org.models import User
from quality.models import FollowUp, FollowUpEvent
from quality.services import follow_up_open
from reports.models import ReportWithdrawal
from support.models import SupportEvent
from support.services import request_raise
from workflow.models import OrderEvent

AUDIT_MODELS = [OrderEvent, SupportEvent, AccountabilityEvent, FollowUpEvent]
# Append-only records of one act, not histories of steps: the same trigger, not the base's columns.
OTHER_APPEND_ONLY_MODELS = [ReportWithdrawal, CustomerChange]

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's")


@pytest.fixture
def one_event_of(hotline_agent, make_order):
    """A real row of each audit table, written by its own service."""

    def _event(model):
        if model is OrderEvent:
            return make_order(hotline_agent).events.first()
        if model is SupportEvent:
            return request_raise(actor=hotline_agent, kind="problem", title="系统无法办理",
                                 description="营业厅系统提示产品未配置").events.get()
        if model is FollowUpEvent:
            return follow_up_open(order=make_order(hotline_agent), reason=FollowUp.Reason.LOW_RATING, rating=1,
                                  actor=hotline_agent).events.get()
        return AccountabilityEvent.objects.record(actor=hotline_agent, action=AccountabilityEvent.Action.RECORDED,
                                                  comment="记录")

    return _event


def test_the_audit_models_are_the_four_histories():
    assert sorted(m._meta.label for m in apps.get_models() if issubclass(m, AuditEvent)) == sorted(
        m._meta.label for m in AUDIT_MODELS)


@pytest.mark.parametrize("model", AUDIT_MODELS, ids=lambda m: m.__name__)
def test_every_audit_model_has_the_bases_columns(model):
    for base_field in AuditEvent._meta.local_fields:
        field = model._meta.get_field(base_field.name)
        assert type(field) is type(base_field), base_field.name
        assert field.column == base_field.get_attname_column()[1]
        assert (field.null, field.blank, field.max_length) == (base_field.null, base_field.blank,
                                                               base_field.max_length), base_field.name
    assert model._meta.ordering == ["created_at", "id"]


@pytest.mark.django_db
def test_the_system_and_unsaved_users_are_recorded_by_name_only():
    system = AccountabilityEvent.objects.record(actor=None, action="recorded")
    assert (system.actor, system.actor_name, system.data) == (None, "system", {})
    unsaved = AccountabilityEvent.objects.build(actor=User(username="gone", display_name="离职坐席"), action="recorded")
    assert (unsaved.actor, unsaved.actor_name, unsaved.pk) == (None, "离职坐席", None)


@on_postgresql
@pytest.mark.django_db
@pytest.mark.parametrize("model", AUDIT_MODELS, ids=lambda m: m.__name__)
def test_every_audit_table_refuses_update_and_delete(model, one_event_of):
    event = one_event_of(model)
    table = model._meta.db_table
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET comment = 'forged' WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        model.objects.filter(pk=event.pk).update(created_at=event.created_at.replace(year=2000))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        model.objects.filter(pk=event.pk).delete()
    assert model.objects.get(pk=event.pk).comment == event.comment


@on_postgresql
@pytest.mark.django_db
@pytest.mark.parametrize("model", AUDIT_MODELS, ids=lambda m: m.__name__)
def test_every_audit_table_keeps_the_actors_name_when_the_account_goes(model, one_event_of):
    event = one_event_of(model)
    name = event.actor_name
    # The database's own ON DELETE SET NULL of the actor is the one update the trigger allows.
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {model._meta.db_table} SET actor_id = NULL WHERE id = %s", [event.pk])
    event.refresh_from_db()
    assert event.actor is None and event.actor_name == name


@on_postgresql
@pytest.mark.django_db
def test_the_record_of_customer_changes_refuses_update_and_delete(customer, hotline_agent):
    change = CustomerChange.objects.create(customer=customer, actor=hotline_agent, actor_name=str(hotline_agent),
                                           applied=False, changes={"name": {"old": "张三", "new": "张叁"}})
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CustomerChange.objects.filter(pk=change.pk).update(applied=True)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CustomerChange.objects.filter(pk=change.pk).delete()
    assert CustomerChange.objects.get(pk=change.pk).applied is False


@on_postgresql
@pytest.mark.django_db
def test_the_append_only_tables_share_one_trigger_function():
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgrelid::regclass::text, tgname, tgfoid::regproc::text FROM pg_trigger "
                       "WHERE NOT tgisinternal AND tgname LIKE '%%append_only'")
        triggers = {table: (name, function) for table, name, function in cursor.fetchall()}
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname LIKE '%%append_only' "
                       "AND proname <> 'audit_row_append_only'")
        (own_functions,) = cursor.fetchone()
    tables = {m._meta.db_table for m in AUDIT_MODELS + OTHER_APPEND_ONLY_MODELS}
    assert triggers == {table: (f"{table}_append_only", "audit_row_append_only") for table in tables}
    assert own_functions == 0
