"""The order actions and the timeline over the REST API: validate, call one service, return the order."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from complaints.api import _order_or_404
from complaints.serializers import OrderSerializer
from org.models import ApiScope
from workflow import selectors, services
from workflow.serializers import ACTION_SERIALIZERS, TimelineEventSerializer


class OrderActionApi(APIView):
    action_name: str = ""
    required_scopes = {"POST": ApiScope.ORDERS_ACT}

    def post(self, request, number):
        order = _order_or_404(request, number)
        serializer = ACTION_SERIALIZERS[self.action_name](data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.order_act(action=self.action_name, actor=request.user, order=order,
                                   **serializer.validated_data)
        return Response(OrderSerializer(order, context={"request": request}).data)


def action_view(action: str):
    """One documented endpoint per action, so the OpenAPI schema shows each action's own body."""

    def post(self, request, number):  # a function of its own: extend_schema annotates the function it is given
        return OrderActionApi.post(self, request, number)

    documented = extend_schema(
        operation_id=f"orders_action_{action}",
        request=ACTION_SERIALIZERS[action],
        responses={
            200: OrderSerializer,
            400: OpenApiResponse(description="Field errors."),
            403: OpenApiResponse(description="You may not take this action on this order."),
            404: OpenApiResponse(description="No such order that you may see."),
            409: OpenApiResponse(description="The order's current step does not allow this action; "
                                             "the body gives the current status."),
        },
        summary=f"Order action: {action}",
        tags=["order actions"],
    )(post)
    view_class = type(f"Order{action.title()}ActionApi", (OrderActionApi,), {"action_name": action,
                                                                            "post": documented})
    return view_class.as_view()


class OrderTimelineApi(APIView):
    required_scopes = {"GET": ApiScope.ORDERS_READ}

    @extend_schema(operation_id="orders_timeline", responses=TimelineEventSerializer(many=True),
                   summary="Every step of an order: who, when, from which status to which, comment")
    def get(self, request, number):
        order = _order_or_404(request, number)
        return Response(TimelineEventSerializer(selectors.order_timeline(order=order), many=True).data)


@extend_schema(exclude=True)  # the schema documents the actions there are
class UnknownActionApi(APIView):
    """Any other action name: 404 naming the actions there are (rather than the site's HTML page)."""

    required_scopes = {"POST": ApiScope.ORDERS_ACT}

    def post(self, request, number, action):
        known = list(services.ACTIONS)
        return Response({"detail": _("There is no order action “%(action)s”. The actions are: %(actions)s.")
                         % {"action": action, "actions": ", ".join(known)}, "actions": known},
                        status=status.HTTP_404_NOT_FOUND)
