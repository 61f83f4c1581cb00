"""Effective-dated configuration: rules an operator edits as versions, each in force from a day on.

A rule is always read as of the day the record it judges began (an order's receipt, a request's raising, a
stage's start), never as of today for an old record: a version added later does not change how earlier records are
judged. Two shapes:

- `EffectiveDated`: rows in force from `effective_from` on (and up to `expires_on` where the model has one);
  several may be in force at once (one per role, per category, per KPI and region…). `Model.objects.in_force(on=)`
  gives those rows; picking among them (the latest of each role…) is the app's own rule.
- `EffectivePolicy`: one version in force at a time, the latest effective one. `Model.in_force(on=)` gives it (an
  unsaved instance with the model's defaults when none is), read through the per-process memo (`core.memo`): a
  change in admin takes effect within a minute everywhere, at once in the process that made it.
"""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.memo import cached_for

POLICY_MEMO_SECONDS = 60


class EffectiveQuerySet(models.QuerySet):
    def in_force(self, *, on: date | None = None) -> EffectiveQuerySet:
        """The rows in force on that day (today by default)."""
        on = on or timezone.localdate()
        rows = self.filter(effective_from__lte=on)
        if self.model.ENDS_ON is not None:
            rows = rows.filter(Q(**{f"{self.model.ENDS_ON}__isnull": True}) | Q(**{f"{self.model.ENDS_ON}__gte": on}))
        return rows


class EffectiveDated(models.Model):
    """Rows in force from a day on. A model whose rows also end names its end field in `ENDS_ON`."""

    ENDS_ON: str | None = None

    effective_from = models.DateField(_("effective from"))

    objects = EffectiveQuerySet.as_manager()

    class Meta:
        abstract = True

    def is_in_force(self, on: date | None = None) -> bool:
        on = on or timezone.localdate()
        ends_on = getattr(self, self.ENDS_ON) if self.ENDS_ON is not None else None
        return self.effective_from <= on and (ends_on is None or ends_on >= on)


class EffectivePolicy(EffectiveDated):
    """A policy with one version in force at a time: the latest effective one."""

    effective_from = models.DateField(_("effective from"), unique=True)

    class Meta:
        abstract = True

    def __str__(self):
        return str(self.effective_from)

    @classmethod
    def in_force(cls, *, on: date | None = None):
        """The version in force on that day (today by default); the model's defaults when none is."""
        return _version_in_force(cls, on or timezone.localdate())


@cached_for(POLICY_MEMO_SECONDS)
def _version_in_force(model: type[EffectivePolicy], on: date) -> EffectivePolicy:
    return model.objects.in_force(on=on).order_by("-effective_from").first() or model(effective_from=on)
