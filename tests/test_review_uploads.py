"""Review of issue 15, item 7 (uploads): names and contents that could still be stored or served dangerously,
through the order page, the intake form and the API. A probe the product resists is a regression test; a hole is an
xfail(strict)."""

from pathlib import PurePath

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from complaints.files import attachment_filename
from tests.test_attachments import GIF_WITH_HTML, JPEG, PNG, assert_served_as, download

pytestmark = pytest.mark.django_db
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "photo\u202egpj.html" reads as "photohtml.jpg"
PDF_WITH_JS = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/OpenAction 2 0 R>>endobj\n"
               b"2 0 obj<</S/JavaScript/JS(app.alert('x'))>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF")
WEBP_WITH_HTML = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 16 + b"<html><script>alert(1)</script></html>"


@pytest.mark.parametrize(("name", "content_type", "expected"), [
    (f"photo{RLO}gpj.html", "image/gif", "photogpj.gif"),
    (f"x{RLO}fig.exe", "image/gif", "xfig.gif"),
    ("x\u200b.html", "image/gif", "x.gif"),  # zero-width space before the dot
    ("x.gif.", "image/gif", "x.gif"),
    ("x.gif ", "image/gif", "x.gif"),
    ("x.gif::$DATA", "image/gif", "x.gif"),  # an NTFS stream
    ("x.html\x00.gif", "image/gif", "x.html.gif"),
    ("x.HTML", "image/png", "x.png"),
    ("x.svg", "image/png", "x.png"),
    ("x．html", "image/png", "x．html.png"),  # a full-width dot is no extension
    ("..\\..\\x.php", "image/jpeg", "x.jpg"),
    ("/etc/cron.d/x", "application/pdf", "x.pdf"),
    ("....", "image/png", "attachment.png"),
])
def test_dangerous_names_end_in_the_real_type_without_control_characters(name, content_type, expected):
    result = attachment_filename(name, content_type)
    assert result == expected
    assert all(ch.isprintable() for ch in result) and "/" not in result and "\\" not in result


def test_an_rtl_override_name_is_stored_and_served_without_it(login_client, hotline_agent, make_order):
    order = make_order(hotline_agent)
    client = login_client(hotline_agent)
    upload = SimpleUploadedFile(f"photo{RLO}gpj.html", GIF_WITH_HTML, "image/jpeg")
    assert client.post(f"/orders/{order.number}/attachments/", {"file": upload}).status_code == 302
    attachment = order.attachments.get()
    assert RLO not in attachment.original_name and RLO not in attachment.file.name
    assert PurePath(attachment.file.name).suffix == ".gif"
    response, _body = download(client, attachment)
    assert RLO not in response["Content-Disposition"] and "%E2%80%AE" not in response["Content-Disposition"]
    assert RLO not in client.get(f"/orders/{order.number}/").content.decode()


def test_the_timeline_does_not_carry_the_rtl_override_of_the_uploaded_name(api_for, hotline_agent, make_order):
    """The event keeps the name as sent (data.uploaded_as) for the record; neither the API answer nor the timeline
    returns it."""
    order = make_order(hotline_agent)
    api = api_for(hotline_agent)
    answer = api.post(f"/api/v1/orders/{order.number}/attachments/",
                      {"file": SimpleUploadedFile(f"photo{RLO}gpj.html", GIF_WITH_HTML, "image/gif")},
                      format="multipart")
    assert answer.status_code == 201 and RLO not in answer.content.decode()
    timeline = api.get(f"/api/v1/orders/{order.number}/timeline/")
    assert RLO not in timeline.content.decode("utf-8") and "\\u202e" not in timeline.content.decode().lower()


def test_a_pdf_with_javascript_is_downloaded_never_opened(login_client, hotline_agent, make_order):
    order = make_order(hotline_agent, attachments=[SimpleUploadedFile("report.html", PDF_WITH_JS, "text/html")])
    response, body = download(login_client(hotline_agent), order.attachments.get())
    assert body == PDF_WITH_JS
    assert_served_as(response, "application/pdf", "report.pdf", "attachment")


def test_image_polyglots_are_served_as_images_never_as_pages(login_client, hotline_agent, make_order):
    order = make_order(hotline_agent, attachments=[
        SimpleUploadedFile("a.html", WEBP_WITH_HTML, "text/html"),
        SimpleUploadedFile("b.svg", JPEG + b"<svg onload=alert(1)>", "image/svg+xml"),
        SimpleUploadedFile("c.xhtml", PNG + b"<html xmlns='http://www.w3.org/1999/xhtml'>", "application/xhtml+xml"),
    ])
    client = login_client(hotline_agent)
    served = {}
    for attachment in order.attachments.order_by("pk"):
        response, _body = download(client, attachment)
        served[attachment.original_name] = response["Content-Type"]
        assert response["X-Content-Type-Options"] == "nosniff" and "sandbox" in response["Content-Security-Policy"]
    assert served == {"a.webp": "image/webp", "b.jpg": "image/jpeg", "c.png": "image/png"}


@pytest.mark.parametrize(("name", "body"), [
    ("x.png", b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>"),
    ("x.png", b"PK\x03\x04\x14\x00 a zip renamed"),
    ("x.gif", b"GIF8"),  # too short to be a GIF
    ("x.pdf", b"  %PDF-1.4 with a leading space"),
    ("x.webp", b"RIFF\x00\x00\x00\x00WAVEfmt "),  # a RIFF that is no WebP
])
def test_the_intake_form_refuses_what_is_not_an_image_or_a_pdf(login_client, hotline_agent, coverage, name, body):
    from complaints.models import WorkOrder
    from tests.test_views import intake_post

    client = login_client(hotline_agent)
    response = client.post("/intake/", {**intake_post(coverage), "attachments": SimpleUploadedFile(name, body)})
    assert response.status_code in (200, 400)
    assert not WorkOrder.objects.exists()


def test_a_narrow_token_cannot_upload(api_for, channel_system, make_order):
    order = make_order(channel_system)
    answer = api_for(channel_system, scopes=["orders:read"]).post(
        f"/api/v1/orders/{order.number}/attachments/", {"file": SimpleUploadedFile("a.png", PNG)}, format="multipart")
    assert answer.status_code == 403
    assert not order.attachments.exists()
