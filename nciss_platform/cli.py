"""The ``nciss`` command: the core's commands (``nciss.cli``) plus the server's.

Server commands: ``serve`` (gunicorn), ``migrate`` and ``manage`` (any Django management command).
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
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: one per CPU core, at least 2)",
    )
    serve.add_argument(
        "--threads", type=int, default=4, help="threads per worker: requests one worker serves at once (default: 4)"
    )
    serve.add_argument("--access-log", action="store_true", help="log every request on stderr")
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
    "import": "import incidents: nciss import --format veris|stix|misp|intelmq|csv --user NAME PATH...",
    "ingest": "ingest feed events into incidents: nciss ingest [--format intelmq|csv] --user NAME FILE... "
    "(or --from-redis / --to-redis)",
    "export": "export incidents: nciss export --format stix|misp|veris|csv [--incident REF]... [-o PATH]",
    "worker": "run background jobs (notifications, escalations): nciss worker [--once] [--concurrency N]",
    "notify": "check clocks and acknowledgements now, and keep the periodic check scheduled: nciss notify tick",
    "mail": "e-mail with reporters: nciss mail serve [--host H] [--port 2525] [--lmtp] | nciss mail poll-imap [--once]",
    "sitrep": "situation reports as PDF or HTML: nciss sitrep [--incident REF [--advisory]] [--date DAY] [--lang en|ru|uz] -o FILE",
    "constituency": "network assets of organisations: nciss constituency load FILE.csv | lookup VALUE | remove KIND VALUE",
    "calibrate": "re-assess the history on a draft scale: nciss calibrate --scale DRAFT --against CURRENT [--since DAY] [-o FILE.html|.pdf]",
    "exercise": "table-top exercises: nciss exercise validate FILE... | run SCENARIO --script FILE [--lang L] [-o report.pdf]",
    "report": "periodic reports: nciss report monthly|annual|public|nis2-quarterly --period 2026-11|2026|2026-Q3 [--lang en|ru|uz] -o FILE.pdf|.html|.csv",
    "campaigns": "find campaigns across organisations now: nciss campaigns correlate [--window-hours N] [--json]",
}


def _platform_command(args: argparse.Namespace) -> int:
    if not _setup_django():
        return EXIT_BAD_CONFIGURATION
    return _django_command(args.platform_command, *args.command_args)


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    if given and given[0] in PLATFORM_COMMANDS:
        # Everything after the name is the management command's own (argparse's REMAINDER
        # would refuse arguments that start with a dash, e.g. `nciss demo --url ...`).
        return _platform_command(argparse.Namespace(platform_command=given[0], command_args=given[1:]))
    args = build_parser().parse_args(given)
    server_command = getattr(args, "server_command", None)
    if server_command is None:
        from nciss import cli as core_cli

        return core_cli.run_core(args)
    return int(server_command(args))


def _serve(args: argparse.Namespace) -> int:
    """Gunicorn (threaded workers) with the WSGI application; Django's runserver only without gunicorn."""
    for name in ("workers", "threads"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            print(f"nciss: --{name} must be at least 1", file=sys.stderr)
            return EXIT_BAD_CONFIGURATION
    if not _setup_django():
        return EXIT_BAD_CONFIGURATION
    address = f"nciss: the severity calculator is at http://{args.host}:{args.port}/ (API docs at /api/docs/)"
    try:
        from nciss_platform.server import run_gunicorn
    except ImportError:  # gunicorn is a dependency; this only keeps a broken install usable
        print("nciss: gunicorn is not installed: serving with Django's development server", file=sys.stderr)
        print(address, flush=True)
        return _django_command("runserver", f"{args.host}:{args.port}", "--noreload")
    print(address, flush=True)
    workers = args.workers or max(2, os.cpu_count() or 1)
    return run_gunicorn(args.host, args.port, workers=workers, threads=args.threads, access_log=args.access_log)


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
