"""Who is told about accountability: a department's leads (notices, improvement orders, determinations to appeal,
decisions), through the same inbox and e-mail outbox as the workflow."""

from org import roles
from org.models import User
from workflow.notifications import notify_about


def leads_notify(*, department, kind: str, subject: str, link: str, actor=None, comment: str = "") -> None:
    leads = User.objects.filter(department=department, is_active=True, groups__name=roles.LEAD)
    notify_about(recipients=list(leads), kind=kind, subject=subject, link=link, actor=actor, comment=comment)
