"""The accounts services: who may change what, the password rules, staff status, audit events."""

import pytest
from rest_framework.authtoken.models import Token

from nciss_platform.accounts import services
from nciss_platform.accounts.models import User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.audit.services import verify

from .conftest import PASSWORD


@pytest.mark.parametrize("role", ["reporter", "analyst", "coordinator"])
def test_it_lets_only_administrators_manage_organisations_and_users(personas, energy, role):
    actor = personas[role]
    with pytest.raises(services.NotAllowed):
        services.create_organisation(actor=actor, name="X", slug="x", kind="operator", country="XA")
    with pytest.raises(services.NotAllowed):
        services.update_organisation(actor=actor, organisation=energy, criticality="essential")
    with pytest.raises(services.NotAllowed):
        services.create_user(actor=actor, username="x", password=PASSWORD, role="reporter", organisation=energy)
    with pytest.raises(services.NotAllowed):
        services.update_user(actor=actor, user=personas["reporter"], role="administrator")
    with pytest.raises(services.NotAllowed):
        services.reset_totp(actor=actor, user=personas["analyst"])
    with pytest.raises(services.NotAllowed):
        services.deactivate_user(actor=actor, user=personas["administrator"])


def test_it_checks_passwords_with_the_password_rules(administrator, energy):
    with pytest.raises(services.ServiceError) as refused:
        services.create_user(
            actor=administrator, username="x", password="12345678", role="reporter", organisation=energy
        )
    reasons = [reason for path, reason in refused.value.errors if path == "password"]
    assert any("too short" in reason for reason in reasons)
    assert any("entirely numeric" in reason for reason in reasons)
    with pytest.raises(services.ServiceError):
        services.set_password(actor=administrator, user=administrator, password="administrator1")


def test_it_requires_an_organisation(administrator):
    with pytest.raises(services.ServiceError) as refused:
        services.create_user(actor=administrator, username="x", password=PASSWORD, role="reporter", organisation=None)
    assert refused.value.errors == [("organisation", "required: every user belongs to an organisation")]


def test_it_makes_administrators_and_only_them_staff(personas):
    assert {role: user.is_staff for role, user in personas.items()} == {
        "reporter": False,
        "analyst": False,
        "coordinator": False,
        "administrator": True,
    }


def test_it_takes_staff_status_away_with_the_administrator_role(personas):
    admin, other = personas["administrator"], personas["analyst"]
    services.update_user(actor=admin, user=other, role="administrator")
    assert User.objects.get(pk=other.pk).is_staff
    services.update_user(actor=admin, user=other, role="analyst")
    assert not User.objects.get(pk=other.pk).is_staff


def test_it_stops_administrators_demoting_or_deactivating_themselves(administrator):
    with pytest.raises(services.NotAllowed):
        services.update_user(actor=administrator, user=administrator, role="reporter")
    with pytest.raises(services.NotAllowed):
        services.deactivate_user(actor=administrator, user=administrator)


def test_it_lets_users_change_their_own_password_but_not_others(reporter, analyst):
    services.set_password(actor=reporter, user=reporter, password="a new long pass phrase")
    assert User.objects.get(pk=reporter.pk).check_password("a new long pass phrase")
    with pytest.raises(services.NotAllowed):
        services.set_password(actor=reporter, user=analyst, password="a new long pass phrase")


def test_it_deletes_the_api_token_of_a_deactivated_user(administrator, reporter):
    Token.objects.create(user=reporter)
    services.deactivate_user(actor=administrator, user=reporter)
    assert not Token.objects.filter(user=reporter).exists()
    assert not User.objects.get(pk=reporter.pk).is_active
    services.reactivate_user(actor=administrator, user=reporter)
    assert User.objects.get(pk=reporter.pk).is_active


def test_it_lets_only_the_user_enrol_their_authenticator(administrator, analyst):
    with pytest.raises(services.NotAllowed):
        services.enrol_totp(actor=administrator, user=analyst)
    secret = services.enrol_totp(actor=analyst, user=analyst)
    assert services.enrol_totp(actor=analyst, user=analyst) == secret


def test_it_never_writes_a_password_or_secret_into_the_audit_log(administrator, analyst):
    secret = services.enrol_totp(actor=analyst, user=analyst)
    services.set_password(actor=administrator, user=analyst, password="another long pass phrase")
    everything = str(list(AuditEvent.objects.values_list("data", flat=True)))
    assert secret not in everything
    assert PASSWORD not in everything
    assert "another long pass phrase" not in everything
    assert verify().ok


def test_it_refuses_unknown_fields_and_changes_nothing(administrator, energy):
    with pytest.raises(services.ServiceError):
        services.update_organisation(actor=administrator, organisation=energy, owner="someone")
    with pytest.raises(services.ServiceError):
        services.update_organisation(actor=administrator, organisation=energy, country="Aralia")
    assert energy.country == "XA"
