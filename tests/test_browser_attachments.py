"""In Chromium: a GIF with a page appended, uploaded as x.html, is listed as x.gif and opens as an image (its script
never runs); a PDF called .exe is downloaded as .pdf. Screenshots go to test-artifacts/."""

import pytest

from tests.conftest import browser_login, screenshot
from tests.test_attachments import GIF_WITH_HTML, PDF_WITH_EXE

pytestmark = pytest.mark.django_db(transaction=True)
UPLOAD = "form[action$='/attachments/']"


def _upload(page, name, mime_type, body):
    page.set_input_files(f"{UPLOAD} input[type=file]", files=[{"name": name, "mimeType": mime_type, "buffer": body}])
    page.click(f"{UPLOAD} button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_a_gif_called_html_opens_as_an_image_and_a_pdf_called_exe_downloads_as_pdf(browser_page, hotline_agent,
                                                                                     make_order):
    order = make_order(hotline_agent)
    page = browser_page
    browser_login(page, hotline_agent.username)
    page.goto(f"{page.base_url}/orders/{order.number}/")
    _upload(page, "x.html", "text/html", GIF_WITH_HTML)
    _upload(page, "scan.exe", "application/x-msdownload", PDF_WITH_EXE)
    links = page.locator("a[href*='/attachments/']")
    assert sorted(links.all_inner_texts()) == ["scan.pdf", "x.gif"]
    screenshot(page, "attachments-renamed")

    with page.expect_download() as download:
        page.click("a[href*='/attachments/']:has-text('scan.pdf')")
    assert download.value.suggested_filename == "scan.pdf"

    page.click("a[href*='/attachments/']:has-text('x.gif')")
    page.wait_for_load_state()
    assert page.evaluate("document.contentType") == "image/gif"
    assert page.evaluate("document.images.length === 1 && document.images[0].naturalWidth === 1")
    assert page.title() != "pwned"

