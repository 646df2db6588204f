"""The campaigns pages."""

from django.urls import path

from nciss_platform.campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("campaigns/", views.campaign_list, name="list"),
    path("campaigns/<str:reference>/", views.campaign_detail, name="detail"),
]
