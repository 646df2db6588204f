from django.urls import path

from nciss_platform.feeds import views

app_name = "feeds"
urlpatterns = [
    path("feeds/", views.status, name="status"),
    path("feeds/dead-letters/", views.dead_letters, name="dead-letters"),
]
