from django.apps import AppConfig
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "org"
    verbose_name = _("Organisation")

    def ready(self):
        from django.contrib.auth.models import Group, Permission  # local: apps ready only now

        from org import schema  # noqa: F401  # local: registers the OpenAPI description of the token authentication
        from org.roles import ROLE_LABELS  # local: apps ready only now

        # A role is a group with a stable code for a name; wherever a group is shown (admin lists, pickers, the
        # authority levels) the reader sees the role's label in their language, not the code.
        Group.__str__ = lambda group: str(ROLE_LABELS.get(group.name, group.name))
        # Permission names are stored in English when the tables are migrated; show them in the reader's language.
        Permission.__str__ = permission_label


DEFAULT_PERMISSIONS = {
    "add": _("Can add %(model)s"), "change": _("Can change %(model)s"), "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
    "manage": _("Can manage %(model)s"),  # viewflow's, on the process models
}


def permission_label(permission) -> str:
    model = permission.content_type.model_class()
    action, _sep, model_name = permission.codename.partition("_")
    if model is not None and action in DEFAULT_PERMISSIONS and model_name == model._meta.model_name:
        name = DEFAULT_PERMISSIONS[action] % {"model": model._meta.verbose_name}
    else:
        name = gettext(permission.name)  # the custom permissions' names are in the catalogue
    return f"{permission.content_type} | {name}"
