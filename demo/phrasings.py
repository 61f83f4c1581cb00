"""How customers and agents word complaints, for the demo (`manage.py seed_demo`): several colloquial phrasings per
leaf category and handlers' answers per top-level family, kept as data in demo/data/demo_phrasings_zh.json.
A phrasing has slots ({place}, {amount}, {date}, …) filled with details that fit the customer and the day.

    phrasings = Phrasings.load()
    phrasings.description(code="BIL-DSP-AMT-01", region_code="440106", received=moment, rng=rng)
    phrasings.matches(code="BIL-DSP-AMT-01", text=order.description)   # True for any of its phrasings
"""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path

from django.utils import timezone

PHRASINGS_FILE = Path(__file__).resolve().parent / "data" / "demo_phrasings_zh.json"
SLOT = re.compile(r"\{(\w+)\}")
AMOUNTS = ["12", "18", "25", "30", "36.5", "48", "58", "66", "88", "96.8", "120", "158", "199", "236"]


class Phrasings:
    def __init__(self, data: dict):
        self.slots, self.leaves, self.answers = data["slots"], data["leaves"], data["answers"]

    @classmethod
    def load(cls, path: Path = PHRASINGS_FILE) -> Phrasings:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def description(self, *, code: str, region_code: str | None, received: datetime, rng: random.Random,
                    phrasing: int | None = None) -> str:
        """One of the leaf's phrasings (chosen by `rng`, or the `phrasing`-th), its slots filled."""
        options = self.leaves[code]
        text = options[phrasing % len(options)] if phrasing is not None else rng.choice(options)
        return SLOT.sub(lambda match: self._fill(match.group(1), region_code, received, rng), text)

    def answer(self, *, family: str, rng: random.Random) -> str:
        return rng.choice(self.answers.get(family) or self.answers["OTH"])

    def _fill(self, slot: str, region_code: str | None, received: datetime, rng: random.Random) -> str:
        local = timezone.localtime(received)
        if slot in ("place", "hall"):
            table = self.slots[slot + "s"]
            return rng.choice(table.get(region_code or "") or table.get((region_code or "")[:4]) or table[""])
        if slot == "date":
            day = local - timedelta(days=rng.randint(1, 6))
            return f"{day.month}月{day.day}日"
        if slot == "month":
            return f"{(local.replace(day=1) - timedelta(days=1)).month}月"
        if slot == "amount":
            return rng.choice(AMOUNTS)
        if slot == "count":
            return str(rng.randint(2, 6))
        if slot == "days":
            return str(rng.randint(2, 9))
        if slot == "measured":
            return str(rng.randint(8, 60))
        return rng.choice(self.slots[slot])

    @cached_property
    def _patterns(self) -> dict[str, list[re.Pattern]]:
        return {code: [re.compile("".join(".+?" if i % 2 else re.escape(part)
                                          for i, part in enumerate(SLOT.split(text))) + r"\Z", re.S)
                       for text in texts]
                for code, texts in self.leaves.items()}

    def matches(self, *, code: str, text: str) -> bool:
        """Whether `text` is one of the leaf's phrasings with its slots filled."""
        return any(pattern.match(text) for pattern in self._patterns.get(code, []))
