"""Named domain events: how an app tells the apps above it that something happened, without importing them.

The app that announces an event declares its Hook (workflow/hooks.py); the apps above subscribe in their
AppConfig.ready. `announce` calls the subscribers synchronously, in registration order, inside the caller's
transaction: a subscriber that raises rolls the announcing change back. `gather` is the same call when the
announcing code wants the subscribers' answers (an order page's panels, the open incident a new order joins).
These are not Django signals on model saves: each hook names a domain event and its keyword arguments.
"""

from collections.abc import Callable
from typing import Any

_HOOKS: dict[str, "Hook"] = {}


class Hook:
    def __init__(self, name: str, *, arguments: tuple[str, ...], doc: str = ""):
        if name in _HOOKS:
            raise ValueError(f"A hook named {name!r} is declared already.")
        self.name = name
        self.arguments = frozenset(arguments)
        self.doc = doc
        self.subscribers: list[Callable[..., Any]] = []
        _HOOKS[name] = self

    def __repr__(self) -> str:
        return f"<Hook {self.name}>"

    def subscribe(self, subscriber: Callable[..., Any]) -> Callable[..., Any]:
        """Add a subscriber (once: a second subscription of the same function is ignored, as ready() may run
        twice in tests). Usable as a decorator."""
        if subscriber not in self.subscribers:
            self.subscribers.append(subscriber)
        return subscriber

    def _check(self, kwargs: dict) -> None:
        given = set(kwargs)
        if given != self.arguments:
            missing, unknown = sorted(self.arguments - given), sorted(given - self.arguments)
            raise TypeError(f"Hook {self.name!r} takes {sorted(self.arguments)}: missing {missing}, unknown {unknown}.")

    def announce(self, **kwargs) -> None:
        self._check(kwargs)
        for subscriber in self.subscribers:
            subscriber(**kwargs)

    def gather(self, **kwargs) -> list:
        """The subscribers' answers, in registration order."""
        self._check(kwargs)
        return [subscriber(**kwargs) for subscriber in self.subscribers]


def _qualified(subscriber: Callable[..., Any]) -> str:
    return f"{subscriber.__module__}.{subscriber.__qualname__}"


def hooks_wiring() -> list[tuple[str, list[str]]]:
    """Every declared hook with its subscribers (module.function), in the order they are called."""
    return [(name, [_qualified(s) for s in hook.subscribers]) for name, hook in sorted(_HOOKS.items())]
