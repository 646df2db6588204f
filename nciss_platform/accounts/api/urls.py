from django.urls import path
from rest_framework.routers import SimpleRouter

from nciss_platform.accounts.api import views

router = SimpleRouter(trailing_slash=False)
router.register("organisations", views.OrganisationViewSet, basename="api-organisation")
router.register("users", views.UserViewSet, basename="api-user")

urlpatterns = [
    path("auth/token", views.TokenView.as_view(), name="api-token"),
    path("me", views.MeView.as_view(), name="api-me"),
    *router.urls,
]
