"""Text for the knowledge base: search tokens for Chinese, and the personal data a case must never carry.

Chinese has no spaces between words. Rather than a dictionary segmenter, the index cuts every run of Chinese
characters into overlapping character pairs (信号覆盖 → 信号 号覆 覆盖), the approach of CJK bigram analysers: a
query word of two or more characters matches wherever it appears, with no dictionary to keep up to date with
product names; Latin words and numbers (5G, IPTV, VoLTE, 10086) are kept whole.
"""

from __future__ import annotations

import re
import unicodedata

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"([{_CJK}]+)|([a-z0-9]+)")
MAX_TOKEN = 64


def normalise(text: str) -> str:
    """Full-width letters and digits to half-width, lower case."""
    return unicodedata.normalize("NFKC", text or "").lower()


def tokens(text: str) -> list[str]:
    """Search tokens in order: pairs of Chinese characters (a lone character stays single), whole Latin words."""
    out: list[str] = []
    for han, word in _TOKEN.findall(normalise(text)):
        if han:
            if len(han) == 1:
                out.append(han)
            else:
                out.extend(han[i:i + 2] for i in range(len(han) - 1))
        elif word:
            out.append(word[:MAX_TOKEN])
    return out


def token_text(text: str) -> str:
    return " ".join(tokens(text))


def query_tokens(text: str, limit: int = 48) -> list[str]:
    """The distinct tokens of a query, first ones first (a long description is cut at `limit`)."""
    seen: dict[str, None] = {}
    for token in tokens(text):
        seen.setdefault(token, None)
        if len(seen) >= limit:
            break
    return list(seen)


# --- personal data ---------------------------------------------------------------------------------------------

_SEP = r"[\s\-－]?"
PATTERNS = [
    # Mobile numbers, optionally +86, written with spaces or dashes (138 0013 8000, 138-0013-8000).
    ("phone", re.compile(rf"(?<!\d)(?:\+?86{_SEP})?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}(?!\d)")),
    # Landlines: 020-12345678, (0755)1234567, 0755 1234 5678.
    ("phone", re.compile(r"(?<!\d)(?:\(0\d{2,3}\)|0\d{2,3})[\s\-－]?\d{3,4}[\s\-－]?\d{4}(?!\d)")),
    # Resident identity card numbers (18 characters, the last may be X).
    ("id_number", re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")),
    # Bank card numbers: 16 to 19 digits.
    ("card_number", re.compile(r"(?<!\d)\d{16,19}(?!\d)")),
    ("email", re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")),
    # A surname followed by a form of address: 张先生, 王女士, 李小姐.
    ("name", re.compile(r"[\u4e00-\u9fff](?:先生|女士|小姐|阿姨|大爷|老师)")),
    # Street addresses down to the number or room: 天河路385号, 3栋1202房.
    ("address", re.compile(r"[\u4e00-\u9fff\d]{1,12}(?:路|街|道|巷|大道)\d+号|\d+(?:栋|幢|座)\d+(?:室|房|号)?")),
]
REPLACEMENTS = {"phone": "[电话]", "id_number": "[证件号]", "card_number": "[卡号]", "email": "[邮箱]",
                "name": "客户", "address": "[地址]"}


_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
# A run of digits with whatever people put between them (138.0013.8000, 1380 013 8000, 13800 138000).
_DIGIT_RUN = re.compile(r"\+?\d[\d\s.\-－·]{6,}\d")
_MOBILE_DIGITS = re.compile(r"(?:86)?1[3-9]\d{9}")


def _digits(value: str) -> str:
    return re.sub(r"\D", "", (value or "").translate(_FULL_WIDTH_DIGITS))


def _phone_runs(text: str, known: list[str]):
    """Runs of digits that are a mobile number, or contain one of the order's own numbers, however grouped."""
    for match in _DIGIT_RUN.finditer(text):
        digits = _digits(match.group(0))
        if _MOBILE_DIGITS.fullmatch(digits) or any(k and len(k) >= 7 and k in digits for k in known):
            yield match


def _known_values(order) -> list[tuple[str, str]]:
    """The order's own personal data, which a pattern could miss (a name without 先生, a short contact)."""
    values = []
    if order is None:
        return values
    customer = getattr(order, "customer", None)
    if customer is not None:
        if customer.name and len(customer.name.strip()) >= 2:
            values.append(("name", customer.name.strip()))
        if customer.phone:
            values.append(("phone", customer.phone))
    if order.contact_phone:
        values.append(("phone", order.contact_phone))
    return values


def anonymise(text: str, *, order=None) -> str:
    """The text with the customer's personal data replaced by placeholders."""
    text = (text or "").translate(_FULL_WIDTH_DIGITS)
    known = _known_values(order)
    for match in reversed(list(_phone_runs(text, [_digits(v) for k, v in known if k == "phone"]))):
        text = text[:match.start()] + REPLACEMENTS["phone"] + text[match.end():]
    for kind, value in known:
        text = text.replace(value, REPLACEMENTS[kind])
        if kind == "name":
            text = text.replace(value[0] + "某", "客户")
    for kind, pattern in PATTERNS:
        text = pattern.sub(REPLACEMENTS[kind], text)
    return text


def personal_data(text: str, *, order=None) -> list[tuple[str, str]]:
    """What in the text looks like personal data: (kind, the text found). Empty when it is clean."""
    found = []
    original = text or ""
    text = normalise(original).translate(_FULL_WIDTH_DIGITS)  # full-width digits and letters as well
    known = _known_values(order)
    for kind, value in known:
        if normalise(value) in text:
            found.append((kind, value))
    found.extend(("phone", match.group(0).strip())
                 for match in _phone_runs(text, [_digits(v) for k, v in known if k == "phone"]))
    for kind, pattern in PATTERNS:
        found.extend((kind, match.group(0)) for match in pattern.finditer(text))
    return found
