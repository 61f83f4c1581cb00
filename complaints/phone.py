"""Phone numbers as customers type them, and as we key customers by them."""

import logging
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.permissions import may_see_full_phone

_SEPARATORS = re.compile(r"[\s\-().]")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")


def _strip(raw: str) -> str:
    digits = _SEPARATORS.sub("", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def normalise_mobile(raw: str) -> str:
    """'+86 138-0013-8000' -> '13800138000'; anything that is not a mainland mobile number is refused."""
    digits = _strip(raw)
    if not _MOBILE.match(digits):
        raise ValidationError(
            _("“%(value)s” is not a valid mobile number (11 digits starting with 13–19, optional +86)."),
            code="invalid_mobile",
            params={"value": raw},
        )
    return digits


def normalise_contact(raw: str) -> str:
    """A contact number may also be a landline with its area code (020-12345678)."""
    digits = _strip(raw)
    if _MOBILE.match(digits) or _LANDLINE.match(digits):
        return digits
    raise ValidationError(
        _("“%(value)s” is not a valid contact number (a mobile number, or a landline with area code)."),
        code="invalid_contact",
        params={"value": raw},
    )


def mask(phone: str) -> str:
    """138****8000: for pages whose readers do not need the full number."""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


# Who sees which — ONE rule, used by pages, admin, the API, exports, notifications and logs: the roles whose work
# is calling the customer on the order in front of them (agents, dispatchers, handlers, leads, the emergency group,
# channel systems) hold complaints.view_full_phone (core.permissions.may_see_full_phone); the quality team and
# administrators see numbers masked and, holding complaints.unmask_phone, may reveal one, which is logged
# (complaints.services.phone_disclose).
# A superuser holds every permission implicitly in Django; for full numbers that is not enough: a superuser sees
# them only when view_full_phone was granted explicitly (to the account or one of its groups), so that an
# administrator's account does not read every customer's number without leaving a disclosure row.
# Dashboard drill-downs and their exports mask for everyone unless a full-number export is asked for.


def phone_for(user, phone: str) -> str:
    """The number as this user may read it."""
    if not phone:
        return ""
    return phone if may_see_full_phone(user) else mask(phone)


# A mainland mobile number in free text (optionally +86, grouped with spaces or dashes), or a landline with its
# area code; the digits around it must not run on (an order number or an ID card is not a phone number).
_IN_TEXT = re.compile(r"(?<![\dA-Za-z])(?:(?:\+|00)?86[\s\-]?)?1[3-9]\d[\s\-]?\d{4}[\s\-]?\d{4}(?![\dA-Za-z])"
                      r"|(?<![\dA-Za-z])0\d{2,3}-\d{7,8}(?![\dA-Za-z])")


def mask_in_text(text: str) -> str:
    """Free text (a notification's comment, a log line) with every phone number in it masked."""
    if not text:
        return text or ""
    return _IN_TEXT.sub(lambda m: mask(_strip(m.group(0))), text)


def text_for(user, text: str) -> str:
    """Free text as this reader may read it: phone numbers in it masked unless the reader sees full numbers."""
    return text if may_see_full_phone(user) else mask_in_text(text)


class PhoneMaskFilter(logging.Filter):
    """Customers' phone numbers never reach the logs in full (a 404 line names the URL, and the customer-history
    URL carries the number): nobody who reads logs holds the permission to see them (LOGGING in config.settings)."""

    def filter(self, record):
        message = record.getMessage()
        masked = mask_in_text(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
