from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OrderEvent(models.Model):
    """The append-only audit trail of a work order: who did what, when, from which state to which."""

    class Action(models.TextChoices):
        RECEIVED = "received", _("Received")
        RESOLVED_ON_SPOT = "resolved_on_spot", _("Resolved on the spot")
        LINKED_REPEAT = "linked_repeat", _("Linked as repeat complaint")
        NOTE_ADDED = "note_added", _("Note added")
        ATTACHMENT_ADDED = "attachment_added", _("Attachment added")
        IMPORTED = "imported", _("Imported")

    # Actions whose fact (never the comment or the actor) a customer may see on the progress page.
    PUBLIC_ACTIONS = frozenset({Action.RECEIVED, Action.RESOLVED_ON_SPOT, Action.IMPORTED})

    order = models.ForeignKey(
        "complaints.WorkOrder", verbose_name=_("work order"), on_delete=models.PROTECT, related_name="events"
    )
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=64)
    from_status = models.CharField(_("from"), max_length=24, blank=True)
    to_status = models.CharField(_("to"), max_length=24, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"], name="event_order_created")]

    def __str__(self):
        return f"{self.order_id} {self.action} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_public(self) -> bool:
        return self.action in self.PUBLIC_ACTIONS
