from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Top layer: the demo world (`manage.py seed_demo`). It may import every app; no app imports it."""

    name = "demo"
