from rest_framework.routers import SimpleRouter

from nciss_platform.incidents.api import views

router = SimpleRouter(trailing_slash=False)
router.register("incidents", views.IncidentViewSet, basename="api-incident")

urlpatterns = router.urls
