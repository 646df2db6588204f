"""The e-mail pages: the CSIRT's inbox, and the reply form on the incident page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils.html import escape

from nciss_platform.accounts.models import User
from nciss_platform.incidents import services as incidents
from nciss_platform.incidents.tests.conftest import report
from nciss_platform.mail import services
from nciss_platform.mail.models import InboundMessage, OutboundMessage
from nciss_platform.mail.tests.conftest import compose

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_second_factor(without_2fa: None) -> None:
    """Staff sign in with a password alone here."""


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def received(sender: str, subject: str, text: str = "Hello") -> InboundMessage:
    return services.process_message(services.receive_message(compose(sender, subject, text).as_bytes()))


def test_it_shows_analysts_rejected_messages_with_their_reason_and_the_raw_message(analyst: User) -> None:
    message = received("spammer@unknown.example", "Cheap pills", "Buy now")
    client = client_for(analyst)

    page = client.get("/mail/inbox/?state=rejected").content.decode()

    assert "Cheap pills" in page and "spammer@unknown.example" in page
    assert "unknown sender spammer@unknown.example: no active user has this e-mail address" in page
    raw = client.get(f"/mail/inbox/{message.pk}.eml")
    assert raw["Content-Type"] == "message/rfc822" and b"Buy now" in raw.content
    assert 'href="/mail/inbox/"' in client.get("/queue/").content.decode()  # in the menu


def test_it_keeps_reporters_out_of_the_inbox(reporter: User) -> None:
    message = received("spammer@unknown.example", "Cheap pills")
    client = client_for(reporter)

    assert client.get("/mail/inbox/").status_code == 403
    assert client.get(f"/mail/inbox/{message.pk}.eml").status_code == 403
    assert client.post(f"/mail/inbox/{message.pk}/process").status_code == 403


def test_it_hides_messages_about_a_tlp_red_incident_from_staff_not_named_on_it(
    reporter: User, analyst: User, coordinator: User
) -> None:
    message = received(reporter.email, "TLP:RED sabotage at substation 2", "Details by phone.")
    assert message.incident is not None and message.incident.tlp == "TLP:RED"

    assert "sabotage" not in client_for(analyst).get("/mail/inbox/").content.decode()
    assert client_for(analyst).get(f"/mail/inbox/{message.pk}.eml").status_code == 404
    incidents.set_sharing(incident=message.incident, actor=reporter, tlp="TLP:RED", red_recipients=[coordinator])
    assert "sabotage" in client_for(coordinator).get("/mail/inbox/").content.decode()


def test_it_processes_a_message_again_from_the_inbox(energy: object, analyst: User) -> None:
    message = received("new.engineer@aralia-grid.example", "Rogue access point")
    User.objects.create_user("new-engineer", email="NEW.engineer@aralia-grid.example", organisation=energy)

    response = client_for(analyst).post(f"/mail/inbox/{message.pk}/process", follow=True)

    message.refresh_from_db()
    assert message.state == "processed"
    assert message.incident is not None
    assert f"Processed: it is in {message.incident.reference}." in response.content.decode()


def test_it_offers_the_reply_form_to_analysts_only_and_sends_from_it(reporter: User, analyst: User) -> None:
    incident = report(reporter)
    assert "email-reply-form" not in client_for(reporter).get(f"/incidents/{incident.reference}/").content.decode()
    client = client_for(analyst)
    page = client.get(f"/incidents/{incident.reference}/").content.decode()
    assert "email-reply-form" in page and "To Dilnoza Karimova &lt;Dilnoza.Karimova@aralia-grid.example&gt;" in page

    response = client.post(
        f"/mail/reply/{incident.reference}", {"body": "Which substation is affected?", "wait": "1"}, follow=True
    )

    outbound = OutboundMessage.objects.get()
    assert outbound.to == reporter.email and outbound.state == "pending"
    page = response.content.decode()
    assert "Reply queued for Dilnoza.Karimova@aralia-grid.example." in page
    assert "e-mailed to Dilnoza.Karimova@aralia-grid.example" in page and "Which substation is affected?" in page
    assert f'data-message-id="{escape(outbound.message_id)}"' in page  # the list of e-mails sent
    incident.refresh_from_db()
    assert incident.waiting_on_reporter


def test_it_refuses_the_reply_action_to_reporters(reporter: User) -> None:
    incident = report(reporter)

    response = client_for(reporter).post(f"/mail/reply/{incident.reference}", {"body": "Hi"})

    assert response.status_code == 403 and not OutboundMessage.objects.exists()


def test_it_shows_why_a_reply_cannot_be_sent(reporter: User, analyst: User) -> None:
    reporter.email = ""
    reporter.save()
    incident = report(reporter)
    client = client_for(analyst)

    page = client.get(f"/incidents/{incident.reference}/").content.decode()
    assert "grid-reporter has no e-mail address" in page and "email-reply-form" not in page
    response = client.post(f"/mail/reply/{incident.reference}", {"body": "Hi"}, follow=True)
    assert "Nothing was sent: grid-reporter has no e-mail address" in response.content.decode()


def test_it_shows_the_reporter_in_her_language_what_came_and_went_by_e_mail(reporter: User, analyst: User) -> None:
    message = received(reporter.email, "Turbine controller rebooting", "Every ten minutes.")
    assert message.incident is not None
    services.reply_to_reporter(incident=message.incident, actor=analyst, body="Since when?")

    page = client_for(reporter).get(f"/incidents/{message.incident.reference}/").content.decode()

    assert page.count("по электронной почте") == 1  # the report
    assert f"отправлено по почте: {reporter.email}" in page and "Since when?" in page
    assert "email-reply-form" not in page
