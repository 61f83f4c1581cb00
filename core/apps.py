from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Layer 1: the kernel every app builds on; no domain."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
