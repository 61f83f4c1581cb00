"""The words of each message: templates with {placeholders}, checked when saved, and their length in SMS segments."""

from __future__ import annotations

import string
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sms.models import MessageKind

# Every message may name the order and where to follow it; some kinds have more to say.
COMMON = {
    "number": gettext_lazy("the order number"),
    "category": gettext_lazy("the complaint's category"),
    "promised_at": gettext_lazy("the promised reply time, e.g. 12月5日18:00"),
    "track_url": gettext_lazy("the progress page, with the order number filled in"),
}
PLACEHOLDERS = {
    MessageKind.RECEIPT: COMMON,
    MessageKind.ON_SPOT: COMMON,
    MessageKind.PROMISE: {**COMMON, "reason": gettext_lazy("why the time changed (extension approved, reopened)")},
    MessageKind.ANSWERED: {**COMMON, "result": gettext_lazy("the result (resolved, explained …)"),
                           "reply_method": gettext_lazy("how the answer was given (phone call, text message …)")},
    MessageKind.SURVEY: COMMON,
    MessageKind.THANKS: COMMON,
    MessageKind.THANKS_DISSATISFIED: COMMON,
}
# What a placeholder looks like at its longest, for the length shown beside a template.
SAMPLE = {"number": "TS202612030000123", "category": "信号覆盖 · 室内无信号", "promised_at": "12月25日18:00",
          "track_url": "https://example.com/track/?number=TS202612030000123", "reason": "经审批延期处理",
          "result": "已向您解释说明", "reply_method": "APP或网站"}

# GSM 03.38's basic alphabet: a message only of these is sent 160 characters a segment; anything else (Chinese)
# goes as UCS-2, 70 characters in one segment, 67 in each segment of a longer one.
_GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
            "¿abcdefghijklmnopqrstuvwxyzäöñüà")


@dataclass(frozen=True)
class Length:
    characters: int
    segments: int
    per_segment: int


def sms_length(text: str) -> Length:
    gsm = all(ch in _GSM7 for ch in text)
    single, multi = (160, 153) if gsm else (70, 67)
    n = len(text)
    segments = 1 if n <= single else -(-n // multi)
    return Length(n, segments, single if segments == 1 else multi)


def template_fields(body: str) -> list[str]:
    """The placeholders a template uses; a ValidationError for braces that are not a placeholder."""
    try:
        parsed = list(string.Formatter().parse(body))
    except ValueError as exc:
        raise ValidationError({"body": [_("The braces do not pair up (%(error)s): write a placeholder as "
                                          "{number}, a brace itself as {{ or }}.") % {"error": exc}]}) from None
    fields = []
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field == "" or spec or conversion or not field.isidentifier():
            raise ValidationError({"body": [_("“{%(field)s}” is not a placeholder: write it as {name}, e.g. "
                                              "{number}.") % {"field": field + (f"!{conversion}" if conversion else "")
                                                               + (f":{spec}" if spec else "")}]})
        fields.append(field)
    return fields


def template_check(*, kind: str, body: str) -> Length:
    """Refuse a template with a placeholder its kind does not know (naming the ones it does); the length of the
    text with every placeholder at its longest."""
    if not (body or "").strip():
        raise ValidationError({"body": [_("Write the text of the message.")]})
    allowed = PLACEHOLDERS.get(kind, COMMON)
    unknown = [f for f in template_fields(body) if f not in allowed]
    if unknown:
        raise ValidationError({"body": [_("Unknown placeholder %(unknown)s. This kind of message may use: "
                                          "%(allowed)s.") % {"unknown": ", ".join(f"{{{f}}}" for f in unknown),
                                                             "allowed": ", ".join(f"{{{f}}}" for f in allowed)}]})
    return sms_length(render(body, SAMPLE))


def render(body: str, values: dict) -> str:
    return body.format(**{name: values.get(name, "") for name in template_fields(body)})
