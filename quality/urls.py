from django.urls import path

from quality import views

app_name = "quality"

urlpatterns = [
    path("follow-ups/", views.follow_up_list, name="follow_ups"),
    path("follow-ups/<int:pk>/", views.follow_up_detail, name="follow_up"),
    path("follow-ups/<int:pk>/take/", views.follow_up_take, name="follow_up_take"),
    path("follow-ups/<int:pk>/contact/", views.follow_up_contact, name="follow_up_contact"),
]
