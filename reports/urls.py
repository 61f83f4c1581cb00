from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("dashboard/", views.overview, name="overview"),
    path("dashboard/department/", views.department, name="department"),
    path("dashboard/kpis/", views.analysis_page, name="analysis"),
    path("dashboard/hotspots/", views.hotspots, name="hotspots"),
    path("dashboard/compare/", views.compare, name="compare"),
    path("dashboard/orders/", views.orders, name="orders"),
    path("dashboard/definitions/", views.definitions, name="definitions"),
    path("reports/monthly/", views.monthly_list, name="monthly_list"),
    path("reports/monthly/new/", views.monthly_prepare, name="monthly_prepare"),
    path("reports/monthly/generate/", views.monthly_generate, name="monthly_generate"),
    path("reports/monthly/<int:pk>/", views.monthly_detail, name="monthly_detail"),
    path("reports/monthly/<int:pk>/pdf/", views.monthly_pdf, name="monthly_pdf"),
    path("reports/monthly/<int:pk>/withdraw/", views.monthly_withdraw, name="monthly_withdraw"),
]
