"""The signed-in user in one query: every request reads the account, its department and region, its roles and its
permissions (the navigation, the region checks, the phone-number rule). Django reads them in five statements; here
one SELECT brings the account with its department and region, its role names and its own permissions, and the
permissions its roles give come from a per-process memo (roles' permissions change in admin, rarely: a change takes
effect at once in the process that made it and within a minute in the others).

Used by the session backend (`UserBackend.get_user`) and the API's token authentication alike."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import OuterRef

from core.memo import cached_for
from org.models import User

GROUP_PERMISSIONS_MEMO_SECONDS = 60


@cached_for(GROUP_PERMISSIONS_MEMO_SECONDS, invalidated_by=(Group, Permission, Group.permissions.through))
def _roles() -> dict:
    """Every role (group) by id: its name and the permissions ("app_label.codename") it gives."""
    roles = {group.pk: (group.name, set()) for group in Group.objects.all()}
    for group_id, app, codename in Group.permissions.through.objects.values_list(
            "group_id", "permission__content_type__app_label", "permission__codename"):
        roles[group_id][1].add(f"{app}.{codename}")
    return roles


@cached_for(GROUP_PERMISSIONS_MEMO_SECONDS, invalidated_by=(Permission,))
def _permission_names() -> dict[int, str]:
    return {pk: f"{app}.{codename}" for pk, app, codename in
            Permission.objects.values_list("pk", "content_type__app_label", "codename")}


def users_loaded(queryset=None, *, prefix: str = ""):
    """Users (or rows reaching a user through `prefix`, e.g. "user__") with department and region joined and, on
    PostgreSQL, the ids of their roles and own permissions as arrays in the same statement (names come from the
    memos above: few joins, so the statement also plans fast); `user_prepared` turns them into the caches Django and
    core.permissions read."""
    queryset = queryset if queryset is not None else User.objects.all()
    queryset = queryset.select_related(f"{prefix}department__region")
    if connection.vendor != "postgresql":
        return queryset  # SQLite (the zero-setup default): Django's own queries
    user = OuterRef(f"{prefix}id" if prefix else "pk")
    return queryset.annotate(
        _loaded_roles=ArraySubquery(User.groups.through.objects.filter(user_id=user).values("group_id")),
        _loaded_perms=ArraySubquery(User.user_permissions.through.objects.filter(user_id=user)
                                    .values("permission_id")),
    )


def _knowing(memo, ids) -> dict:
    """The memo's mapping, read afresh when it lacks one of these ids (created in another process just now)."""
    known = memo()
    if any(pk not in known for pk in ids):
        memo.cache_clear()
        known = memo()
    return known


def user_prepared(user, holder=None):
    """Fill the user's role names and permission caches from what users_loaded aggregated (`holder`: the row that
    carried the aggregates, when it was not the user itself)."""
    holder = holder if holder is not None else user
    if user is None or not hasattr(holder, "_loaded_roles"):
        return user
    role_ids, perm_ids = holder._loaded_roles or (), holder._loaded_perms or ()  # None: no rows to aggregate
    roles = _knowing(_roles, role_ids)
    mine = [roles[pk] for pk in role_ids if pk in roles]
    user.__dict__["role_names"] = frozenset(name for name, _perms in mine)
    if not user.is_superuser:  # Django answers a superuser's permission questions without these caches
        names = _knowing(_permission_names, perm_ids)
        user._user_perm_cache = {names[pk] for pk in perm_ids if pk in names}
        user._group_perm_cache = set().union(*(perms for _name, perms in mine))
        user._perm_cache = {*user._user_perm_cache, *user._group_perm_cache}
    return user


class UserBackend(ModelBackend):
    """Django's model backend, reading the session's user in one statement (users_loaded)."""

    def get_user(self, user_id):
        user = users_loaded().filter(pk=user_id).first()
        return user_prepared(user) if user is not None and self.user_can_authenticate(user) else None
