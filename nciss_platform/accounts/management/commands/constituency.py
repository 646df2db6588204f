"""``nciss constituency load FILE.csv | lookup VALUE | remove KIND VALUE``: the organisations' network assets.

The CSV has the columns organisation slug, kind (cidr, asn or domain), value and an optional
note; a first row starting with ``organisation`` is a header. Loading is all or nothing: any
bad row (unknown organisation, bad value, an asset of another organisation) is one line on
stderr, exit code 2, and nothing is imported. Assets an organisation already has are skipped,
so loading the same file twice changes nothing. ``lookup`` prints the owner of an address, an
AS number (``AS64512``), a domain or a URL, and exits 1 when nobody in the constituency owns it.
"""

from __future__ import annotations

import csv
import ipaddress
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from nciss.constituency import KINDS, normalise
from nciss_platform.accounts import constituency as services
from nciss_platform.accounts.models import Organisation
from nciss_platform.errors import ServiceError

EXIT_BAD_INPUT = 2
EXIT_NOT_FOUND = 1


class Command(BaseCommand):
    help = "Load, look up or remove the organisations' network assets (IP prefixes, AS numbers, domains)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        load = actions.add_parser("load", help="add the assets of a CSV file: organisation,kind,value[,note]")
        load.add_argument("file", type=Path)
        lookup = actions.add_parser("lookup", help="print the owner of an IP address, AS number, domain or URL")
        lookup.add_argument("value")
        remove = actions.add_parser("remove", help="remove one asset from its organisation")
        remove.add_argument("kind", choices=KINDS)
        remove.add_argument("value")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "load":
            self._load(options["file"])
        elif options["action"] == "lookup":
            self._lookup(options["value"])
        else:
            self._remove(options["kind"], options["value"])

    def _load(self, path: Path) -> None:
        by_slug: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for line, row in _rows(path):
            if len(row) not in (3, 4):
                raise _bad(f"{path}:{line}: expected organisation,kind,value[,note], got {len(row)} columns")
            slug, kind, value, note = (*(cell.strip() for cell in row), "")[:4]
            by_slug[slug].append((kind, value, note))
        organisations = {o.slug: o for o in Organisation.objects.filter(slug__in=by_slug)}
        unknown = sorted(set(by_slug) - set(organisations))
        if unknown:
            more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
            raise _bad(f"{path}: unknown organisation {unknown[0]!r}{more}")
        added = 0
        try:
            with transaction.atomic():
                for slug, assets in by_slug.items():
                    added += len(services.add_assets(actor=None, organisation=organisations[slug], assets=assets))
        except ServiceError as exc:
            raise _bad(f"{path}: {slug}: {exc}") from None
        rows = sum(len(assets) for assets in by_slug.values())
        self.stdout.write(
            f"{path}: {rows} rows for {len(by_slug)} organisations: {added} assets added, {rows - added} already there"
        )

    def _lookup(self, value: str) -> None:
        found = _owner(value.strip())
        if found is None:
            self.stdout.write(f"{value}: no organisation of the constituency")
            raise SystemExit(EXIT_NOT_FOUND)
        organisation = Organisation.objects.get(pk=found)
        self.stdout.write(f"{value}: {organisation.slug} ({organisation.name})")

    def _remove(self, kind: str, value: str) -> None:
        owner = _owner_of(kind, value)
        if owner is None:
            raise _bad(f"no organisation has the {kind} {value}")
        try:
            services.remove_assets(actor=None, organisation=owner, assets=[(kind, value)])
        except ServiceError as exc:
            raise _bad(str(exc)) from None
        self.stdout.write(f"removed the {kind} {value} from {owner.slug}")


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            rows = [(line, row) for line, row in enumerate(csv.reader(stream), start=1) if any(c.strip() for c in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise _bad(f"{path}: cannot read it: {exc}") from None
    if rows and rows[0][1][0].strip().lower() == "organisation":
        rows = rows[1:]
    if not rows:
        raise _bad(f"{path}: no assets in it")
    return rows


def _owner(value: str) -> int | None:
    """The owning organisation's id of an AS number, an address, or a URL or domain (by its host)."""
    built = services.constituency()
    if value.upper().removeprefix("AS").isdigit():
        return built.owner_of_asn(value)
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return built.owner_of_url(value)
    return built.owner_of_ip(value)


def _owner_of(kind: str, value: str) -> Organisation | None:
    try:
        normalised = normalise(kind, value)
    except ValueError as exc:
        raise _bad(str(exc)) from None
    return Organisation.objects.filter(network_assets__kind=kind, network_assets__value=normalised).first()


def _bad(message: str) -> CommandError:
    return CommandError(message, returncode=EXIT_BAD_INPUT)
