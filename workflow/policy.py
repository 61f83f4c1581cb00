"""The workflow rules in force (versioned by effective date, edited in admin)."""

from datetime import date

from django.utils import timezone

from workflow.models import WorkflowPolicy


def workflow_policy(*, on_date: date | None = None) -> WorkflowPolicy:
    on_date = on_date or timezone.localdate()
    policy = WorkflowPolicy.objects.filter(effective_from__lte=on_date).order_by("-effective_from").first()
    return policy or WorkflowPolicy(effective_from=on_date)
