"""The orders over the REST API: intake, reads, attachments, the order actions and the timeline. Views validate,
call one service or selector, and render."""

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from complaints import selectors as complaint_selectors
from complaints.models import OrderSource
from complaints.pagination import OrderCursorPagination
from complaints.phone import normalise_mobile
from complaints.serializers import AttachmentSerializer, AttachmentUploadSerializer, OrderFilterSerializer
from org.models import ApiScope
from workflow import intake, notes, selectors, services
from workflow.serializers import (
    ACTION_SERIALIZERS,
    OrderCreateSerializer,
    OrderSerializer,
    TimelineEventSerializer,
)
from workflow.services import ActionNotPossible

IDEMPOTENCY_HEADER = "Idempotency-Key"


def exception_handler(exc, context):
    """Django's own errors from the service layer become the API's: field errors 400, refusals 403 with the reason;
    a body over DATA_UPLOAD_MAX_MEMORY_SIZE is 413 (the client's mistake, not a server error to log)."""
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": _("The request body is too large: at most %(limit)s bytes (files excepted).")
                         % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}},
                        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, intake.IdempotencyConflict):
        return Response({"detail": str(exc), "order": exc.order.number}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    elif isinstance(exc, ActionNotPossible):
        return Response({"detail": str(exc), "order": exc.order.number, "status": exc.status},
                        status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)


def _order_or_404(request, number):
    order = complaint_selectors.order_get_for_user(user=request.user, number=number)
    if order is None:
        raise exceptions.NotFound()
    return order


class OrderListCreateApi(APIView):
    required_scopes = {"GET": ApiScope.ORDERS_READ, "POST": ApiScope.ORDERS_WRITE}
    throttle_scopes = {"POST": ("create",)}  # creation's own budget, besides the writes' (config/throttles.py)

    @extend_schema(
        operation_id="orders_list",
        parameters=[
            OrderFilterSerializer,
            OpenApiParameter(OrderCursorPagination.cursor_query_param, OpenApiTypes.STR,
                             description="The page after (or before) another: the `next` or `previous` link."),
            OpenApiParameter(OrderCursorPagination.page_size_query_param, OpenApiTypes.INT,
                             description=f"Orders per page (default {OrderCursorPagination.page_size}, at most "
                                         f"{OrderCursorPagination.max_page_size})."),
        ],
        responses={
            200: OrderSerializer(many=True),
            400: OpenApiResponse(description="A filter's value is wrong, or a query parameter is not one of these "
                                             "(the answer lists the known ones)."),
        },
        summary="List (and search) orders visible to the caller",
    )
    def get(self, request):
        known = self.known_parameters()
        unknown = sorted(set(request.query_params) - known)
        if unknown:  # a misspelt filter silently ignored would return every order
            return Response({"detail": _("Unknown query parameter(s): %(unknown)s. Known: %(known)s.")
                             % {"unknown": ", ".join(unknown), "known": ", ".join(sorted(known))},
                             "unknown": unknown, "known": sorted(known)}, status=status.HTTP_400_BAD_REQUEST)
        filters = OrderFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = dict(filters.validated_data)
        data.update(complaint_selectors.order_search_filters(data.pop("q", None)))
        if data.get("phone"):
            try:
                data["phone"] = normalise_mobile(data["phone"])
            except DjangoValidationError as exc:
                raise exceptions.ValidationError({"phone": exc.messages}) from None
        paginator = OrderCursorPagination()
        page = paginator.paginate_queryset(complaint_selectors.order_list_for_user(user=request.user, filters=data), request)
        return paginator.get_paginated_response(OrderSerializer(page, many=True, context={"user": request.user}).data)

    @staticmethod
    def known_parameters() -> set[str]:
        """The documented query parameters: the filters, paging, and DRF's format override."""
        known = set(OrderFilterSerializer().fields)
        known |= {OrderCursorPagination.cursor_query_param, OrderCursorPagination.page_size_query_param}
        if api_settings.URL_FORMAT_OVERRIDE:
            known.add(api_settings.URL_FORMAT_OVERRIDE)
        return known

    @extend_schema(
        operation_id="orders_create",
        request=OrderCreateSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER,
                description="A retried create with the same key returns the first order (200) instead of a second.",
            )
        ],
        responses={
            201: OrderSerializer,
            200: OpenApiResponse(OrderSerializer, description="Replay of an earlier create with the same key."),
            400: OpenApiResponse(description="Field errors."),
            403: OpenApiResponse(description="Not allowed (role, or on-the-spot authority)."),
            422: OpenApiResponse(description="Idempotency key reused with different content."),
        },
        summary="Log a new order",
    )
    def post(self, request):
        key = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip() or None
        if key and len(key) > 128:
            raise exceptions.ValidationError({IDEMPOTENCY_HEADER: ["At most 128 characters."]})
        fingerprint = intake.request_fingerprint(request.data) if key else ""
        serializer = OrderCreateSerializer(data=request.data)
        if not serializer.is_valid():
            # A refused retry gets its first attempt's order (its received time may have aged since, its category
            # been retired); a retry the checks pass meets its first attempt at the insert (intake.order_create).
            result = intake.order_replay(actor=request.user, idempotency_key=key, fingerprint=fingerprint)
            if result is not None:
                return self._answer(request, result)
            raise exceptions.ValidationError(serializer.errors)
        data = serializer.validated_data
        on_spot = data.get("resolve_on_spot")
        result = intake.order_create(
            actor=request.user,
            kind=data["kind"],
            channel=data["channel"],
            category=data["category"],
            severity=data.get("severity") or data["category"].default_severity,
            description=data["description"],
            customer_phone=data["customer_phone"],
            contact_phone=data["contact_phone"],
            customer_name=data["customer_name"],
            customer_tier=data.get("customer_tier"),
            customer_brand=data.get("customer_brand"),
            customer_region=data.get("customer_region"),
            received_at=data.get("received_at"),
            note=data["note"],
            on_spot=intake.OnSpotAnswer(on_spot["answer"], on_spot.get("compensation")) if on_spot else None,
            idempotency_key=key,
            fingerprint=fingerprint,
            source=OrderSource.API,
            external_ref=data["external_ref"],
            area=data["area"],
            incident=data["incident"],
            update_customer=data["update_customer"],
        )
        return self._answer(request, result)

    @staticmethod
    def _answer(request, result):
        headers = {} if result.created else {"Idempotent-Replayed": "true"}
        body = OrderSerializer(result.order, context={"user": request.user}).data
        if result.warnings:
            body = {**body, "warnings": result.warnings}
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
                        headers=headers)


class OrderDetailApi(APIView):
    required_scopes = {"GET": ApiScope.ORDERS_READ}

    @extend_schema(operation_id="orders_retrieve", responses=OrderSerializer, summary="Read one order by number")
    def get(self, request, number):
        return Response(OrderSerializer(_order_or_404(request, number), context={"request": request}).data)


class CustomerHistoryApi(APIView):
    required_scopes = {"GET": ApiScope.ORDERS_READ}

    @extend_schema(operation_id="customer_history", responses=OrderSerializer(many=True),
                   summary="A customer's orders through every channel")
    def get(self, request, phone):
        try:
            phone = normalise_mobile(phone)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError({"phone": exc.messages}) from None
        orders = complaint_selectors.customer_history_for_user(user=request.user, phone=phone)
        return Response(OrderSerializer(orders, many=True, context={"user": request.user}).data)


class OrderAttachmentApi(APIView):
    required_scopes = {"POST": ApiScope.ORDERS_WRITE}
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(operation_id="orders_attachment_add", request={"multipart/form-data": AttachmentUploadSerializer},
                   responses={201: AttachmentSerializer}, summary="Attach an image or PDF to an order")
    def post(self, request, number):
        order = _order_or_404(request, number)
        serializer = AttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attachment = notes.order_attachment_add(actor=request.user, order=order,
                                                   upload=serializer.validated_data["file"])
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


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
