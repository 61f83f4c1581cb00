from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from complaints.models import (
    AuthorityLevel,
    Category,
    Channel,
    Customer,
    CustomerChange,
    IntakePolicy,
    Kind,
    PhoneDisclosure,
    Severity,
)
from complaints.phone import mask, mask_in_text
from core.permissions import may_see_full_phone


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records kept as evidence: read, never added, changed or deleted here. A reader without the permission to
    see full phone numbers reads the records' text with the numbers in it masked (complaints.phone)."""

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is None or may_see_full_phone(request.user):
            return fields
        return [self._masked_text(name) if self._is_text(name) else name for name in fields]

    def _is_text(self, name) -> bool:
        try:
            field = self.model._meta.get_field(name)
        except (FieldDoesNotExist, TypeError):
            return False
        # Plain text only: a CharField subclass may hold something else (viewflow's flow class reference).
        return type(field) in (models.CharField, models.TextField) and not field.choices

    def _masked_text(self, name: str) -> str:
        """A read-only display of the text field with phone numbers masked, made once per admin class."""
        attribute = f"{name}_phones_masked"
        if not hasattr(type(self), attribute):
            def display(admin_, obj, _name=name):
                value = getattr(obj, _name)
                return mask_in_text(value) if isinstance(value, str) else value

            display.short_description = self.model._meta.get_field(name).verbose_name
            setattr(type(self), attribute, display)
        return attribute

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "is_active"]
    search_fields = ["code", "name", "name_en"]


class LeafFilter(admin.SimpleListFilter):
    title = _("leaf")
    parameter_name = "leaf"

    def lookups(self, request, model_admin):
        return [("1", _("Leaves only")), ("0", _("Groups only"))]

    def queryset(self, request, queryset):
        has_children = Exists(Category.objects.filter(parent=OuterRef("pk")))
        if self.value() == "1":
            return queryset.exclude(has_children)
        if self.value() == "0":
            return queryset.filter(has_children)
        return queryset


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """The tree shows as an indented list in path order; parents are chosen with a search box."""

    list_display = ["indented_name", "code", "level", "responsible_department", "default_severity", "is_active"]
    list_filter = ["level", LeafFilter, "is_active", "default_severity", "responsible_department"]
    search_fields = ["code", "name", "name_en", "pinyin_initials"]
    autocomplete_fields = ["parent", "responsible_department"]
    list_select_related = ["responsible_department__region"]
    readonly_fields = ["level", "path", "pinyin", "pinyin_initials"]
    list_per_page = 200

    @admin.display(description=_("name"), ordering="path")
    def indented_name(self, obj):
        return ("— " * (obj.level - 1)) + obj.name


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["phone", "name", "tier", "brand", "home_region", "created_at"]
    list_filter = ["tier", "brand", "home_region__level"]
    search_fields = ["=phone", "name"]
    autocomplete_fields = ["home_region"]
    list_select_related = ["home_region"]
    show_full_result_count = False

    @admin.display(description=_("mobile number"), ordering="phone")
    def masked_phone(self, obj):
        return mask(obj.phone)

    def get_list_display(self, request):
        if may_see_full_phone(request.user):
            return self.list_display
        return ["masked_phone", *self.list_display[1:]]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and not may_see_full_phone(request.user):
            return ["masked_phone" if f == "phone" else f for f in fields if f != "masked_phone"]
        return fields

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not may_see_full_phone(request.user):
            return ["masked_phone"]
        return []


@admin.register(AuthorityLevel)
class AuthorityLevelAdmin(admin.ModelAdmin):
    list_display = ["role", "kind_labels", "severity_labels", "max_compensation", "effective_from"]
    list_filter = ["role"]
    search_fields = ["role__name", "note"]
    fields = ["role", "kinds", "severities", "max_compensation", "effective_from", "note"]  # the form's order

    @admin.display(description=_("kinds"))
    def kind_labels(self, obj):
        return "、".join(str(Kind(k).label) if k in Kind.values else k for k in obj.kinds or [])

    @admin.display(description=_("severities"))
    def severity_labels(self, obj):
        return "、".join(str(Severity(s).label) if s in Severity.values else s for s in obj.severities or [])


@admin.register(IntakePolicy)
class IntakePolicyAdmin(admin.ModelAdmin):
    list_display = ["effective_from", "repeat_window_days"]


class WorkOrderAdmin(admin.ModelAdmin):
    """Read-only: orders change only through the services, never by editing a row. Registered by workflow/admin.py
    with the lifecycle's actions."""

    list_display = ["number", "kind", "status", "channel", "category", "customer_masked", "region",
                    "current_department", "received_at"]
    list_filter = ["status", "kind", "channel", "severity", "resolved_on_spot", "escalation_level", "source",
                   ("closed_month_arrival", admin.EmptyFieldListFilter)]
    search_fields = ["=number", "=customer__phone"]
    list_select_related = ["channel", "category", "customer", "region", "current_department"]
    date_hierarchy = "received_at"
    show_full_result_count = False

    @admin.display(description=_("customer"), ordering="customer__phone")
    def customer_masked(self, obj):
        return f"{obj.customer.name or '-'} {mask(obj.customer.phone)}"

    def get_list_display(self, request):
        if may_see_full_phone(request.user):
            return ["customer" if f == "customer_masked" else f for f in self.list_display]
        return self.list_display

    @admin.display(description=_("contact number"))
    def contact_masked(self, obj):
        return mask(obj.contact_phone) if obj.contact_phone else ""

    @admin.display(description=_("description"))
    def description_masked(self, obj):
        return mask_in_text(obj.description)

    @admin.display(description=_("answer"))
    def answer_masked(self, obj):
        return mask_in_text(obj.answer)

    MASKED_FIELDS = {"customer": "customer_masked", "contact_phone": "contact_masked",
                     "description": "description_masked", "answer": "answer_masked"}

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f not in self.MASKED_FIELDS.values()]
        if may_see_full_phone(request.user):
            return fields
        return [self.MASKED_FIELDS.get(f, f) for f in fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CustomerChange)
class CustomerChangeAdmin(ReadOnlyAdmin):
    """What intakes proposed or changed in customers' records (name, tier, brand, home region): read-only."""

    list_display = ["created_at", "customer", "applied", "actor_name", "order", "changes"]
    list_filter = ["applied"]
    search_fields = ["actor_name", "=order__number", "=customer__phone"]
    date_hierarchy = "created_at"
    list_select_related = ["customer", "order"]
    raw_id_fields = ["actor", "customer", "order"]
    show_full_result_count = False


@admin.register(PhoneDisclosure)
class PhoneDisclosureAdmin(ReadOnlyAdmin):
    """Who revealed which masked phone number, where and when: read-only, kept as evidence."""

    list_display = ["disclosed_at", "user_name", "order", "page"]
    list_filter = ["page"]
    search_fields = ["user_name", "=order__number"]
    date_hierarchy = "disclosed_at"
    list_select_related = ["order"]
    raw_id_fields = ["user", "customer", "order"]
