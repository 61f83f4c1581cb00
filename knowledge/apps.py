from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    verbose_name = _("Knowledge base and case library")

    def ready(self):
        # local: models and services load only once the apps are ready
        from knowledge import forms, services, views  # local: apps ready only now
        from workflow import hooks  # local: apps ready only now

        hooks.order_received.subscribe(services.article_use_at_intake)
        hooks.intake_panel.subscribe(views.intake_suggestions_panel)
        hooks.order_page_panel.subscribe(views.order_knowledge)
        hooks.intake_form_fields.subscribe(forms.intake_form_fields)
