"""The workflow rules in force (versioned by effective date, edited in admin)."""

from datetime import date

from django.utils import timezone

from core.memo import cached_for
from workflow.models import WorkflowPolicy


def workflow_policy(*, on_date: date | None = None) -> WorkflowPolicy:
    return _workflow_policy(on_date or timezone.localdate())


@cached_for(60)
def _workflow_policy(on_date: date) -> WorkflowPolicy:
    policy = WorkflowPolicy.objects.filter(effective_from__lte=on_date).order_by("-effective_from").first()
    return policy or WorkflowPolicy(effective_from=on_date)
