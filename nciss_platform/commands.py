"""What the platform's management commands share: bad input exits 2 with one line on stderr.

``nciss NAME`` commands subclass :class:`Command` so that argparse's own errors (a missing or
unknown option) read like theirs, raise :func:`bad_input` for everything else, and write their
reports with :func:`write_document`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser

if TYPE_CHECKING:
    from nciss_platform.reports.services import Report

EXIT_BAD_INPUT = 2


def bad_input(message: str) -> CommandError:
    """The error to raise for bad input: its first line on stderr, exit code 2."""
    return CommandError(message.splitlines()[0], returncode=EXIT_BAD_INPUT)


class Command(BaseCommand):
    """A command whose argparse errors are one line, ``nciss NAME: ... (see nciss NAME --help)``, exit 2.

    Sub-commands' parsers (``add_subparsers``) report errors the same way.
    """

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line_error(message: str) -> NoReturn:
            sys.stderr.write(f"nciss {subcommand}: {message} (see nciss {subcommand} --help)\n")
            sys.exit(EXIT_BAD_INPUT)

        for each in _with_subparsers(parser):
            each.error = one_line_error  # type: ignore[method-assign]
        return parser


def _with_subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    subparsers = [
        sub
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for sub in action.choices.values()
    ]
    return [parser, *(each for sub in subparsers for each in _with_subparsers(sub))]


def write_document(report: Report, path: Path) -> str:
    """Write ``report`` to ``path``, as PDF if it ends in ``.pdf``, else as HTML; says what, e.g. ``3 page(s)``."""
    try:
        if path.suffix.lower() == ".pdf":
            pdf = report.pdf()
            path.write_bytes(pdf.data)
            return f"{pdf.pages} page(s)"
        path.write_text(report.html(), encoding="utf-8")
        return "HTML"
    except OSError as e:
        raise bad_input(f"cannot write {path}: {e.strerror}") from None
