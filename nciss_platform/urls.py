"""Every URL of the platform: the pages, the API under /api/v1/ and its schema and docs."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from nciss_platform.accounts import views as accounts_views
from nciss_platform.incidents.views import home

urlpatterns = [
    path("", include("nciss_platform.scales.urls")),
    path("", include("nciss_platform.reports.urls")),  # before incidents: its <ref>/<action> would take them
    path("", include("nciss_platform.incidents.urls")),
    path("", include("nciss_platform.interop.urls")),
    path("", include("nciss_platform.feeds.urls")),
    path("", include("nciss_platform.sharing.urls")),
    path("", include("nciss_platform.notifications.urls")),
    path("", include("nciss_platform.mail.urls")),
    path("", include("nciss_platform.campaigns.urls")),
    path("", include("nciss_platform.dashboard.urls")),
    path("", include("nciss_platform.calibration.urls")),
    path("", include("nciss_platform.exercises.urls")),
    path("home/", home, name="home"),  # where each role works (LOGIN_REDIRECT_URL)
    path("accounts/", include("nciss_platform.accounts.urls")),
    # The admin signs in and out through accounts (second factor, throttle, audit), not its own forms.
    path("admin/login/", accounts_views.admin_login),
    path("admin/logout/", accounts_views.logout_view),
    path("admin/", admin.site.urls),
    path("api/v1/", include("nciss_platform.scales.api.urls")),
    path("api/v1/", include("nciss_platform.incidents.api.urls")),
    path("api/v1/", include("nciss_platform.accounts.api.urls")),
    path("api/v1/", include("nciss_platform.interop.api.urls")),
    path("api/v1/", include("nciss_platform.feeds.api.urls")),
    path("api/v1/", include("nciss_platform.sharing.api.urls")),
    path("api/v1/", include("nciss_platform.notifications.api.urls")),
    path("api/v1/", include("nciss_platform.campaigns.api.urls")),
    path("api/v1/", include("nciss_platform.dashboard.api.urls")),
    path("api/v1/", include("nciss_platform.calibration.api.urls")),
    path("api/v1/", include("nciss_platform.exercises.api.urls")),
    path("api/v1/", include("nciss_platform.reports.api.urls")),
    path("taxii2/", include("nciss_platform.sharing.taxii_urls")),  # the TAXII 2.1 server (docs/interop/taxii.md)
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
