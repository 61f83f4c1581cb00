from axes.apps import AppConfig as AxesAppConfig
from django.contrib.auth.signals import user_login_failed
from django.contrib.staticfiles.apps import StaticFilesConfig
from django.utils.translation import gettext_lazy as _


class StaticFiles(StaticFilesConfig):
    """Static files without what the front-end packages ship besides the one build we serve (source maps, the
    ECharts variants and extensions): collectstatic would otherwise copy and compress tens of megabytes."""

    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "echarts*.map", "echarts.js", "echarts.common.*",
                       "echarts.simple.*", "echarts.esm.*", "extension"]


class Axes(AxesAppConfig):
    """django-axes under a name the administrators read in their language (its own label is "Axes", and it ships
    no Chinese catalogue: config/third_party_strings.py carries its words into ours)."""

    verbose_name = _("Login security")

    def ready(self):
        super().ready()
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog  # local: apps ready only now

        from config.security import login_failure_count  # local: it reads the models

        # Failed logins per address, beside django-axes' per username and address (config/security.py).
        user_login_failed.connect(login_failure_count, dispatch_uid="login-failures-per-address")

        # Its rows name themselves in English f-strings ("Access Log for … @ …"): in the reader's language instead.
        AccessLog.__str__ = lambda log: _("Login by %(user)s at %(time)s") % {
            "user": log.username, "time": f"{log.attempt_time:%Y-%m-%d %H:%M:%S}"}
        AccessAttempt.__str__ = lambda attempt: _("Login attempt at %(time)s") % {
            "time": f"{attempt.attempt_time:%Y-%m-%d %H:%M:%S}"}
        AccessFailureLog.__str__ = lambda failure: _("Failed login by %(user)s at %(time)s from %(address)s") % {
            "user": failure.username, "time": f"{failure.attempt_time:%Y-%m-%d %H:%M:%S}",
            "address": failure.ip_address}
