from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from org.models import Department, Region, User


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["indented_name", "code", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["parent"]

    @admin.display(description=_("name"), ordering="path")
    def indented_name(self, obj):
        return ("— " * (obj.level - 1)) + obj.name


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "region", "channel", "trusted", "callback_department", "is_active"]
    list_filter = ["kind", "is_active", "trusted", "region__level", "channel"]
    search_fields = ["name", "code", "region__name"]
    autocomplete_fields = ["region", "callback_department"]
    list_select_related = ["region", "channel"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "department", "is_active", "last_login"]
    list_filter = ["groups", "is_active", "department__kind", "department__region"]
    search_fields = ["username", "display_name", "first_name", "last_name", "email", "department__name"]
    autocomplete_fields = ["department"]
    list_select_related = ["department__region"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Organisation"), {"fields": ["display_name", "department"]}),
    ]
