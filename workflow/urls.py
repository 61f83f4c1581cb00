from django.urls import path

from workflow import views

app_name = "workflow"

urlpatterns = [
    path("work/", views.work_list, name="work_home"),
    path("work/<slug:key>/", views.work_list, name="work_list"),
    path("orders/<str:number>/actions/<slug:action>/", views.order_action, name="order_action"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/<int:notification_id>/open/", views.notification_open, name="notification_open"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications_read_all"),
]
