"""Attachments are what their bytes say they are: a GIF called x.html is stored, listed and downloaded as x.gif
(image/gif), whatever name or type the upload claimed; anything that is not an image or a PDF is refused; files
stored before this rule are served by their real type too."""

from pathlib import PurePath

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from complaints.models import Attachment, WorkOrder

GIF_WITH_HTML = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00"
                 b"\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
                 b"<html><body><script>document.title='pwned'</script></body></html>")
PDF_WITH_EXE = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\nMZ\x90\x00\x03\x00\x00\x00PE\x00\x00"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32


def download(client, attachment):
    response = client.get(f"/orders/{attachment.order.number}/attachments/{attachment.pk}/")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    return response, body


def assert_served_as(response, content_type, filename, disposition):
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'{disposition}; filename="{filename}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_a_gif_called_html_is_stored_and_served_as_a_gif_from_the_order_page(login_client, hotline_agent,
                                                                              make_order):
    order = make_order(hotline_agent)
    client = login_client(hotline_agent)
    upload = SimpleUploadedFile("x.html", GIF_WITH_HTML, "text/html")
    response = client.post(f"/orders/{order.number}/attachments/", {"file": upload})
    assert response.status_code == 302
    attachment = order.attachments.get()
    assert (attachment.original_name, attachment.content_type) == ("x.gif", "image/gif")
    assert PurePath(attachment.file.name).suffix == ".gif"
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert ">x.gif</a>" in page and "x.html" not in page
    response, body = download(client, attachment)
    assert body == GIF_WITH_HTML
    assert_served_as(response, "image/gif", "x.gif", "inline")
    event = order.events.filter(action="attachment_added").get()
    assert event.data["name"] == "x.gif" and event.data["uploaded_as"] == "x.html"


def test_a_gif_called_html_is_stored_as_a_gif_through_the_api(api_for, hotline_agent, make_order):
    order = make_order(hotline_agent)
    answer = api_for(hotline_agent).post(
        f"/api/v1/orders/{order.number}/attachments/",
        {"file": SimpleUploadedFile("x.html", GIF_WITH_HTML, "text/html")}, format="multipart")
    assert answer.status_code == 201
    assert (answer.json()["original_name"], answer.json()["content_type"]) == ("x.gif", "image/gif")
    assert PurePath(order.attachments.get().file.name).suffix == ".gif"


def test_a_gif_called_html_is_stored_as_a_gif_at_intake(login_client, hotline_agent, coverage):
    data = {"customer_phone": "138 0013 8000", "customer_name": "张三", "kind": "complaint", "channel": "hotline",
            "category": coverage.pk, "severity": "ordinary", "description": "信号差",
            "attachments": [SimpleUploadedFile("x.html", GIF_WITH_HTML, "text/html")]}
    assert login_client(hotline_agent).post("/intake/", data).status_code == 302
    attachment = WorkOrder.objects.get().attachments.get()
    assert (attachment.original_name, attachment.content_type) == ("x.gif", "image/gif")
    assert PurePath(attachment.file.name).suffix == ".gif"


def test_a_pdf_called_exe_is_a_pdf_and_is_downloaded_not_opened(login_client, hotline_agent, make_order):
    order = make_order(hotline_agent, attachments=[
        SimpleUploadedFile("账单 2026.11.exe", PDF_WITH_EXE, "application/x-msdownload")])
    attachment = order.attachments.get()
    assert (attachment.original_name, attachment.content_type) == ("账单 2026.11.pdf", "application/pdf")
    assert PurePath(attachment.file.name).suffix == ".pdf"
    response, _body = download(login_client(hotline_agent), attachment)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E8%B4%A6%E5%8D%95%202026.11.pdf" in response["Content-Disposition"]


@pytest.mark.parametrize(("name", "content_type", "expected"), [
    ("x.html", "image/gif", "x.gif"),
    ("photo.JPG", "image/jpeg", "photo.JPG"),
    ("photo.jpeg", "image/jpeg", "photo.jpeg"),
    ("scan.pdf.exe", "application/pdf", "scan.pdf"),
    ("scan.png.svg", "application/pdf", "scan.png.pdf"),
    ("no-extension", "image/png", "no-extension.png"),
    (".htaccess", "image/png", "htaccess.png"),
    ("C:\\Users\\agent\\Desktop\\evil.php", "image/webp", "evil.webp"),
    ("../../etc/x.sh", "image/png", "x.png"),
    ("", "image/png", "attachment.png"),
    ("tab\tand\nnewline.html", "image/gif", "tabandnewline.gif"),
    ("old.html", None, "old.bin"),
    ("长" * 300 + ".html", "image/gif", "长" * 251 + ".gif"),
])
def test_the_name_takes_the_extension_of_the_real_type(name, content_type, expected):
    from complaints.files import attachment_filename

    assert attachment_filename(name, content_type) == expected


@pytest.mark.parametrize(("name", "body"), [
    ("x.gif", b"<html><script>alert(1)</script></html>"),
    ("x.png", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
    ("x.pdf", b"MZ\x90\x00\x03\x00\x00\x00%PDF-1.4"),
    ("x.jpg", b"PK\x03\x04 a zip"),
])
def test_anything_but_an_image_or_a_pdf_is_refused_whatever_its_name(api_for, hotline_agent, make_order, name,
                                                                      body):
    order = make_order(hotline_agent)
    answer = api_for(hotline_agent).post(f"/api/v1/orders/{order.number}/attachments/",
                                         {"file": SimpleUploadedFile(name, body, "image/gif")}, format="multipart")
    assert answer.status_code == 400 and name in answer.json()["file"][0]
    assert not order.attachments.exists()


def test_the_wrong_user_cannot_download_and_uploads_nothing(login_client, hotline_agent, outsider, make_order):
    order = make_order(hotline_agent, attachments=[SimpleUploadedFile("a.png", PNG, "image/png")])
    client = login_client(outsider)
    assert client.get(f"/orders/{order.number}/attachments/{order.attachments.get().pk}/").status_code == 404
    upload = SimpleUploadedFile("x.html", GIF_WITH_HTML, "text/html")
    assert client.post(f"/orders/{order.number}/attachments/", {"file": upload}).status_code == 404
    assert order.attachments.count() == 1


def _stored_before_the_rule(order, name, body, content_type):
    """An attachment as an older version stored it: the uploaded name kept, on disk and in the row."""
    attachment = Attachment(order=order, original_name=name, content_type=content_type, size=len(body))
    attachment.file.save(name, ContentFile(body), save=False)
    attachment.save()
    return attachment


def test_an_older_attachment_with_a_dangerous_name_is_served_by_its_real_type(login_client, hotline_agent,
                                                                              make_order):
    order = make_order(hotline_agent)
    gif = _stored_before_the_rule(order, "x.html", GIF_WITH_HTML, "text/html")
    html = _stored_before_the_rule(order, "page.html", b"<html><script>alert(1)</script></html>", "image/png")
    client = login_client(hotline_agent)
    response, _body = download(client, gif)
    assert_served_as(response, "image/gif", "x.gif", "inline")
    response, body = download(client, html)
    assert_served_as(response, "application/octet-stream", "page.bin", "attachment")
    assert body.startswith(b"<html>")


def test_images_open_in_the_browser_and_pdfs_are_downloaded(login_client, hotline_agent, make_order):
    order = make_order(hotline_agent, attachments=[SimpleUploadedFile("a.png", PNG, "image/png"),
                                                   SimpleUploadedFile("b.jpg", JPEG, "image/jpeg"),
                                                   SimpleUploadedFile("c.pdf", PDF_WITH_EXE, "application/pdf")])
    client = login_client(hotline_agent)
    png, jpeg, pdf = order.attachments.order_by("original_name")
    assert_served_as(download(client, png)[0], "image/png", "a.png", "inline")
    assert_served_as(download(client, jpeg)[0], "image/jpeg", "b.jpg", "inline")
    assert_served_as(download(client, pdf)[0], "application/pdf", "c.pdf", "attachment")


def test_a_very_long_name_keeps_its_real_extension(hotline_agent, make_order):
    order = make_order(hotline_agent, attachments=[SimpleUploadedFile("长" * 300 + ".html", GIF_WITH_HTML, "image/gif")])
    attachment = order.attachments.get()
    name = attachment.original_name  # Django keeps the first 255 characters of an upload's name, extension included
    assert name.endswith("长.gif") and set(name[:-4]) == {"长"} and len(name) <= 255
    assert PurePath(attachment.file.name).suffix == ".gif" and len(attachment.file.name) <= 100
    assert attachment.file.read() == GIF_WITH_HTML
