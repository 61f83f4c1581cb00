"""A department's indicator targets month by month: set by quality managers on /accountability/targets/ (a step
from a month until the next; the yearly target before the first), checked whole before anything is saved, every
change recorded, and used by the monthly score of the month it is in force in."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from accountability import scoring, services
from accountability.models import Indicator, IndicatorTarget, IndicatorTargetChange, MonthlyScore
from org import roles
from org.models import Department
from quality.facts import rollups_apply
from tests.factories import DepartmentFactory, UserFactory
from workflow import services as flow

SH = ZoneInfo("Asia/Shanghai")
JUNE, JULY, AUGUST = datetime.date(2026, 6, 1), datetime.date(2026, 7, 1), datetime.date(2026, 8, 1)
URL = "/accountability/targets/"


@pytest.fixture
def indicators(db):
    return {
        "attributed": Indicator.objects.create(year=2026, code="attributed", name="认责投诉量", measure="attributed",
                                               higher_is_better=False, target=Decimal("5"), weight=Decimal("60")),
        "timeliness": Indicator.objects.create(year=2026, code="timeliness", name="处理及时率", measure="timeliness",
                                               higher_is_better=True, target=Decimal("90"), weight=Decimal("40")),
    }


@pytest.fixture
def summer(indicators, hotline_agent, make_order, province_dispatcher, billing_handler, dispute):
    """One billing complaint closed in June and one in July: one attributed complaint a month."""
    for n, month in enumerate((JUNE, JULY)):
        with time_machine.travel(datetime.datetime(month.year, month.month, 10, 9, tzinfo=SH), tick=False):
            order = make_order(hotline_agent, category=dispute, customer_phone=f"1380013810{n}")
            order = flow.order_claim(actor=billing_handler, order=order)
            order = flow.order_reply(actor=billing_handler, order=order, answer="已处理", result_code="resolved")
            order = flow.order_review(actor=province_dispatcher, order=order, accept=True)
            flow.order_callback(actor=hotline_agent, order=order, reached=True, satisfaction=5, solved=True)
    rollups_apply()


def _attributed_result(month, department):
    computed = next(m for m in scoring.month_compute(month=month) if m.department.pk == department.pk)
    return next((target, met, points) for indicator, _c, target, met, points in computed.results
                if indicator.code == "attributed")


def test_a_step_in_july_changes_julys_score_but_not_junes(login_client, summer, indicators, quality_manager,
                                                          billing_dept):
    assert _attributed_result(JUNE, billing_dept) == (Decimal("5"), True, Decimal("60.00"))
    assert _attributed_result(JULY, billing_dept) == (Decimal("5"), True, Decimal("60.00"))
    field = f"t-{indicators['attributed'].pk}-7"
    response = login_client(quality_manager).post(f"{URL}?department={billing_dept.pk}&year=2026",
                                                  {field: "0.5"})
    assert response.status_code == 302
    assert _attributed_result(JUNE, billing_dept) == (Decimal("5"), True, Decimal("60.00"))  # June: the default
    assert _attributed_result(JULY, billing_dept) == (Decimal("0.5"), False, Decimal("30.00"))  # 1 against 0.5
    assert _attributed_result(AUGUST, billing_dept)[0] == Decimal("0.5")  # in force until the next step
    for month in (JUNE, JULY):
        scoring.month_close(month=month)
    june, july = (MonthlyScore.objects.get(department=billing_dept, month=m) for m in (JUNE, JULY))
    assert june.results.get(indicator__code="attributed").target == Decimal("5")
    assert (july.results.get(indicator__code="attributed").target, july.indicator_points) == (
        Decimal("0.5"), june.indicator_points - 30)


def test_a_later_step_ends_the_one_before_and_another_department_keeps_the_default(
        summer, indicators, quality_manager, billing_dept, network_dept):
    attributed = indicators["attributed"].pk
    services.indicator_targets_set(actor=quality_manager, department=billing_dept, year=2026,
                                   steps={(attributed, 3): Decimal("2"), (attributed, 7): Decimal("0.5")})
    assert _attributed_result(JUNE, billing_dept)[0] == Decimal("2")
    assert _attributed_result(JULY, billing_dept)[0] == Decimal("0.5")
    assert _attributed_result(JULY, network_dept)[0] == Decimal("5")


def test_the_page_lists_each_indicator_with_twelve_months(login_client, indicators, quality_manager, billing_dept):
    IndicatorTarget.objects.create(indicator=indicators["timeliness"], department=billing_dept,
                                   from_month=datetime.date(2026, 4, 1), target=Decimal("95"))
    client = login_client(quality_manager)
    assert "计费账务部" in client.get(URL).content.decode()  # the departments to choose from
    page = client.get(f"{URL}?department={billing_dept.pk}&year=2026").content.decode()
    for indicator in indicators.values():
        assert indicator.name in page
        for month in range(1, 13):
            assert f'name="t-{indicator.pk}-{month}"' in page
    timeliness = indicators["timeliness"].pk
    assert f'name="t-{timeliness}-4" value="95.00"' in page or f'name="t-{timeliness}-4" value="95"' in page
    march, may = (page.split(f'name="t-{timeliness}-{m}"')[1].split(">")[0] for m in (3, 5))
    assert 'placeholder="90"' in march and "value" not in march  # before the step: the yearly default
    assert 'placeholder="95"' in may and "value" not in may  # after it: the step, in force


def test_bad_values_are_field_errors_and_nothing_is_saved(login_client, indicators, quality_manager, billing_dept):
    client = login_client(quality_manager)
    timeliness, attributed = indicators["timeliness"].pk, indicators["attributed"].pk
    url = f"{URL}?department={billing_dept.pk}&year=2026"
    for bad in ({f"t-{timeliness}-7": "95", f"t-{timeliness}-8": "150"},  # a rate above 100
                {f"t-{attributed}-7": "3", f"t-{attributed}-9": "-1"},
                {f"t-{attributed}-7": "3", f"t-{attributed}-9": "abc"}):
        response = client.post(url, bad)
        assert response.status_code == 400
        errors = response.context["form"].errors
        assert len(errors) == 1 and next(iter(errors)) in bad, errors
        assert 'class="field-error"' in response.content.decode()
    assert not IndicatorTarget.objects.exists() and not IndicatorTargetChange.objects.exists()


def test_the_service_refuses_bad_values_whole(indicators, quality_manager, billing_dept):
    from django.core.exceptions import ValidationError

    timeliness = indicators["timeliness"].pk
    with pytest.raises(ValidationError) as caught:
        services.indicator_targets_set(actor=quality_manager, department=billing_dept, year=2026, steps={
            (timeliness, 1): Decimal("95"), (timeliness, 2): Decimal("101"), (9999, 3): Decimal("1")})
    assert set(caught.value.message_dict) == {f"t-{timeliness}-2", "t-9999-3"}
    assert not IndicatorTarget.objects.exists()


def test_every_change_is_recorded_with_who_and_what(login_client, indicators, quality_manager, billing_dept):
    client = login_client(quality_manager)
    field = f"t-{indicators['attributed'].pk}-7"
    url = f"{URL}?department={billing_dept.pk}&year=2026"
    for value in ("0.5", "0.8", "0.8", ""):  # set, change, unchanged, remove
        assert client.post(url, {field: value}).status_code == 302
    changes = list(IndicatorTargetChange.objects.order_by("id").values_list("old_target", "new_target",
                                                                             "changed_by_name", "from_month"))
    assert changes == [(None, Decimal("0.5"), "品质经理", JULY), (Decimal("0.5"), Decimal("0.8"), "品质经理", JULY),
                       (Decimal("0.8"), None, "品质经理", JULY)]
    assert not IndicatorTarget.objects.exists()
    page = client.get(url).content.decode()
    assert 'id="target-changes"' in page and "品质经理" in page and "2026-07" in page


def test_only_quality_managers_set_targets(client, login_client, indicators, billing_dept, hotline_agent,
                                           billing_handler, billing_lead, province_dispatcher, quality_manager):
    field = f"t-{indicators['attributed'].pk}-7"
    url = f"{URL}?department={billing_dept.pk}&year=2026"
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for user in (hotline_agent, billing_handler, billing_lead, province_dispatcher):
        other = login_client(user)
        assert other.get(url).status_code == 403, user
        assert other.post(url, {field: "1"}).status_code == 403, user
    assert not IndicatorTarget.objects.exists()
    with pytest.raises(PermissionDenied):
        services.indicator_targets_set(actor=billing_lead, department=billing_dept, year=2026,
                                       steps={(indicators["attributed"].pk, 7): Decimal("1")})
    page = login_client(quality_manager).get("/accountability/ranking/").content.decode()
    assert URL in page  # the quality manager's tab


def test_a_citys_quality_manager_sets_only_their_citys_targets(login_client, indicators, billing_dept, shenzhen):
    dept = DepartmentFactory(code="sz-quality", name="深圳品质", kind=Department.Kind.QUALITY, region=shenzhen)
    city_quality = UserFactory(username="quality_sz", department=dept, roles=[roles.QUALITY_MANAGER])
    sz_billing = DepartmentFactory(code="sz-billing", name="深圳计费", kind=Department.Kind.BACK_OFFICE,
                                   region=shenzhen)
    client = login_client(city_quality)
    assert "计费账务部" not in client.get(URL).content.decode()
    field = f"t-{indicators['attributed'].pk}-7"
    assert client.get(f"{URL}?department={billing_dept.pk}&year=2026").status_code == 404
    assert client.post(f"{URL}?department={billing_dept.pk}&year=2026", {field: "1"}).status_code == 404
    with pytest.raises(PermissionDenied):
        services.indicator_targets_set(actor=city_quality, department=billing_dept, year=2026,
                                       steps={(indicators["attributed"].pk, 7): Decimal("1")})
    assert client.post(f"{URL}?department={sz_billing.pk}&year=2026", {field: "1"}).status_code == 302
    assert IndicatorTarget.objects.get().department == sz_billing
