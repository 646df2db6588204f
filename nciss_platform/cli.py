"""The ``nciss`` command: the core's commands (``nciss.cli``) plus the server's.

Server commands: ``serve``, ``migrate`` and ``manage`` (any Django management command).
Django is imported only when a server command runs, so the core commands start fast.
Bad configuration stops a server command with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

EXIT_BAD_CONFIGURATION = 2


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr with exit code 2, like the core commands."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"nciss: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from nciss import cli as core_cli

    parser = _Parser(prog="nciss", description="National cyber incident classification and severity scales.")
    commands = parser.add_subparsers(dest="command", title="commands", required=True)
    core_cli.add_core_commands(commands)

    serve = commands.add_parser("serve", help="run the web platform: the calculator, the API and its docs")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    serve.set_defaults(server_command=_serve)

    migrate = commands.add_parser("migrate", help="create or update the database tables")
    migrate.set_defaults(server_command=_migrate)

    # Platform commands implemented as Django management commands of the same name.
    for name, summary in PLATFORM_COMMANDS.items():
        sub = commands.add_parser(name, help=summary, add_help=False)
        sub.add_argument("command_args", nargs=argparse.REMAINDER, metavar="ARGS")
        sub.set_defaults(server_command=_platform_command, platform_command=name)

    manage = commands.add_parser("manage", help="run a Django management command, e.g. nciss manage check")
    manage.add_argument("manage_args", nargs=argparse.REMAINDER, metavar="COMMAND [ARGS]")
    manage.set_defaults(server_command=_manage)
    return parser


PLATFORM_COMMANDS = {
    "demo": "load the fictional national demo data set (idempotent) and print a login for each role",
    "createuser": "create a user: nciss createuser NAME --role ROLE --org ORG",
    "audit": "check the audit log: nciss audit verify",
}


def _platform_command(args: argparse.Namespace) -> int:
    if not _setup_django():
        return EXIT_BAD_CONFIGURATION
    return _django_command(args.platform_command, *args.command_args)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    server_command = getattr(args, "server_command", None)
    if server_command is None:
        from nciss import cli as core_cli

        return core_cli.run_core(args)
    return int(server_command(args))


def _serve(args: argparse.Namespace) -> int:
    if not _setup_django():
        return EXIT_BAD_CONFIGURATION
    print(f"nciss: the severity calculator is at http://{args.host}:{args.port}/ (API docs at /api/docs/)", flush=True)
    return _django_command("runserver", f"{args.host}:{args.port}", "--noreload")


def _migrate(args: argparse.Namespace) -> int:
    if not _setup_django():
        return EXIT_BAD_CONFIGURATION
    return _django_command("migrate", "--no-input")


def _manage(args: argparse.Namespace) -> int:
    if not _setup_django():
        return EXIT_BAD_CONFIGURATION
    return _django_command(*(args.manage_args or ["help"]))


def _setup_django() -> bool:
    """Load the settings and the apps; on bad configuration print one line and return False."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nciss_platform.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        print(f"nciss: bad configuration: {exc}", file=sys.stderr)
        return False
    return True


def _django_command(*argv: str) -> int:
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["nciss manage", *argv])
    except SystemExit as exc:  # management commands report failure by exiting
        return 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
    return 0
