"""Roles are Django groups with stable names (core.permissions names them); the UI shows the translated label."""

from django.utils.translation import gettext_lazy as _

from core.permissions import (
    ADMIN,
    ALL_ROLES,
    CHANNEL_SYSTEM,
    DISPATCHER,
    EMERGENCY,
    FRONTLINE_AGENT,
    HANDLER,
    INTAKE_ROLES,
    LEAD,
    QUALITY_MANAGER,
    STAFF_ROLES,
)

ROLE_LABELS = {
    FRONTLINE_AGENT: _("Frontline agent"),
    DISPATCHER: _("Dispatcher"),
    HANDLER: _("Department handler"),
    LEAD: _("Department lead"),
    QUALITY_MANAGER: _("Quality manager"),
    ADMIN: _("Administrator"),
    CHANNEL_SYSTEM: _("Channel system"),
    EMERGENCY: _("Emergency group"),
}
__all__ = ["ADMIN", "ALL_ROLES", "CHANNEL_SYSTEM", "DISPATCHER", "EMERGENCY", "FRONTLINE_AGENT", "HANDLER",
           "INTAKE_ROLES", "LEAD", "QUALITY_MANAGER", "ROLE_LABELS", "STAFF_ROLES"]
