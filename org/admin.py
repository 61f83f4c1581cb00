from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from org.models import ApiScope, ApiToken, Department, Region, User
from org.tokens import new_key, token_errors, token_revoke


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
    list_display = ["name", "code", "kind", "region", "channel", "trusted", "queue_notice", "callback_department",
                    "is_active"]
    list_filter = ["kind", "is_active", "trusted", "queue_notice", "region__level", "channel"]
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


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(label=_("scopes"), choices=ApiScope.choices,
                                       widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiToken
        fields = ["name", "user", "scopes", "expires_at"]

    def clean(self):
        data = super().clean()
        user = data.get("user", self.instance.user if self.instance.pk else None)
        errors = token_errors(user=user, name=data.get("name", ""), scopes=data.get("scopes") or [],
                              expires_at=data.get("expires_at"))
        for field, messages_ in errors.items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, messages_)
        return data


@admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
def revoke_tokens(modeladmin, request, queryset):
    revoked = 0
    for token in queryset:
        if token.revoked_at is None:
            token_revoke(actor=request.user, token=token)
            revoked += 1
    modeladmin.message_user(request, gettext("%(count)d token(s) revoked.") % {"count": revoked}, messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Issue a token (its key is shown once), narrow its scopes, revoke it; a token is never deleted, so its
    history stays."""

    form = ApiTokenForm
    list_display = ["name", "prefix", "user", "scope_list", "created_at", "expires_at", "last_used_at",
                    "last_used_ip", "revoked_at"]
    list_filter = ["revoked_at", "user"]
    search_fields = ["name", "prefix", "user__username"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]
    readonly_fields = ["prefix", "created_at", "created_by", "last_used_at", "last_used_ip", "revoked_at",
                       "revoked_by"]
    actions = [revoke_tokens]

    @admin.display(description=_("scopes"))
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    def get_readonly_fields(self, request, obj=None):
        fixed = [*self.readonly_fields]
        if obj is not None:
            fixed.insert(0, "user")
        return fixed

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.revoked_at is not None:
            return False  # a revoked token is read only
        return super().has_change_permission(request, obj)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "user", "scopes", "expires_at"]
        return ["name", "user", "scopes", "expires_at", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        key = None
        if not change:
            key, obj.prefix, obj.key_hash = new_key()
            obj.created_by = request.user
        obj.scopes = [s for s in ApiScope.values if s in (form.cleaned_data.get("scopes") or obj.scopes)]
        super().save_model(request, obj, form, change)
        if key:
            self.message_user(request, gettext("The key of “%(name)s” is %(key)s . Copy it now: it is not shown "
                                               "again.") % {"name": obj.name, "key": key}, messages.WARNING)

    def has_delete_permission(self, request, obj=None):
        return False
