"""API shapes of support requests. Action bodies use the service functions' keyword arguments."""

from rest_framework import serializers

from complaints.serializers import CodeRelatedField
from core.web.serializers import ModelFieldsOnce
from org.models import Department
from support.models import SupportEvent, SupportRequest


def _text(required=True, max_length=4000):
    if required:
        return serializers.CharField(max_length=max_length)
    return serializers.CharField(max_length=max_length, required=False, allow_blank=True, default="")


class SupportEventSerializer(ModelFieldsOnce):
    class Meta:
        model = SupportEvent
        fields = ["action", "actor_name", "from_status", "to_status", "comment", "data", "created_at"]


class SupportRequestSerializer(ModelFieldsOnce):
    requester = serializers.CharField(source="requester.username", read_only=True)
    requester_department = serializers.CharField(source="requester_department.code", read_only=True)
    department = serializers.CharField(source="department.code", read_only=True, default=None)
    answered_department = serializers.CharField(source="answered_department.code", read_only=True, default=None)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = SupportRequest
        fields = ["number", "kind", "title", "description", "status", "requester", "requester_name",
                  "requester_department", "received_at", "department", "due_at", "warn_at", "original_due_at",
                  "overdue", "deferred_at", "deferral_reason", "answer", "answered_department", "answered_at",
                  "answered_on_time", "rating_due_at", "rating", "rating_comment", "rated_at", "reopen_count",
                  "resolution", "close_reason", "closed_at"]
        read_only_fields = fields

    def get_overdue(self, obj) -> bool:
        return obj.is_overdue()


class SupportRequestDetailSerializer(SupportRequestSerializer):
    events = SupportEventSerializer(many=True, read_only=True)

    class Meta(SupportRequestSerializer.Meta):
        fields = [*SupportRequestSerializer.Meta.fields, "events"]
        read_only_fields = fields


class SupportRaiseSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SupportRequest.Kind.choices)
    title = serializers.CharField(max_length=200)
    description = _text()


class SupportRouteSerializer(serializers.Serializer):
    department = CodeRelatedField(slug_field="code", queryset=Department.objects.all())
    kind = serializers.ChoiceField(choices=SupportRequest.Kind.choices, required=False, allow_blank=True, default="")
    comment = _text(required=False)


class SupportAnswerSerializer(serializers.Serializer):
    answer = _text()


class SupportReasonSerializer(serializers.Serializer):
    reason = _text()


class SupportDeferSerializer(serializers.Serializer):
    until = serializers.DateField()
    reason = _text()


class SupportApproveSerializer(serializers.Serializer):
    comment = _text(required=False)


class SupportRateSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = _text(required=False)
    reopen = serializers.BooleanField(default=False)


class SupportCommentSerializer(serializers.Serializer):
    body = _text()


ACTION_SERIALIZERS = {
    "route": SupportRouteSerializer,
    "answer": SupportAnswerSerializer,
    "reject": SupportReasonSerializer,
    "return": SupportReasonSerializer,
    "defer": SupportDeferSerializer,
    "approve": SupportApproveSerializer,
    "send_back": SupportReasonSerializer,
    "rate": SupportRateSerializer,
    "comment": SupportCommentSerializer,
}
