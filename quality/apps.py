from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = _("Quality")

    def ready(self):
        # local: models and services load only once the apps are ready
        from quality import batch, forms, services, warning_views  # local: apps ready only now
        from workflow import hooks  # local: apps ready only now

        hooks.order_rated.subscribe(services.callback_survey_record)
        hooks.order_reopened.subscribe(services.follow_up_open)
        hooks.incident_for_new_order.subscribe(batch.incident_for_new_order)
        hooks.intake_panel.subscribe(warning_views.intake_incident_panel)
        hooks.order_page_panel.subscribe(warning_views.order_incident_panel)
        hooks.intake_form_fields.subscribe(forms.intake_form_fields)
