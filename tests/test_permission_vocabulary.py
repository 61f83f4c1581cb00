"""The permission vocabulary (core.permissions): each word defined once, and the cases where the copies it replaced
disagreed, decided for the stricter reading."""

import ast
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser

from core import permissions
from core.permissions import (
    department_kind,
    is_admin,
    is_centre_or_quality,
    is_centre_staff,
    is_dispatcher,
    is_lead,
    is_lead_of,
    is_quality,
    is_staff_of,
    may_intake,
)
from core.transitions import available_actions
from knowledge.search import sees_everything
from knowledge.services import may_write_articles
from org import roles
from org.models import Department
from quality.selectors import may_see_dashboards
from quality.warning_views import order_incident_panel

from .factories import DepartmentFactory, UserFactory

ROOT = Path(__file__).resolve().parents[1]
APPS = ["accountability", "complaints", "config", "core", "demo", "jobs", "knowledge", "org", "quality", "reports",
        "support", "workflow"]
# The words of the vocabulary, and the names their copies had in the apps before.
WORDS = ["has_role", "department_kind", "is_staff_member", "may_intake", "is_admin", "is_quality", "is_dispatcher",
         "is_centre_staff", "is_centre_or_quality", "is_lead", "is_member_of", "is_lead_of", "is_staff_of",
         "may_see_full_phone", "may_unmask_phone"]
OLD_COPIES = ["is_centre", "may_record_deductions", "may_set_targets", "may_close_month", "sees_all_of_region",
              "may_work_follow_ups", "user_may_intake", "may_import", "sees_full_phone", "may_unmask",
              "may_withdraw_reports", "_may_generate", "_is_dispatcher", "_is_centre_staff", "_is_handler_of",
              "_is_lead_of", "_is_staff_of", "_member_of"]


def _functions_defined():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.parse(path.read_text(encoding="utf-8")).body:  # functions of a module, not methods
                if isinstance(node, ast.FunctionDef):
                    yield node.name, path.relative_to(ROOT).as_posix()


def test_each_word_is_defined_once_in_core():
    where = {}
    for name, path in _functions_defined():
        where.setdefault(name, []).append(path)
    for word in WORDS:
        assert where.get(word) == ["core/permissions.py"], (word, where.get(word))
    for old in OLD_COPIES:
        assert old not in where, (old, where[old])


def test_the_role_and_department_names_are_the_ones_org_uses():
    assert tuple(roles.ROLE_LABELS) == permissions.ALL_ROLES
    assert roles.INTAKE_ROLES == permissions.INTAKE_ROLES and roles.STAFF_ROLES == permissions.STAFF_ROLES
    assert Department.Kind.COMPLAINT_CENTRE == permissions.COMPLAINT_CENTRE
    assert Department.Kind.FRONTLINE == permissions.FRONTLINE_UNIT


def test_an_anonymous_visitor_is_nobody():
    visitor = AnonymousUser()
    for word in (is_admin, is_quality, is_dispatcher, is_centre_staff, is_centre_or_quality, may_intake,
                 permissions.is_staff_member, permissions.may_see_full_phone, permissions.may_unmask_phone):
        assert word(visitor) is False, word.__name__
    assert department_kind(visitor) is None


@pytest.mark.django_db
def test_a_superuser_stands_in_for_the_centre_the_quality_team_and_the_administrators(province):
    root = UserFactory(username="root", is_superuser=True, department=None)
    assert is_admin(root) and is_quality(root) and is_dispatcher(root) and is_centre_staff(root)
    assert not is_lead(root)  # a lead belongs to a department


# --- where the copies disagreed ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_administrator_role_is_not_the_quality_team(province):
    """knowledge.services.is_quality counted the administrator role as quality, support.selectors.is_quality did
    not: the stricter holds. An administrator still reads every article (knowledge's own rule)."""
    role_admin = UserFactory(username="role_admin", department=None, roles=[roles.ADMIN])
    assert is_admin(role_admin) and not is_quality(role_admin)
    assert not may_write_articles(role_admin)
    assert sees_everything(role_admin)


@pytest.mark.django_db
def test_the_quality_team_is_not_the_complaint_centre(quality_manager):
    """quality.selectors.is_centre_staff counted quality managers as centre staff, accountability.services.is_centre
    did not: centre staff are the centre's; the quality team joins it where a rule says so."""
    assert not is_centre_staff(quality_manager)
    assert is_centre_or_quality(quality_manager) and may_see_dashboards(quality_manager)


@pytest.mark.django_db
def test_a_dispatcher_outside_the_centre_is_not_centre_staff(province):
    """quality.selectors.is_centre_staff took any dispatcher; accountability's copy only the centre's."""
    elsewhere = DepartmentFactory(code="billing", kind=Department.Kind.BACK_OFFICE, region=province)
    stray = UserFactory(username="stray_dispatcher", department=elsewhere, roles=[roles.DISPATCHER])
    assert is_dispatcher(stray)
    assert not is_centre_staff(stray) and not is_centre_or_quality(stray)


@pytest.mark.django_db
def test_a_member_of_the_centre_without_its_roles_is_not_centre_staff(province_dispatcher):
    """workflow.selectors._is_centre_staff took any member of a complaint-centre department."""
    handler = UserFactory(username="centre_handler", department=province_dispatcher.department, roles=[roles.HANDLER])
    lead = UserFactory(username="centre_lead", department=province_dispatcher.department, roles=[roles.LEAD])
    assert not is_centre_staff(handler)
    assert is_centre_staff(lead) and is_centre_staff(province_dispatcher)


@pytest.mark.django_db
def test_a_lead_without_a_department_leads_nothing(province):
    """quality.selectors.may_see_dashboards took any lead; accountability.selectors.is_lead one with a department."""
    lead = UserFactory(username="lead_of_nothing", department=None, roles=[roles.LEAD])
    assert not is_lead(lead) and not is_lead_of(lead, None) and not is_staff_of(lead, None)
    assert not may_see_dashboards(lead)


@pytest.mark.django_db
def test_the_order_page_and_the_service_agree_on_who_attaches_an_incident(hotline_agent, province_dispatcher,
                                                                           network_lead, billing_dept, make_order,
                                                                           monkeypatch):
    """The order page offered attaching to any lead, the service refused all but the lead of the order's
    department: both read the order's action table now (core.transitions.available_actions)."""
    other_lead = UserFactory(username="lead_billing", department=billing_dept, roles=[roles.LEAD])
    order = make_order(hotline_agent)
    assert order.current_department_id == network_lead.department_id
    monkeypatch.setattr("quality.warning_views.incidents_for_order", lambda order: ["incident"])
    for user, may in ((network_lead, True), (hotline_agent, True), (province_dispatcher, True), (other_lead, False)):
        allowed = available_actions(user, order)
        assert ("attach" in allowed) == may, user
        assert "detach" not in allowed  # the order is not in an incident
        panel = order_incident_panel(order=order, user=user, stage="handle", actions=allowed)
        assert panel["joinable_incidents"] == (["incident"] if may else []), user
