"""The Django admin: administrators manage organisations and users and read the audit log; nobody else enters."""

import pytest
from django.test import Client

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.audit.models import AuditEvent

from .conftest import PASSWORD, code_for, enrolled, sign_in_with_password

PAGES = [
    "/admin/",
    "/admin/accounts/organisation/",
    "/admin/accounts/organisation/add/",
    "/admin/accounts/user/",
    "/admin/accounts/user/add/",
    "/admin/accounts/loginattempt/",
    "/admin/audit/auditevent/",
]


@pytest.mark.parametrize("path", PAGES)
def test_it_lets_administrators_in(administrator, signed_in, path):
    assert signed_in(administrator).get(path).status_code == 200


@pytest.mark.parametrize("role", ["reporter", "analyst", "coordinator"])
def test_it_keeps_everyone_else_out(personas, signed_in, role):
    client = signed_in(personas[role])
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert "Only administrators" in response.content.decode()
    for path in PAGES[1:]:
        assert client.get(path).status_code in (302, 403)
        assert client.get(path, follow=True).status_code == 403


def test_it_keeps_out_a_reporter_made_staff_by_hand(reporter, signed_in):
    User.objects.filter(pk=reporter.pk).update(is_staff=True)
    assert signed_in(reporter).get("/admin/accounts/user/").status_code == 403


def test_it_sends_anonymous_visitors_to_the_sign_in_page(client, db):
    response = client.get("/admin/accounts/user/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/?next=%2Fadmin%2Faccounts%2Fuser%2F"


def test_it_signs_an_administrator_into_the_admin_through_the_second_factor(administrator):
    enrolled(administrator)
    client = Client()
    response = client.get("/admin/", follow=True)
    login = response.redirect_chain[-1][0]
    response = client.post(login, {"username": "administrator", "password": PASSWORD, "next": "/admin/"})
    assert response.url.startswith("/accounts/two-factor/")
    response = client.post("/accounts/two-factor/", {"code": code_for(administrator), "next": "/admin/"})
    assert response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_it_shows_the_audit_log_read_only(administrator, signed_in):
    client = signed_in(administrator)
    event = AuditEvent.objects.first()
    assert client.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 200
    assert client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"action": "edited"}).status_code == 403
    assert client.get(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).action == event.action


def test_it_creates_a_user_through_the_services(administrator, energy, signed_in):
    form = {
        "username": "new-admin",
        "role": "administrator",
        "organisation": energy.pk,
        "email": "",
        "first_name": "",
        "last_name": "",
        "language": "en",
        "password": PASSWORD,
    }
    response = signed_in(administrator).post("/admin/accounts/user/add/", form)
    assert response.status_code == 302, response.content.decode()
    created = User.objects.get(username="new-admin")
    assert created.is_staff
    assert created.check_password(PASSWORD)
    assert AuditEvent.objects.filter(action="user.created", actor="administrator", data__username="new-admin").exists()


def test_it_refuses_a_weak_password_in_the_admin(administrator, energy, signed_in):
    form = {"username": "weak", "role": "reporter", "organisation": energy.pk, "language": "en", "password": "password"}
    response = signed_in(administrator).post("/admin/accounts/user/add/", form)
    assert response.status_code == 200
    assert "too common" in response.content.decode()
    assert not User.objects.filter(username="weak").exists()


def test_it_makes_staff_status_follow_the_role(administrator, analyst, signed_in):
    form = {"role": "administrator", "organisation": analyst.organisation_id, "language": "en", "new_password": ""}
    client = signed_in(administrator)
    assert client.post(f"/admin/accounts/user/{analyst.pk}/change/", form).status_code == 302
    assert User.objects.get(pk=analyst.pk).is_staff
    form["role"] = "coordinator"
    client.post(f"/admin/accounts/user/{analyst.pk}/change/", form)
    assert not User.objects.get(pk=analyst.pk).is_staff
    changes = [e.data["changes"]["role"] for e in AuditEvent.objects.filter(action="user.updated")]
    assert changes == [["analyst", "administrator"], ["administrator", "coordinator"]]


def test_it_resets_two_factor_and_deactivates_from_the_user_list(administrator, analyst, signed_in):
    enrolled(analyst)
    client = signed_in(administrator)
    client.post("/admin/accounts/user/", {"action": "reset_two_factor", "_selected_action": [analyst.pk]})
    analyst.refresh_from_db()
    assert (analyst.totp_secret, analyst.totp_confirmed) == ("", False)
    client.post("/admin/accounts/user/", {"action": "deactivate", "_selected_action": [analyst.pk]})
    assert not User.objects.get(pk=analyst.pk).is_active
    assert sign_in_with_password(Client(), "analyst").status_code == 200  # refused: wrong username or password


def test_it_never_deletes_users_or_organisations(administrator, energy, signed_in):
    client = signed_in(administrator)
    assert client.get(f"/admin/accounts/organisation/{energy.pk}/delete/").status_code == 403
    assert client.get(f"/admin/accounts/user/{administrator.pk}/delete/").status_code == 403
    assert Organisation.objects.filter(pk=energy.pk).exists()


def test_it_creates_an_organisation_through_the_services(administrator, signed_in):
    form = {
        "name": "Aralia Rail",
        "slug": "aralia-rail",
        "kind": "operator",
        "sector": "transport",
        "criticality": "essential",
        "size": "large",
        "entity_type": "other",
        "country": "XA",
        "preferred_scale": "",
        "language": "en",
        "reporting_calendar": "{}",
    }
    response = signed_in(administrator).post("/admin/accounts/organisation/add/", form)
    assert response.status_code == 302, response.content.decode()
    assert AuditEvent.objects.filter(action="organisation.created", actor="administrator").exists()
    form.update(slug="aralia-rail-2", name="Aralia Rail 2", country="xa")
    assert signed_in(administrator).post("/admin/accounts/organisation/add/", form).status_code == 200
    assert not Organisation.objects.filter(slug="aralia-rail-2").exists()
