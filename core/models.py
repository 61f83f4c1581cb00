from django.db import models
from django.utils.translation import gettext_lazy as _


class DayCounter(models.Model):
    """The last number taken on one day of one series ("order", "support"…); written only by core.counters."""

    series = models.CharField(_("series"), max_length=40)
    day = models.DateField(_("day"))
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("day counter")
        verbose_name_plural = _("day counters")
        constraints = [models.UniqueConstraint(fields=["series", "day"], name="core_daycounter_series_day")]

    def __str__(self):
        return f"{self.series} {self.day}: {self.last}"
