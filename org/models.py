from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import permissions
from org import roles


class Region(models.Model):
    class Level(models.IntegerChoices):
        PROVINCE = 1, _("Province")
        CITY = 2, _("City")
        COUNTY = 3, _("County")

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=64)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Materialised path of codes ("/44/4401/440106/") so "this region and below" is one indexed prefix match.
    path = models.CharField(_("path"), max_length=255, unique=True, editable=False)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level=1, parent__isnull=True) | models.Q(level__gt=1, parent__isnull=False),
                name="region_only_province_is_root",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        old_path = self.path
        self.path = f"{self.parent.path if self.parent_id else '/'}{self.code}/"
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            for child in self.children.all():
                child.save()


class Department(models.Model):
    class Kind(models.TextChoices):
        FRONTLINE = permissions.FRONTLINE_UNIT, _("Frontline unit")
        COMPLAINT_CENTRE = permissions.COMPLAINT_CENTRE, _("Complaint centre")
        BACK_OFFICE = "back_office", _("Back-office department")
        QUALITY = "quality", _("Quality management")

    class QueueNotice(models.TextChoices):
        NONE = "none", _("No notification")
        IN_APP = "in_app", _("In-app notification")
        EMAIL = "email", _("In-app notification and e-mail")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="departments")
    channel = models.ForeignKey(
        "complaints.Channel",
        verbose_name=_("channel"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("For frontline units: the channel they take complaints through."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    trusted = models.BooleanField(
        _("trusted"),
        default=False,
        help_text=_("Replies of this department to ordinary orders skip the complaint centre's review."),
    )
    queue_notice = models.CharField(
        _("new orders in the queue"),
        max_length=8,
        choices=QueueNotice.choices,
        default=QueueNotice.IN_APP,
        help_text=_("How the department's handlers (a complaint centre's dispatchers) hear of an ordinary order "
                    "arriving in its queue. A major, VIP, group-customer or escalated order always notifies the "
                    "lead at once."),
    )
    callback_department = models.ForeignKey(
        "self",
        verbose_name=_("callback unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("For frontline units without agents (e.g. a channel system's account): the unit that calls "
                    "back the customers of orders it logged. Empty: the unit itself."),
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["region__path", "kind", "name"]

    def __str__(self):
        return f"{self.name} ({self.region})"

    @property
    def callback_unit_id(self) -> int:
        return self.callback_department_id or self.pk


class User(AbstractUser):
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    display_name = models.CharField(_("display name"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.display_name or self.get_full_name() or self.username

    @cached_property
    def role_names(self) -> frozenset[str]:
        return frozenset(self.groups.values_list("name", flat=True))

    def has_role(self, *names: str) -> bool:
        return bool(self.role_names.intersection(names))

    @property
    def region(self):
        return self.department.region if self.department_id else None

    @property
    def is_channel_system(self) -> bool:
        return self.has_role(roles.CHANNEL_SYSTEM)


class ApiScope(models.TextChoices):
    """What a token may do; an API view names the scope each of its methods needs (org.tokens.TokenScope)."""

    ORDERS_READ = "orders:read", _("Read orders, their timelines and customers' histories")
    ORDERS_WRITE = "orders:write", _("Log orders and add attachments")
    ORDERS_ACT = "orders:act", _("Take workflow actions on orders")
    SUPPORT_READ = "support:read", _("Read support requests")
    SUPPORT_WRITE = "support:write", _("Raise support requests and act on them")


class ApiToken(models.Model):
    """A channel system's key to the REST API: scoped, revocable, expiring if wanted, with its last use. Only a
    hash of the key is kept; the key is shown once, when it is issued (org.tokens.token_issue)."""

    name = models.CharField(_("name"), max_length=100, help_text=_("Which system and installation uses it."))
    user = models.ForeignKey(User, verbose_name=_("account"), on_delete=models.PROTECT, related_name="api_tokens",
                             help_text=_("The account the system acts as: its role, department and region apply."))
    prefix = models.CharField(_("key prefix"), max_length=12, db_index=True, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("issued at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(User, verbose_name=_("issued by"), null=True, blank=True, editable=False,
                                   on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True,
                                      help_text=_("Leave empty for a key that lasts until it is revoked."))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(User, verbose_name=_("revoked by"), null=True, blank=True, editable=False,
                                   on_delete=models.SET_NULL, related_name="+")
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    last_used_ip = models.GenericIPAddressField(_("last used from"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def allows(self, scope: str) -> bool:
        return scope in self.scopes
