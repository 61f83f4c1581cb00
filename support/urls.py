from django.urls import path

from support import api, views
from support.services import ACTIONS

app_name = "support"

urlpatterns = [
    path("support/", views.request_list, name="list"),
    path("support/new/", views.request_new, name="new"),
    path("support/<str:number>/", views.request_detail, name="detail"),
    path("support/<str:number>/actions/<slug:action>/", views.request_action, name="action"),
    # The same over the REST API (token or session), next to the orders' /api/v1/.
    path("api/v1/support/requests/", api.RequestListCreateApi.as_view(), name="api-list"),
    path("api/v1/support/requests/<str:number>/", api.RequestDetailApi.as_view(), name="api-detail"),
    *[
        path(f"api/v1/support/requests/<str:number>/actions/{action}/", api.action_view(action),
             name=f"api-{action}")
        for action in ACTIONS
    ],
]
