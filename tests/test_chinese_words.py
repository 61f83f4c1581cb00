"""The right Chinese word in each place: the catalogue's words that were right in one place and wrong in another
(变化 for the admin's 修改, 发布时间 for 已发布, 待处理 over the report links, 原状态 and 超时完成 on bulletins and
working periods, 暂无工单 on the alert list), the timeline's "system" actor, the admin's header and django-axes'
section, role labels instead of role codes, and the seeded calendar and policy texts in the reader's language."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.translation import override

from quality import batch
from quality.models import Bulletin
from tests.factories import UserFactory
from workflow.audit import event_record
from workflow.models import CalendarDay, OrderEvent, TimeLimitPolicy


def zh(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_the_admin_says_modify_not_change_and_names_the_platform(superuser):
    html = zh(superuser).get("/admin/").content.decode()
    assert "修改" in html and "变化" not in html
    assert "投诉工单平台管理" in html and "Django 管理" not in html
    assert "登录安全" in html and ">Axes<" not in html  # django-axes' section


def test_the_axes_pages_are_in_chinese(superuser):
    html = zh(superuser).get("/admin/axes/accessattempt/").content.decode()
    assert "登录尝试" in html and "access attempt" not in html.lower().replace("accessattempt", "")


def test_working_periods_and_bulletins_say_start_and_end_times(superuser, network_lead, network_dept, guangzhou):
    from workflow.models import BusinessCalendar

    calendar = BusinessCalendar.objects.get(is_default=True)
    period = calendar.periods.first()
    page = zh(superuser).get(f"/admin/workflow/businesscalendar/{calendar.pk}/change/").content.decode()
    assert "开始时间" in page and "结束时间" in page and "原状态" not in page and "新状态" not in page
    assert period is not None
    now = timezone.now()
    bulletin = batch.bulletin_publish(actor=network_lead, kind=Bulletin.Kind.SUDDEN, title="光缆中断",
                                      department=network_dept, regions=[guangzhou], categories=[], services="宽带",
                                      starts_at=now - datetime.timedelta(hours=5),
                                      ends_at=now + datetime.timedelta(hours=2),
                                      answer="光缆中断，正在抢修。")
    assert bulletin.late
    page = zh(superuser).get(f"/admin/quality/bulletin/{bulletin.pk}/change/").content.decode()
    assert "开始时间" in page and "原状态" not in page and "超时完成" not in page
    listing = zh(network_lead).get("/early-warning/bulletins/?state=all").content.decode()
    assert "发布滞后" in listing and "超时完成" not in listing and "发布时间" in listing


def test_an_empty_alert_list_does_not_speak_of_orders(province_dispatcher):
    html = zh(province_dispatcher).get("/early-warning/").content.decode()
    assert "暂无记录" in html and "暂无工单" not in html


def test_published_cases_and_report_links(quality_manager):
    cases = zh(quality_manager).get("/knowledge/cases/").content.decode()
    assert "已发布" in cases
    reports = zh(quality_manager).get("/reports/monthly/").content.decode()
    assert "查看" in reports and "待处理" not in reports


def test_the_timeline_names_the_system_in_the_readers_language(login_client, hotline_agent, make_order):
    order = make_order(hotline_agent)
    with override("en"):
        event_record(order=order, actor=None, action=OrderEvent.Action.DEADLINE_NEAR, from_status=order.status,
                     to_status=order.status)
    html = zh(hotline_agent).get(f"/orders/{order.number}/").content.decode()
    timeline = html.split('class="timeline"')[1]
    assert "· 系统" in timeline and "· system" not in timeline
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    english.force_login(hotline_agent)
    assert "· system" in english.get(f"/orders/{order.number}/").content.decode().split('class="timeline"')[1]


def test_roles_show_by_their_labels_not_their_codes(superuser):
    html = zh(superuser).get("/admin/complaints/authoritylevel/").content.decode()
    assert "一线受理员" in html
    for code in ("frontline_agent", "department_lead", "dispatcher<"):
        assert code not in html
    groups = zh(superuser).get("/admin/auth/group/").content.decode()
    assert "frontline_agent" not in groups and "quality_manager" not in groups


def test_permissions_read_in_chinese(superuser):
    from django.contrib.auth.models import Group

    group = Group.objects.first()
    html = zh(superuser).get(f"/admin/auth/group/{group.pk}/change/").content.decode()
    assert "可查看客户完整号码" in html and "Can see customers" not in html
    assert "Can view" not in html and "可查看工单" in html


@pytest.mark.django_db
def test_seeded_time_limit_policies_and_holidays_are_bilingual():
    default = TimeLimitPolicy.objects.get(name="默认时限")
    assert default.name_en == "Default" and default.note == "参考默认值"
    with override("zh-hans"):
        assert str(default).startswith("默认时限 (")
    with override("en"):
        assert str(default).startswith("Default (")
    national_day = CalendarDay.objects.get(calendar__is_default=True, date=datetime.date(2026, 10, 1))
    assert national_day.note == "国庆节" and national_day.note_en == "National Day"
    with override("en"):
        assert national_day.note_label == "National Day"
