"""The sharing pages: what was shared with a partner (``shared/``), and the CSIRT's actions (``sharing/``)."""

from django.urls import path

from nciss_platform.sharing import views

app_name = "sharing"
urlpatterns = [
    path("shared/", views.shared_list, name="list"),
    path("shared/<int:pk>/", views.shared_detail, name="detail"),
    path("sharing/incidents/<str:reference>/", views.share, name="share"),
    path("sharing/incidents/<str:reference>/consent", views.consent, name="consent"),
    path("sharing/shares/<int:pk>/revoke", views.revoke, name="revoke"),
]
