from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Layer 1: the kernel every app builds on; no domain."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = _("Kernel")
