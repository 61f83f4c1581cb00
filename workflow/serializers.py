"""The orders over the API: what a create takes, what an order reads as, and the input of the order actions
(their field names are the service functions' keyword arguments)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from complaints.models import Brand, Kind, ReplyMethod, ResultCode, Severity, Tier, WorkOrder
from complaints.phone import mask, mask_in_text
from complaints.redaction import redact_name
from complaints.selectors import customer_visible_to, orders_visible_to
from complaints.serializers import CodeRelatedField, active_category_field, active_channel_field
from core.permissions import may_see_full_phone
from core.web.serializers import ModelFieldsOnce
from org.models import Department, Region, User
from workflow.intake import received_at_problem
from workflow.models import OrderEvent, Stage, StageOutcome
from workflow.selectors import order_department_clocks
from workflow.services import CancelReason, EscalationReason, ReturnReason, order_actions_available

# The batch-complaint incident an order joins, as the order record names it (quality is above this layer).
INCIDENT_MODEL = WorkOrder._meta.get_field("incident").related_model


class OnSpotSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=4000, help_text=_("The answer given to the customer."))
    compensation = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False, allow_null=True)


class SafeDateTimeField(serializers.DateTimeField):
    """A moment at the very ends of the calendar (year 1 read in Shanghai time) is a field error, not a 500."""

    def enforce_timezone(self, value):
        try:
            return super().enforce_timezone(value)
        except (OverflowError, ValueError):
            self.fail("invalid", format="ISO 8601")


class OrderCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices, default=Kind.COMPLAINT)
    channel = active_channel_field()
    category = active_category_field()
    severity = serializers.ChoiceField(choices=Severity.choices, required=False,
                                       help_text=_("Defaults to the category's default severity."))
    description = serializers.CharField(max_length=4000)
    customer_phone = serializers.CharField(max_length=32)
    contact_phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    customer_name = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    customer_tier = serializers.ChoiceField(choices=Tier.choices, required=False)
    customer_brand = serializers.ChoiceField(choices=Brand.choices, required=False)
    customer_region = CodeRelatedField(
        slug_field="code", queryset=Region.objects.all(), required=False,
        help_text=_("The customer's home region as the caller knows it: the order is placed there. A known "
                    "customer's record takes it only with update_customer, and only within the caller's region."))
    update_customer = serializers.BooleanField(
        required=False, default=False,
        help_text=_("Write customer_name, customer_tier, customer_brand and customer_region to a known customer's "
                    "record (logged). Without it they go with this order only and are kept as a proposal."))
    received_at = SafeDateTimeField(
        required=False, help_text=_("When the customer's complaint came in (default: now): at most "
                                    "API_RECEIVED_AT_MAX_AGE_HOURS (24 by default) in the past, at most 5 minutes "
                                    "ahead; older history comes through the historical import."))
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="",
                                 help_text=_("An internal note, never shown to the customer."))
    resolve_on_spot = OnSpotSerializer(required=False, help_text=_("Close the order at intake (needs authority)."))
    external_ref = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    area = serializers.CharField(max_length=64, required=False, allow_blank=True, default="",
                                 help_text=_("The cell, base station or area the complaint is about, if known."))
    incident = serializers.PrimaryKeyRelatedField(
        queryset=INCIDENT_MODEL.objects.all(), required=False, allow_null=True, default=None,
        help_text=_("An open batch-complaint incident the complaint belongs to (a complaint of an incident's "
                    "category and area joins it by itself)."))

    def validate_received_at(self, value):
        problem = received_at_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class CustomerSerializer(serializers.Serializer):
    phone = serializers.CharField()
    name = serializers.CharField()
    tier = serializers.CharField()
    brand = serializers.CharField()


class DepartmentClockSerializer(serializers.Serializer):
    department = serializers.CharField(source="department.code", read_only=True, default=None, allow_null=True,
                                       help_text="The code of the unit that held the order (null: an automatic step)")
    department_name = serializers.CharField(source="department.name", read_only=True, default=None, allow_null=True)
    stage = serializers.ChoiceField(choices=Stage.choices, read_only=True,
                                    help_text="The step it held the order in: dispatch, handle, review or callback")
    started_at = serializers.DateTimeField(read_only=True, help_text="When the order arrived in its queue")
    ended_at = serializers.DateTimeField(read_only=True, allow_null=True,
                                         help_text="When it passed the order on or replied (null: holding it now)")
    due_at = serializers.DateTimeField(read_only=True, help_text="Its own deadline (its policy's limit)")
    working_seconds_used = serializers.IntegerField(
        read_only=True, help_text="Working time on its calendar that it held the order, pauses excluded")
    outcome = serializers.ChoiceField(
        choices=[*StageOutcome.choices, ("running", "running"), ("paused", "paused")], read_only=True,
        help_text="in_time, late, misrouted (returned as the wrong department: the routing before it is judged "
                  "late), or running / paused while it holds the order")


class OrderSerializer(ModelFieldsOnce):
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    customer = CustomerSerializer(read_only=True)
    repeat_of = serializers.SlugRelatedField(
        slug_field="number", read_only=True,
        help_text="The earlier order this one repeats, when the caller may open it (otherwise null: see is_repeat)")
    is_repeat = serializers.SerializerMethodField(help_text="Whether the order repeats an earlier one")
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    current_department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    current_owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    replied_department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    incident = serializers.PrimaryKeyRelatedField(read_only=True, help_text="The batch-complaint incident it waits on")
    available_actions = serializers.SerializerMethodField()
    department_clocks = serializers.SerializerMethodField(
        help_text="Who held the order, in order, each with its own clock (single-order reads only)")
    deadline_state = serializers.SerializerMethodField(
        help_text="closed, none, on_track, warning (past the warning point) or overdue")

    def get_is_repeat(self, order) -> bool:
        return order.repeat_of_id is not None

    def get_deadline_state(self, order) -> str:
        return order.deadline_state()

    def to_representation(self, order):
        """Phone numbers masked unless the caller's role needs them (a caller not passed in sees them masked)."""
        data = super().to_representation(order)
        request = self.context.get("request")
        user = self.context.get("user") or (request.user if request else None)
        if user is None or not customer_visible_to(user=user, customer=order.customer):
            # Another region's customer: who they are (name, tier, brand) stays with that region, the intake
            # panel's rule; the surname is enough to address the caller.
            data["customer"].update(name=redact_name(order.customer.name), tier="", brand="")
        known = getattr(order, "repeat_visible_to", None)  # asked already by intake for this user
        if order.repeat_of_id and not (user is not None and (
                known[1] if known is not None and known[0] == user.pk
                else orders_visible_to(user).filter(pk=order.repeat_of_id).exists())):
            data["repeat_of"] = None  # another region's order: the caller learns a repeat exists, not its number
        if not may_see_full_phone(user):
            data["customer"]["phone"] = mask(data["customer"]["phone"])
            data["contact_phone"] = mask(data["contact_phone"]) if data["contact_phone"] else ""
            for name in ("description", "answer"):  # a number typed into the text is masked as well
                if data.get(name):
                    data[name] = mask_in_text(data[name])
        return data

    def get_fields(self):
        fields = super().get_fields()
        if "request" not in self.context:  # lists and creates: not worth the queries per order
            fields.pop("available_actions")
            fields.pop("department_clocks")
        return fields

    @extend_schema_field(DepartmentClockSerializer(many=True))
    def get_department_clocks(self, order) -> list[dict]:
        return DepartmentClockSerializer(order_department_clocks(order=order), many=True).data

    def get_available_actions(self, order) -> list[str]:
        """What the caller may do on the order now (single-order reads and action answers)."""
        return order_actions_available(user=self.context["request"].user, order=order)

    class Meta:
        model = WorkOrder
        fields = [
            "number", "kind", "status", "status_label", "channel", "category", "category_name", "severity",
            "customer", "contact_phone", "description", "region", "first_responder_name", "received_at",
            "repeat_of", "is_repeat", "resolved_on_spot", "answer", "compensation_amount", "promised_at", "closed_at",
            "external_ref", "current_department", "current_owner", "queue_level", "escalation_level",
            "reopen_count", "transfer_count", "return_count", "result_code", "reply_method", "replied_at",
            "replied_department",
            "callback_attempts", "satisfaction", "problem_solved", "cancelled_at", "stage_due_at", "stage_warn_at",
            "deadline_state", "available_actions", "department_clocks", "area", "incident", "source",
            "external_source",
            "closed_month_arrival",
        ]
        read_only_fields = fields



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
    reply_method = serializers.ChoiceField(choices=ReplyMethod.choices, default=ReplyMethod.PHONE,
                                           help_text=_("How the customer was given the answer (答复方式)."))


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


class TimelineEventSerializer(ModelFieldsOnce):
    action_label = serializers.CharField(source="get_action_display", read_only=True)

    class Meta:
        model = OrderEvent
        fields = ["action", "action_label", "actor_name", "from_status", "to_status", "comment", "data",
                  "created_at"]
        read_only_fields = fields
