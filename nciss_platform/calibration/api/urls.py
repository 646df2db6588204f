"""The calibration API."""

from rest_framework.routers import SimpleRouter

from nciss_platform.calibration.api import views

router = SimpleRouter(trailing_slash=False)
router.register("calibration/drafts", views.DraftViewSet, basename="api-scale-draft")
router.register("calibration/versions", views.VersionViewSet, basename="api-scale-version")

urlpatterns = router.urls
