"""A per-process memo with a time limit, for rules read on every request that admins change rarely (intake and
workflow policies, the category tree, roles' permissions): a change in admin takes effect within `seconds` in every
web and worker process, and at once in the process that made it when the memo names the models it reads
(`invalidated_by`: a save, delete or many-to-many change of one of them forgets the memo)."""

import threading
import time
from functools import wraps

from django.db.models import signals

_registry = []


def cached_for(seconds: float, *, invalidated_by=()):
    def decorate(function):
        entries: dict = {}
        lock = threading.Lock()

        @wraps(function)
        def wrapper(*args, **kwargs):
            key = (args, tuple(sorted(kwargs.items())))
            now = time.monotonic()
            hit = entries.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
            value = function(*args, **kwargs)
            with lock:
                if len(entries) > 1000:
                    entries.clear()
                entries[key] = (now + seconds, value)
            return value

        wrapper.cache_clear = entries.clear
        _registry.append(entries)
        for model in invalidated_by:
            _forget_on_change(model, entries)
        return wrapper

    return decorate


def _forget_on_change(model, entries: dict) -> None:
    def forget(**_kwargs):
        entries.clear()

    if model._meta.auto_created:  # a many-to-many table: its rows change through m2m_changed
        signals.m2m_changed.connect(forget, sender=model, weak=False)
    else:
        signals.post_save.connect(forget, sender=model, weak=False)
        signals.post_delete.connect(forget, sender=model, weak=False)


def clear_all() -> None:
    """Forget every memo (tests change policies between steps)."""
    for entries in _registry:
        entries.clear()
