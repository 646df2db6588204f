from django.urls import path
from rest_framework.routers import SimpleRouter

from nciss_platform.notifications.api import views

router = SimpleRouter(trailing_slash=False)
router.register("contacts", views.ContactViewSet, basename="api-contact")
router.register("routing-rules", views.RoutingRuleViewSet, basename="api-routing-rule")
router.register("notifications", views.NotificationViewSet, basename="api-notification")

urlpatterns = [
    path("acknowledgements", views.AcknowledgementView.as_view(), name="api-acknowledgement"),
    *router.urls,
]
