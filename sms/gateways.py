"""How a message leaves: a gateway backend chosen by SMS_BACKEND — console (the zero-setup default: the text on the
worker's output, the number masked), file (one JSON line per message in SMS_FILE_DIR, for a platform that collects
files) or http (the operator's SMS platform: JSON or form posts, field names, credentials and signature from the
settings). A backend either returns the gateway's id for the message or raises one of three errors that say
whether the message may be sent again."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from complaints.phone import mask

log = logging.getLogger(__name__)


class GatewayError(Exception):
    """The gateway did not confirm the message."""


class GatewayUnavailable(GatewayError):
    """The gateway did not take the message (down, refused the connection, busy): it is sent again later."""


class GatewayRejected(GatewayError):
    """The gateway refused the message for good (bad number, bad account, content refused): not sent again."""


class GatewayUncertain(GatewayError):
    """The request reached the gateway but no answer came back: it may have been sent, so it is not sent again."""


@dataclass(frozen=True)
class Outgoing:
    ref: str  # our id of the message: the gateway quotes it in its delivery receipt
    phone: str
    text: str


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 of "<timestamp>.<body>" with the shared secret, hex: the same in both directions."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class ConsoleGateway:
    name = "console"

    def send(self, message: Outgoing) -> str:
        sys.stdout.write(f"[SMS {message.ref} → {mask(message.phone)}] {message.text}\n")
        sys.stdout.flush()
        return f"console-{message.ref}"


class FileGateway:
    """Appends one JSON line per message to a file per day: the hand-off to a platform that collects files, so the
    number is written in full (the file is the delivery, not a log)."""

    name = "file"

    def __init__(self, directory: str):
        self.directory = Path(directory)

    def send(self, message: Outgoing) -> str:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"sms-{timezone.localdate():%Y%m%d}.jsonl"
            line = json.dumps({"ref": message.ref, "phone": message.phone, "text": message.text,
                               "at": timezone.now().isoformat()}, ensure_ascii=False)
            with path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
                out.flush()
        except OSError as exc:
            raise GatewayUnavailable(f"cannot write the outbox file: {exc}") from exc
        return f"file-{message.ref}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirected POST would arrive as a GET without its body (and with our credentials, at another host)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)
# Answers that say the gateway did not take the message: it is sent again later. 401/403: a credential or address
# allow-list being changed (sent again until SMS_GIVE_UP_HOURS, the log says why).
_NOT_TAKEN = {401, 403, 408, 429, 503}


def _http_error(exc: urllib.error.HTTPError) -> GatewayError:
    try:
        text = exc.read(500).decode(errors="replace")
    except Exception:  # noqa: BLE001 - the error's body is only for the log
        text = ""
    if exc.code in _NOT_TAKEN or 300 <= exc.code < 400:
        return GatewayUnavailable(f"HTTP {exc.code}: {text}")
    if exc.code >= 500:  # 500, 502, 504: the platform (or a proxy before it) may have taken it
        return GatewayUncertain(f"HTTP {exc.code}: {text}")
    return GatewayRejected(f"HTTP {exc.code}: {text}")


class HttpGateway:
    name = "http"

    def __init__(self, *, url: str, form: bool, fields: dict[str, str], extra: dict[str, str], username: str,
                 password: str, token: str, secret: str, timeout: float, ok_field: str, ok_values: list[str],
                 id_field: str, retry_values: list[str] = ()):
        self.url, self.form, self.fields, self.extra = url, form, fields, extra
        self.username, self.password, self.token, self.secret = username, password, token, secret
        self.timeout, self.ok_field, self.ok_values, self.id_field = timeout, ok_field, ok_values, id_field
        self.retry_values = list(retry_values)

    def _request(self, message: Outgoing) -> urllib.request.Request:
        payload = {**self.extra, self.fields["phone"]: message.phone, self.fields["text"]: message.text,
                   self.fields["ref"]: message.ref}
        if self.form:
            body, content_type = urllib.parse.urlencode(payload).encode(), "application/x-www-form-urlencoded"
        else:
            body, content_type = json.dumps(payload, ensure_ascii=False).encode(), "application/json; charset=utf-8"
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        if self.secret:
            timestamp = str(int(time.time()))
            headers["X-Timestamp"] = timestamp
            headers["X-Signature"] = signature(self.secret, timestamp, body)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.username:
            pair = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
        return urllib.request.Request(self.url, data=body, headers=headers, method="POST")

    def send(self, message: Outgoing) -> str:
        request = self._request(message)
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read(64 * 1024)
        except urllib.error.HTTPError as exc:
            raise _http_error(exc) from exc
        except urllib.error.URLError as exc:  # no connection: the request never left
            raise GatewayUnavailable(f"cannot reach the gateway: {exc.reason}") from exc
        except (OSError, http.client.HTTPException) as exc:  # sent, but the answer was lost (a read timeout…)
            raise GatewayUncertain(f"no answer from the gateway: {exc!r}") from exc
        return self._accepted(status, raw)

    def _accepted(self, status: int, raw: bytes) -> str:
        if status >= 300:  # a redirect not followed (see _OPENER)
            raise GatewayUnavailable(f"HTTP {status}: the gateway redirects; set SMS_HTTP_URL to where it points")
        answer = {}
        if raw.strip():
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                answer = parsed
            elif self.ok_field:
                raise GatewayUncertain(f"HTTP {status}, an answer that is not JSON: {raw[:200]!r}")
        code = str(answer.get(self.ok_field)) if self.ok_field else ""
        if self.ok_field and code in self.retry_values:
            raise GatewayUnavailable(f"busy: {json.dumps(answer, ensure_ascii=False)[:400]}")
        if self.ok_field and code not in self.ok_values:
            raise GatewayRejected(f"refused: {json.dumps(answer, ensure_ascii=False)[:400]}")
        return str(answer.get(self.id_field, "") or "")[:64] if self.id_field else ""


def gateway():
    backend = settings.SMS_BACKEND
    if backend == "file":
        return FileGateway(settings.SMS_FILE_DIR)
    if backend == "http":
        return HttpGateway(
            url=settings.SMS_HTTP_URL, form=settings.SMS_HTTP_FORMAT == "form", fields=settings.SMS_HTTP_FIELDS,
            extra=settings.SMS_HTTP_EXTRA, username=settings.SMS_HTTP_USERNAME, password=settings.SMS_HTTP_PASSWORD,
            token=settings.SMS_HTTP_TOKEN, secret=settings.SMS_HTTP_SECRET, timeout=settings.SMS_HTTP_TIMEOUT,
            ok_field=settings.SMS_HTTP_OK_FIELD, ok_values=settings.SMS_HTTP_OK_VALUES,
            id_field=settings.SMS_HTTP_ID_FIELD, retry_values=settings.SMS_HTTP_RETRY_VALUES)
    return ConsoleGateway()
