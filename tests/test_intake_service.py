"""order_create: the one intake path for browser, API and import."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from complaints.models import AuthorityLevel, Customer, IntakePolicy, OrderStatus, WorkOrder
from org import roles
from tests.factories import channel
from workflow.intake import OnSpotAnswer, order_create

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def test_a_new_customer_is_created_keyed_by_normalised_mobile(hotline_agent, make_order):
    order = make_order(hotline_agent, customer_phone="+86 139-1234-5678", customer_name="李四")
    assert order.customer.phone == "13912345678"
    assert order.customer.name == "李四"
    make_order(hotline_agent, customer_phone="139 1234 5678")
    assert Customer.objects.filter(phone="13912345678").count() == 1


def test_order_records_first_responder_and_region(hotline_agent, make_order, guangzhou):
    order = make_order(hotline_agent)
    assert order.first_responder == hotline_agent
    assert order.first_responder_name == "王小红"
    assert order.first_responder_department == hotline_agent.department
    assert order.region == guangzhou
    assert order.contact_phone == "13800138000"


def test_order_region_is_the_customers_home_region_when_known(hotline_agent, make_order, customer, tianhe):
    customer.home_region = tianhe
    customer.save()
    assert make_order(hotline_agent).region == tianhe


def test_order_number_is_prefixed_by_kind_and_dated_in_shanghai(hotline_agent, make_order):
    # 2026-11-23 17:30 UTC is already 24 November in Shanghai.
    with time_machine.travel(datetime(2026, 11, 23, 17, 30, tzinfo=UTC), tick=False):
        first = make_order(hotline_agent)
        second = make_order(hotline_agent, kind="inquiry")
        third = make_order(hotline_agent, kind="suggestion")
    assert first.number == "TS20261124000001"
    assert second.number == "ZX20261124000002"
    assert third.number == "JY20261124000003"


def test_each_field_error_is_reported_and_nothing_is_saved(hotline_agent, category_tree):
    with pytest.raises(ValidationError) as error:
        order_create(actor=hotline_agent, kind="rant", channel=None, category=category_tree["NET"],
                     severity="huge", description="  ", customer_phone="12345", contact_phone="x")
    fields = error.value.message_dict
    assert set(fields) == {"kind", "channel", "category", "severity", "description", "customer_phone",
                           "contact_phone"}
    assert "leaf" in fields["category"][0]
    assert WorkOrder.objects.count() == 0
    assert Customer.objects.count() == 0


def test_attachments_are_checked_by_content_not_by_name(hotline_agent, make_order):
    fake = SimpleUploadedFile("photo.png", b"MZ\x90\x00 not an image", content_type="image/png")
    with pytest.raises(ValidationError) as error:
        make_order(hotline_agent, attachments=[fake])
    assert "photo.png" in error.value.message_dict["attachments"][0]
    assert WorkOrder.objects.count() == 0

    good = [SimpleUploadedFile("a.png", PNG, content_type="application/octet-stream"),
            SimpleUploadedFile("b.pdf", PDF, content_type="text/plain")]
    order = make_order(hotline_agent, attachments=good)
    assert sorted(order.attachments.values_list("content_type", flat=True)) == ["application/pdf", "image/png"]


def test_oversize_attachment_is_refused(hotline_agent, make_order, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.png", PNG + b"\x00" * 2048, content_type="image/png")
    with pytest.raises(ValidationError) as error:
        make_order(hotline_agent, attachments=[big])
    assert "limit" in error.value.message_dict["attachments"][0]


def test_internal_note_and_audit_trail_are_written(hotline_agent, make_order):
    order = make_order(hotline_agent, note="客户情绪激动")
    assert order.notes.get().is_internal
    assert list(order.events.values_list("action", flat=True)) == ["received", "note_added", "auto_dispatched"]
    assert order.events.first().actor_name == "王小红"


def test_roles_without_intake_may_not_log_orders(billing_handler, quality_manager, no_role_user, make_order):
    for user in (billing_handler, quality_manager, no_role_user):
        with pytest.raises(PermissionDenied):
            make_order(user)
    assert WorkOrder.objects.count() == 0


class TestRepeatComplaints:
    def test_same_customer_same_category_within_window_is_linked(self, hotline_agent, make_order):
        now = timezone.now()
        with time_machine.travel(now - timedelta(days=29), tick=False):  # logged then: a live order is not backdated
            first = make_order(hotline_agent)
        second = make_order(hotline_agent, received_at=now)
        assert second.repeat_of == first
        assert second.events.filter(action="linked_repeat").exists()

    def test_outside_the_window_is_not_a_repeat(self, hotline_agent, make_order):
        now = timezone.now()
        with time_machine.travel(now - timedelta(days=31), tick=False):
            make_order(hotline_agent)
        assert make_order(hotline_agent, received_at=now).repeat_of is None

    def test_other_category_or_customer_is_not_a_repeat(self, hotline_agent, make_order, dispute):
        make_order(hotline_agent)
        assert make_order(hotline_agent, category=dispute).repeat_of is None
        assert make_order(hotline_agent, customer_phone="13900000001").repeat_of is None

    def test_a_repeat_through_another_channel_still_counts(self, hotline_agent, make_order):
        first = make_order(hotline_agent, channel=channel("hall"))
        assert make_order(hotline_agent, channel=channel("app")).repeat_of == first

    def test_window_is_configurable_by_effective_date(self, hotline_agent, make_order):
        IntakePolicy.objects.create(effective_from=timezone.localdate() - timedelta(days=1), repeat_window_days=7)
        now = timezone.now()
        with time_machine.travel(now - timedelta(days=10), tick=False):
            make_order(hotline_agent)
        assert make_order(hotline_agent, received_at=now).repeat_of is None


class TestOnSpotAuthority:
    def test_agent_closes_an_ordinary_complaint_within_the_limit(self, hotline_agent, make_order):
        order = make_order(hotline_agent, on_spot=OnSpotAnswer("已为您退还10元", Decimal("10")))
        assert order.status == OrderStatus.CLOSED
        assert order.resolved_on_spot and order.closed_by == hotline_agent
        assert order.compensation_amount == Decimal("10")
        assert list(order.events.values_list("action", flat=True)) == ["received", "resolved_on_spot"]

    def test_compensation_above_the_limit_is_refused(self, hotline_agent, make_order):
        with pytest.raises(PermissionDenied, match="50"):
            make_order(hotline_agent, on_spot=OnSpotAnswer("退款", Decimal("50.01")))
        assert WorkOrder.objects.count() == 0

    def test_severity_outside_authority_is_refused(self, hotline_agent, make_order):
        with pytest.raises(PermissionDenied):
            make_order(hotline_agent, severity="major", on_spot=OnSpotAnswer("已解释"))

    def test_dispatcher_may_settle_difficult_cases_up_to_their_limit(self, province_dispatcher, make_order):
        order = make_order(province_dispatcher, severity="difficult", on_spot=OnSpotAnswer("退款", Decimal("200")))
        assert order.resolved_on_spot

    def test_channel_systems_have_no_authority_by_default(self, channel_system, make_order):
        with pytest.raises(PermissionDenied):
            make_order(channel_system, on_spot=OnSpotAnswer("自助解决"))

    def test_the_version_in_force_decides(self, hotline_agent, make_order):
        from django.contrib.auth.models import Group

        AuthorityLevel.objects.create(
            role=Group.objects.get(name=roles.FRONTLINE_AGENT), kinds=["complaint"], severities=["ordinary"],
            max_compensation=Decimal("5"), effective_from=timezone.localdate() + timedelta(days=1),
        )
        assert make_order(hotline_agent, on_spot=OnSpotAnswer("退款", Decimal("30"))).resolved_on_spot
        with time_machine.travel(timezone.now() + timedelta(days=2)):
            with pytest.raises(PermissionDenied):
                make_order(hotline_agent, on_spot=OnSpotAnswer("退款", Decimal("30")))

    def test_an_answer_is_required(self, hotline_agent, make_order):
        with pytest.raises(ValidationError) as error:
            make_order(hotline_agent, on_spot=OnSpotAnswer("  "))
        assert "answer" in error.value.message_dict


class TestIdempotency:
    def test_retry_with_the_same_key_returns_the_first_order(self, channel_system, make_order):
        first = make_order(channel_system, idempotency_key="k-1", fingerprint="abc")
        again = make_order(channel_system, idempotency_key="k-1", fingerprint="abc")
        assert again.pk == first.pk
        assert WorkOrder.objects.count() == 1

    def test_keys_are_scoped_to_the_account(self, channel_system, hotline_agent, make_order):
        a = make_order(channel_system, idempotency_key="same")
        b = make_order(hotline_agent, idempotency_key="same")
        assert a.pk != b.pk
