"""The seeded time-limit policies and calendar carried both languages in one field ("默认时限 Default",
"调休上班 make-up working day") and the holiday notes were English: each text now goes to its language's field,
the holidays' Chinese names from the same `holidays` package."""

import re

from django.db import migrations

SEEDED_NAMES = {  # 0006's policies: Chinese and English in one field
    "默认时限 Default": ("默认时限", "Default"), "疑难投诉 Difficult": ("疑难投诉", "Difficult"),
    "重大投诉 Major": ("重大投诉", "Major"), "钻石卡VIP Diamond VIP": ("钻石卡VIP", "Diamond VIP"),
    "金卡VIP Gold VIP": ("金卡VIP", "Gold VIP"), "银卡VIP Silver VIP": ("银卡VIP", "Silver VIP"),
    "集团客户 Group customer": ("集团客户", "Group customer"), "咨询 Inquiry": ("咨询", "Inquiry"),
    "建议 Suggestion": ("建议", "Suggestion"),
}
BOTH = re.compile(r"^(?P<zh>[^\x00-\x7f][^A-Za-z]*?)\s+(?P<en>[A-Za-z].*)$")
NOTES = {
    "reference default": "参考默认值",
    "official notice": "已录入国务院节假日通知",
    "rule-based only": "仅按规则推算",
    "rule-based only, notice not published yet": "仅按规则推算，节假日通知尚未发布",
}


def _split(text: str) -> tuple[str, str] | None:
    match = BOTH.match(text or "")
    return (match["zh"].strip(), match["en"].strip()) if match else None


def split(apps, schema_editor):
    import holidays

    for policy in apps.get_model("workflow", "TimeLimitPolicy").objects.filter(name_en=""):
        parts = SEEDED_NAMES.get(policy.name) or _split(policy.name)
        if parts:
            policy.name, policy.name_en = parts
        if policy.note in NOTES:
            policy.note, policy.note_en = NOTES[policy.note], policy.note
        policy.save(update_fields=["name", "name_en", "note", "note_en"])
    apps.get_model("workflow", "BusinessCalendar").objects.filter(code="default", name_en="").update(
        name_en="Default business calendar")
    names_zh: dict = {}
    for day in apps.get_model("workflow", "CalendarDay").objects.filter(source="package", note_en=""):
        parts = _split(day.note)
        if parts:
            day.note, day.note_en = parts
        elif day.note.isascii():
            if day.date.year not in names_zh:
                names_zh[day.date.year] = holidays.CN(years=[day.date.year], language="zh_CN")
            day.note, day.note_en = names_zh[day.date.year].get(day.date) or day.note, day.note
        day.save(update_fields=["note", "note_en"])
    for year in apps.get_model("workflow", "CalendarYear").objects.filter(note_en=""):
        prefix, _colon, rest = year.note.rpartition(": ")
        if rest in NOTES:
            year.note, year.note_en = (f"{prefix}：" if prefix else "") + NOTES[rest], year.note
            year.save(update_fields=["note", "note_en"])


class Migration(migrations.Migration):
    dependencies = [("workflow", "0012_bilingual_calendar_and_policy_texts")]
    operations = [migrations.RunPython(split, migrations.RunPython.noop)]
