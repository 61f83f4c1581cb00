"""On-the-spot authority (分层授权): which kinds and severities a role may close at intake, and up to how much
compensation. Checked on the server for every path (browser, API, import)."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from complaints.models import AuthorityLevel, Kind, Severity


def authority_levels_in_force(*, user, on_date: date | None = None) -> list[AuthorityLevel]:
    """For each of the user's roles, the latest version effective on the date."""
    levels = {}
    for level in (
        AuthorityLevel.objects.in_force(on=on_date).filter(role__in=user.groups.all())
        .select_related("role")
        .order_by("role_id", "-effective_from")
    ):
        levels.setdefault(level.role_id, level)
    return list(levels.values())


def authority_limit(*, user, kind: str, severity: str, on_date: date | None = None) -> Decimal | None:
    """The highest compensation the user may grant when closing such an order on the spot, or None if they may not."""
    limits = [
        level.max_compensation
        for level in authority_levels_in_force(user=user, on_date=on_date)
        if kind in level.kinds and severity in level.severities
    ]
    return max(limits) if limits else None


def authority_check(*, user, kind: str, severity: str, compensation: Decimal | None) -> None:
    limit = authority_limit(user=user, kind=kind, severity=severity)
    if limit is None:
        raise PermissionDenied(
            _("Your role may not close an order of kind “%(kind)s” and severity “%(severity)s” on the spot; dispatch it instead.")
            % {"severity": Severity(severity).label, "kind": Kind(kind).label}
        )
    if compensation and compensation > limit:
        raise PermissionDenied(
            _("Compensation of %(amount)s yuan exceeds your on-the-spot limit of %(limit)s yuan; dispatch the order instead.")
            % {"amount": compensation, "limit": limit}
        )
