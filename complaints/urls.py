from django.urls import path

from complaints import views

# The order record's own pages. The order's lifecycle pages (intake, the order page, the import) are workflow's,
# in the same "complaints" namespace (config/urls.py joins workflow/order_urls.py to these).
app_name = "complaints"

urlpatterns = [
    path("orders/", views.order_list, name="order_list"),
    path("orders/<str:number>/phone/", views.order_phone, name="order_phone"),
    path("orders/<str:number>/attachments/<int:attachment_id>/", views.attachment_download,
         name="attachment_download"),
]
