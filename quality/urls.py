from django.urls import path

from quality import views
from quality import warning_views as warning

app_name = "quality"

urlpatterns = [
    path("follow-ups/", views.follow_up_list, name="follow_ups"),
    path("follow-ups/<int:pk>/", views.follow_up_detail, name="follow_up"),
    path("follow-ups/<int:pk>/take/", views.follow_up_take, name="follow_up_take"),
    path("follow-ups/<int:pk>/contact/", views.follow_up_contact, name="follow_up_contact"),
    path("early-warning/", warning.alert_list, name="alerts"),
    path("early-warning/alerts/<int:pk>/", warning.alert_detail, name="alert"),
    path("early-warning/alerts/<int:pk>/confirm/", warning.alert_confirm, name="alert_confirm"),
    path("early-warning/alerts/<int:pk>/dismiss/", warning.alert_dismiss, name="alert_dismiss"),
    path("early-warning/alerts/<int:pk>/level/", warning.alert_level, name="alert_level"),
    path("early-warning/incidents/", warning.incident_list, name="incidents"),
    path("early-warning/incidents/<int:pk>/", warning.incident_detail, name="incident"),
    path("early-warning/incidents/<int:pk>/feedback/", warning.incident_feedback, name="incident_feedback"),
    path("early-warning/incidents/<int:pk>/resolve/", warning.incident_resolve, name="incident_resolve"),
    path("early-warning/bulletins/", warning.bulletin_list, name="bulletins"),
    path("early-warning/bulletins/<int:pk>/withdraw/", warning.bulletin_withdraw, name="bulletin_withdraw"),
    path("orders/<str:number>/incident/", warning.order_incident, name="order_incident"),
]
