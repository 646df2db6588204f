"""The campaigns API."""

from django.urls import path

from nciss_platform.campaigns.api import views

urlpatterns = [
    path("campaigns", views.CampaignListView.as_view(), name="api-campaign-list"),
    path("campaigns/<str:reference>", views.CampaignDetailView.as_view(), name="api-campaign-detail"),
]
