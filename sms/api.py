"""The gateway calls us: customers' replies (`POST /api/v1/sms/inbound/`) and delivery receipts
(`POST /api/v1/sms/receipts/`). Not a user's API: the caller proves itself with the gateway's token
(`Authorization: Bearer <SMS_INBOUND_TOKEN>`) and signs each body (`X-Timestamp`, and `X-Signature`: hex
HMAC-SHA256 of "<timestamp>.<body>" with SMS_INBOUND_SECRET). The body is a JSON object, a JSON list of objects, or
a form; the field names are settings (SMS_INBOUND_FIELDS, SMS_RECEIPT_FIELDS)."""

from __future__ import annotations

import hmac
import json
import re
import time
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from complaints.phone import normalise_mobile
from sms import services
from sms.gateways import signature


class GatewayRefused(Exception):
    def __init__(self, code: int, detail: str):
        super().__init__(detail)
        self.code, self.detail = code, detail


def _verify(request) -> bytes:
    """The raw body, once the token and the signature are right."""
    token, secret = settings.SMS_INBOUND_TOKEN, settings.SMS_INBOUND_SECRET
    if not (token and secret):
        raise GatewayRefused(403, _("Inbound SMS is not set up: set SMS_INBOUND_TOKEN and SMS_INBOUND_SECRET."))
    header = request.headers.get("Authorization", "")
    if not (header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode())):
        raise GatewayRefused(401, _("Send the gateway's token: Authorization: Bearer <token>."))
    body = request.body
    stamp = request.headers.get("X-Timestamp", "")
    given = request.headers.get("X-Signature", "")
    if not re.fullmatch(r"[0-9]{1,12}", stamp) or abs(time.time() - int(stamp)) > settings.SMS_SIGNATURE_MAX_AGE:
        raise GatewayRefused(403, _("X-Timestamp is missing or too far from now (at most %(seconds)s seconds).")
                             % {"seconds": settings.SMS_SIGNATURE_MAX_AGE})
    if not given or not hmac.compare_digest(given.lower().encode(), signature(secret, stamp, body).encode()):
        raise GatewayRefused(403, _("X-Signature does not match the body: HMAC-SHA256 of \"<X-Timestamp>.<body>\"."))
    # A signed call is good for SMS_SIGNATURE_MAX_AGE seconds: the same one again within them is a replay.
    if not cache.add(f"sms:signature:{request.path}:{given.lower()}", 1, timeout=2 * settings.SMS_SIGNATURE_MAX_AGE):
        raise GatewayRefused(409, _("This signed call was received already (the same X-Timestamp and body)."))
    return body


def _items(request, body: bytes) -> list[dict]:
    content_type = request.content_type or ""
    if "json" in content_type:
        try:
            data = json.loads(body or b"null")
        except ValueError:
            raise GatewayRefused(400, _("The body is not valid JSON.")) from None
        items = data if isinstance(data, list) else [data]
        if not items or not all(isinstance(item, dict) for item in items):
            raise GatewayRefused(400, _("Send a JSON object, or a list of objects."))
        return items
    charset = (request.content_params or {}).get("charset", "utf-8")
    try:
        text = body.decode(charset)
    except (LookupError, UnicodeDecodeError):
        raise GatewayRefused(400, _("The body is not in the character set it names (%(charset)s).")
                             % {"charset": charset}) from None
    return [dict(parse_qsl(text, keep_blank_values=True, encoding=charset))]


def _field(item: dict, names: dict, key: str, *, required: bool = True) -> str:
    value = item.get(names[key])
    if value in (None, "") and required:
        raise ValidationError({names[key]: [_("This field is required.")]})
    return "" if value is None else str(value)


class GatewayApi(APIView):
    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()

    def post(self, request):
        try:
            items = _items(request, _verify(request))
        except GatewayRefused as refused:
            return Response({"detail": refused.detail}, status=refused.code)
        checked, errors = [], {}
        for index, item in enumerate(items):
            try:
                checked.append(self.check(item))
            except ValidationError as exc:
                errors[str(index)] = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        if errors:  # nothing is recorded: the caller corrects and sends the whole body again
            return Response({"detail": _("Nothing was recorded: some items are wrong."), "errors": errors},
                            status=status.HTTP_400_BAD_REQUEST)
        with transaction.atomic():
            results = [self.apply(values) for values in checked]
        return Response({"results": results})


class InboundApi(GatewayApi):
    @extend_schema(operation_id="sms_inbound", request=OpenApiTypes.OBJECT, responses={
        200: OpenApiResponse(description="What was made of each reply: rating, opt_out, text, late, unmatched."),
        400: OpenApiResponse(description="A field missing or a number that is not a mobile number."),
        401: OpenApiResponse(description="No or a wrong token."),
        403: OpenApiResponse(description="Bad signature, or inbound SMS is not set up.")},
        summary="A customer's SMS reply, from the SMS gateway (signed)")
    def post(self, request):
        return super().post(request)

    def check(self, item: dict) -> dict:
        names = settings.SMS_INBOUND_FIELDS
        try:
            phone = normalise_mobile(_field(item, names, "phone"))
        except ValidationError as exc:
            raise ValidationError({names["phone"]: exc.messages}) from None
        return {"phone": phone, "text": _field(item, names, "text", required=False),
                "gateway_id": _field(item, names, "id", required=False)[:64] or None}

    def apply(self, values: dict) -> dict:
        inbound = services.inbound_receive(**values)
        return {"id": values["gateway_id"], "outcome": inbound.outcome,
                "order": inbound.order.number if inbound.order_id else None}


class ReceiptApi(GatewayApi):
    @extend_schema(operation_id="sms_receipts", request=OpenApiTypes.OBJECT, responses={
        200: OpenApiResponse(description="Each receipt: the message's status now, or `unknown`."),
        400: OpenApiResponse(description="A field missing."), 401: OpenApiResponse(description="No or a wrong token."),
        403: OpenApiResponse(description="Bad signature, or inbound SMS is not set up.")},
        summary="A delivery receipt, from the SMS gateway (signed)")
    def post(self, request):
        return super().post(request)

    def check(self, item: dict) -> dict:
        names = settings.SMS_RECEIPT_FIELDS
        return {"ref": _field(item, names, "ref"), "status": _field(item, names, "status")}

    def apply(self, values: dict) -> dict:
        message = services.receipt_record(**values)
        return {"ref": values["ref"], "status": message.status if message is not None else "unknown"}
