from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from complaints.models import Category, Channel, Kind
from complaints.selectors import category_tree, channels_by_code
from org.models import Department, Region


class CodeRelatedField(serializers.SlugRelatedField):
    """A related object named by its code, with an error that says which code was not found."""

    default_error_messages = {
        "does_not_exist": _("Unknown code “{value}”."),
        "invalid": _("Give the code as text."),
    }


class ActiveCodeField(CodeRelatedField):
    """An active channel or category named by its code, read from the per-process memo (complaints.selectors
    channels_by_code / category_tree) instead of a query per create. `queryset` stays for the schema."""

    def __init__(self, *, lookup, **kwargs):
        self.lookup = lookup
        super().__init__(slug_field="code", **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        found = self.lookup().get(data)
        if found is None or not found.is_active:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return found


def active_channel_field(**kwargs) -> ActiveCodeField:
    return ActiveCodeField(lookup=channels_by_code, queryset=Channel.objects.filter(is_active=True), **kwargs)


def active_category_field(**kwargs) -> ActiveCodeField:
    return ActiveCodeField(lookup=lambda: category_tree().by_code, queryset=Category.objects.filter(is_active=True),
                           **kwargs)


class OrderFilterSerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False, max_length=64,
        help_text="Search, as the order search of the browser: a mobile number finds the customer's orders, "
                  "anything else is taken as an order number (case does not matter).")
    status = serializers.CharField(required=False)
    kind = serializers.ChoiceField(choices=Kind.choices, required=False)
    channel = CodeRelatedField(slug_field="code", queryset=Channel.objects.all(), required=False)
    category = CodeRelatedField(slug_field="code", queryset=Category.objects.all(), required=False)
    department = CodeRelatedField(slug_field="code", queryset=Department.objects.all(), required=False)
    region = CodeRelatedField(slug_field="code", queryset=Region.objects.all(), required=False)
    received_from = serializers.DateTimeField(required=False)
    received_to = serializers.DateTimeField(required=False)
    phone = serializers.CharField(required=False)

    def validate(self, attrs):
        if attrs.get("received_from") and attrs.get("received_to") and attrs["received_from"] > attrs["received_to"]:
            raise serializers.ValidationError({"received_to": [_("The end lies before the start.")]})
        if attrs.get("channel"):
            attrs["channel"] = attrs["channel"].code
        return attrs


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    original_name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
