"""Text for the knowledge base: search tokens for Chinese, and the personal data a case must never carry (the one
check of complaints/redaction.py).

Chinese has no spaces between words. Rather than a dictionary segmenter, the index cuts every run of Chinese
characters into overlapping character pairs (信号覆盖 → 信号 号覆 覆盖), the approach of CJK bigram analysers: a
query word of two or more characters matches wherever it appears, with no dictionary to keep up to date with
product names; Latin words and numbers (5G, IPTV, VoLTE, 10086) are kept whole.
"""

from __future__ import annotations

import re
import unicodedata

from complaints.redaction import PATTERNS, REPLACEMENTS, personal_data, redact  # noqa: F401

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
# The check lives in complaints/redaction.py, where the report, the exports and the e-mails call it as well: one
# check for everything that leaves the working screens. The case library's names for it:
anonymise = redact
