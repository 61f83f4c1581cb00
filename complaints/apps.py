from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from complaints.redaction import redact
from core.web.exports import export_text_check_set


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("Complaints")

    def ready(self):
        # Every text cell of a CSV or Excel file passes the one personal-data check.
        export_text_check_set(redact)
