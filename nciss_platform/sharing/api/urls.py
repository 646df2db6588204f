from django.urls import path

from nciss_platform.sharing.api import views

urlpatterns = [
    path("shared", views.SharedListView.as_view(), name="api-shared-list"),
    path("shared/<int:pk>", views.SharedDetailView.as_view(), name="api-shared-detail"),
    path("incidents/<str:reference>/shares", views.IncidentSharesView.as_view(), name="api-incident-shares"),
    path("incidents/<str:reference>/shares/<int:pk>", views.IncidentShareView.as_view(), name="api-incident-share"),
]
