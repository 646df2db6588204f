"""VERIS 1.3.x: VERIS records read as incident records, and incident records written as VERIS 1.3.4.

Reading maps a record's actions, actors, attributes, assets, victim, timeline and impact to facts
(docs/interop/veris.md has the table and the reasons) and names each leaf field of the record
``mapped`` (it gave a fact, the title, the description or an observable) or ``unmapped`` (kept only
in ``original``). Writing builds every mapped field from the facts. A VERIS original gives the
unmapped fields back, and keeps its own spelling of a mapped field while that spelling still says
what the facts say (VERIS is finer than the facts: "Unaffiliated" and "Organized crime" are both
``criminal``). What VERIS cannot say, a fact it has no field for or a value its fields cannot
reach, goes under ``plus.nciss.facts`` (``plus`` is VERIS's place for extensions; ``null`` there
means "not known"), and the reader takes it back: nciss -> VERIS -> nciss keeps every fact.
"""

from __future__ import annotations

import copy
import datetime as dt
import ipaddress
import math
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import IO, Any

import orjson

from nciss.facts import FactsError, fact_specs, validate_facts
from nciss.interop.records import OBSERVABLE_TYPES, IncidentRecord, Observable, Rejected
from nciss.taxonomy import rsit_labels

SCHEMA_VERSION = "1.3.4"
# The top-level fields verisc.json requires.
_REQUIRED = (
    "actor",
    "action",
    "discovery_method",
    "schema_version",
    "asset",
    "timeline",
    "incident_id",
    "security_incident",
)
SOURCE_ID = "nciss"  # VERIS source_id of the records nciss writes
# incident_id of a record reported in nciss: a uuid5 of its reference in this namespace.
NAMESPACE = uuid.UUID("5d0c3e0e-8b0a-4f44-9d38-0f6a3c2f7a51")
MIN_YEAR, MAX_YEAR = 1950, 2022  # timeline.incident.year bounds in the 1.3.4 schema

UNDETERMINED = "other:undetermined"
MODIFICATION = "information-content-security:unauthorised-information-modification"
ACCESS = "information-content-security:unauthorised-information-access"
DATA_LEAK = "information-content-security:data-leak"
DATA_LOSS = "information-content-security:data-loss"

# The country codes VERIS 1.3.4 enumerates (ISO 3166-1 alpha-2 as of 2019), besides Unknown and Other.
VERIS_COUNTRIES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT
    BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES
    ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL
    IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC
    MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA
    PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS
    ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF
    WS YE YT ZA ZM ZW""".split()  # noqa: SIM905 (as a list literal: 250 lines)
)

# ---------------------------------------------------------------- the mapping tables

_DDOS = re.compile(r"\bddos\b|distributed denial", re.IGNORECASE)
_CREDENTIAL_ATTACKS = {"Use of stolen creds", "Brute force", "Pass-the-hash", "Offline cracking"}
_SCANNING = {"Footprinting", "Fuzz testing"}
_SNIFFING = {"MitM", "Routing detour"}
_APPLICATION_ATTACKS = {
    "Abuse of functionality",
    "CSRF",
    "Forced browsing",
    "HTTP request smuggling",
    "HTTP request splitting",
    "HTTP response smuggling",
    "HTTP Response Splitting",
    "Insecure deserialization",
    "LDAP injection",
    "Mail command injection",
    "Null byte injection",
    "OS commanding",
    "Path traversal",
    "RFI",
    "Session fixation",
    "Session prediction",
    "Session replay",
    "Soap array abuse",
    "Special element injection",
    "SQLi",
    "SSI injection",
    "URL redirector abuse",
    "XML attribute blowup",
    "XML entity expansion",
    "XML external entities",
    "XML injection",
    "XPath injection",
    "XQuery injection",
    "XSS",
}
# Within a category, the first variety present decides; the last entry is the category's default.
_SOCIAL = (
    ("Phishing", "fraud:phishing"),
    ("Pretexting", "fraud:masquerade"),
    ("Forgery", "fraud:masquerade"),
    ("Scam", "fraud:masquerade"),
    ("Spam", "abusive-content:spam"),
    ("Propaganda", "abusive-content:harmful-speech"),
    ("Extortion", "other:other"),
    ("", "information-gathering:social-engineering"),
)
_MISUSE = (
    ("Privilege abuse", ACCESS),
    ("Knowledge abuse", ACCESS),
    ("Possession abuse", ACCESS),
    ("Snap picture", ACCESS),
    ("Data mishandling", DATA_LEAK),
    ("Email misuse", "fraud:unauthorised-use-of-resources"),
    ("Net misuse", "fraud:unauthorised-use-of-resources"),
    ("Illicit content", "fraud:unauthorised-use-of-resources"),
    ("Unapproved hardware", "fraud:unauthorised-use-of-resources"),
    ("Unapproved software", "fraud:unauthorised-use-of-resources"),
    ("Unapproved workaround", "fraud:unauthorised-use-of-resources"),
    ("", ACCESS),
)
_PHYSICAL = (
    ("Skimmer", ACCESS),
    ("Theft", DATA_LOSS),
    ("Destruction", "availability:sabotage"),
    ("Wiretapping", "information-gathering:sniffing"),
    ("Snooping", ACCESS),
    ("Surveillance", ACCESS),
    ("Tampering", "intrusions:system-compromise"),
    ("Connection", "intrusions:system-compromise"),
    ("", "intrusions:burglary"),
)
_ERROR_LEAKS = {"Misdelivery", "Publishing error", "Disposal error", "Gaffe", "Classification error"}
_ERROR_OUTAGES = {"Malfunction", "Capacity shortage", "Maintenance error", "Physical accidents", "Programming error"}
_SYSTEM_FAILURES = {"Malfunction", "Capacity shortage", "Programming error"}  # NIS CG: hardware, capacity, bugs
_MALICIOUS_CATEGORIES = {"hacking", "malware", "social", "physical"}
_CARELESS_MOTIVES = {"Convenience", "NA"}
_ACTOR_ORDER = fact_specs()["actor"].values
_STATE_ACTORS = {"Nation-state", "State-affiliated"}
_NOT_ACTORS = {"Unknown", "Force majeure"}

# NAICS code prefix -> NIS2 sector (the longest matching prefix wins); "00"/"000" is unknown.
_SECTOR_BY_NAICS = {
    "11": "other",
    "21": "other",
    "211": "energy",  # oil and gas extraction
    "22": "energy",
    "22131": "drinking-water",
    "22132": "waste-water",
    "23": "other",
    "31": "manufacturing",
    "32": "manufacturing",
    "33": "manufacturing",
    "311": "food",
    "312": "food",
    "325": "chemical",
    "3254": "health",  # pharmaceuticals (NIS2 Annex I health)
    "42": "other",
    "4244": "food",  # grocery wholesale
    "44": "other",
    "45": "other",
    "48": "transport",
    "49": "transport",
    "486": "energy",  # pipelines
    "491": "courier",
    "492": "courier",
    "51": "other",
    "517": "digital-infrastructure",  # telecommunications
    "518": "digital-infrastructure",  # data processing and hosting
    "51913": "digital-providers",  # web search portals, internet publishing
    "52": "banking",
    "523": "financial",  # securities, exchanges
    "524": "other",  # insurance
    "525": "other",
    "53": "other",
    "54": "other",
    "5415": "ict-services",
    "5417": "research",
    "55": "other",
    "56": "other",
    "562": "waste-management",
    "61": "other",
    "62": "health",
    "624": "other",  # social assistance
    "71": "other",
    "72": "other",
    "81": "other",
    "92": "public-administration",
    "92711": "space",
}
_NAICS_FOR_SECTOR = {
    "energy": "2211",
    "transport": "48",
    "banking": "522",
    "financial": "523",
    "health": "62",
    "drinking-water": "221310",
    "waste-water": "221320",
    "digital-infrastructure": "518",
    "ict-services": "5415",
    "public-administration": "92",
    "space": "927110",
    "courier": "492",
    "waste-management": "562",
    "chemical": "325",
    "food": "311",
    "manufacturing": "33",
    "digital-providers": "519130",
    "research": "5417",
    "other": "81",
}
_MSP_NAICS = "541513"  # computer facilities management services
# Codes that may hold an entity type of NIS2 CIR 2024/2690 (cloud, DNS, marketplace ...): no guess there.
_DIGITAL_NAICS = ("51", "5415", "4541")

_SIZE_BY_EMPLOYEES = {
    "1 to 10": "small",
    "11 to 100": "small",
    "Small": "small",  # VERIS: up to 1000 employees; the least severe size it allows
    "101 to 1000": "medium",
    "Large": "large",
    "1001 to 10000": "large",
    "10001 to 25000": "large",
    "25001 to 50000": "large",
    "50001 to 100000": "large",
    "Over 100000": "large",
}
_EMPLOYEES_FOR_SIZE = {"individual": "1 to 10", "small": "Small", "medium": "101 to 1000", "large": "Large"}

_ORDER_OF = {name: spec.values for name, spec in fact_specs().items() if spec.kind == "enum"}
_FUNCTIONAL_BY_AVAILABILITY = {
    "Interruption": "denial-non-critical",
    "Obscuration": "significant-non-critical",
    "Destruction": "significant-non-critical",
    "Degradation": "minimal-non-critical",
    "Acceleration": "minimal-non-critical",
    "Loss": "no-impact-to-services",
}
_AVAILABILITY_FOR_FUNCTIONAL = {
    "minimal-non-critical": "Degradation",
    "minimal-critical": "Degradation",
    "significant-non-critical": "Obscuration",
    "significant-critical": "Obscuration",
    "denial-non-critical": "Interruption",
    "denial-critical": "Interruption",
}
_PRIVATE_DATA = {"Bank", "Medical", "Payment", "Personal"}
_PROPRIETARY_DATA = {
    "Classified",
    "Copyrighted",
    "Credentials",
    "Digital certificate",
    "Internal",
    "Secrets",
    "Source code",
    "System",
    "Virtual currency",
}
_DISCLOSURE_FOR_IMPACT = {
    "no-impact": ("No", None),
    "suspected": ("Potentially", None),
    "privacy-breach": ("Yes", "Personal"),
    "proprietary-breach": ("Yes", "Internal"),
    "critical-systems-data-breach": ("Yes", "System"),
    "core-credential-compromise": ("Yes", "Credentials"),
}
_DATA_INTEGRITY = {"Modify data", "Fraudulent transaction", "Log tampering", "Misrepresentation"}
_CRITICAL_ASSETS = {"S - ICS", "S - DCS", "N - PLC", "N - RTU", "E - Telemetry"}
_EDGE_ASSETS = {"S - Web application", "S - Mail", "S - DNS", "S - Proxy", "S - Remote access"}
_NETWORK_ASSET_PREFIXES = ("S - ", "N - ", "U - ", "T - ", "E - ")
_ASSET_FOR_LOCATION = {"business-dmz": "S - Web application", "business-network": "S - Unknown"}
_ASSET_FOR_LOCATION |= dict.fromkeys(
    ("critical-system-dmz", "critical-system-management", "critical-systems", "safety-systems"), "S - ICS"
)

_SECONDS_PER_UNIT = {"Seconds": 1, "Minutes": 60, "Hours": 3600, "Days": 86400, "Weeks": 604800}
# Durations of availability: months and years read as 30 and 365 days.
_MINUTES_PER_UNIT = {"Seconds": 1 / 60, "Minutes": 1, "Hours": 60, "Days": 1440, "Weeks": 10080}
_MINUTES_PER_UNIT |= {"Months": 43200, "Years": 525600}

_EXTERNAL_FOR_ACTOR = {
    "hacktivist": ("Activist", "Ideology"),
    "criminal": ("Unknown", "Financial"),
    "apt": ("Nation-state", "Espionage"),
    "apt-targeted": ("Nation-state", "Espionage"),
}
# The action that says a classification; root-cause-dependent ones are chosen in _action_for.
_ACTION_FOR = {
    "abusive-content:spam": ("social", "Spam"),
    "abusive-content:harmful-speech": ("social", "Propaganda"),
    "abusive-content:violence": ("social", "Propaganda"),
    "malicious-code:infected-system": ("malware", "Unknown"),
    "malicious-code:c2-server": ("malware", "C2"),
    "malicious-code:malware-distribution": ("malware", "Downloader"),
    "malicious-code:malware-configuration": ("malware", "Unknown"),
    "information-gathering:scanner": ("hacking", "Footprinting"),
    "information-gathering:sniffing": ("hacking", "MitM"),
    "information-gathering:social-engineering": ("social", "Elicitation"),
    "intrusion-attempts:ids-alert": ("hacking", "Exploit vuln"),
    "intrusion-attempts:brute-force": ("hacking", "Brute force"),
    "intrusion-attempts:exploit": ("hacking", "Exploit vuln"),
    "intrusions:privileged-account-compromise": ("hacking", "Use of stolen creds"),
    "intrusions:unprivileged-account-compromise": ("hacking", "Use of stolen creds"),
    "intrusions:application-compromise": ("hacking", "Exploit vuln"),
    "intrusions:system-compromise": ("hacking", "Unknown"),
    "intrusions:burglary": ("physical", "Bypassed controls"),
    "availability:dos": ("hacking", "DoS"),
    "availability:ddos": ("hacking", "DoS"),
    "availability:misconfiguration": ("error", "Misconfiguration"),
    "availability:sabotage": ("physical", "Destruction"),
    ACCESS: ("misuse", "Privilege abuse"),
    MODIFICATION: ("hacking", "Unknown"),
    "fraud:unauthorised-use-of-resources": ("misuse", "Net misuse"),
    "fraud:copyright": ("misuse", "Unapproved software"),
    "fraud:masquerade": ("social", "Pretexting"),
    "fraud:phishing": ("social", "Phishing"),
}
_VECTOR_FOR = {"fraud:phishing": "Email", "intrusions:application-compromise": "Web application"}

_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
_MAC = re.compile(r"^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$", re.IGNORECASE)
_ASN = re.compile(r"^AS\d{1,10}$", re.IGNORECASE)
_DOMAIN = re.compile(r"^(?!-)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$", re.IGNORECASE)
_HASH_TYPES = {32: "file:hashes.MD5", 40: "file:hashes.SHA-1", 64: "file:hashes.SHA-256"}
_TYPED_COMMENT = re.compile(r"^(?P<type>[\w:.-]+)(?:: (?P<comment>.*))?$", re.DOTALL)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

# ---------------------------------------------------------------- reading


def read(stream: IO[bytes], name: str) -> Iterator[IncidentRecord | Rejected]:
    """The VERIS records of one file, as incident records or rejections; never raises for bad input.

    A ``.jsonl`` name (``.jsonl.gz`` too: the caller decompresses) holds one record per line, read
    line by line; a line may also be a wrapper holding the record under ``"veris"`` (as in VCDB's
    dev.jsonl.gz). Any other name holds one JSON document: a record, a wrapper or an array of them.
    """
    base = name.removesuffix(".gz")
    if base.endswith(".jsonl"):
        for number, line in enumerate(stream, 1):
            if line.strip():
                yield _parsed(line, name, f"line {number}")
        return
    try:
        document = orjson.loads(stream.read().removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as exc:
        yield Rejected(name, "", "", f"not JSON: {exc}")
        return
    if isinstance(document, list):
        for number, item in enumerate(document, 1):
            yield from_veris(item, name, f"record {number}")
    else:
        yield from_veris(document, name, "")


def _parsed(line: bytes, name: str, where: str) -> IncidentRecord | Rejected:
    try:
        return from_veris(orjson.loads(line.removeprefix(b"\xef\xbb\xbf")), name, where)
    except orjson.JSONDecodeError as exc:
        return Rejected(name, where, "", f"not JSON: {exc}")


def from_veris(data: Any, file: str = "", where: str = "") -> IncidentRecord | Rejected:
    """One parsed VERIS record (or a wrapper holding it under ``"veris"``) as an incident record.

    ``file`` and ``where`` (e.g. "line 3") place a rejection: a record that is not a JSON object
    or has no ``incident_id``.
    """
    if isinstance(data, dict) and isinstance(data.get("veris"), dict):
        data = data["veris"]
    if not isinstance(data, dict):
        return Rejected(file, where, "", "expected a JSON object (a VERIS record)")
    incident_id = data.get("incident_id")
    if not isinstance(incident_id, str) or not incident_id.strip():
        return Rejected(file, where, "incident_id", "missing: every VERIS record needs its incident_id")
    try:
        return _record(data, incident_id)
    except RecursionError:
        return Rejected(file, where or incident_id, "", "nested too deeply")


def _record(veris: dict[str, Any], incident_id: str) -> IncidentRecord:
    view = _View(veris)
    facts = _derive(view)
    for name, value in _carried_facts(view).items():
        if value is None:
            facts.pop(name, None)
        else:
            facts[name] = value
    view.use("incident_id")
    summary = view.text("summary")
    if summary:
        view.use("summary")
    title = _title(view, summary, facts.get("classification", UNDETERMINED), incident_id.strip())
    observables = _observables(view)
    leaves: set[str] = set()
    _collect_leaves(veris, "", leaves)
    return IncidentRecord(
        title=title,
        facts=validate_facts(facts),
        description=summary,
        source="veris",
        source_id=incident_id.strip().lower(),
        observables=observables,
        original=veris,
        mapped=tuple(sorted(leaves & view.used)),
        unmapped=tuple(sorted(leaves - view.used)),
    )


class _View:
    """Forgiving access to a VERIS record's fields (a wrong type reads as absent), noting which
    leaf paths went into the result."""

    def __init__(self, veris: dict[str, Any]) -> None:
        self.veris = veris
        self.used: set[str] = set()
        self.categories = {k for k, v in _obj(veris.get("action")).items() if isinstance(v, dict)}
        self.actors = {k for k, v in _obj(veris.get("actor")).items() if isinstance(v, dict)}

    def use(self, *paths: str) -> None:
        self.used.update(paths)

    def get(self, path: str) -> Any:
        node: Any = self.veris
        for key in _keys(path):
            if not isinstance(node, dict):
                return None
            node = node.get(key)
        return node

    def obj(self, path: str) -> dict[str, Any]:
        return _obj(self.get(path))

    def text(self, path: str) -> str:
        value = self.get(path)
        return value.strip() if isinstance(value, str) else ""

    def strs(self, path: str) -> set[str]:
        return _strs(self.get(path))

    def varieties(self, category: str) -> set[str]:
        return self.strs(f"action.{category}.variety")

    def used_varieties(self, category: str) -> set[str]:
        self.use(f"action.{category}.variety")
        return self.varieties(category)

    def items(self, path: str, key: str) -> set[str]:
        """The string ``key`` of every object in the list at ``path`` (e.g. asset.assets, variety)."""
        value = self.get(path)
        return (
            {x[key] for x in value if isinstance(x, dict) and isinstance(x.get(key), str)}
            if isinstance(value, list)
            else set()
        )


@cache
def _keys(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strs(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    return {x for x in value if isinstance(x, str)} if isinstance(value, list) else set()


def _count(value: Any) -> int | None:
    """A whole number >= 0, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return int(value) if value >= 0 and float(value).is_integer() else None


def _amount(value: Any) -> float | int | None:
    """A finite number >= 0, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return None
    return value


def _derive(view: _View) -> dict[str, Any]:
    """The facts the VERIS fields say (plus.nciss aside)."""
    facts: dict[str, Any] = {"classification": _classification(view)}
    facts.update(_cause(view))
    facts["actor"] = _actor(view)
    facts.update(_victim(view))
    facts.update(_times(view))
    facts.update(_data(view))
    facts.update(_availability(view))
    facts["location"] = _location(view)
    facts["financial_loss_eur"] = _loss(view)
    facts["observed_activity"] = _activity(view)
    return {name: value for name, value in facts.items() if value is not None}


def _classification(view: _View) -> str:
    """The RSIT type of the record's actions: the first rule that applies (docs/interop/veris.md).
    A near miss is an attempt: its intrusion is an intrusion attempt."""
    found = _action_classification(view)
    if (
        found.startswith("intrusions:")
        and found != "intrusions:burglary"
        and view.text("security_incident") == "Near miss"
    ):
        view.use("security_incident")
        return (
            "intrusion-attempts:brute-force"
            if "Brute force" in view.varieties("hacking")
            else "intrusion-attempts:exploit"
        )
    return found


def _action_classification(view: _View) -> str:
    categories = view.categories
    hacking, malware = view.varieties("hacking"), view.varieties("malware")
    if "Ransomware" in malware:
        view.use("action.malware.variety")
        return MODIFICATION
    if "DoS" in hacking:
        view.use("action.hacking.variety")
        if _DDOS.search(view.text("summary")):
            view.use("summary")
            return "availability:ddos"
        return "availability:dos"
    if "Destroy data" in malware:
        view.use("action.malware.variety")
        return "availability:sabotage"
    if hacking & _CREDENTIAL_ATTACKS:
        view.use("action.hacking.variety")
        if _privileged(view):
            return "intrusions:privileged-account-compromise"
        return "intrusions:unprivileged-account-compromise"
    if "hacking" in categories:
        view.use("action.hacking.variety")
        if hacking and hacking <= _SCANNING:
            return "information-gathering:scanner"
        if hacking and hacking <= _SNIFFING:
            return "information-gathering:sniffing"
        if hacking & _APPLICATION_ATTACKS:
            return "intrusions:application-compromise"
        if "Web application" in view.strs("action.hacking.vector"):
            view.use("action.hacking.vector")
            return "intrusions:application-compromise"
        return "intrusions:system-compromise"
    if "malware" in categories:
        view.use("action.malware.variety")
        return "malicious-code:infected-system"
    for category, table in (("social", _SOCIAL), ("misuse", _MISUSE), ("physical", _PHYSICAL)):
        if category in categories:
            varieties = view.used_varieties(category)
            return next(cls for variety, cls in table if variety in varieties or not variety)
    if "error" in categories:
        return _error_classification(view, view.used_varieties("error"))
    if "environmental" in categories:
        view.use("action.environmental.variety")
        return "availability:outage"
    if "unknown" in categories:
        view.use("action.unknown")
    return UNDETERMINED


def _privileged(view: _View) -> bool:
    if "Elevate" in view.strs("action.hacking.result"):
        view.use("action.hacking.result")
        return True
    if "Modify privileges" in view.strs("attribute.integrity.variety"):
        view.use("attribute.integrity.variety")
        return True
    if "Privilege abuse" in view.varieties("misuse"):
        view.use("action.misuse.variety")
        return True
    return False


def _error_classification(view: _View, error: set[str]) -> str:
    if "Loss" in error:
        return DATA_LOSS
    if error & _ERROR_LEAKS:
        return DATA_LEAK
    if view.text("attribute.confidentiality.data_disclosure") in ("Yes", "Potentially"):
        view.use("attribute.confidentiality.data_disclosure")
        return DATA_LEAK
    if "Misconfiguration" in error:
        return "availability:misconfiguration"
    if error & _ERROR_OUTAGES or "Omission" in error:
        return "availability:outage"
    return "other:other"


def _careless_misuse(view: _View) -> bool:
    """Misuse done for convenience only (e.g. a work-around), not to harm or gain."""
    motives = set().union(*(view.strs(f"actor.{a}.motive") for a in ("internal", "partner", "external")))
    if motives and motives <= _CARELESS_MOTIVES:
        view.use(*(f"actor.{a}.motive" for a in ("internal", "partner", "external") if a in view.actors))
        return True
    return False


def _cause(view: _View) -> dict[str, Any]:
    """root_cause (NIS Cooperation Group), malicious and unauthorised_access from the actions."""
    categories = view.categories
    malicious = categories & _MALICIOUS_CATEGORIES
    careless = "misuse" in categories and _careless_misuse(view)
    if "misuse" in categories and not careless:
        malicious.add("misuse")
    root: str | None = None
    if malicious:
        view.use(*(f"action.{c}.variety" for c in malicious))
        root = "malicious-actions"
    elif "environmental" in categories:
        view.use("action.environmental.variety")
        root = "natural-phenomena"
    elif "error" in categories or careless:
        error = view.used_varieties("error") if "error" in categories else set()
        if "partner" in view.actors:
            view.use("actor.partner.motive")
            root = "third-party-failures"
        elif error and error <= _SYSTEM_FAILURES and not careless:
            root = "system-failures"
        else:
            root = "human-errors"
    security = view.text("security_incident")
    access: bool | None = None
    hacking = view.varieties("hacking")
    if security in ("Near miss", "False positive"):
        view.use("security_incident")
        access = False
    elif "malware" in categories or ("hacking" in categories and not (hacking and hacking <= {"DoS", "Footprinting"})):
        access = True
    elif categories and categories <= {"error", "environmental"}:
        access = False
    return {
        "root_cause": root,
        "malicious": None if root is None else root == "malicious-actions",
        "unauthorised_access": access,
    }


def _actor(view: _View) -> str | None:
    """The most severe actor (NCISS order) among the record's actors; ``unknown`` only when no other."""
    values = []
    if "external" in view.actors:
        values.append(_external_actor(view))
    insiders = [c for c in ("internal", "partner") if c in view.actors]
    if insiders:
        view.use(*(f"actor.{c}.variety" if c == "internal" else f"actor.{c}.motive" for c in insiders))
        misuse = "misuse" in view.categories and not _careless_misuse(view)
        witting = misuse or bool(view.categories & _MALICIOUS_CATEGORIES and "external" not in view.actors)
        values.append("witting-insider" if witting else "unwitting-insider")
    if "unknown" in view.actors:
        view.use("actor.unknown")
        values.append("unknown")
    known = [v for v in values if v and v != "unknown"]
    if known:
        return max(known, key=_ACTOR_ORDER.index)
    return "unknown" if "unknown" in values else None


def _external_actor(view: _View) -> str | None:
    varieties, motives = view.strs("actor.external.variety"), view.strs("actor.external.motive")
    view.use("actor.external.variety")
    if varieties & _STATE_ACTORS:
        if view.text("targeted") == "Targeted":
            view.use("targeted")
            return "apt-targeted"
        return "apt"
    if "Activist" in varieties:
        return "hacktivist"
    if varieties - _NOT_ACTORS:
        return "criminal"
    if varieties == {"Force majeure"}:
        return None
    view.use("actor.external.motive")
    if "Ideology" in motives:
        return "hacktivist"
    if motives - {"NA", "Unknown", "Espionage"}:
        return "criminal"
    return "unknown"


def _victim(view: _View) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    sector, kind = _industry_facts(view.text("victim.industry"))
    if sector:
        view.use("victim.industry")
        facts["sector"] = sector
        facts["entity_type"] = kind
    size = _SIZE_BY_EMPLOYEES.get(view.text("victim.employee_count"))
    if size:
        view.use("victim.employee_count")
        facts["entity_size"] = size
    value = view.get("victim.country")
    countries = [c for c in value if isinstance(c, str)] if isinstance(value, list) else []
    if countries and countries[0] in VERIS_COUNTRIES:
        view.use("victim.country")
        facts["entity_country"] = countries[0]
    return facts


def _industry_facts(industry: str) -> tuple[str | None, str | None]:
    """(sector, entity_type) of a NAICS code; the type only where the code rules out the digital ones."""
    code = re.sub(r"\D", "", industry)
    sector = next((_SECTOR_BY_NAICS[code[:n]] for n in range(len(code), 1, -1) if code[:n] in _SECTOR_BY_NAICS), None)
    if sector is None:
        return None, None
    if code.startswith(_MSP_NAICS):
        return sector, "msp"
    if code.startswith(_DIGITAL_NAICS) or sector in ("digital-infrastructure", "digital-providers"):
        return sector, None
    return sector, "other"


def _incident_time(view: _View) -> tuple[dt.datetime, bool] | None:
    """The incident date (UTC midnight; a missing month or day reads as the first) and whether the
    day is known."""
    incident = view.obj("timeline.incident")
    year, month, day = (_count(incident.get(k)) for k in ("year", "month", "day"))
    if not year or not 1 <= year <= 9999:
        return None
    view.use("timeline.incident.year")
    if not month or month > 12:
        return dt.datetime(year, 1, 1, tzinfo=dt.UTC), False
    view.use("timeline.incident.month")
    try:
        when = dt.datetime(year, month, day or 1, tzinfo=dt.UTC)
    except ValueError:
        return dt.datetime(year, month, 1, tzinfo=dt.UTC), False
    if day:
        view.use("timeline.incident.day")
    return when, bool(day)


def _times(view: _View) -> dict[str, Any]:
    incident = _incident_time(view)
    if incident is None:
        return {}
    occurred, day_known = incident
    facts = {"occurred_at": occurred.isoformat()}
    seconds = _SECONDS_PER_UNIT.get(view.text("timeline.discovery.unit"))
    value = _amount(view.get("timeline.discovery.value"))
    if day_known and seconds and value is not None:
        try:
            facts["detected_at"] = (occurred + dt.timedelta(seconds=round(value * seconds))).isoformat()
        except OverflowError:
            return facts
        view.use("timeline.discovery.unit", "timeline.discovery.value")
    return facts


def _data(view: _View) -> dict[str, Any]:
    """records_affected, information_impact and data_compromised from the attributes."""
    facts: dict[str, Any] = {}
    confidentiality = view.obj("attribute.confidentiality")
    total = _count(confidentiality.get("data_total"))
    if total is not None:
        view.use("attribute.confidentiality.data_total")
        facts["records_affected"] = total
    disclosure = view.text("attribute.confidentiality.data_disclosure")
    impacts = []
    if disclosure == "Yes":
        varieties = view.items("attribute.confidentiality.data", "variety")
        view.use("attribute.confidentiality.data_disclosure", "attribute.confidentiality.data[].variety")
        impacts.append("proprietary-breach" if varieties & _PROPRIETARY_DATA else "privacy-breach")
    elif disclosure in ("Potentially", "No"):
        view.use("attribute.confidentiality.data_disclosure")
        impacts.append("suspected" if disclosure == "Potentially" else "no-impact")
    if "Destruction" in view.strs("attribute.availability.variety"):
        view.use("attribute.availability.variety")
        impacts.append("destruction-non-critical")
    if impacts:
        facts["information_impact"] = max(impacts, key=_ORDER_OF["information_impact"].index)
    attribute = view.obj("attribute")
    modified = bool(view.strs("attribute.integrity.variety") & _DATA_INTEGRITY)
    encrypted = "Obscuration" in view.strs("attribute.availability.variety")  # e.g. by ransomware
    if disclosure == "Yes" or modified or encrypted:
        view.use(*(["attribute.integrity.variety"] if modified else []))
        view.use(*(["attribute.availability.variety"] if encrypted else []))
        facts["data_compromised"] = True
    elif "availability" in attribute and not {"integrity", "unknown"} & attribute.keys() and disclosure in ("", "No"):
        facts["data_compromised"] = False  # only availability affected
    return facts


def _availability(view: _View) -> dict[str, Any]:
    """functional_impact and the outage or degradation time from attribute.availability."""
    facts: dict[str, Any] = {}
    varieties = view.strs("attribute.availability.variety")
    functional = _functional(varieties)
    if functional:
        view.use("attribute.availability.variety")
        facts["functional_impact"] = functional
    elif not varieties and {"confidentiality", "integrity"} & view.obj("attribute").keys():
        facts["functional_impact"] = "no-impact-to-services"
    per_unit = _MINUTES_PER_UNIT.get(view.text("attribute.availability.duration.unit"))
    value = _amount(view.get("attribute.availability.duration.value"))
    if per_unit and value is not None and varieties & {"Interruption", "Degradation"}:
        view.use("attribute.availability.variety", "attribute.availability.duration.unit")
        view.use("attribute.availability.duration.value")
        minutes = math.ceil(value * per_unit)
        facts["outage_minutes" if "Interruption" in varieties else "degraded_minutes"] = minutes
    return facts


def _location(view: _View) -> str | None:
    """Where the activity was seen (NCISS location): nowhere for a near miss, else from the kinds of
    asset affected; none for a theft or loss alone (the device left the network)."""
    if view.text("security_incident") == "Near miss":
        view.use("security_incident")
        return "unsuccessful"
    categories = view.categories
    if categories <= {"physical", "error"} and (categories == {"physical"} or view.varieties("error") == {"Loss"}):
        return None
    assets = view.items("asset.assets", "variety")
    roles = view.strs("asset.role")
    if "OT" in roles or assets & _CRITICAL_ASSETS:
        view.use(*(["asset.role"] if "OT" in roles else ["asset.assets[].variety"]))
        return "critical-systems"
    network = {a for a in assets if a.startswith(_NETWORK_ASSET_PREFIXES)}
    if not network:
        return None
    view.use("asset.assets[].variety")
    return "business-dmz" if network <= _EDGE_ASSETS else "business-network"


def _loss(view: _View) -> float | int | None:
    """impact.overall_amount when it is in euros; other currencies stay in the original."""
    amount = _amount(view.get("impact.overall_amount"))
    if amount is None or view.text("impact.iso_currency_code") != "EUR":
        return None
    view.use("impact.overall_amount", "impact.iso_currency_code")
    return amount


def _activity(view: _View) -> str | None:
    """observed_activity (ODNI Cyber Threat Framework stage) from security_incident and the attributes."""
    security = view.text("security_incident")
    if security in ("False positive", "Near miss"):
        view.use("security_incident")
        return "none" if security == "False positive" else "engage"
    attribute = view.obj("attribute")
    effect = view.text("attribute.confidentiality.data_disclosure") == "Yes" or (
        "integrity" in attribute or "availability" in attribute
    )
    if effect:
        return "effect"
    if view.strs("action.hacking.result") | view.strs("action.malware.result") or "malware" in view.categories:
        return "presence"
    return None


def _carried_facts(view: _View) -> dict[str, Any]:
    """The facts an nciss export carried under plus.nciss.facts (``None``: not known); each is checked alone."""
    carried: dict[str, Any] = {}
    for name, value in view.obj("plus.nciss.facts").items():
        try:
            checked = validate_facts({name: value}) if value is not None else {}
        except FactsError:
            continue
        if value is None or name in checked:
            carried[name] = checked.get(name)
            view.use(f"plus.nciss.facts.{name}")
    return carried


def _title(view: _View, summary: str, classification: str, incident_id: str) -> str:
    """The summary's first sentence, or what happened and to whom."""
    if summary:
        first = " ".join(_SENTENCE_END.split(summary, maxsplit=1)[0].split())
        return first if len(first) <= 120 else first[:119].rsplit(" ", 1)[0] + "…"
    label = rsit_labels().get(classification, classification)
    victim = view.text("victim.victim_id")
    if victim:
        view.use("victim.victim_id")
        return f"{label} at {victim}"
    return f"{label} (VERIS {incident_id})"


def _observables(view: _View) -> tuple[Observable, ...]:
    """ioc[]: the comment "<type>: <comment>" (as nciss writes it) gives the type, else the value's shape."""
    found: list[Observable] = []
    ioc = view.get("ioc")
    for item in ioc if isinstance(ioc, list) else ():
        indicator = _obj(item).get("indicator")
        if not isinstance(indicator, str) or not indicator.strip():
            continue
        comment = _obj(item).get("comment")
        comment = comment if isinstance(comment, str) else ""
        typed = _TYPED_COMMENT.match(comment)
        if typed and typed["type"] in OBSERVABLE_TYPES:
            kind, comment = typed["type"], typed["comment"] or ""
        else:
            kind = _observable_type(indicator.strip())
        if kind:
            found.append(Observable(kind, indicator.strip(), comment))
            view.use("ioc[].indicator", *(["ioc[].comment"] if "comment" in item else []))
    return tuple(found)


def _observable_type(value: str) -> str | None:
    try:
        return f"ipv{ipaddress.ip_network(value, strict=False).version}-addr"
    except ValueError:
        pass
    if _CVE.match(value):
        return "vulnerability"
    if re.fullmatch(r"[0-9a-fA-F]+", value) and len(value) in _HASH_TYPES:
        return _HASH_TYPES[len(value)]
    if "://" in value:
        return "url"
    if _MAC.match(value):
        return "mac-addr"
    if _ASN.match(value):
        return "autonomous-system"
    if "@" in value and " " not in value:
        return "email-addr"
    return "domain-name" if _DOMAIN.match(value) else None


def _collect_leaves(node: Any, path: str, out: set[str]) -> None:
    """Dotted paths of the leaf fields: scalars, lists of scalars, empty objects; ``[]`` marks a list of objects."""
    if isinstance(node, dict) and node:
        for key, value in node.items():
            _collect_leaves(value, f"{path}.{key}" if path else key, out)
    elif isinstance(node, list) and any(isinstance(x, (dict, list)) for x in node):
        for item in node:
            _collect_leaves(item, f"{path}[]", out)
    elif path:
        out.add(path)


# ---------------------------------------------------------------- writing


def to_veris(record: IncidentRecord) -> dict[str, Any]:
    """The record as a VERIS 1.3.4 record (valid under verisc-merged.json when its original was).

    Every mapped field is written from the facts (and the description and observables). A record
    read from VERIS starts from its original, so the unmapped fields come back as they were; any
    other record gets a new incident_id (a uuid5 of its reference), source_id "nciss" and the
    required fields. Facts VERIS cannot hold go under plus.nciss.facts.
    """
    facts = validate_facts(dict(record.facts))
    original = record.original if record.source == "veris" and isinstance(record.original, dict) else None
    if original is None:
        veris = _skeleton(record, facts)
    else:
        veris = copy.deepcopy(original)
        if missing := [key for key in _REQUIRED if key not in veris]:
            skeleton = _skeleton(record, facts)
            veris.update((key, skeleton[key]) for key in missing)
    plus = veris.get("plus")
    if isinstance(plus, dict):
        plus.pop("nciss", None)
    _write_identity(veris, record)
    _write_summary(veris, record, original is None)
    derived = _derive(_View(veris))
    for names, write in _WRITERS:
        if any(not _same(n, derived.get(n), facts.get(n)) for n in names):
            write(veris, facts)
            derived = _derive(_View(veris))
    _write_observables(veris, record)
    if veris.get("attribute") == {}:
        del veris["attribute"]
    carried = {
        n: facts.get(n) for n in sorted(facts.keys() | derived.keys()) if not _same(n, derived.get(n), facts.get(n))
    }
    if carried:
        if not isinstance(veris.get("plus"), dict):
            veris["plus"] = {}
        veris["plus"]["nciss"] = {"facts": carried}
    return veris


def _same(name: str, derived: Any, wanted: Any) -> bool:
    if name in ("occurred_at", "detected_at", "reported_at") and derived and wanted:
        return bool(_instant(derived) == _instant(wanted))
    return bool(derived == wanted)


def _instant(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else None


def incident_id(record: IncidentRecord) -> str:
    """The VERIS incident_id of a record reported in nciss: a uuid5 of its reference."""
    name = record.reference or record.source_id or record.title
    return str(uuid.uuid5(NAMESPACE, name)).upper()


def _skeleton(record: IncidentRecord, facts: dict[str, Any]) -> dict[str, Any]:
    """The required fields of a record that did not come from VERIS."""
    ident = incident_id(record)
    veris: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "incident_id": ident,
        "source_id": SOURCE_ID,
        "security_incident": "Confirmed",
        "timeline": {"incident": {"year": _fallback_year(record, facts)}},
        "victim": {"country": ["Unknown"], "employee_count": "Unknown", "industry": "000"},
        "action": {"unknown": {}},
        "actor": {"unknown": {}},
        "asset": {"assets": [{"variety": "Unknown"}], "cloud": ["Unknown"]},
        "discovery_method": {"unknown": True},
        "plus": {"master_id": ident},
    }
    if record.reference:
        veris["reference"] = record.reference
    for name in ("created", "modified"):
        when = getattr(record, name)
        if when is not None:
            veris["plus"][name] = (
                when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when.tzinfo else when.isoformat()
            )
    return veris


def _fallback_year(record: IncidentRecord, facts: dict[str, Any]) -> int:
    """A year for the required timeline.incident.year: the first time known, else this year."""
    for name in ("occurred_at", "detected_at", "reported_at"):
        when = _instant(facts.get(name))
        if when is not None:
            return _schema_year(when.year)
    when = record.created or dt.datetime.now(dt.UTC)
    return _schema_year(when.year)


def _schema_year(year: int) -> int:
    return min(max(year, MIN_YEAR), MAX_YEAR)


def _write_identity(veris: dict[str, Any], record: IncidentRecord) -> None:
    current = veris.get("incident_id")
    if (
        record.source == "veris"
        and record.source_id
        and not (isinstance(current, str) and current.strip().lower() == record.source_id)
    ):
        veris["incident_id"] = record.source_id


def _write_summary(veris: dict[str, Any], record: IncidentRecord, native: bool) -> None:
    text = record.description.strip() or (record.title.strip() if native else "")
    current = veris.get("summary")
    if text != (current.strip() if isinstance(current, str) else ""):
        if text:
            veris["summary"] = text
        else:
            veris.pop("summary", None)


def _section(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """parent[key] as an object, made one if it was missing or not an object."""
    value = parent.get(key)
    if not isinstance(value, dict):
        value = parent[key] = {}
    return value


def _write_action(veris: dict[str, Any], facts: dict[str, Any]) -> None:
    """The action that says the classification (and the root cause where the classification leaves it open)."""
    veris["action"] = _action_for(facts.get("classification", UNDETERMINED), _root_hint(facts))
    if facts.get("classification") == "intrusions:privileged-account-compromise":
        veris["action"]["hacking"]["result"] = ["Elevate"]


def _root_hint(facts: dict[str, Any]) -> str | None:
    root: str | None = facts.get("root_cause")
    if root is None and facts.get("malicious") is not None:
        return "malicious-actions" if facts["malicious"] else "human-errors"
    return root


def _action_for(classification: str, root: str | None) -> dict[str, Any]:
    if classification == "availability:outage":
        if root == "natural-phenomena":
            return {"environmental": {"variety": ["Unknown"]}}
        return _action("error", "Malfunction" if root in ("system-failures", None) else "Maintenance error")
    if classification == DATA_LOSS:
        return _action("physical", "Theft") if root == "malicious-actions" else _action("error", "Loss")
    if classification == DATA_LEAK:
        return (
            _action("misuse", "Data mishandling")
            if root == "malicious-actions"
            else _action("error", "Publishing error")
        )
    if classification in _ACTION_FOR:
        category, variety = _ACTION_FOR[classification]
        return _action(category, variety, _VECTOR_FOR.get(classification, "Unknown"))
    return {"unknown": {}}


def _action(category: str, variety: str, vector: str = "Unknown") -> dict[str, Any]:
    action: dict[str, Any] = {"variety": [variety], "vector": [vector]}
    if category == "social":
        action["target"] = ["Unknown"]
    return {category: action}


def _write_actor(veris: dict[str, Any], facts: dict[str, Any]) -> None:
    value = facts.get("actor")
    actor: dict[str, Any] = {}
    if value in _EXTERNAL_FOR_ACTOR:
        variety, motive = _EXTERNAL_FOR_ACTOR[value]
        actor["external"] = {"variety": [variety], "motive": [motive], "country": ["Unknown"]}
    elif value in ("witting-insider", "unwitting-insider"):
        actor["internal"] = {"variety": ["Unknown"], "motive": ["Unknown" if value == "witting-insider" else "NA"]}
    if facts.get("root_cause") == "third-party-failures":
        actor["partner"] = {"motive": ["NA"], "country": ["Unknown"]}
    veris["actor"] = actor or {"unknown": {}}
    if value == "apt-targeted":
        veris["targeted"] = "Targeted"
    elif value == "apt" and veris.get("targeted") == "Targeted":
        veris["targeted"] = "Unknown"


def _write_industry(veris: dict[str, Any], facts: dict[str, Any]) -> None:
    """A NAICS code for the sector (and entity type); a finer code that says the same stays."""
    victim = _section(veris, "victim")
    wanted = (facts.get("sector"), facts.get("entity_type"))
    industry = victim.get("industry")
    current = _industry_facts(industry if isinstance(industry, str) else "")
    code = _MSP_NAICS if wanted == ("ict-services", "msp") else _NAICS_FOR_SECTOR.get(wanted[0] or "", "000")
    if current[0] != wanted[0] or (_industry_facts(code) == wanted and current != wanted):
        victim["industry"] = code


def _write_size(veris: dict[str, Any], facts: dict[str, Any]) -> None:
    _section(veris, "victim")["employee_count"] = _EMPLOYEES_FOR_SIZE.get(facts.get("entity_size") or "", "Unknown")


def _write_country(veris: dict[str, Any], facts: dict[str, Any]) -> None:
    country = facts.get("entity_country")
    _section(veris, "victim")["country"] = [country if country in VERIS_COUNTRIES else "Unknown"]


def _write_timeline(veris: dict[str, Any], facts: dict[str, Any]) -> None:
    timeline = _section(veris, "timeline")
    occurred = _instant(facts.get("occurred_at"))
    view = _View(veris)
    if occurred is not None and not _same("occurred_at", _times(view).get("occurred_at"), facts["occurred_at"]):
        timeline["incident"] = {"year": _schema_year(occurred.year), "month": occurred.month, "day": occurred.day}
    elif _incident_time(view) is None:
        timeline["incident"] = {"year": _schema_year(dt.datetime.now(dt.UTC).year)}
    detected = _instant(facts.get("detected_at"))
    incident = _incident_time(_View(veris))
    discovery = timeline.get("discovery")
    if detected is not None and incident is not None and incident[1] and detected >= incident[0]:
        seconds = int((detected - incident[0]).total_seconds())
        unit = next(u for u in ("Weeks", "Days", "Hours", "Minutes", "Seconds") if seconds % _SECONDS_PER_UNIT[u] == 0)
        timeline["discovery"] = {"unit": unit, "value": seconds // _SECONDS_PER_UNIT[unit]}
    elif isinstance(discovery, dict):
        discovery.pop("value", None)


def _write_availability(veris: dict[str, Any], facts: dict[str, Any]) -> None:
    """Availability varieties for the functional impact (the original's stay while they do not say
    more), and the duration of the outage or degradation."""
    attribute = _section(veris, "attribute")
    availability = attribute.get("availability")
    old = _strs(availability.get("variety")) if isinstance(availability, dict) else set()
    varieties = set(old)
    wanted = facts.get("functional_impact")
    if _functional(old) != wanted:
        order = _ORDER_OF["functional_impact"]
        limit = order.index(wanted) if wanted else -1
        varieties = {v for v in old if order.index(_FUNCTIONAL_BY_AVAILABILITY.get(v, order[0])) <= limit}
        varieties |= {_AVAILABILITY_FOR_FUNCTIONAL[wanted]} if wanted in _AVAILABILITY_FOR_FUNCTIONAL else set()
    outage, degraded = facts.get("outage_minutes"), facts.get("degraded_minutes")
    minutes = outage if outage is not None else degraded
    if minutes is not None:
        varieties.add("Interruption" if outage is not None else "Degradation")
    if not varieties:
        attribute.pop("availability", None)
        return
    availability = _section(attribute, "availability")
    if varieties != old:
        availability["variety"] = sorted(varieties)
    durations = _availability(_View({"attribute": {"availability": availability}}))
    if (durations.get("outage_minutes"), durations.get("degraded_minutes")) == (outage, degraded):
        return
    if minutes is None:
        availability.pop("duration", None)
    else:
        unit = next(u for u in ("Days", "Hours", "Minutes") if minutes % _MINUTES_PER_UNIT[u] == 0)
        availability["duration"] = {"unit": unit, "value": minutes // int(_MINUTES_PER_UNIT[unit])}


def _functional(varieties: set[str]) -> str | None:
    impacts = [_FUNCTIONAL_BY_AVAILABILITY[v] for v in varieties if v in _FUNCTIONAL_BY_AVAILABILITY]
    return max(impacts, key=_ORDER_OF["functional_impact"].index) if impacts else None


def _write_information_impact(veris: dict[str, Any], facts: dict[str, Any]) -> None:
    attribute = _section(veris, "attribute")
    value = facts.get("information_impact")
    availability = attribute.get("availability")
    if value in ("destruction-non-critical", "destruction-critical"):
        availability = _section(attribute, "availability")
        availability["variety"] = sorted(_strs(availability.get("variety")) | {"Destruction"})
        return
    if isinstance(availability, dict) and "Destruction" in _strs(availability.get("variety")):
        remaining = sorted(_strs(availability["variety"]) - {"Destruction"})
        if remaining:
            availability["variety"] = remaining
        else:
            del attribute["availability"]
    confidentiality = attribute.get("confidentiality")
    if value is None:
        if isinstance(confidentiality, dict):
            confidentiality["data_disclosure"] = "Unknown"
        return
    disclosure, variety = _DISCLOSURE_FOR_IMPACT[value]
    confidentiality = _section(attribute, "confidentiality")
    confidentiality["data_disclosure"] = disclosure
    data = confidentiality.get("data")
    kinds = {x.get("variety") for x in data if isinstance(x, dict)} if isinstance(data, list) else set()
    if variety and ("proprietary-breach" if kinds & _PROPRIETARY_DATA else "privacy-breach") != value:
        confidentiality["data"] = [{"variety": variety}]


def _write_records(veris: dict[str, Any], facts: dict[str, Any]) -> None:
    count = facts.get("records_affected")
    attribute = _section(veris, "attribute")
    if count is None:
        confidentiality = attribute.get("confidentiality")
        if isinstance(confidentiality, dict):
            confidentiality.pop("data_total", None)
        return
    confidentiality = _section(attribute, "confidentiality")
    confidentiality.setdefault("data_disclosure", "Unknown")
    confidentiality["data_total"] = count


def _write_data_compromised(veris: dict[str, Any], facts: dict[str, Any]) -> None:
    attribute = _section(veris, "attribute")
    integrity = attribute.get("integrity")
    varieties = _strs(integrity.get("variety")) if isinstance(integrity, dict) else set()
    if facts.get("data_compromised"):
        _section(attribute, "integrity")["variety"] = sorted(varieties | {"Modify data"})
        return
    if isinstance(integrity, dict) and varieties & _DATA_INTEGRITY:
        if varieties - _DATA_INTEGRITY:
            integrity["variety"] = sorted(varieties - _DATA_INTEGRITY)
        else:
            del attribute["integrity"]
    availability = attribute.get("availability")
    if isinstance(availability, dict) and "Obscuration" in _strs(availability.get("variety")):
        remaining = sorted(_strs(availability["variety"]) - {"Obscuration"})
        if remaining:
            availability["variety"] = remaining
        else:
            del attribute["availability"]


def _write_location(veris: dict[str, Any], facts: dict[str, Any]) -> None:
    asset = _section(veris, "asset")
    asset["assets"] = [{"variety": _ASSET_FOR_LOCATION.get(facts.get("location") or "", "Unknown")}]
    asset.setdefault("cloud", ["Unknown"])
    roles = _strs(asset.get("role"))
    if "OT" in roles:
        asset["role"] = sorted(roles - {"OT"}) or ["Unknown"]


def _write_loss(veris: dict[str, Any], facts: dict[str, Any]) -> None:
    amount = facts.get("financial_loss_eur")
    impact = veris.get("impact")
    if amount is None:
        if isinstance(impact, dict):
            impact.pop("overall_amount", None)
        return
    impact = _section(veris, "impact")
    if impact.get("iso_currency_code") != "EUR":
        # Amounts in the old currency would read as euros: they go.
        for key in ("overall_min_amount", "overall_max_amount"):
            impact.pop(key, None)
        for loss in impact.get("loss", []) if isinstance(impact.get("loss"), list) else []:
            for key in ("amount", "min_amount", "max_amount"):
                _obj(loss).pop(key, None)
    impact.setdefault("overall_rating", "Unknown")
    impact["overall_amount"] = amount
    impact["iso_currency_code"] = "EUR"


def _write_security_incident(veris: dict[str, Any], facts: dict[str, Any]) -> None:
    activity = facts.get("observed_activity")
    veris["security_incident"] = {"none": "False positive", "prepare": "Near miss", "engage": "Near miss"}.get(
        activity or "", "Confirmed"
    )


def _write_observables(veris: dict[str, Any], record: IncidentRecord) -> None:
    if _observables(_View(veris)) == record.observables:
        return
    if record.observables:
        veris["ioc"] = [
            {"indicator": o.value, "comment": f"{o.type}: {o.comment}" if o.comment else o.type}
            for o in record.observables
        ]
    else:
        veris.pop("ioc", None)


Writer = Callable[[dict[str, Any], dict[str, Any]], None]
# In this order: each writer runs when one of its facts differs from what the record says so far.
_WRITERS: tuple[tuple[tuple[str, ...], Writer], ...] = (
    (("classification", "root_cause", "malicious"), _write_action),
    (("actor", "root_cause"), _write_actor),
    (("sector", "entity_type"), _write_industry),
    (("entity_size",), _write_size),
    (("entity_country",), _write_country),
    (("occurred_at", "detected_at"), _write_timeline),
    (("functional_impact", "outage_minutes", "degraded_minutes"), _write_availability),
    (("information_impact",), _write_information_impact),
    (("records_affected",), _write_records),
    (("data_compromised",), _write_data_compromised),
    (("location",), _write_location),
    (("financial_loss_eur",), _write_loss),
    (("observed_activity",), _write_security_incident),
)


# ---------------------------------------------------------------- coverage


def coverage(items: Iterable[IncidentRecord | Rejected]) -> dict[str, Any]:
    """How much of the VERIS input became facts: records, rejections, mapped and unmapped leaf
    fields (in total and per path, counted once per record) and the classifications."""
    records = rejected = 0
    mapped: Counter[str] = Counter()
    unmapped: Counter[str] = Counter()
    classifications: Counter[str] = Counter()
    for item in items:
        if isinstance(item, Rejected):
            rejected += 1
            continue
        records += 1
        mapped.update(item.mapped)
        unmapped.update(item.unmapped)
        classifications[item.classification] += 1
    return {
        "records": records,
        "rejected": rejected,
        "mapped_fields": mapped.total(),
        "unmapped_fields": unmapped.total(),
        "mapped_paths": dict(sorted(mapped.items())),
        "unmapped_paths": dict(sorted(unmapped.items())),
        "classifications": dict(classifications.most_common()),
    }
