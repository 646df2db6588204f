"""The directory and routing rule pages, and acknowledgement (its link is in every notification)."""

from django.urls import path

from nciss_platform.notifications import views

app_name = "notifications"
urlpatterns = [
    path("stakeholders/", views.contact_list, name="contacts"),
    path("stakeholders/new", views.contact_edit, name="contact-new"),
    path("stakeholders/<int:pk>/", views.contact_edit, name="contact-edit"),
    path("routing/", views.rule_list, name="rules"),
    path("routing/new", views.rule_edit, name="rule-new"),
    path("routing/<int:pk>/", views.rule_edit, name="rule-edit"),
    path("routing/check", views.rule_check, name="rule-check"),
    path("ack/<str:token>", views.acknowledge_link, name="ack"),
    path("notifications/<int:pk>/acknowledge", views.acknowledge_in_page, name="acknowledge"),
]
