"""Counter PCs are shared: nothing the platform answers may be kept by the browser (or a proxy) for the next person
at the desk. Every answer carries "Cache-Control: no-store" (and "Pragma: no-cache" for old proxies) unless its view
deliberately chose its own caching; static files are WhiteNoise's and keep theirs."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from jobs.models import Job
from reports.monthly import report_generate
from tests.factories import UserFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def assert_not_stored(response):
    cache_control = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    assert {"no-store", "private"} <= cache_control, (response.status_code, response.get("Cache-Control"))
    assert response.get("Pragma") == "no-cache"


@pytest.fixture
def order(make_order, hotline_agent):
    return make_order(hotline_agent, contact_phone="020-87654321",
                      attachments=[SimpleUploadedFile("photo.png", PNG, "image/png")])


def test_the_order_page_is_not_stored(login_client, hotline_agent, order):
    response = login_client(hotline_agent).get(f"/orders/{order.number}/")
    assert response.status_code == 200
    assert_not_stored(response)


def test_the_customer_history_api_is_not_stored(api_for, hotline_agent, order):
    response = api_for(hotline_agent).get("/api/v1/customers/13800138000/orders/")
    assert response.status_code == 200 and response.json()
    assert_not_stored(response)


def test_the_revealed_full_number_is_not_stored(login_client, quality_manager, order):
    response = login_client(quality_manager).post(f"/orders/{order.number}/phone/", {"page": "order_detail"},
                                                  HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "13800138000" in response.content.decode()
    assert_not_stored(response)


def test_the_unmasked_export_is_not_stored(login_client, quality_manager, order):
    response = login_client(quality_manager).get("/dashboard/orders/?kpi=volume&export=csv&unmask=1")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")
    assert_not_stored(response)


def test_an_attachment_download_is_not_stored(login_client, hotline_agent, order):
    response = login_client(hotline_agent).get(f"/orders/{order.number}/attachments/{order.attachments.get().pk}/")
    assert response.status_code == 200 and response.streaming
    assert_not_stored(response)


def test_the_monthly_report_pdf_is_not_stored(login_client, quality_manager, province):
    report = report_generate(region=province, month=datetime.date(2026, 10, 1))
    response = login_client(quality_manager).get(f"/reports/monthly/{report.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert_not_stored(response)


def test_a_job_output_download_is_not_stored(login_client, province_dispatcher):
    job = Job(kind=Job.Kind.IMPORT_ORDERS, status=Job.Status.SUCCEEDED, title="导入 legacy.csv",
              created_by=province_dispatcher, created_by_name="dispatcher", output_name="legacy.rejected.csv")
    job.output_file.save("legacy.rejected.csv", ContentFile(b"line,external_ref,reasons\n1,X,13800138000\n"))
    response = login_client(province_dispatcher).get(reverse("jobs:output", args=[job.pk]))
    assert response.status_code == 200 and response.streaming
    assert_not_stored(response)


def test_lists_dashboards_and_refusals_to_a_signed_in_user_are_not_stored(login_client, hotline_agent, outsider,
                                                                         order):
    assert_not_stored(login_client(hotline_agent).get("/orders/"))
    assert_not_stored(login_client(hotline_agent).get("/intake/customer/", {"customer_phone": "13800138000"}))
    assert_not_stored(login_client(outsider).get(f"/orders/{order.number}/"))  # 404 to another city


def test_the_login_page_the_public_progress_page_and_api_refusals_are_not_stored(client, hotline_agent, order):
    assert_not_stored(client.get("/accounts/login/"))
    client.defaults["REMOTE_ADDR"] = "10.99.15.6"  # a counter of its own for the lookup rate limit
    tracked = client.post("/track/", {"number": order.number, "phone": "13800138000"})
    assert tracked.status_code == 200 and order.number in tracked.content.decode()
    assert_not_stored(tracked)
    assert_not_stored(client.get("/api/v1/customers/13800138000/orders/"))  # 401 without a token


def test_the_admin_is_not_stored(client, hotline_agent, order):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert_not_stored(client.get(reverse("admin:complaints_workorder_change", args=[order.pk])))
    assert_not_stored(client.get(reverse("admin:complaints_customer_changelist")))


def test_a_view_that_chose_its_own_caching_keeps_it():
    from config.security import PrivateCacheMiddleware

    def view(request):
        response = HttpResponse("public")
        response["Cache-Control"] = "public, max-age=3600"
        return response

    response = PrivateCacheMiddleware(view)(RequestFactory().get("/somewhere"))
    assert response["Cache-Control"] == "public, max-age=3600" and "Pragma" not in response
    assert_not_stored(PrivateCacheMiddleware(lambda request: HttpResponse("x"))(RequestFactory().get("/x")))


def test_static_files_keep_whitenoise_caching(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "") and "Pragma" not in response
