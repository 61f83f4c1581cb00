from django.urls import path

from workflow import api
from workflow.services import ACTIONS

urlpatterns = [
    path("orders/", api.OrderListCreateApi.as_view(), name="api-orders"),
    path("orders/<str:number>/", api.OrderDetailApi.as_view(), name="api-order-detail"),
    path("orders/<str:number>/attachments/", api.OrderAttachmentApi.as_view(), name="api-order-attachments"),
    path("customers/<str:phone>/orders/", api.CustomerHistoryApi.as_view(), name="api-customer-history"),
    path("orders/<str:number>/timeline/", api.OrderTimelineApi.as_view(), name="api-order-timeline"),
    *[
        path(f"orders/<str:number>/actions/{action}/", api.action_view(action), name=f"api-order-{action}")
        for action in ACTIONS
    ],
    path("orders/<str:number>/actions/<str:action>/", api.UnknownActionApi.as_view(),
         name="api-order-unknown-action"),
]
