from django.urls import path

from complaints import api

urlpatterns = [
    path("orders/", api.OrderListCreateApi.as_view(), name="api-orders"),
    path("orders/<str:number>/", api.OrderDetailApi.as_view(), name="api-order-detail"),
    path("orders/<str:number>/notes/", api.OrderNoteApi.as_view(), name="api-order-notes"),
    path("orders/<str:number>/attachments/", api.OrderAttachmentApi.as_view(), name="api-order-attachments"),
    path("customers/<str:phone>/orders/", api.CustomerHistoryApi.as_view(), name="api-customer-history"),
]
