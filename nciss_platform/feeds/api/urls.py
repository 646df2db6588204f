from django.urls import path

from nciss_platform.feeds.api import views

urlpatterns = [
    path("feeds/events", views.EventsView.as_view(), name="api-feed-events"),
    path("feeds/batches/<int:pk>", views.BatchView.as_view(), name="api-feed-batch"),
    path("feeds/dead-letters", views.DeadLettersView.as_view(), name="api-feed-dead-letters"),
]
