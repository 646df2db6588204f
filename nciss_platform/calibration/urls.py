"""The calibration pages."""

from django.urls import path

from nciss_platform.calibration import views

app_name = "calibration"
urlpatterns = [
    path("calibration/", views.index, name="index"),
    path("calibration/drafts/new", views.draft_new, name="draft-new"),
    path("calibration/drafts/upload", views.draft_upload, name="draft-upload"),
    path("calibration/drafts/<int:pk>/", views.draft_edit, name="draft"),
    path("calibration/drafts/<int:pk>/validate", views.draft_validate, name="draft-validate"),
    path("calibration/drafts/<int:pk>/form", views.draft_form, name="draft-form"),
    path("calibration/drafts/<int:pk>/impact", views.draft_impact, name="impact"),
    path("calibration/drafts/<int:pk>/sensitivity", views.draft_sensitivity, name="sensitivity"),
    path("calibration/drafts/<int:pk>/impact/incidents", views.impact_incidents, name="impact-incidents"),
    path("calibration/drafts/<int:pk>/publish", views.draft_publish, name="publish"),
    path("calibration/versions/<int:pk>/", views.version_detail, name="version"),
    path("calibration/versions/<int:pk>/reassess", views.version_reassess, name="reassess"),
    path("calibration/cases/", views.cases, name="cases"),
    path("calibration/cases/seed", views.cases_seed, name="cases-seed"),
    path("calibration/cases/new", views.case_edit, name="case-new"),
    path("calibration/cases/<int:pk>/", views.case_edit, name="case-edit"),
    path("calibration/cases/<int:pk>/delete", views.case_delete, name="case-delete"),
    path("calibration/compatibility", views.compatibility, name="compatibility"),
    path("calibration/compatibility/incidents", views.compatibility_incidents, name="compatibility-incidents"),
    path("calibration/consistency/", views.sessions, name="sessions"),
    path("calibration/consistency/<int:pk>/", views.session_detail, name="session"),
    path("calibration/consistency/<int:pk>/close", views.session_close, name="session-close"),
    path("ratings/", views.my_ratings, name="my-ratings"),
    path("ratings/<int:pk>/<int:incident_pk>", views.rate, name="rate"),
]
