"""A per-process memo with a time limit, for rules read on every request that admins change rarely (intake and
workflow policies): a change in admin takes effect within `seconds` in every web and worker process."""

import threading
import time
from functools import wraps

_registry = []


def cached_for(seconds: float):
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
        return wrapper

    return decorate


def clear_all() -> None:
    """Forget every memo (tests change policies between steps)."""
    for entries in _registry:
        entries.clear()
