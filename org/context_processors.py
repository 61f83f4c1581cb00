from org import roles as role_defs


def roles(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "user_roles": user.role_names,
        "can_intake": user.is_superuser or user.has_role(*role_defs.INTAKE_ROLES),
    }
