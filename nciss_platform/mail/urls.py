"""The e-mail pages: the CSIRT's inbox, and replying to a reporter from an incident."""

from django.urls import path

from nciss_platform.mail import views

app_name = "mail"
urlpatterns = [
    path("mail/inbox/", views.inbox, name="inbox"),
    path("mail/inbox/<int:pk>.eml", views.raw_message, name="raw"),
    path("mail/inbox/<int:pk>/process", views.process_again, name="process-again"),
    path("mail/reply/<str:reference>", views.reply, name="reply"),
]
