"""The TAXII 2.1 server: partners' tools pull, read-only, what was shared with them.

One API root, ``/taxii2/partners/``. A user of a partner organisation (kind ``partner``) sees one
collection per partner group its organisation belongs to and one for the shares made to it
directly; nobody else has collections. A collection holds the STIX objects
(``nciss.interop.stix.to_bundle``) of the shares ``shares_visible_to`` lets the user see: never a
revoked share, a TLP:RED one only for the people named in it. Each share adds a version of the
incident object (id: the share's ``stix_id``; ``modified``: when it was shared) and whatever
objects it brings that the collection did not hold yet; ``date_added`` is when the share was made.

Authentication: HTTP Basic (username and password, throttled like the sign-in page; refused for
accounts that need a one-time code), ``Authorization: Token <key>`` (the API's tokens), or a
signed-in session. Collections of other organisations answer 404, every write method 405.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from nciss.interop import IncidentRecord
from nciss.interop.records import TLP_LABELS
from nciss.interop.stix import TLP2_MARKING_IDS, to_bundle
from nciss_platform.accounts import throttle
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.sharing.access import shares_visible_to
from nciss_platform.sharing.models import PartnerGroup, Share

MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
PAGE_LIMIT = 100  # the most objects, manifest records or versions one response holds
REALM = 'Basic realm="nciss TAXII", charset="UTF-8"'
SIGN_IN = "authenticate with HTTP Basic (username and password) or an API token (Authorization: Token <key>)"
VERSION_KEYWORDS = ("first", "last", "all")
TLP_RANKS = {TLP2_MARKING_IDS[label]: rank for rank, label in enumerate(TLP_LABELS)}
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", re.IGNORECASE)


class TaxiiError(Exception):
    """A failure answered with a TAXII error message (``title``, ``description``, ``http_status``)."""

    def __init__(self, status: int, description: str, headers: dict[str, str] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.headers = headers or {}

    def response(self) -> HttpResponse:
        body = {
            "title": HTTPStatus(self.status).phrase,
            "description": self.description,
            "http_status": str(self.status),
        }
        response = _taxii_response(body, self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


# ---------------------------------------------------------------- collections


@dataclass(frozen=True)
class Collection:
    """A partner group's shares to the user's organisation, or (``group`` None) its direct shares."""

    id: str
    title: str
    description: str
    group: PartnerGroup | None

    def resource(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "can_read": True,
            "can_write": False,
            "media_types": [STIX_MEDIA_TYPE],
        }

    def shares(self, user: User) -> QuerySet[Share]:
        visible = shares_visible_to(user)
        return visible.filter(group=self.group) if self.group else visible.filter(group__isnull=True)


def collection_id(kind: str, slug: str) -> str:
    """A collection's id: the same on every request, shaped as the version 4 UUID TAXII asks for."""
    digest = hashlib.sha256(f"nciss-taxii:{settings.NCISS_COUNTRY}:{kind}:{slug}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def collections_of(user: User) -> list[Collection]:
    """The user's collections, partner groups by name first, then the direct shares."""
    organisation = user.organisation
    if organisation is None or organisation.kind != Organisation.Kind.PARTNER:
        return []
    groups = [
        Collection(
            collection_id("group", group.slug),
            group.name,
            group.description or f"Incidents shared with the partner group {group.name}",
            group,
        )
        for group in organisation.partner_groups.order_by("name", "pk")
    ]
    direct = Collection(
        collection_id("direct", organisation.slug),
        f"Shared with {organisation.name} directly",
        f"Incidents shared with {organisation.name} outside any partner group",
        None,
    )
    return [*groups, direct]


def _collection(user: User, wanted: str) -> Collection:
    for collection in collections_of(user):
        if collection.id == wanted.lower():
            return collection
    raise TaxiiError(404, "no such collection")


# ---------------------------------------------------------------- the objects of a collection


@dataclass(frozen=True)
class Entry:
    """One version of one STIX object in a collection, and when it was added."""

    date_added: dt.datetime
    id: str
    version: str
    version_at: dt.datetime
    object: dict[str, Any] = field(compare=False)

    @property
    def key(self) -> tuple[dt.datetime, str, str]:
        """The order of a collection (date added, then id and version), which the paging cursor follows."""
        return (self.date_added, self.id, self.version)

    def manifest_record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "date_added": taxii_timestamp(self.date_added),
            "version": self.version,
            "media_type": STIX_MEDIA_TYPE,
        }


def entries_of(shares: QuerySet[Share]) -> list[Entry]:
    """Every object version the shares bring, in the order of the collection.

    Each share is one version of its incident object: its ``stix_id``, ``modified`` when it was
    shared; the sending CSIRT is the producer. A version several shares bring (a marking
    definition, an identity, an observable) is added with the first of them and keeps the most
    restrictive TLP marking they give it, as in one bundle. Objects without ``modified`` or
    ``created`` (observables) have one version, the time they were added.
    """
    entries: dict[tuple[str, str | None], Entry] = {}
    for share in shares.select_related("shared_by__organisation").order_by("shared_at", "pk"):
        record = replace(IncidentRecord.from_json(share.record), source_id=share.stix_id, modified=share.shared_at)
        sender = share.shared_by.organisation
        for stix_object in to_bundle([record], producer=sender.name if sender else "nciss")["objects"]:
            stamp = stix_object.get("modified") or stix_object.get("created")
            present = entries.get((stix_object["id"], stamp))
            if present is None:
                version_at = _parse_timestamp(stamp) if stamp else share.shared_at
                version = stamp or taxii_timestamp(share.shared_at)
                entries[stix_object["id"], stamp] = Entry(
                    share.shared_at, stix_object["id"], version, version_at, stix_object
                )
            elif _restriction(stix_object) > _restriction(present.object):
                entries[stix_object["id"], stamp] = replace(present, object=stix_object)
    return sorted(entries.values(), key=lambda entry: entry.key)


def _restriction(stix_object: dict[str, Any]) -> int:
    """How restrictive an object's TLP marking is (-1 without one)."""
    ranks = (TLP_RANKS.get(ref, -1) for ref in stix_object.get("object_marking_refs", ()))
    return max(ranks, default=-1)


# ---------------------------------------------------------------- filters and paging


@dataclass(frozen=True)
class Query:
    """A request's filters (section 3.4 of the TAXII 2.1 specification)."""

    added_after: dt.datetime | None = None
    limit: int = PAGE_LIMIT
    cursor: tuple[dt.datetime, str, str] | None = None
    ids: frozenset[str] | None = None
    types: frozenset[str] | None = None
    versions: frozenset[str] = frozenset({"last"})
    version_times: frozenset[dt.datetime] = frozenset()
    spec_versions: frozenset[str] | None = None

    def match(self, entries: Iterable[Entry]) -> list[Entry]:
        """The entries matching id, type, spec version and version, then added after ``added_after``."""
        matching = [
            entry
            for entry in entries
            if (self.ids is None or entry.id in self.ids)
            and (self.types is None or entry.object.get("type") in self.types)
            and (self.spec_versions is None or entry.object.get("spec_version", "2.1") in self.spec_versions)
        ]
        matching = self._versions(matching)
        return [entry for entry in matching if self.added_after is None or entry.date_added > self.added_after]

    def _versions(self, entries: list[Entry]) -> list[Entry]:
        if "all" in self.versions:
            return entries
        by_id: dict[str, list[Entry]] = {}
        for entry in entries:
            by_id.setdefault(entry.id, []).append(entry)
        chosen = set()
        for versions in by_id.values():
            ordered = sorted(versions, key=lambda entry: entry.version_at)
            if "first" in self.versions:
                chosen.add(ordered[0].key)
            if "last" in self.versions:
                chosen.add(ordered[-1].key)
            chosen.update(entry.key for entry in versions if entry.version_at in self.version_times)
        return [entry for entry in entries if entry.key in chosen]


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    more: bool
    next: str | None

    def envelope(self, name: str, items: list[Any]) -> dict[str, Any]:
        """The page as TAXII answers it: ``more``, ``next`` when there is more, the items when there are any."""
        body: dict[str, Any] = {"more": self.more}
        if self.next:
            body["next"] = self.next
        if items:
            body[name] = items
        return body

    def headers(self) -> dict[str, str]:
        if not self.entries:
            return {}
        return {
            "X-TAXII-Date-Added-First": taxii_timestamp(self.entries[0].date_added),
            "X-TAXII-Date-Added-Last": taxii_timestamp(self.entries[-1].date_added),
        }


def page_of(entries: list[Entry], query: Query) -> Page:
    """The ``limit`` entries after the cursor; ``next`` is the cursor for the rest."""
    rest = [entry for entry in entries if query.cursor is None or entry.key > query.cursor]
    page = rest[: query.limit]
    more = len(rest) > len(page)
    return Page(page, more, _encode_cursor(page[-1].key) if more else None)


def parse_query(request: HttpRequest) -> Query:
    """The filters of a request; a malformed one is a 400."""
    values: dict[str, Any] = {}
    added_after = _single(request, "added_after")
    if added_after is not None:
        values["added_after"] = _parse_timestamp(added_after, "added_after")
    limit = _single(request, "limit")
    if limit is not None:
        if not (limit.isascii() and limit.isdigit()) or int(limit) < 1:
            raise TaxiiError(400, "limit must be a positive integer")
        values["limit"] = min(int(limit), PAGE_LIMIT)
    cursor = _single(request, "next")
    if cursor is not None:
        values["cursor"] = _decode_cursor(cursor)
    for name, attribute in (("id", "ids"), ("type", "types"), ("spec_version", "spec_versions")):
        listed = _listed(request, name)
        if listed is not None:
            values[attribute] = frozenset(listed)
    versions = _listed(request, "version")
    if versions is not None:
        if "all" in versions and len(versions) > 1:
            raise TaxiiError(400, "match[version]=all cannot be combined with other versions")
        values["versions"] = frozenset(value for value in versions if value in VERSION_KEYWORDS)
        values["version_times"] = frozenset(
            _parse_timestamp(value, "match[version]") for value in versions if value not in VERSION_KEYWORDS
        )
    return Query(**values)


def _single(request: HttpRequest, name: str) -> str | None:
    given = request.GET.getlist(name)
    if len(given) > 1:
        raise TaxiiError(400, f"{name} may be given only once")
    return given[0] if given else None


def _listed(request: HttpRequest, field_name: str) -> list[str] | None:
    name = f"match[{field_name}]"
    given = _single(request, name)
    if given is None:
        return None
    listed = given.split(",")
    if any(not value for value in listed) or len(set(listed)) != len(listed):
        raise TaxiiError(400, f"{name} must be distinct values separated by commas")
    return listed


def _encode_cursor(key: tuple[dt.datetime, str, str]) -> str:
    text = json.dumps([key[0].isoformat(), key[1], key[2]])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, str, str]:
    try:
        added, object_id, version = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment = dt.datetime.fromisoformat(added)
    except (ValueError, TypeError):
        moment = None
    if moment is None or moment.tzinfo is None:
        raise TaxiiError(400, "next is not a value this server gave")
    return (moment, str(object_id), str(version))


def taxii_timestamp(moment: dt.datetime) -> str:
    """A TAXII timestamp: UTC, microseconds, Z."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_timestamp(text: str, parameter: str = "") -> dt.datetime:
    if TIMESTAMP.fullmatch(text):
        try:
            return dt.datetime.fromisoformat(text.upper()).astimezone(dt.UTC)
        except ValueError:
            pass
    raise TaxiiError(400, f"{parameter}: {text!r} is not an RFC 3339 timestamp such as 2026-03-02T09:00:00.000Z")


# ---------------------------------------------------------------- authentication and negotiation


def authenticated_user(request: HttpRequest) -> User:
    """The user a request authenticates as: Basic, Token, or the signed-in session."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        if request.user.is_authenticated:
            return request.user
        raise TaxiiError(401, SIGN_IN, {"WWW-Authenticate": REALM})
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "basic":
        return _basic(request, credentials.strip())
    if scheme.lower() == "token":
        try:
            user, _token = TokenAuthentication().authenticate_credentials(credentials.strip())
        except AuthenticationFailed as exc:
            raise TaxiiError(401, str(exc.detail), {"WWW-Authenticate": REALM}) from None
        return user
    raise TaxiiError(401, SIGN_IN, {"WWW-Authenticate": REALM})


def _basic(request: HttpRequest, credentials: str) -> User:
    """Basic credentials, checked and counted like the sign-in page's (successes are not recorded: clients poll)."""
    try:
        username, password = base64.b64decode(credentials, validate=True).decode().split(":", 1)
    except ValueError:
        raise TaxiiError(401, "malformed Basic credentials", {"WWW-Authenticate": REALM}) from None
    ip = throttle.client_ip(request)
    lock = throttle.lockout(username, ip)
    if lock is None:
        user = authenticate(request, username=username, password=password)
        if user is not None:
            if user.needs_second_factor:
                raise TaxiiError(
                    401,
                    "this account needs two-factor authentication: use an API token (Authorization: Token <key>)",
                    {"WWW-Authenticate": REALM},
                )
            return user
        lock = throttle.failed(username=username, ip=ip, stage="taxii")
        if lock is None:
            raise TaxiiError(401, "wrong username or password", {"WWW-Authenticate": REALM})
    raise TaxiiError(
        429,
        f"too many failed sign-ins: try again in {lock.minutes_left} minutes",
        {"Retry-After": str(lock.retry_after)},
    )


def accepts_taxii(accept: str) -> bool:
    """Whether an Accept header allows TAXII 2.1 (``application/taxii+json``, version 2.1 or unversioned)."""
    for media_range in accept.split(","):
        media_type, *parameters = (part.strip() for part in media_range.split(";"))
        if media_type.lower() != "application/taxii+json":
            continue
        named = {}
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            named[name.strip().lower()] = value.strip().strip('"')
        if named.get("version", "2.1") != "2.1":
            continue
        try:
            if float(named.get("q", "1")) > 0:
                return True
        except ValueError:
            continue
    return False


# ---------------------------------------------------------------- responses and views


@dataclass(frozen=True)
class Reply:
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def _taxii_response(body: dict[str, Any], status: int = 200) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type=MEDIA_TYPE)
    response["Cache-Control"] = "no-store"  # shares are under TLP: no proxy or browser cache keeps them
    response["Vary"] = "Accept, Authorization, Cookie"
    return response


def endpoint(handler: Callable[..., Reply]) -> Callable[..., HttpResponse]:
    """A TAXII endpoint: authenticated, read-only, TAXII media type; failures as TAXII error messages."""

    @csrf_exempt
    @functools.wraps(handler)
    def view(request: HttpRequest, **kwargs: str) -> HttpResponse:
        try:
            user = authenticated_user(request)
            if request.method not in ("GET", "HEAD"):
                raise TaxiiError(405, "this TAXII server is read-only", {"Allow": "GET, HEAD"})
            if not accepts_taxii(request.headers.get("Accept", "")):
                raise TaxiiError(406, f"accept {MEDIA_TYPE}")
            reply = handler(request, user, **kwargs)
        except TaxiiError as error:
            return error.response()
        response = _taxii_response(reply.body)
        for name, value in reply.headers.items():
            response[name] = value
        return response

    return view


@endpoint
def discovery(request: HttpRequest, user: User) -> Reply:
    root = reverse("taxii:api-root")
    return Reply(
        {
            "title": "nciss TAXII server",
            "description": "Incidents the national CSIRT shared with partners, as STIX 2.1, under their TLP",
            "default": root,
            "api_roots": [root],
        }
    )


@endpoint
def api_root(request: HttpRequest, user: User) -> Reply:
    return Reply(
        {
            "title": "Partners",
            "description": "One read-only collection per partner group of your organisation, and one for its direct shares",
            "versions": [MEDIA_TYPE],
            "max_content_length": settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2621440,
        }
    )


@endpoint
def status(request: HttpRequest, user: User, status_id: str) -> Reply:
    raise TaxiiError(404, "no such status: this server accepts no objects")


@endpoint
def collections(request: HttpRequest, user: User) -> Reply:
    listed = [collection.resource() for collection in collections_of(user)]
    return Reply({"collections": listed} if listed else {})


@endpoint
def collection(request: HttpRequest, user: User, collection_id: str) -> Reply:
    return Reply(_collection(user, collection_id).resource())


@endpoint
def objects(request: HttpRequest, user: User, collection_id: str) -> Reply:
    query = parse_query(request)
    page = page_of(query.match(entries_of(_collection(user, collection_id).shares(user))), query)
    return Reply(page.envelope("objects", [entry.object for entry in page.entries]), page.headers())


@endpoint
def manifest(request: HttpRequest, user: User, collection_id: str) -> Reply:
    query = parse_query(request)
    page = page_of(query.match(entries_of(_collection(user, collection_id).shares(user))), query)
    return Reply(page.envelope("objects", [entry.manifest_record() for entry in page.entries]), page.headers())


@endpoint
def stix_object(request: HttpRequest, user: User, collection_id: str, object_id: str) -> Reply:
    versions = _object_versions(user, collection_id, object_id)
    query = replace(parse_query(request), ids=None, types=None)
    page = page_of(query.match(versions), query)
    return Reply(page.envelope("objects", [entry.object for entry in page.entries]), page.headers())


@endpoint
def object_versions(request: HttpRequest, user: User, collection_id: str, object_id: str) -> Reply:
    versions = _object_versions(user, collection_id, object_id)
    query = replace(parse_query(request), ids=None, types=None, versions=frozenset({"all"}))
    page = page_of(query.match(versions), query)
    return Reply(page.envelope("versions", [entry.version for entry in page.entries]), page.headers())


@endpoint
def not_found(request: HttpRequest, user: User) -> Reply:
    raise TaxiiError(404, "no such TAXII endpoint (TAXII paths end with a slash)")


def _object_versions(user: User, collection_id: str, object_id: str) -> list[Entry]:
    versions = [entry for entry in entries_of(_collection(user, collection_id).shares(user)) if entry.id == object_id]
    if not versions:
        raise TaxiiError(404, "no such object in this collection")
    return versions
