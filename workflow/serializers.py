"""API input of the order actions. Field names are the service functions' keyword arguments."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from complaints.models import ResultCode
from complaints.serializers import CodeRelatedField
from org.models import Department, User
from workflow.models import OrderEvent
from workflow.services import CancelReason, EscalationReason, ReturnReason


def _department_field():
    return CodeRelatedField(slug_field="code", queryset=Department.objects.all(),
                            help_text=_("The department's code."))


def _reason(required=True):
    return serializers.CharField(max_length=2000, required=required, allow_blank=not required, default="" if not
                                 required else serializers.empty)


class EmptySerializer(serializers.Serializer):
    pass


class DispatchSerializer(serializers.Serializer):
    department = _department_field()
    comment = _reason(required=False)


class TransferSerializer(serializers.Serializer):
    department = _department_field()
    reason = _reason()


class CommentSerializer(serializers.Serializer):
    comment = _reason(required=False)


class AssignSerializer(serializers.Serializer):
    assignee = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.filter(is_active=True),
                                            help_text=_("The handler's username."))
    comment = _reason(required=False)


class ReturnSerializer(serializers.Serializer):
    reason_kind = serializers.ChoiceField(choices=ReturnReason.choices)
    reason = _reason()


class WaitSerializer(serializers.Serializer):
    until = serializers.DateTimeField()
    comment = _reason()


class NoteSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=4000)
    internal = serializers.BooleanField(default=True)


class ReplySerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=4000)
    result_code = serializers.ChoiceField(choices=ResultCode.choices)
    compensation = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False,
                                            allow_null=True, default=None)


class ReviewSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    reason = _reason(required=False)


class CallbackSerializer(serializers.Serializer):
    reached = serializers.BooleanField()
    satisfaction = serializers.IntegerField(
        min_value=1, max_value=5, required=False, allow_null=True, default=None,
        help_text=_("callback: 5 very satisfied, 4 satisfied, 3 neutral, 2 dissatisfied, 1 very dissatisfied. A "
                    "dissatisfied rating (the workflow policy's, 1–2 by default) reopens the order and opens a "
                    "follow-up."))
    solved = serializers.BooleanField(required=False, allow_null=True, default=None)
    comment = _reason(required=False)


class ReasonSerializer(serializers.Serializer):
    reason = _reason()


class CancelSerializer(serializers.Serializer):
    reason_kind = serializers.ChoiceField(choices=CancelReason.choices)
    reason = _reason()


class EscalateSerializer(serializers.Serializer):
    reason_kind = serializers.ChoiceField(
        choices=[c for c in EscalationReason.choices if c[0] != EscalationReason.OVERDUE])
    reason = _reason()


class ExtendSerializer(serializers.Serializer):
    until = serializers.DateTimeField(help_text=_("The new deadline asked for."))
    reason = _reason()


class DecideExtensionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    reason = _reason(required=False)


ACTION_SERIALIZERS = {
    "dispatch": DispatchSerializer,
    "claim": EmptySerializer,
    "release": CommentSerializer,
    "assign": AssignSerializer,
    "transfer": TransferSerializer,
    "return": ReturnSerializer,
    "wait": WaitSerializer,
    "resume": CommentSerializer,
    "note": NoteSerializer,
    "reply": ReplySerializer,
    "review": ReviewSerializer,
    "callback": CallbackSerializer,
    "reopen": ReasonSerializer,
    "cancel": CancelSerializer,
    "escalate": EscalateSerializer,
    "extend": ExtendSerializer,
    "decide_extension": DecideExtensionSerializer,
}


class TimelineEventSerializer(serializers.ModelSerializer):
    action_label = serializers.CharField(source="get_action_display", read_only=True)

    class Meta:
        model = OrderEvent
        fields = ["action", "action_label", "actor_name", "from_status", "to_status", "comment", "data",
                  "created_at"]
        read_only_fields = fields
