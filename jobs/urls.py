from django.urls import path

from jobs import views

app_name = "jobs"

urlpatterns = [
    path("jobs/<int:pk>/", views.job_progress, name="progress"),
    path("jobs/<int:pk>/output/", views.job_output, name="output"),
]
