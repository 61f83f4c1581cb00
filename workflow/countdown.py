"""One way of writing a deadline's countdown, on the server and in the browser (static/js/deadlines.js, which
gets the same words from `countdown_words`): the two largest units, "剩 2 小时 5 分", "已超时 1 天 3 小时"; a
breach less than a minute old is "刚刚超时", never "已超时 0 分钟". Time left is rounded up to the minute (half a
minute left is "剩 1 分"), time overdue down."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import get_language, gettext

_WORDS: dict[str, dict[str, str]] = {}


def countdown_words() -> dict[str, str]:
    """The words of the countdown in the active language, for the browser's ticking copy (looked up once per
    language: a list page writes a hundred countdowns). Read it, do not change it."""
    language = get_language() or ""
    words = _WORDS.get(language)
    if words is None:
        words = _WORDS[language] = {
            "d": gettext("%(n)s d"), "h": gettext("%(n)s h"), "m": gettext("%(n)s min"),
            "left": gettext("%(time)s left"), "overdue": gettext("%(time)s overdue"),
            "just_overdue": gettext("just overdue"),
        }
    return words


def duration_text(span: timedelta, *, round_up: bool = False, words: dict | None = None) -> str:
    """A span as its two largest units: "1 天 3 小时", "2 小时 5 分", "5 分" (zero units left out)."""
    words = words or countdown_words()
    seconds = max(0, int(span.total_seconds()))
    minutes = -(-seconds // 60) if round_up else seconds // 60
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    if days:
        units = [("d", days), ("h", hours)]
    elif hours:
        units = [("h", hours), ("m", minutes)]
    else:
        units = [("m", minutes)]
    parts = [words[unit] % {"n": n} for unit, n in units if n]
    return " ".join(parts) or words["m"] % {"n": 0}


def countdown_text(due: datetime, now: datetime) -> str:
    words = countdown_words()
    if now >= due:
        if now - due < timedelta(minutes=1):
            return words["just_overdue"]
        return words["overdue"] % {"time": duration_text(now - due, words=words)}
    return words["left"] % {"time": duration_text(due - now, round_up=True, words=words)}
