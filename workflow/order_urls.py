"""The order's lifecycle pages, under the URL names they always had ("complaints:…"): config/urls.py includes them
with complaints/urls.py in that namespace."""

from django.urls import path

from workflow import import_views, intake_views, views

urlpatterns = [
    path("intake/", intake_views.intake, name="intake"),
    path("intake/categories/", intake_views.intake_category_options, name="intake_categories"),
    path("intake/customer/", intake_views.intake_customer_panel, name="intake_customer_panel"),
    path("orders/<str:number>/", views.order_detail, name="order_detail"),
    path("orders/<str:number>/attachments/", views.order_attachment_add, name="order_attachment_add"),
    path("imports/", import_views.import_home, name="import"),
    path("imports/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("imports/<int:pk>/start/", import_views.import_start, name="import_start"),
]
