"""Long work that leaves the request: a row a Celery task claims and updates as it goes, which a page polls."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Job(models.Model):
    class Kind(models.TextChoices):
        IMPORT_ORDERS = "import_orders", _("Historical import")
        ACCOUNTABILITY_MONTH = "accountability_month", _("Accountability month close")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Not started")
        QUEUED = "queued", _("Waiting for a worker")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", pgettext_lazy("STATUS", "Done")
        FAILED = "failed", _("Failed")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    # Two jobs with the same kind and key never run at once (a month is closed by one job at a time).
    key = models.CharField(_("key"), max_length=64, blank=True)
    title = models.CharField(_("title"), max_length=200)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("started by"), on_delete=models.PROTECT,
                                   related_name="+")
    created_by_name = models.CharField(_("started by (name)"), max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), null=True, blank=True)
    step = models.CharField(_("current step"), max_length=200, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    input_file = models.FileField(_("input file"), upload_to="jobs/input/%Y/%m/", blank=True)
    input_name = models.CharField(_("input file name"), max_length=255, blank=True)
    output_file = models.FileField(_("output file"), upload_to="jobs/output/%Y/%m/", blank=True)
    output_name = models.CharField(_("output file name"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["kind", "created_by", "-created_at"], name="job_kind_by_user"),
            models.Index(fields=["status", "queued_at"], name="job_active", condition=Q(status__in=["queued",
                                                                                                "running"])),
        ]
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], condition=Q(status__in=["queued", "running"]) & ~Q(key=""),
                                    name="job_one_active_per_key"),
            models.CheckConstraint(condition=Q(total__isnull=True) | Q(done__lte=models.F("total")),
                                   name="job_done_within_total"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def percent(self) -> int | None:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.total:
            return None
        return min(100, int(self.done * 100 / self.total))
