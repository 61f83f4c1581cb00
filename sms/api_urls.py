from django.urls import path

from sms import api

urlpatterns = [
    path("sms/inbound/", api.InboundApi.as_view(), name="api-sms-inbound"),
    path("sms/receipts/", api.ReceiptApi.as_view(), name="api-sms-receipts"),
]
