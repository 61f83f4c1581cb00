"""Roles are Django groups with these stable names; the UI shows the translated label."""

from django.utils.translation import gettext_lazy as _

FRONTLINE_AGENT = "frontline_agent"
DISPATCHER = "dispatcher"
HANDLER = "department_handler"
LEAD = "department_lead"
QUALITY_MANAGER = "quality_manager"
ADMIN = "admin"
CHANNEL_SYSTEM = "channel_system"
# The third escalation level (应急小组): people called in for the gravest cases.
EMERGENCY = "emergency_group"

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
ALL_ROLES = tuple(ROLE_LABELS)

# Who may log a new order (browser or API).
INTAKE_ROLES = frozenset({FRONTLINE_AGENT, DISPATCHER, CHANNEL_SYSTEM})
# Who may read orders at all (always further limited to their region).
STAFF_ROLES = frozenset(ALL_ROLES)
