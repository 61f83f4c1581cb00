from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from rest_framework.permissions import BasePermission

from org import roles


def is_staff_member(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_role(*roles.STAFF_ROLES))


class IsStaffMember(BasePermission):
    """Any signed-in account that holds one of the product's roles; what it sees is narrowed by the selectors."""

    message = _("Your account has no role in the complaint platform.")

    def has_permission(self, request, view):
        return is_staff_member(request.user)


def staff_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_staff_member(request.user):
            raise PermissionDenied(_("Your account has no role in the complaint platform."))
        return view(request, *args, **kwargs)

    return wrapper
