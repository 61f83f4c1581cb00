from django.urls import path

from complaints import import_views, views

app_name = "complaints"

urlpatterns = [
    path("intake/", views.intake, name="intake"),
    path("intake/categories/", views.intake_category_options, name="intake_categories"),
    path("intake/customer/", views.intake_customer_panel, name="intake_customer_panel"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/<str:number>/", views.order_detail, name="order_detail"),
    path("orders/<str:number>/phone/", views.order_phone, name="order_phone"),
    path("orders/<str:number>/attachments/", views.order_attachment_add, name="order_attachment_add"),
    path("orders/<str:number>/attachments/<int:attachment_id>/", views.attachment_download,
         name="attachment_download"),
    path("imports/", import_views.import_home, name="import"),
    path("imports/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("imports/<int:pk>/start/", import_views.import_start, name="import_start"),
]
