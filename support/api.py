"""Support requests over the REST API: validate, call one service or selector, return the request.
409 when the request's step does not allow the action (with its status), 403 when the caller may not, 400 with
field errors, 404 for a request the caller may not see."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from org.models import ApiScope
from org.tokens import TokenScope
from support import selectors, services
from support.selectors import ListFilters
from support.serializers import (
    ACTION_SERIALIZERS,
    SupportRaiseSerializer,
    SupportRequestDetailSerializer,
    SupportRequestSerializer,
)
from support.services import RequestNotPossible
from workflow.api import exception_handler as platform_exception_handler


def exception_handler(exc, context):
    if isinstance(exc, RequestNotPossible):
        return Response({"detail": str(exc), "number": exc.request.number, "status": exc.status},
                        status=status.HTTP_409_CONFLICT)
    return platform_exception_handler(exc, context)


class MayUseSupport(BasePermission):
    message = "Support requests are for frontline units, back-office departments and the quality department."

    def has_permission(self, request, view):
        return selectors.may_use_support(request.user)


class SupportApi(APIView):
    permission_classes = [TokenScope, MayUseSupport]
    required_scopes = {"GET": ApiScope.SUPPORT_READ, "POST": ApiScope.SUPPORT_WRITE}

    def get_exception_handler(self):
        return exception_handler


def _request_or_404(request, number):
    found = selectors.request_get_for_user(user=request.user, number=number)
    if found is None:
        raise exceptions.NotFound()
    return found


class RequestListCreateApi(SupportApi):
    @extend_schema(operation_id="support_requests_list", responses=SupportRequestSerializer(many=True),
                   summary="Support requests visible to the caller, newest first", tags=["support requests"])
    def get(self, request):
        requests = selectors.request_list(user=request.user, filters=ListFilters(
            scope="mine" if request.query_params.get("scope") == "mine" else "all",
            state=request.query_params.get("state", ""), kind=request.query_params.get("kind", "")))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(requests, request, view=self)
        return paginator.get_paginated_response(SupportRequestSerializer(page, many=True).data)

    @extend_schema(operation_id="support_requests_raise", request=SupportRaiseSerializer,
                   responses={201: SupportRequestSerializer}, summary="Raise a support request",
                   tags=["support requests"])
    def post(self, request):
        serializer = SupportRaiseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = services.request_raise(actor=request.user, **serializer.validated_data)
        return Response(SupportRequestSerializer(created).data, status=status.HTTP_201_CREATED)


class RequestDetailApi(SupportApi):
    @extend_schema(operation_id="support_requests_read", responses=SupportRequestDetailSerializer,
                   summary="One support request with its history", tags=["support requests"])
    def get(self, request, number):
        return Response(SupportRequestDetailSerializer(_request_or_404(request, number)).data)


class RequestActionApi(SupportApi):
    action_name: str = ""

    def post(self, request, number):
        found = _request_or_404(request, number)
        serializer = ACTION_SERIALIZERS[self.action_name](data=request.data)
        serializer.is_valid(raise_exception=True)
        changed = services.request_act(action=self.action_name, actor=request.user, request=found,
                                       **serializer.validated_data)
        return Response(SupportRequestSerializer(changed).data)


def action_view(action: str):
    """One documented endpoint per action, so the OpenAPI schema shows each action's own body."""

    def post(self, request, number):
        return RequestActionApi.post(self, request, number)

    documented = extend_schema(
        operation_id=f"support_requests_action_{action}",
        request=ACTION_SERIALIZERS[action],
        responses={
            200: SupportRequestSerializer,
            400: OpenApiResponse(description="Field errors."),
            403: OpenApiResponse(description="You may not take this action on this request."),
            404: OpenApiResponse(description="No such support request that you may see."),
            409: OpenApiResponse(description="The request's current step does not allow this action; the body "
                                             "gives the current status."),
        },
        summary=f"Support request action: {action}",
        tags=["support requests"],
    )(post)
    view_class = type(f"Support{action.title().replace('_', '')}ActionApi", (RequestActionApi,),
                      {"action_name": action, "post": documented})
    return view_class.as_view()
