from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SmsConfig(AppConfig):
    name = "sms"
    verbose_name = _("Customer SMS")

    def ready(self):
        from sms import services  # local: apps ready only now
        from workflow import hooks  # local: apps ready only now

        hooks.order_answered.subscribe(services.order_answer_told)
        hooks.order_promise_moved.subscribe(services.order_promise_told)
