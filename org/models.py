from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

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
        FRONTLINE = "frontline", _("Frontline unit")
        COMPLAINT_CENTRE = "complaint_centre", _("Complaint centre")
        BACK_OFFICE = "back_office", _("Back-office department")
        QUALITY = "quality", _("Quality management")

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
