"""Attachment checks by content, never by the name or the browser's claimed type: the type sniffed from the first
bytes decides whether a file is accepted, the extension it is stored and served under, and how it is served."""

import os

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)


# The extensions each accepted type may carry; the first one is given to a file whose name says something else.
EXTENSIONS = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "application/pdf": (".pdf",),
}
# A stored file whose bytes are none of the accepted types (one kept before the checks were as strict).
UNKNOWN_TYPE, UNKNOWN_EXTENSION = "application/octet-stream", ".bin"
# Opened in the browser from the order page; anything else is downloaded.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
# A served file is never a page: no script, no plug-in, no form, even if a browser were to render it as one.
DOWNLOAD_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
_MAX_NAME = 255


def sniff_content_type(head: bytes) -> str | None:
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def attachment_validate(upload) -> str:
    """Return the real content type of an uploaded file, or refuse it with a message naming the file."""
    name = getattr(upload, "name", "") or _("(unnamed)")
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            _("%(name)s is %(size)s; the limit is %(limit)s."),
            code="too_large",
            params={"name": name, "size": filesizeformat(upload.size), "limit": filesizeformat(settings.ATTACHMENT_MAX_BYTES)},
        )
    if upload.size == 0:
        raise ValidationError(_("%(name)s is empty."), code="empty", params={"name": name})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    content_type = sniff_content_type(head)
    if content_type is None:
        raise ValidationError(
            _("%(name)s is not an image (JPEG, PNG, GIF, WebP) or a PDF."), code="bad_type", params={"name": name}
        )
    return content_type


def attachment_filename(name: str, content_type: str | None) -> str:
    """The name a file is stored and served under: the uploaded name without its folders, its control characters
    and leading dots, ending in an extension of the real type (a GIF called x.html is x.gif; scan.pdf.exe that
    is a PDF is scan.pdf). An unknown type ends in .bin."""
    extensions = EXTENSIONS.get(content_type, (UNKNOWN_EXTENSION,))
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".").strip()
    root, suffix = os.path.splitext(base)
    if suffix.lower() not in extensions:
        suffix = extensions[0]
        inner_root, inner_suffix = os.path.splitext(root)
        if inner_suffix.lower() in extensions:  # scan.pdf.exe: the real extension is already there
            root, suffix = inner_root, inner_suffix
    root = root.rstrip(". ") or "attachment"
    return root[: _MAX_NAME - len(suffix)] + suffix


def stored_file_type(handle) -> str:
    """The real type of a stored file, sniffed again when it is served (the row's own column is not trusted: a file
    stored by an older version, or one replaced on disk, is served for what it is)."""
    head = handle.read(16)
    handle.seek(0)
    return sniff_content_type(head) or UNKNOWN_TYPE
