from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.web.exports import export_recorder_add


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self):
        from reports.exports import export_record  # local: it needs the models, loaded only now

        export_recorder_add(export_record)
