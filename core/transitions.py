"""The one way to change the state of anything that has steps (orders, support requests, incidents…).

A domain declares its actions as data: for each action, the steps it is allowed in, further conditions on the
state (a refusal is a conflict, HTTP 409, naming where the object stands) and conditions on the actor (a refusal
is PermissionDenied, HTTP 403, naming who may). The same table answers "what may this user do now"
(`available_actions`, for every page and the API) and guards the change (`transition`):

    with SUPPORT.transition("route", actor=actor, obj=request) as step:
        ...apply the change to step.ctx...
        step.record(Action.ROUTED, comment=comment, department=department.name)
        step.notify(tell, recipients, ...)

`transition` locks the object the domain's way (its row, and its viewflow process where there is one), checks
the step and then the actor, lets the block apply the change and write its audit event(s) through the domain's
writer, then calls the action's hooks and the notifications, in that order, all inside one transaction; what
must wait for the commit (e-mails, Celery) goes through `step.on_commit` and is dropped on a rollback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction


class TransitionConflict(Exception):
    """The object's current step does not allow the action (HTTP 409); the message says where it stands."""

    def __init__(self, obj, message: str):
        self.obj = obj
        self.status = getattr(obj, "status", None)
        super().__init__(message)


@dataclass(frozen=True)
class Rule:
    """One condition of an action. A state rule tests the context, `test(ctx)`; an actor rule tests the user on
    it, `test(user, ctx)`. `refusal(ctx)` is the message when it fails (a state rule without one refuses with the
    domain's "not possible now"; an actor rule without one refuses by raising PermissionDenied itself, when the
    rule and its message belong to a lower app)."""

    test: Callable[..., bool]
    refusal: Callable[[Any], str] | None = None


@dataclass(frozen=True)
class ActionSpec:
    """What a domain declares of one action: its label, the steps it is allowed in (None: any step), further
    state rules (409), actor rules (403), and whether the system (actor None: a sweep, intake) may take it."""

    label: Any
    steps: tuple[str, ...] | None = None
    state: tuple[Rule, ...] = ()
    actor: tuple[Rule, ...] = ()
    by_system: bool = False


@dataclass
class Step:
    """The transition under way: the locked context, and what the block records and queues."""

    transitions: Transitions
    action: str
    actor: Any
    ctx: Any
    before: str
    events: list = field(default_factory=list)
    notifications: list = field(default_factory=list)

    def record(self, event_action: str, *, comment: str = "", before: str | None = None, **data):
        """Write one audit event through the domain's writer: the status before the transition (unless given)
        and after, the actor, the comment and the data."""
        event = self.transitions.audit(self.ctx, actor=self.actor, action=event_action,
                                       before=self.before if before is None else before, comment=comment, **data)
        self.events.append(event)
        return event

    def notify(self, send: Callable, *args, **kwargs) -> None:
        """Tell people, after the change, its audit and its hooks: `send` writes the inbox rows in this
        transaction (their e-mails go once it commits)."""
        self.notifications.append((send, args, kwargs))

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run once the transaction commits; never on a rollback."""
        transaction.on_commit(callback)


class Transitions:
    """A domain's action table and the runner that applies it.

    `read(obj)` gives the context of an object without locks (for pages); `lock(actor=, obj=)` is a context
    manager giving it locked, the domain's way. `step_of(ctx)` is the current step and `status_of(ctx)` the
    object's status (for the audit). `not_now(ctx, action)` builds the domain's "not possible now"
    conflict and `conflict(ctx, message)` its conflict with another message. `audit(ctx, actor=, action=,
    before=, comment=, **data)` writes one audit event. `hooks[action]` are called after the change (in order,
    in the transaction) with the Step. `actor_first` checks the actor before the state, for a domain whose
    callers were always told who may before where the object stands (accountability, incidents)."""

    def __init__(self, *, model: type, actions: Mapping[str, ActionSpec], read: Callable[[Any], Any],
                 lock: Callable[..., AbstractContextManager], step_of: Callable[[Any], str | None],
                 not_now: Callable[[Any, str], Exception], conflict: Callable[[Any, str], Exception],
                 audit: Callable[..., Any], status_of: Callable[[Any], str],
                 hooks: Mapping[str, Sequence[Callable[[Step], None]]] | None = None, actor_first: bool = False):
        self.model = model
        self.actor_first = actor_first
        self.actions = dict(actions)
        self.read, self.lock, self.step_of = read, lock, step_of
        self.not_now, self.conflict, self.audit = not_now, conflict, audit
        self.status_of = status_of
        self.hooks = dict(hooks or {})
        _TABLES[model] = self

    def label(self, action: str):
        return self.actions[action].label

    def _state_refusal(self, action: str, ctx) -> Exception | None:
        spec = self.actions[action]
        if spec.steps is not None and self.step_of(ctx) not in spec.steps:
            return self.not_now(ctx, action)
        for rule in spec.state:
            if not rule.test(ctx):
                return self.conflict(ctx, rule.refusal(ctx)) if rule.refusal else self.not_now(ctx, action)
        return None

    def _actor_refusal(self, action: str, user, ctx) -> str | None:
        spec = self.actions[action]
        if user is None:
            if spec.by_system:
                return None
            return spec.actor[0].refusal(ctx) if spec.actor else ""
        for rule in spec.actor:
            if not rule.test(user, ctx):
                return rule.refusal(ctx)
        return None

    def check(self, action: str, user, ctx) -> None:
        """The state first (the domain's conflict, HTTP 409), then the actor (PermissionDenied, HTTP 403); the
        other way round for a table declared `actor_first`."""
        if self.actor_first:
            self._check_actor(action, user, ctx)
        conflict = self._state_refusal(action, ctx)
        if conflict is not None:
            raise conflict
        if not self.actor_first:
            self._check_actor(action, user, ctx)

    def _check_actor(self, action: str, user, ctx) -> None:
        refusal = self._actor_refusal(action, user, ctx)
        if refusal is not None:
            raise PermissionDenied(refusal)

    def allows(self, action: str, user, ctx) -> bool:
        """Whether `check` would pass, without building its errors."""
        spec = self.actions[action]
        if spec.steps is not None and self.step_of(ctx) not in spec.steps:
            return False
        if not all(rule.test(ctx) for rule in spec.state):
            return False
        if user is None:
            return spec.by_system
        try:
            return all(rule.test(user, ctx) for rule in spec.actor)
        except PermissionDenied:
            return False

    def available(self, user, ctx) -> list[str]:
        """The actions this user may take now, in the table's order."""
        return [action for action in self.actions if self.allows(action, user, ctx)]

    @contextmanager
    def transition(self, action: str, *, actor, obj) -> Iterator[Step]:
        """Lock, check the step, check the actor; the block applies the change and records it; then the hooks
        and the notifications. One transaction: any error undoes all of it."""
        with transaction.atomic(), self.lock(actor=actor, obj=obj) as ctx:
            self.check(action, actor, ctx)
            step = Step(transitions=self, action=action, actor=actor, ctx=ctx, before=self.status_of(ctx))
            yield step
            for hook in self.hooks.get(action, ()):
                hook(step)
            for send, args, kwargs in step.notifications:
                send(*args, **kwargs)


_TABLES: dict[type, Transitions] = {}


def transitions_for(obj) -> Transitions:
    """The action table of an object's model (declared by its domain's services)."""
    for model in type(obj).__mro__:
        if model in _TABLES:
            return _TABLES[model]
    raise LookupError(f"No transitions are declared for {type(obj).__name__}.")


def available_actions(user, obj, *, ctx=None) -> list[str]:
    """What this user may do to this object now: the one lookup every page and the API make."""
    table = transitions_for(obj)
    return table.available(user, table.read(obj) if ctx is None else ctx)
