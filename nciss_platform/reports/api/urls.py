from django.urls import path

from nciss_platform.reports.api import views

urlpatterns = [
    path("statistics/<str:kind>", views.StatisticsView.as_view(), name="api-statistics"),
]
