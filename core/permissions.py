"""The permission vocabulary: who a user is, in the product's words, each word defined once here and used by views,
the API, admin, exports and services alike.

It reads only the user: role names (Django groups, `user.role_names`), permissions, superuser, and the department's
id and kind, read duck-typed (core knows no domain app). A rule that needs a domain's records ("may this user see
this order", "may this lead edit this article") lives in its app and is built from these words, never by deriving
"is quality" or "is centre staff" again.
"""

from functools import wraps

from django.apps import apps
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.permissions import BasePermission

# --- the names -------------------------------------------------------------------------------------------------
# Roles are Django groups with these stable names; org.roles gives their labels.
FRONTLINE_AGENT = "frontline_agent"
DISPATCHER = "dispatcher"
HANDLER = "department_handler"
LEAD = "department_lead"
QUALITY_MANAGER = "quality_manager"
ADMIN = "admin"
CHANNEL_SYSTEM = "channel_system"
# The third escalation level (应急小组): people called in for the gravest cases.
EMERGENCY = "emergency_group"
ALL_ROLES = (FRONTLINE_AGENT, DISPATCHER, HANDLER, LEAD, QUALITY_MANAGER, ADMIN, CHANNEL_SYSTEM, EMERGENCY)

# Who may log a new order (browser or API).
INTAKE_ROLES = frozenset({FRONTLINE_AGENT, DISPATCHER, CHANNEL_SYSTEM})
# Who may read orders at all (always further limited to their region).
STAFF_ROLES = frozenset(ALL_ROLES)

# The kinds of department the vocabulary reads (org.models.Department.Kind holds these values).
FRONTLINE_UNIT = "frontline"
COMPLAINT_CENTRE = "complaint_centre"

# Customers' full phone numbers (complaints.phone says who holds which).
FULL_PHONE_PERMISSION = "view_full_phone"
_FULL_PHONE_CACHE = "_sees_full_phone_cache"


# --- the words -------------------------------------------------------------------------------------------------


def has_role(user, *names: str) -> bool:
    """The user holds one of these roles (never an anonymous visitor)."""
    return bool(user is not None and user.is_authenticated and user.role_names.intersection(names))


def department_kind(user) -> str | None:
    """The kind of the user's department, or None without one."""
    return user.department.kind if getattr(user, "department_id", None) is not None else None


def is_staff_member(user) -> bool:
    """Any signed-in account that holds one of the product's roles (what it sees is narrowed by the selectors)."""
    return bool(user.is_authenticated and (user.is_superuser or has_role(user, *STAFF_ROLES)))


def may_intake(user) -> bool:
    """May log new orders (the form, the API, the import)."""
    return bool(user.is_authenticated and (user.is_superuser or has_role(user, *INTAKE_ROLES)))


def is_admin(user) -> bool:
    """A superuser or the administrator role."""
    return bool(user.is_authenticated and (user.is_superuser or has_role(user, ADMIN)))


def is_quality(user) -> bool:
    """The quality team (a superuser may stand in). The administrator role is not the quality team."""
    return bool(user.is_authenticated and (user.is_superuser or has_role(user, QUALITY_MANAGER)))


def is_dispatcher(user) -> bool:
    """A dispatcher of the complaint centre (a superuser may stand in)."""
    return bool(user.is_authenticated and (user.is_superuser or has_role(user, DISPATCHER)))


def is_centre_staff(user) -> bool:
    """The complaint centre: its dispatchers and its leads, members of a complaint-centre department (a superuser
    may stand in). The quality team is not the centre (is_centre_or_quality)."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or (department_kind(user) == COMPLAINT_CENTRE and has_role(user, DISPATCHER, LEAD))


def is_centre_or_quality(user) -> bool:
    """Those who oversee a region's work: the complaint centre and the quality team."""
    return is_centre_staff(user) or is_quality(user)


def is_lead(user) -> bool:
    """The lead of a department (a lead without a department leads nothing)."""
    return has_role(user, LEAD) and user.department_id is not None


def is_member_of(user, department_id: int | None) -> bool:
    """A member of this department (of no department: nobody)."""
    return department_id is not None and getattr(user, "department_id", None) == department_id


def is_lead_of(user, department_id: int | None) -> bool:
    """The lead of this department."""
    return is_member_of(user, department_id) and has_role(user, LEAD)


def is_staff_of(user, department_id: int | None) -> bool:
    """A handler or the lead of this department."""
    return is_member_of(user, department_id) and has_role(user, HANDLER, LEAD)


def may_see_full_phone(user) -> bool:
    """May this reader see customers' full phone numbers without revealing them (the one rule, complaints.phone)?
    A superuser holds every permission implicitly in Django; for full numbers that is not enough: a superuser sees
    them only when the permission was granted explicitly (to the account or one of its groups)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if not user.is_superuser:
        return user.has_perm(f"complaints.{FULL_PHONE_PERMISSION}")
    if not hasattr(user, _FULL_PHONE_CACHE):
        permission = apps.get_model("auth", "Permission")
        granted = (permission.objects.filter(content_type__app_label="complaints", codename=FULL_PHONE_PERMISSION)
                   .filter(Q(user=user) | Q(group__user=user)).exists())
        setattr(user, _FULL_PHONE_CACHE, granted)
    return getattr(user, _FULL_PHONE_CACHE)


def may_unmask_phone(user) -> bool:
    """May reveal one customer's full number, which is recorded (complaints.services.phone_disclose)."""
    return bool(user and user.is_authenticated and user.has_perm("complaints.unmask_phone"))


# --- at the doors ----------------------------------------------------------------------------------------------


class IsStaffMember(BasePermission):
    """The API's door: any account with a role in the platform."""

    # Lazy: this module is imported before the apps are ready (LOGGING's phone filter, complaints.phone).
    message = gettext_lazy("Your account has no role in the complaint platform.")

    def has_permission(self, request, view):
        return is_staff_member(request.user)


def staff_required(view):
    """The pages' door: the login page for a visitor, 403 for an account with no role in the platform."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_staff_member(request.user):
            raise PermissionDenied(_("Your account has no role in the complaint platform."))
        return view(request, *args, **kwargs)

    return login_required(wrapper, redirect_field_name=REDIRECT_FIELD_NAME)
