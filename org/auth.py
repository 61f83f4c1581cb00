"""The signed-in user in one query: every request reads the account, its department and region, its roles and its
permissions (the navigation, the region checks, the phone-number rule). Django reads them in five statements; here
one SELECT brings the account with its department and region, its role names and its own permissions, and the
permissions its roles give come from a per-process memo (roles' permissions change in admin, rarely: a change takes
effect at once in the process that made it and within a minute in the others).

Used by the session backend (`UserBackend.get_user`) and the API's token authentication alike."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.models import Q, Value
from django.db.models.functions import Concat

from core.memo import cached_for
from org.models import User

GROUP_PERMISSIONS_MEMO_SECONDS = 60


@cached_for(GROUP_PERMISSIONS_MEMO_SECONDS, invalidated_by=(Group, Permission, Group.permissions.through,
                                                              User.groups.through))
def _role_permissions(role_names: frozenset[str]) -> frozenset[str]:
    """The permissions ("app_label.codename") that these roles (groups) give."""
    rows = (Permission.objects.filter(group__name__in=role_names)
            .values_list("content_type__app_label", "codename").distinct())
    return frozenset(f"{app}.{codename}" for app, codename in rows)


def users_loaded(queryset=None, *, prefix: str = ""):
    """Users (or rows reaching a user through `prefix`, e.g. "user__") with department and region joined and, on
    PostgreSQL, their role names and own permissions aggregated into the same statement; `user_prepared` turns
    those into the caches Django and core.permissions read."""
    queryset = queryset if queryset is not None else User.objects.all()
    queryset = queryset.select_related(f"{prefix}department__region")
    if connection.vendor != "postgresql":
        return queryset  # SQLite (the zero-setup default): Django's own queries
    from django.contrib.postgres.aggregates import ArrayAgg

    return queryset.annotate(
        _loaded_roles=ArrayAgg(f"{prefix}groups__name", distinct=True, filter=Q(**{f"{prefix}groups__isnull": False})),
        _loaded_perms=ArrayAgg(
            Concat(f"{prefix}user_permissions__content_type__app_label", Value("."),
                   f"{prefix}user_permissions__codename"),
            distinct=True, filter=Q(**{f"{prefix}user_permissions__isnull": False})),
    )


def user_prepared(user, holder=None):
    """Fill the user's role names and permission caches from what users_loaded aggregated (`holder`: the row that
    carried the aggregates, when it was not the user itself)."""
    holder = holder if holder is not None else user
    if user is None or not hasattr(holder, "_loaded_roles"):
        return user
    user.__dict__["role_names"] = frozenset(holder._loaded_roles or ())  # None: no rows to aggregate
    if not user.is_superuser:  # Django answers a superuser's permission questions without these caches
        user._user_perm_cache = set(holder._loaded_perms or ())
        user._group_perm_cache = set(_role_permissions(user.role_names))
        user._perm_cache = {*user._user_perm_cache, *user._group_perm_cache}
    return user


class UserBackend(ModelBackend):
    """Django's model backend, reading the session's user in one statement (users_loaded)."""

    def get_user(self, user_id):
        user = users_loaded().filter(pk=user_id).first()
        return user_prepared(user) if user is not None and self.user_can_authenticate(user) else None
