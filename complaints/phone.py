"""Phone numbers as customers type them, and as we key customers by them."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

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


# Who sees which: the roles whose work is calling the customer on the order in front of them (agents, dispatchers,
# handlers, leads, the emergency group, channel systems) hold complaints.view_full_phone; the quality team and
# administrators see numbers masked and, holding complaints.unmask_phone, may reveal one, which is logged
# (complaints.services.phone_disclose). Dashboard drill-downs and exports mask for everyone unless asked otherwise.


def sees_full_phone(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm("complaints.view_full_phone"))


def may_unmask(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm("complaints.unmask_phone"))


def phone_for(user, phone: str) -> str:
    """The number as this user may read it."""
    if not phone:
        return ""
    return phone if sees_full_phone(user) else mask(phone)
