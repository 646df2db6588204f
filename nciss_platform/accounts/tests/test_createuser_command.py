"""``nciss createuser``: a user from the command line, with clear failures and exit codes."""

import io
import sys

import pytest

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.cli import main

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def run(monkeypatch, *args, stdin=PASSWORD + "\n"):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["createuser", *args])


def test_it_creates_a_user_with_a_password_from_standard_input(monkeypatch, capsys, energy):
    assert run(monkeypatch, "alice", "--role", "reporter", "--org", "aralia-grid", "--password-stdin") == 0
    assert capsys.readouterr().out == "created alice: Reporter at Aralia Grid\n"
    assert User.objects.get(username="alice").check_password(PASSWORD)


def test_it_creates_the_first_organisation_for_a_new_deployment(monkeypatch, capsys, db):
    args = ["root", "--role", "administrator", "--org", "csirt", "--create-org", "Aralia CSIRT", "--password-stdin"]
    assert run(monkeypatch, *args) == 0
    assert Organisation.objects.get(slug="csirt").kind == "csirt"
    assert User.objects.get(username="root").is_staff
    assert "two-factor authentication is set up at the first sign-in" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bob", "--role", "king", "--org", "aralia-grid", "--password-stdin"], "unknown role 'king'"),
        (
            ["bob", "--role", "reporter", "--org", "nowhere", "--password-stdin"],
            "unknown organisation 'nowhere': use one of aralia-grid",
        ),
        (["bob", "--role", "reporter", "--org", "aralia-grid"], "no password"),
    ],
)
def test_it_refuses_bad_input_in_one_line_with_exit_code_2(monkeypatch, capsys, energy, args, message):
    assert run(monkeypatch, *args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert not User.objects.filter(username="bob").exists()


def test_it_refuses_a_weak_password(monkeypatch, capsys, energy):
    assert run(monkeypatch, "bob", "--role", "reporter", "--org", "aralia-grid", "--password-stdin", stdin="bob\n") == 2
    assert "password: This password is too short" in capsys.readouterr().err
    assert not User.objects.filter(username="bob").exists()


def test_it_refuses_a_username_that_is_taken(monkeypatch, capsys, reporter):
    assert run(monkeypatch, "grid-reporter", "--role", "reporter", "--org", "aralia-grid", "--password-stdin") == 2
    assert "username" in capsys.readouterr().err
