from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = _("Quality")

    def ready(self):
        # local: models and services load only once the apps are ready
        from quality import batch, services
        from workflow import hooks

        hooks.order_rated.subscribe(services.callback_survey_record)
        hooks.order_reopened.subscribe(services.follow_up_open)
        hooks.incident_for_new_order.subscribe(batch.incident_for_new_order)
