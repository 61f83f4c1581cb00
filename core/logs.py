"""Structured logs: every line carries the request id, the user and the order (or support request) it is about.

The context lives in a contextvar, so it follows the request through views, services and signals without being
passed around: LogContextMiddleware binds the request id (X-Request-ID, or a new one, echoed in the response), the
user and the number of the order the URL names; order_create and order_act bind the order they work on (so a
channel system's create, a sweep's action and a Celery task's log lines name it too); Celery binds the task name
and id. `LOG_FORMAT=json` writes one JSON object per line (for Loki, ELK, …); the default text format shows the
same fields in brackets (`[request_id=… user=… order=…]`).
"""

from __future__ import annotations

import contextvars
import json
import logging
import uuid
from contextlib import contextmanager

from django.core.signals import request_finished

_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar("log_context", default=None)
_outer: contextvars.ContextVar[dict | None] = contextvars.ContextVar("log_context_outside_request", default=None)
FIELDS = ("request_id", "user", "order", "support_request", "task")


def bind(**values) -> None:
    """Add fields to the current context (None removes one)."""
    merged = {**(_context.get() or {}), **values}
    _context.set({k: v for k, v in merged.items() if v is not None})


@contextmanager
def bound(**values):
    token = _context.set({**(_context.get() or {}), **{k: v for k, v in values.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def current() -> dict:
    return dict(_context.get() or {})


class ContextFilter(logging.Filter):
    """Puts the context's fields on every record (empty strings when unbound, so formats never fail)."""

    def filter(self, record):
        context = _context.get() or {}
        for name in FIELDS:
            if not hasattr(record, name):
                setattr(record, name, context.get(name, ""))
        shown = " ".join(f"{name}={getattr(record, name)}" for name in FIELDS if getattr(record, name))
        record.context = f"[{shown}] " if shown else ""
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for name in FIELDS:
            value = getattr(record, name, "")
            if value:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(context)s%(message)s"


class LogContextMiddleware:
    """Binds the request id, the user and the order or support request of the URL for the request's log lines."""

    def __init__(self, get_response):
        self.get_response = get_response
        # Kept until the response is finished, not just until this middleware returns: Django logs a 4xx or 5xx
        # answer ("Not Found: /orders/…") after the middleware chain, and that line should name the request too.
        request_finished.connect(_context_clear, dispatch_uid="core.logs.context_clear")

    def __call__(self, request):
        request_id = (request.headers.get("X-Request-ID") or "")[:64] or uuid.uuid4().hex[:16]
        _outer.set(_context.get())
        _context.set({"request_id": request_id})
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            bind(user=user.get_username())
        number = view_kwargs.get("number")
        if number:
            namespace = request.resolver_match.namespace if request.resolver_match else ""
            bind(**({"support_request": number} if namespace == "support" else {"order": number}))


def _context_clear(**_kwargs):
    """request_finished: back to what was bound before the request (nothing, in a web process)."""
    _context.set(_outer.get())


def celery_task_context(sender=None, task_id=None, task=None, **_kwargs):
    """celery.signals.task_prerun: the task's log lines name it."""
    _context.set({"task": f"{task.name}[{(task_id or '')[:8]}]" if task else ""})
