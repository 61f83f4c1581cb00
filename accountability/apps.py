from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountabilityConfig(AppConfig):
    name = "accountability"
    verbose_name = _("Accountability")

    def ready(self):
        # local: models and services load only once the apps are ready
        from accountability import selectors, services  # local: apps ready only now
        from workflow import hooks  # local: apps ready only now

        hooks.order_closed.subscribe(services.determination_propose)
        hooks.orders_imported_closed.subscribe(services.determinations_propose_bulk)
        hooks.months_closed.subscribe(selectors.months_closed)
