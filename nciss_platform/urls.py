"""Every URL of the platform: the pages, the API under /api/v1/ and its schema and docs."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("", include("nciss_platform.scales.urls")),
    path("", include("nciss_platform.incidents.urls")),
    path("accounts/", include("nciss_platform.accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("nciss_platform.scales.api.urls")),
    path("api/v1/", include("nciss_platform.incidents.api.urls")),
    path("api/v1/", include("nciss_platform.accounts.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
