"""Acknowledgement: by the signed link in a message (valid, altered, expired), in the UI, by the API."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.incidents.models import Incident
from nciss_platform.incidents.tests.conftest import T0, report
from nciss_platform.notifications.models import Contact, Notification, RoutingRule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def soon_after_the_report(without_2fa: None) -> Any:
    """Links are followed half an hour after the report, unless a test says otherwise."""
    with clock.frozen(T0 + dt.timedelta(minutes=30)):
        yield


@pytest.fixture
def incident(reporter: User, energy_rule: RoutingRule) -> Incident:
    return report(reporter)


def link_of(notification: Notification) -> str:
    """The acknowledgement link's path, as the message carries it."""
    match = re.search(r"https?://[^/\s]+(/ack/\S+)", notification.body)
    assert match, notification.body
    return match.group(1)


def desk(incident: Incident) -> Notification:
    return Notification.objects.get(incident=incident, contact__name="Regulator Duty Desk")


def test_it_acknowledges_by_the_link_with_one_click_and_without_signing_in(incident: Incident) -> None:
    notification = desk(incident)
    client = Client()
    page = client.get(link_of(notification))
    assert page.status_code == 200 and 'id="ack-button"' in page.content.decode()
    notification.refresh_from_db()
    assert notification.acknowledged_at is None  # opening the link (a mail filter may) changes nothing
    done = client.post(link_of(notification))
    assert done.status_code == 200 and 'id="ack-done"' in done.content.decode()
    notification.refresh_from_db()
    assert notification.acknowledged_at == T0 + dt.timedelta(minutes=30)
    assert notification.acknowledged_via == "link" and notification.acknowledged_by is None
    assert AuditEvent.objects.filter(action="notification.acknowledged").count() == 1


def test_it_shows_the_acknowledgement_page_in_the_contacts_language(incident: Incident) -> None:
    page = Client().get(link_of(desk(incident)))  # the regulator's desk reads Russian
    assert 'lang="ru"' in page.content.decode() and "Подтвердить получение" in page.content.decode()


def test_it_refuses_an_altered_link(incident: Incident) -> None:
    path = link_of(desk(incident))
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    response = Client().post(tampered)
    assert response.status_code == 400 and "not valid" in response.content.decode()
    assert desk(incident).acknowledged_at is None


def test_it_refuses_a_link_naming_another_notification(incident: Incident) -> None:
    from nciss_platform.notifications.services import ack_token

    response = Client().post(f"/ack/{ack_token('0' * 64, T0)}")
    assert response.status_code == 400 and "names no notification" in response.content.decode()


def test_it_refuses_an_expired_link(incident: Incident, settings: Any) -> None:
    settings.NCISS_ACK_LINK_DAYS = 14
    path = link_of(desk(incident))
    with clock.frozen(T0 + dt.timedelta(days=14, minutes=1)):
        response = Client().post(path)
    assert response.status_code == 400 and "expired" in response.content.decode()
    assert desk(incident).acknowledged_at is None


def test_it_acknowledges_the_copies_on_the_contacts_other_channels(
    reporter: User, energy_rule: RoutingRule, regulator_desk: Contact
) -> None:
    regulator_desk.channels = ["email", "webhook"]
    regulator_desk.webhook_url, regulator_desk.webhook_secret = "https://regulator.example/hook", "s3cret"
    regulator_desk.save()
    incident = report(reporter)
    email = Notification.objects.get(incident=incident, contact=regulator_desk, channel="email")
    Client().post(link_of(email))
    states = Notification.objects.filter(incident=incident, contact=regulator_desk).values_list(
        "acknowledged_via", flat=True
    )
    assert list(states) == ["link", "link"]


def test_it_lets_csirt_staff_acknowledge_on_a_contacts_behalf_from_the_incident_page(
    incident: Incident, analyst: User, reporter: User
) -> None:
    notification = desk(incident)
    client = Client()
    client.force_login(analyst)
    page = client.get(f"/incidents/{incident.reference}/").content.decode()
    assert 'id="notifications"' in page and "Regulator Duty Desk" in page and "energy, level 3" not in page
    assert f"/notifications/{notification.pk}/acknowledge" in page
    response = client.post(f"/notifications/{notification.pk}/acknowledge")
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.acknowledged_by == analyst and notification.acknowledged_via == "page"
    page = client.get(f"/incidents/{incident.reference}/").content.decode()
    assert "by analyst" in page


def test_it_shows_reporters_no_notifications_and_lets_them_acknowledge_none(incident: Incident, reporter: User) -> None:
    client = Client()
    client.force_login(reporter)
    page = client.get(f"/incidents/{incident.reference}/").content.decode()
    assert 'id="notifications"' not in page and "Regulator Duty Desk" not in page
    assert client.post(f"/notifications/{desk(incident).pk}/acknowledge").status_code == 403
    assert desk(incident).acknowledged_at is None


def test_it_acknowledges_by_token_through_the_api(incident: Incident, api: Any) -> None:
    token = link_of(desk(incident)).removeprefix("/ack/")
    response = api(None).post("/api/v1/acknowledgements", {"token": token}, format="json")
    assert response.status_code == 200 and response.json()["acknowledged_via"] == "api"
    bad = api(None).post("/api/v1/acknowledgements", {"token": token + "x"}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["path"] == "token"
