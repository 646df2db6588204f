"""``nciss createuser USERNAME --role ROLE --org ORG_SLUG``: a user with a role in an organisation.

The password comes from a prompt in a terminal, or from standard input with --password-stdin
(for scripts: ``printf '%s\\n' "$PASSWORD" | nciss createuser ...``). It must pass the password
rules. Bad input is one line on stderr and exit code 2; nothing is created then.
"""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from nciss_platform.accounts import services
from nciss_platform.accounts.models import Organisation, User

EXIT_BAD_INPUT = 2


class Command(BaseCommand):
    help = "Create a user with a role in an organisation (the password from a prompt or from standard input)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help=f"one of {', '.join(User.Role.values)}")
        parser.add_argument("--org", required=True, metavar="ORG_SLUG", help="the organisation's slug")
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from the first line of standard input"
        )
        parser.add_argument(
            "--create-org",
            metavar="NAME",
            help="create the organisation ORG_SLUG with this name first if it does not exist "
            "(a CSIRT in NCISS_COUNTRY: for the first administrator of a new deployment)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        role = options["role"]
        if role not in User.Role.values:
            raise _bad(f"unknown role {role!r}: use one of {', '.join(User.Role.values)}")
        organisation = self._organisation(options["org"], options["create_org"])
        password = _password(options["password_stdin"])
        try:
            user = services.create_user(
                actor=None,
                username=options["username"],
                password=password,
                role=role,
                organisation=organisation,
                email=options["email"],
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
        except services.ServiceError as exc:
            raise _bad(str(exc)) from None
        second = " (two-factor authentication is set up at the first sign-in)" if user.needs_second_factor else ""
        self.stdout.write(f"created {user.username}: {user.get_role_display()} at {organisation.name}{second}")

    def _organisation(self, slug: str, create_as: str | None) -> Organisation:
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is not None:
            return organisation
        if create_as:
            try:
                created = services.create_organisation(
                    actor=None, name=create_as, slug=slug, kind=Organisation.Kind.CSIRT, country=settings.NCISS_COUNTRY
                )
            except services.ServiceError as exc:
                raise _bad(str(exc)) from None
            self.stdout.write(f"created organisation {created.slug}: {created.name}")
            return created
        known = list(Organisation.objects.order_by("slug").values_list("slug", flat=True)[:11])
        if not known:
            hint = "there are no organisations yet: add --create-org NAME to create it"
        else:
            hint = f"use one of {', '.join(known[:10])}{', ...' if len(known) > 10 else ''}"
        raise _bad(f"unknown organisation {slug!r}: {hint}")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise _bad("--password-stdin: standard input holds no password")
        return password
    if not sys.stdin.isatty():
        raise _bad("no password: run it in a terminal, or give --password-stdin and the password on standard input")
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Password (again): "):
        raise _bad("the two passwords differ")
    return password


def _bad(message: str) -> CommandError:
    return CommandError(message, returncode=EXIT_BAD_INPUT)
