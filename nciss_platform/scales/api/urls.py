from django.urls import path

from nciss_platform.scales.api import views

urlpatterns = [
    path("assess", views.AssessView.as_view(), name="api-assess"),
    path("scales", views.ScaleListView.as_view(), name="api-scales"),
    path("scales/<slug:scale_id>", views.ScaleDetailView.as_view(), name="api-scale"),
]
