"""The steps of the two viewflow flows (complaints, support requests) by name, in the reader's language: viewflow
names a step after its attribute ("after_handle" → "After Handle") and ships no Chinese catalogue."""

from django.utils.translation import pgettext_lazy

STEP_LABELS = {
    "start": pgettext_lazy("flow step", "Start"),
    "route": pgettext_lazy("flow step", "Route"),
    "dispatch": pgettext_lazy("flow step", "Dispatch"),
    "answer": pgettext_lazy("flow step", "Answer"),
    "handle": pgettext_lazy("flow step", "Handle"),
    "after_handle": pgettext_lazy("flow step", "After handling"),
    "review": pgettext_lazy("flow step", "Review"),
    "after_review": pgettext_lazy("flow step", "After review"),
    "callback": pgettext_lazy("flow step", "Callback"),
    "after_callback": pgettext_lazy("flow step", "After callback"),
    "archive": pgettext_lazy("flow step", "Archive"),
    "close": pgettext_lazy("flow step", "Close"),
    "end": pgettext_lazy("flow step", "End"),
    "sort": pgettext_lazy("flow step", "Sort"),
    "after_sort": pgettext_lazy("flow step", "After sorting"),
    "approve": pgettext_lazy("flow step", "Approve"),
    "after_approve": pgettext_lazy("flow step", "After approval"),
    "rate": pgettext_lazy("flow step", "Rate"),
    "after_rate": pgettext_lazy("flow step", "After rating"),
}
PROCESS_TITLES = {
    "ComplaintFlow": pgettext_lazy("flow", "Complaint work order"),
    "SupportFlow": pgettext_lazy("flow", "Internal support request"),
}


def step_label(task) -> str:
    node = getattr(task, "flow_task", None)
    name = getattr(node, "name", None) or str(node or "")
    return str(STEP_LABELS.get(name, name))


def process_label(process) -> str:
    flow_class = getattr(process, "flow_class", None)
    title = PROCESS_TITLES.get(getattr(flow_class, "__name__", ""), getattr(flow_class, "process_title", ""))
    return f"{title} #{process.pk}"


def task_label(task) -> str:
    return f"{process_label(task.process)} · {step_label(task)} · {task.get_status_display()}"
