from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from complaints import urls as complaint_urls
from config import ops
from config.security import SWAGGER_UI_POLICY, with_policy
from workflow import intake_views, order_urls
from workflow import views as workflow_views

# Django's default header is "Django administration"; the operators administer their complaint platform.
admin.site.site_header = admin.site.site_title = _("Complaint platform administration")

urlpatterns = [
    path("", intake_views.home, name="home"),
    # One namespace for the order's pages: the record's (complaints/) and its lifecycle's (workflow/).
    path("", include((order_urls.urlpatterns + complaint_urls.urlpatterns, complaint_urls.app_name))),
    path("", include("workflow.urls")),
    path("", include("reports.urls")),
    path("", include("quality.urls")),
    path("", include("accountability.urls")),
    path("", include("knowledge.urls")),
    path("", include("support.urls")),
    path("", include("jobs.urls")),
    path("track/", workflow_views.track, name="track"),
    path("healthz", ops.healthz, name="healthz"),
    path("metrics", ops.metrics, name="metrics"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("workflow.api_urls")),
    path("api/v1/", include("sms.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", with_policy(SWAGGER_UI_POLICY)(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
         name="api-docs"),
]

handler400 = "config.ops.bad_request"
handler404 = "config.ops.page_not_found"
handler500 = "config.ops.server_error"
