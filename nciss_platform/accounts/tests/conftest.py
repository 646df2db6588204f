"""The people of the accounts tests, made through the services as an administrator would.

Organisations: the national CSIRT and an energy operator. Personas: ``reporter`` (the
operator's), ``analyst``, ``coordinator`` and ``administrator`` (the CSIRT's), all with
``PASSWORD``. ``code_for(user)`` is the user's current TOTP code; ``enrolled(user)`` sets up
their authenticator; ``signed_in(user)`` is a client past the password and the code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from nciss_platform import clock
from nciss_platform.accounts import services, totp
from nciss_platform.accounts.middleware import SESSION_KEY
from nciss_platform.accounts.models import Organisation, User

PASSWORD = "correct horse battery staple"


@pytest.fixture
def csirt(db: None) -> Organisation:
    return services.create_organisation(actor=None, name="Aralia CSIRT", slug="csirt", kind="csirt", country="XA")


@pytest.fixture
def energy(db: None) -> Organisation:
    return services.create_organisation(
        actor=None, name="Aralia Grid", slug="aralia-grid", kind="operator", sector="energy", country="XA"
    )


def make_user(username: str, role: str, organisation: Organisation) -> User:
    return services.create_user(actor=None, username=username, password=PASSWORD, role=role, organisation=organisation)


@pytest.fixture
def reporter(energy: Organisation) -> User:
    return make_user("grid-reporter", "reporter", energy)


@pytest.fixture
def analyst(csirt: Organisation) -> User:
    return make_user("analyst", "analyst", csirt)


@pytest.fixture
def coordinator(csirt: Organisation) -> User:
    return make_user("coordinator", "coordinator", csirt)


@pytest.fixture
def administrator(csirt: Organisation) -> User:
    return make_user("administrator", "administrator", csirt)


@pytest.fixture
def personas(reporter: User, analyst: User, coordinator: User, administrator: User) -> dict[str, User]:
    return {"reporter": reporter, "analyst": analyst, "coordinator": coordinator, "administrator": administrator}


def code_for(user: User, at: dt.datetime | None = None) -> str:
    return totp.code_at(user.totp_secret, (at or clock.now()).timestamp())


def wrong_code(user: User) -> str:
    """A six-digit code that is not valid now, nor one step either side."""
    now = clock.now().timestamp()
    valid = {totp.code_at(user.totp_secret, now + step * 30) for step in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def enrolled(user: User) -> User:
    services.enrol_totp(actor=user, user=user)
    services.confirm_totp(actor=user, user=user, code=code_for(user, clock.now() - dt.timedelta(seconds=30)))
    user.refresh_from_db()
    return user


@pytest.fixture
def signed_in() -> Callable[[User], Any]:
    """A client (an APIClient, which also does pages) signed in as the user, second factor given."""

    def client_for(user: User) -> APIClient:
        client = APIClient()
        client.force_login(user)
        session = client.session
        session[SESSION_KEY] = True
        session.save()
        return client

    return client_for


def sign_in_with_password(client: Client, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)
