from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    verbose_name = _("Knowledge base and case library")

    def ready(self):
        # local: models and services load only once the apps are ready
        from knowledge import services
        from workflow import hooks

        hooks.order_received.subscribe(services.article_use_at_intake)
