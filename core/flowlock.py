"""The lock every flow takes on its process row, and the one moment it is not needed.

viewflow runs each step of a flow under `lock_impl` (here SELECT … FOR UPDATE on the process row, blocking: two
claims of one order queue and the second sees the first). When a flow is started, the process row was inserted by
the very transaction that would lock it: no other transaction can see that row until the commit, so the lock is a
statement on every intake that protects nothing. `starting_flows()` marks the processes created inside it, and
only those are run without the statement (in a transaction all the same); any other process a start might touch
is locked as always.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.db.models.signals import post_save
from viewflow.workflow.lock import SelectForUpdateLock

# The pks of the processes created within starting_flows() (None outside it): per thread and per task.
_created: contextvars.ContextVar[set | None] = contextvars.ContextVar("flow_processes_created", default=None)


class ProcessRowLock(SelectForUpdateLock):
    """SELECT … FOR UPDATE on the process row (blocking), except for a process this transaction has just created
    inside starting_flows()."""

    def __init__(self):
        super().__init__(nowait=False, attempts=1)

    @contextmanager
    def __call__(self, flow_class, process_pk):
        created = _created.get()
        if created is not None and process_pk in created:
            with transaction.atomic():
                yield
            return
        with super().__call__(flow_class, process_pk):
            yield


@contextmanager
def starting_flows() -> Iterator[None]:
    """Run a flow's start inside this: its new process row is not locked (see the module)."""
    token = _created.set(set())
    try:
        yield
    finally:
        _created.reset(token)


def process_created(sender, instance, created, **kwargs) -> None:
    """post_save of every flow's process model (connected by the apps that define one)."""
    if created:
        fresh = _created.get()
        if fresh is not None:
            fresh.add(instance.pk)


def track_process_creation(process_model) -> None:
    post_save.connect(process_created, sender=process_model, dispatch_uid=f"flowlock:{process_model._meta.label}")
