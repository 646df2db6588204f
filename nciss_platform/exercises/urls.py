"""The exercises pages: runs, the facilitator's console, a team's view, the after-action report."""

from django.urls import path

from nciss_platform.exercises import views

app_name = "exercises"
urlpatterns = [
    path("exercises/", views.run_list, name="list"),
    path("exercises/<int:pk>/", views.console, name="console"),
    path("exercises/<int:pk>/live/", views.console_live, name="console-live"),
    path("exercises/<int:pk>/control/", views.control, name="control"),
    path("exercises/<int:pk>/participants/", views.assign, name="assign"),
    path("exercises/<int:pk>/team/", views.team_page, name="team"),
    path("exercises/<int:pk>/team/live/", views.team_live, name="team-live"),
    path("exercises/<int:pk>/team/act/", views.team_act, name="team-act"),
    path("exercises/<int:pk>/report.html", views.report, {"fmt": "html"}, name="report-html"),
    path("exercises/<int:pk>/report.pdf", views.report, {"fmt": "pdf"}, name="report-pdf"),
]
