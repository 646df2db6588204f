"""The Republic of Aralia: a fictional country for the demo data set (``nciss demo``).

Everything here is invented: the country (code XA, a user-assigned ISO 3166 code, so that
it can never be mistaken for a real one), its organisations, people and incidents. Two
partner countries, Veskaria (XB) and Ostmark (XC), are just as fictional.

This module holds the data only; ``demo_loader`` turns it into a history through the services.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Shown next to every demo login: a password nobody would use for real.
DEMO_PASSWORD = "aralia-demo-only"

COUNTRY = "XA"
COUNTRY_NAME = "Republic of Aralia"
# Aralia keeps UTC+5 all year: people report in office hours of that clock.
LOCAL_TIME = dt.timezone(dt.timedelta(hours=5), "XAT")
CALENDAR = {
    "time_zone": "Asia/Tashkent",
    "working_days": [1, 2, 3, 4, 5],
    "hours": {"start": "09:00", "end": "18:00"},
    "holidays": ["01-01", "03-08", "03-21", "05-09", "09-01", "12-08"],
}

# The national CSIRT: its existence marks a database that already holds the demo.
CSIRT = "cert-xa"
PARTNER_COUNTRIES = ("XB", "XC")


@dataclass(frozen=True)
class Org:
    slug: str
    name: str
    kind: str
    sector: str
    criticality: str
    size: str
    entity_type: str = "other"
    turnover_meur: float | None = None
    country: str = COUNTRY
    preferred_scale: str = ""
    language: str = "en"

    def entity_facts(self) -> dict[str, Any]:
        """The same as ``Organisation.entity_facts`` (the loader's plans use it before saving)."""
        facts: dict[str, Any] = {
            "sector": self.sector,
            "entity_criticality": self.criticality,
            "entity_size": self.size,
            "entity_type": self.entity_type,
            "entity_country": self.country,
        }
        if self.turnover_meur is not None:
            facts["annual_turnover_eur"] = self.turnover_meur * 1_000_000
        return facts


CG, LG = "central-government", "local-government"
ORGANISATIONS: list[Org] = [
    # The national CSIRT, the regulators, the ministries and agencies.
    Org(
        CSIRT,
        "CERT-XA, National Computer Emergency Response Team of Aralia",
        "csirt",
        "public-administration",
        "critical",
        CG,
    ),
    Org("dsra", "Digital Security Regulatory Authority", "regulator", "public-administration", "essential", CG),
    Org("nbxa", "National Bank of Aralia", "regulator", "banking", "critical", CG, language="ru"),
    Org("mdd", "Ministry of Digital Development", "agency", "public-administration", "essential", CG),
    Org("mfa", "Ministry of Foreign Affairs", "agency", "public-administration", "critical", CG),
    Org("moh", "Ministry of Health", "agency", "public-administration", "essential", CG, language="uz"),
    Org("mof", "Ministry of Finance", "agency", "public-administration", "essential", CG),
    Org("tax", "State Tax Committee", "agency", "public-administration", "essential", CG, language="ru"),
    Org("marsk-city", "Marsk City Administration", "agency", "public-administration", "important", LG, language="uz"),
    # Stakeholders the routing rules tell (nciss_platform.notifications): more regulators, the crisis cell, the police.
    Org("erxa", "Energy Regulatory Authority of Aralia", "regulator", "energy", "essential", CG, language="ru"),
    Org("hsi", "State Health Supervision Inspectorate", "regulator", "health", "essential", CG, language="uz"),
    Org("ncmc", "National Crisis Management Centre", "agency", "public-administration", "critical", CG),
    Org(
        "mia-cyber",
        "Cybercrime Department, Ministry of Internal Affairs",
        "agency",
        "public-administration",
        "critical",
        CG,
        language="ru",
    ),
    # Operators across the NIS2 sectors.
    Org(
        "aralia-grid",
        "Aralia Grid (national transmission system operator)",
        "operator",
        "energy",
        "critical",
        "large",
        turnover_meur=620,
    ),
    Org("marsk-power", "Marsk Power Distribution", "operator", "energy", "essential", "large", turnover_meur=210),
    Org("aralgaz", "AralGaz Transmission", "operator", "energy", "critical", "large", turnover_meur=480, language="ru"),
    Org("marsk-water", "Marsk City Water", "operator", "drinking-water", "essential", "large", turnover_meur=45),
    Org(
        "tolvan-water",
        "Tolvan Vodokanal",
        "operator",
        "waste-water",
        "important",
        "medium",
        turnover_meur=12,
        language="ru",
    ),
    Org("first-bank", "First Bank of Aralia", "operator", "banking", "essential", "large", turnover_meur=900),
    Org(
        "steppe-bank",
        "Steppe Commercial Bank",
        "operator",
        "banking",
        "essential",
        "large",
        turnover_meur=260,
        language="ru",
    ),
    Org("axe", "Aralia Stock Exchange", "operator", "financial", "essential", "medium", turnover_meur=30),
    Org(
        "marsk-hospitals",
        "Marsk Clinical Hospital Group",
        "operator",
        "health",
        "essential",
        "large",
        turnover_meur=140,
        language="uz",
    ),
    Org("aralfarm", "Aralfarm Medicines Distribution", "operator", "health", "important", "medium", turnover_meur=60),
    Org("steppe-cloud", "Steppe Cloud", "operator", "digital-infrastructure", "essential", "large", "cloud", 95),
    Org("namehouse", "NameHouse DNS", "operator", "digital-infrastructure", "essential", "medium", "dns", 8),
    Org("xa-registry", ".xa Domain Registry", "operator", "digital-infrastructure", "essential", "small", "tld", 3),
    Org("araltelecom", "AralTelecom", "operator", "digital-infrastructure", "critical", "large", turnover_meur=700),
    Org(
        "kesh-mobile",
        "Kesh Mobile",
        "operator",
        "digital-infrastructure",
        "essential",
        "large",
        turnover_meur=310,
        language="uz",
    ),
    Org(
        "aralsign",
        "AralSign Trust Services",
        "operator",
        "digital-infrastructure",
        "essential",
        "small",
        "trust-service",
        4,
    ),
    Org("kesh-msp", "Kesh Managed Services", "operator", "ict-services", "important", "medium", "msp", 18),
    Org(
        "aralia-railways",
        "Aralia Railways",
        "operator",
        "transport",
        "critical",
        "large",
        turnover_meur=380,
        language="ru",
    ),
    Org(
        "marsk-airport", "Marsk International Airport", "operator", "transport", "essential", "large", turnover_meur=120
    ),
    Org("port-tolvan", "Port of Tolvan", "operator", "transport", "essential", "medium", turnover_meur=55),
    Org("aralpost", "AralPost", "operator", "courier", "important", "large", turnover_meur=70, language="uz"),
    Org("karvon", "Karvon Market", "operator", "digital-providers", "important", "medium", "marketplace", 85),
    Org("aralsat", "AralSat", "operator", "space", "essential", "medium", turnover_meur=40),
    Org(
        "aralkhim",
        "Aralkhim Fertiliser Plant",
        "operator",
        "chemical",
        "important",
        "large",
        turnover_meur=230,
        language="ru",
    ),
    Org("tolvan-steel", "Tolvan Steel Works", "operator", "manufacturing", "important", "large", turnover_meur=540),
    Org("aral-dairy", "Aral Dairy", "operator", "food", "important", "medium", turnover_meur=35),
    Org("marsk-waste", "Marsk Waste Services", "operator", "waste-management", "important", "medium", turnover_meur=15),
    Org("asu", "Aralia State University", "operator", "research", "other", "large"),
    # Smaller organisations outside the NIS2 lists: most of a CSIRT's everyday reports.
    Org("kesh-clinic", "Kesh Family Clinic", "operator", "health", "other", "small", turnover_meur=2),
    Org("tolvan-hotels", "Tolvan Hotels", "operator", "other", "other", "medium", turnover_meur=14),
    Org("marsk-soft", "Marsk Software House", "operator", "ict-services", "other", "small", turnover_meur=3),
    Org("aral-logistics", "Aral Logistics", "operator", "courier", "other", "small", turnover_meur=6, language="ru"),
    Org(
        "tolvan-district",
        "Tolvan District Administration",
        "agency",
        "public-administration",
        "other",
        LG,
        language="uz",
    ),
    # Partners abroad, each preferring its own country's scale.
    Org(
        "veskaria-cda",
        "Veskarian Cyber Defence Agency",
        "partner",
        "public-administration",
        "critical",
        CG,
        country="XB",
        preferred_scale="cisa-nciss",
        language="ru",
    ),
    Org(
        "ostmark-ncc",
        "Ostmark National Cyber Centre",
        "partner",
        "public-administration",
        "critical",
        CG,
        country="XC",
        preferred_scale="uk-ncsc",
    ),
]
ORGS = {o.slug: o for o in ORGANISATIONS}

# Network assets (nciss.constituency), all from documentation ranges: IPv4 RFC 5737 (192.0.2.0/24,
# 198.51.100.0/24, 203.0.113.0/24), IPv6 RFC 3849 (2001:db8::/32), private AS numbers (RFC 6996)
# and .example names. AralTelecom holds the whole of 203.0.113.0/24; a clinic and a software house
# are its customers with smaller prefixes inside it (the longest prefix wins).
NETWORK_ASSETS: dict[str, list[tuple[str, str]]] = {
    CSIRT: [("cidr", "192.0.2.0/28"), ("domain", "cert.xa.example")],
    "first-bank": [
        ("cidr", "192.0.2.64/26"),
        ("cidr", "2001:db8:100::/48"),
        ("asn", "64520"),
        ("domain", "firstbank.example"),
    ],
    "steppe-bank": [("cidr", "192.0.2.128/26"), ("domain", "steppebank.example")],
    "aralia-grid": [("cidr", "198.51.100.0/25"), ("asn", "64530"), ("domain", "aralgrid.example")],
    "mof": [("cidr", "198.51.100.128/27"), ("domain", "mof.gov.example")],
    "araltelecom": [
        ("cidr", "203.0.113.0/24"),
        ("cidr", "2001:db8::/36"),
        ("asn", "64512"),
        ("domain", "araltelecom.example"),
    ],
    "kesh-clinic": [("cidr", "203.0.113.64/28"), ("domain", "keshclinic.example")],
    "marsk-soft": [("cidr", "203.0.113.96/29"), ("cidr", "2001:db8:0:42::/64"), ("domain", "marsksoft.example")],
}

# Partner groups: the partners that receive shares together (each is a TAXII collection).
# (slug, name, description, member organisations)
PARTNER_GROUPS = [
    (
        "csirt-network",
        "CSIRT network",
        "The national CSIRTs of the neighbouring countries, sharing under TLP.",
        ("veskaria-cda", "ostmark-ncc"),
    ),
]


@dataclass(frozen=True)
class Person:
    username: str
    first_name: str
    last_name: str
    role: str
    org: str
    language: str = "en"

    @property
    def email(self) -> str:
        return f"{self.username.replace('.', '-')}@{self.org}.example"


PEOPLE: list[Person] = [
    Person("admin", "Bekzod", "Alimov", "administrator", CSIRT),
    Person("coordinator", "Nodira", "Yusupova", "coordinator", CSIRT),
    Person("analyst", "Amir", "Saidov", "analyst", CSIRT),
    Person("l.nazarova", "Lola", "Nazarova", "analyst", CSIRT, "ru"),
    Person("r.tashev", "Rustam", "Tashev", "analyst", CSIRT, "uz"),
    Person("d.ermekova", "Dana", "Ermekova", "analyst", CSIRT),
    Person("scale.owner", "Sevara", "Karimova", "scale_owner", CSIRT),
    Person("reporter.grid", "Sanjar", "Kholmatov", "reporter", "aralia-grid"),
    Person("reporter.water", "Malika", "Rakhimova", "reporter", "marsk-water", "uz"),
    Person("reporter.firstbank", "Oleg", "Brankov", "reporter", "first-bank", "ru"),
    Person("reporter.steppebank", "Zarina", "Abdullaeva", "reporter", "steppe-bank", "ru"),
    Person("reporter.hospital", "Farrukh", "Ismoilov", "reporter", "marsk-hospitals", "uz"),
    Person("reporter.cloud", "Aigerim", "Seitova", "reporter", "steppe-cloud"),
    Person("reporter.dns", "Timur", "Qodirov", "reporter", "namehouse"),
    Person("reporter.telecom", "Irina", "Valeeva", "reporter", "araltelecom", "ru"),
    Person("reporter.rail", "Jamshid", "Ergashev", "reporter", "aralia-railways", "ru"),
    Person("reporter.karvon", "Kamila", "Usmonova", "reporter", "karvon"),
    Person("reporter.mdd", "Azamat", "Nurlanov", "reporter", "mdd"),
    Person("reporter.mfa", "Gulnora", "Saidova", "reporter", "mfa"),
    Person("reporter.tax", "Pavel", "Ostrov", "reporter", "tax", "ru"),
    Person("reporter.regulator", "Shahlo", "Mirzaeva", "reporter", "dsra"),
    Person("partner.veskaria", "Elena", "Marsh", "partner", "veskaria-cda", "ru"),
    Person("partner.ostmark", "Henrik", "Lind", "partner", "ostmark-ncc"),
]
ANALYSTS = ["analyst", "l.nazarova", "r.tashev", "d.ermekova"]
REPORTER_OF = {p.org: p.username for p in PEOPLE if p.role == "reporter"}

# -------------------------------------------------------------------- incident scenarios

Facts = dict[str, Any]
Rng = random.Random


def _pick(rng: Rng, weighted: dict[Any, float]) -> Any:
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def _count(rng: Rng, low: int, high: int) -> int:
    """A count between ``low`` and ``high``, log-uniform (small counts are the common ones)."""
    return round(low * (high / low) ** rng.random())


@dataclass(frozen=True)
class Scenario:
    """A kind of incident: which organisations it hits, its titles, and facts as a reporter states them."""

    key: str
    classification: str
    weight: float
    targets: tuple[str, ...]  # organisation slugs; the first ones are hit more often (Zipf)
    titles: tuple[str, ...]
    descriptions: tuple[str, ...]
    facts: Callable[[Rng], Facts]
    # Facts a reporter rarely knows on day one; the analyst adds them later.
    later: tuple[str, ...] = ("information_impact", "recoverability", "actor", "potential_impact")
    detected_by_csirt: float = 0.0  # share of reports that come from the CSIRT's own feeds
    tlp: dict[str, float] = field(default_factory=lambda: {"TLP:AMBER": 5, "TLP:GREEN": 3, "TLP:CLEAR": 1})


def _phishing(rng: Rng) -> Facts:
    clicked = rng.random() < 0.3
    return {
        "root_cause": "malicious-actions",
        "malicious": True,
        "functional_impact": "no-impact-to-services"
        if not clicked
        else _pick(rng, {"no-impact-to-services": 3, "minimal-non-critical": 1}),
        "observed_activity": "engage" if not clicked else "presence",
        "location": "business-network" if clicked else _pick(rng, {"unsuccessful": 2, "business-dmz": 1}),
        "actor": _pick(rng, {"criminal": 6, "unknown": 3, "hacktivist": 1}),
        "information_impact": _pick(rng, {"no-impact": 5, "suspected": 3, "privacy-breach": 1 if clicked else 0.01}),
        "recoverability": "regular",
        "potential_impact": _pick(rng, {"minimal": 3, "low": 2}),
        "users_affected": _count(rng, 3, 4000),
    }


def _scanning(rng: Rng) -> Facts:
    return {
        "root_cause": "malicious-actions",
        "malicious": True,
        "functional_impact": "no-impact",
        "observed_activity": "prepare",
        "location": _pick(rng, {"unsuccessful": 3, "business-dmz": 2}),
        "actor": "unknown",
        "information_impact": "no-impact",
        "recoverability": "regular",
        "potential_impact": "minimal",
    }


def _brute_force(rng: Rng) -> Facts:
    return {
        "root_cause": "malicious-actions",
        "malicious": True,
        "functional_impact": _pick(rng, {"no-impact": 2, "no-impact-to-services": 3}),
        "observed_activity": "engage",
        "location": "business-dmz",
        "actor": _pick(rng, {"criminal": 2, "unknown": 3}),
        "information_impact": _pick(rng, {"no-impact": 4, "suspected": 1}),
        "recoverability": "regular",
        "potential_impact": _pick(rng, {"minimal": 2, "low": 2}),
    }


def _exploit(rng: Rng) -> Facts:
    return {
        "root_cause": "malicious-actions",
        "malicious": True,
        "functional_impact": _pick(rng, {"no-impact": 1, "no-impact-to-services": 2}),
        "observed_activity": "engage",
        "location": _pick(rng, {"business-dmz": 4, "critical-system-dmz": 1}),
        "actor": _pick(rng, {"criminal": 2, "unknown": 3, "apt": 0.4}),
        "information_impact": _pick(rng, {"no-impact": 3, "suspected": 2}),
        "recoverability": "regular",
        "potential_impact": _pick(rng, {"low": 3, "moderate": 1}),
    }


def _malware(rng: Rng) -> Facts:
    return {
        "root_cause": "malicious-actions",
        "malicious": True,
        "functional_impact": _pick(
            rng, {"no-impact-to-services": 3, "minimal-non-critical": 3, "significant-non-critical": 0.5}
        ),
        "observed_activity": "presence",
        "location": _pick(rng, {"business-network": 6, "business-network-management": 1}),
        "actor": _pick(rng, {"criminal": 5, "unknown": 3}),
        "information_impact": _pick(rng, {"no-impact": 2, "suspected": 4, "proprietary-breach": 0.5}),
        "recoverability": _pick(rng, {"regular": 4, "supplemented": 1}),
        "potential_impact": _pick(rng, {"minimal": 1, "low": 3, "moderate": 0.7}),
        "users_affected": _count(rng, 1, 60),
    }


def _ddos(rng: Rng) -> Facts:
    outage = rng.choice([0, 0, 15, 40, 90, 180])
    return {
        "root_cause": "malicious-actions",
        "malicious": True,
        "functional_impact": "denial-non-critical"
        if outage >= 90
        else _pick(rng, {"minimal-non-critical": 2, "minimal-critical": 2, "significant-non-critical": 1}),
        "observed_activity": "effect",
        "location": "business-dmz",
        "actor": _pick(rng, {"hacktivist": 5, "criminal": 2, "unknown": 2}),
        "information_impact": "no-impact",
        "recoverability": "regular",
        "potential_impact": _pick(rng, {"low": 3, "moderate": 1}),
        "outage_minutes": outage,
        "degraded_minutes": outage + rng.choice([20, 45, 120, 300]),
        "users_affected": _count(rng, 500, 300_000),
    }


def _ransomware(rng: Rng) -> Facts:
    big = rng.random() < 0.35
    return {
        "root_cause": "malicious-actions",
        "malicious": True,
        "functional_impact": _pick(rng, {"significant-critical": 1, "denial-non-critical": 2})
        if big
        else _pick(rng, {"minimal-non-critical": 2, "significant-non-critical": 2}),
        "observed_activity": "effect",
        "location": _pick(rng, {"business-network": 3, "business-network-management": 2}),
        "actor": "criminal",
        "information_impact": _pick(rng, {"destruction-non-critical": 3, "proprietary-breach": 1}),
        "recoverability": _pick(rng, {"supplemented": 3, "extended": 1 if big else 0.2}),
        "potential_impact": _pick(rng, {"moderate": 2, "high": 1}) if big else _pick(rng, {"low": 2, "moderate": 1}),
        "financial_loss_eur": float(_count(rng, 20_000, 2_500_000 if big else 300_000)),
        "users_affected": _count(rng, 20, 50_000 if big else 800),
        "data_compromised": True,
        "unauthorised_access": True,
    }


def _data_leak(rng: Rng) -> Facts:
    records = _count(rng, 200, 900_000)
    error = rng.random() < 0.4
    return {
        "root_cause": "human-errors" if error else "malicious-actions",
        "malicious": not error,
        "functional_impact": "no-impact-to-services",
        "observed_activity": "effect",
        "location": _pick(rng, {"business-dmz": 2, "business-network": 1}),
        "actor": "unwitting-insider" if error else _pick(rng, {"criminal": 3, "unknown": 2}),
        "information_impact": "privacy-breach",
        "recoverability": "supplemented",
        "potential_impact": "moderate" if records > 50_000 else "low",
        "records_affected": records,
        "users_data_compromised": records,
        "users_affected": records,
        "data_compromised": True,
        "unauthorised_access": not error,
    }


def _account(rng: Rng) -> Facts:
    privileged = rng.random() < 0.25
    return {
        "root_cause": "malicious-actions",
        "malicious": True,
        "functional_impact": _pick(rng, {"no-impact-to-services": 3, "minimal-non-critical": 1}),
        "observed_activity": "presence",
        "location": "business-network-management" if privileged else "business-network",
        "actor": _pick(rng, {"criminal": 3, "unknown": 3, "apt": 0.5 if privileged else 0.1}),
        "information_impact": _pick(
            rng, {"suspected": 3, "proprietary-breach": 1, "core-credential-compromise": 1 if privileged else 0}
        ),
        "recoverability": _pick(rng, {"regular": 3, "supplemented": 1}),
        "potential_impact": _pick(rng, {"low": 3, "moderate": 1 if privileged else 0.3}),
        "unauthorised_access": True,
        "users_affected": _count(rng, 1, 30),
    }


def _outage(rng: Rng) -> Facts:
    minutes = rng.choice([10, 25, 45, 70, 120, 240])
    return {
        "root_cause": _pick(
            rng, {"system-failures": 5, "third-party-failures": 2, "human-errors": 2, "natural-phenomena": 0.5}
        ),
        "malicious": False,
        "functional_impact": "denial-non-critical"
        if minutes >= 120
        else _pick(rng, {"minimal-non-critical": 2, "minimal-critical": 1}),
        "observed_activity": "none",
        "information_impact": "no-impact",
        "recoverability": "regular",
        "potential_impact": _pick(rng, {"minimal": 1, "low": 2}),
        "outage_minutes": minutes,
        "users_affected": _count(rng, 100, 200_000),
        "scheduled_maintenance": rng.random() < 0.1,
    }


def _vulnerable(rng: Rng) -> Facts:
    return {
        "root_cause": _pick(rng, {"human-errors": 2, "system-failures": 1}),
        "malicious": False,
        "functional_impact": "no-impact",
        "observed_activity": "none",
        "location": _pick(rng, {"business-dmz": 4, "critical-system-dmz": 1}),
        "information_impact": "no-impact",
        "recoverability": "regular",
        "potential_impact": _pick(rng, {"low": 3, "moderate": 1}),
    }


def _defacement(rng: Rng) -> Facts:
    return {
        "root_cause": "malicious-actions",
        "malicious": True,
        "functional_impact": "minimal-non-critical",
        "observed_activity": "effect",
        "location": "business-dmz",
        "actor": "hacktivist",
        "information_impact": "no-impact",
        "recoverability": "regular",
        "potential_impact": "low",
        "outage_minutes": rng.choice([20, 60, 180]),
    }


def _spam(rng: Rng) -> Facts:
    return {
        "root_cause": "malicious-actions",
        "malicious": True,
        "functional_impact": "no-impact",
        "observed_activity": "engage",
        "location": "unsuccessful",
        "actor": "criminal",
        "information_impact": "no-impact",
        "potential_impact": "minimal",
    }


def _fraud(rng: Rng) -> Facts:
    return {
        "root_cause": "malicious-actions",
        "malicious": True,
        "functional_impact": "no-impact-to-services",
        "observed_activity": "effect",
        "location": "unsuccessful",
        "actor": "criminal",
        "information_impact": _pick(rng, {"no-impact": 2, "privacy-breach": 1}),
        "recoverability": "regular",
        "potential_impact": "low",
        "financial_loss_eur": float(_count(rng, 500, 180_000)),
        "users_affected": _count(rng, 5, 2_000),
    }


def _intrusion(rng: Rng) -> Facts:
    return {
        "root_cause": "malicious-actions",
        "malicious": True,
        "functional_impact": _pick(
            rng, {"no-impact-to-services": 2, "minimal-critical": 2, "significant-critical": 0.7}
        ),
        "observed_activity": "presence",
        "location": _pick(
            rng, {"business-network-management": 3, "critical-system-dmz": 2, "critical-system-management": 1}
        ),
        "actor": _pick(rng, {"criminal": 2, "unknown": 2, "apt": 2, "apt-targeted": 0.5}),
        "information_impact": _pick(
            rng, {"proprietary-breach": 2, "core-credential-compromise": 2, "critical-systems-data-breach": 1}
        ),
        "recoverability": _pick(rng, {"supplemented": 3, "extended": 1}),
        "potential_impact": _pick(rng, {"moderate": 2, "high": 2}),
        "unauthorised_access": True,
        "data_compromised": True,
        "users_affected": _count(rng, 10, 5000),
    }


def _c2(rng: Rng) -> Facts:
    return {
        "root_cause": "malicious-actions",
        "malicious": True,
        "functional_impact": "no-impact-to-services",
        "observed_activity": "presence",
        "location": "business-dmz",
        "actor": _pick(rng, {"criminal": 3, "apt": 1}),
        "information_impact": "no-impact",
        "recoverability": "regular",
        "potential_impact": "low",
        "countries_affected": [rng.choice(PARTNER_COUNTRIES)] if rng.random() < 0.5 else [],
    }


def _misuse(rng: Rng) -> Facts:
    return {
        "root_cause": "malicious-actions",
        "malicious": True,
        "functional_impact": "minimal-non-critical",
        "observed_activity": "presence",
        "location": "business-network",
        "actor": "criminal",
        "information_impact": "no-impact",
        "recoverability": "regular",
        "potential_impact": "minimal",
        "financial_loss_eur": float(_count(rng, 300, 20_000)),
    }


SCENARIOS: list[Scenario] = [
    Scenario(
        "phishing",
        "fraud:phishing",
        22,
        (
            "tolvan-hotels",
            "asu",
            "aral-logistics",
            "first-bank",
            "kesh-clinic",
            "tolvan-district",
            "steppe-bank",
            "marsk-soft",
            "tax",
            "aralpost",
            "karvon",
            "kesh-mobile",
            "mof",
            "araltelecom",
            "marsk-hospitals",
            "axe",
            "mdd",
        ),
        (
            "Phishing e-mails impersonating {org} sent to its customers",
            "Credential phishing against {org} staff",
            "Spear-phishing with a malicious attachment received at {org}",
            "Fake {org} login page hosted abroad",
            "SMS phishing (smishing) campaign using the name of {org}",
            "Phishing wave misusing the {org} brand",
        ),
        (
            "Several employees received e-mails asking them to confirm their mailbox password on a look-alike page. The links and the sender addresses are attached; the mail gateway blocked most of them.",
            "Customers forwarded text messages with a link to a copy of our online service. The page asks for card details. We have asked the hosting provider to take it down.",
            "An e-mail with a macro-enabled document reached the finance department. One person opened it; the endpoint protection stopped the macro. The workstation was isolated as a precaution.",
            "Our service desk saw a rise in password resets after a phishing wave. Most staff reported the e-mail; a few entered their credentials and their accounts were reset.",
        ),
        _phishing,
        detected_by_csirt=0.15,
    ),
    Scenario(
        "scanning",
        "information-gathering:scanner",
        13,
        (
            "asu",
            "araltelecom",
            "marsk-soft",
            "steppe-cloud",
            "tolvan-district",
            "xa-registry",
            "namehouse",
            "mdd",
            "aralia-grid",
            "first-bank",
            "marsk-water",
            "aralgaz",
        ),
        (
            "Port scanning of {org} internet-facing systems",
            "Systematic scanning of {org} VPN gateways",
            "Scans for exposed remote-desktop services at {org}",
            "Reconnaissance against {org} web applications",
        ),
        (
            "The CSIRT's sensors saw a sweep of the organisation's public address range from a small number of hosting addresses, looking for VPN and remote-desktop services. No successful connection was seen.",
            "The firewall logged a burst of connection attempts to many ports from addresses known for scanning. Nothing was exposed beyond the usual services; the addresses are blocked.",
            "Automated vulnerability scans against the public web servers, matching the signatures of a widely used scanner. Shared for the threat picture.",
        ),
        _scanning,
        later=("actor",),
        detected_by_csirt=0.7,
        tlp={"TLP:GREEN": 3, "TLP:CLEAR": 2, "TLP:AMBER": 1},
    ),
    Scenario(
        "brute-force",
        "intrusion-attempts:brute-force",
        7,
        (
            "marsk-soft",
            "asu",
            "tolvan-hotels",
            "kesh-msp",
            "steppe-cloud",
            "first-bank",
            "marsk-city",
            "aralpost",
            "tolvan-water",
        ),
        (
            "Password-guessing attacks on {org} remote access",
            "Brute-force attempts against {org} mail service",
            "Credential stuffing against the {org} customer portal",
        ),
        (
            "Thousands of failed log-ins against the remote-access portal over a night, from rotating addresses. Account lock-out held; no successful log-in was found.",
            "The customer portal saw log-in attempts with e-mail and password pairs from public leaks. Rate limiting slowed them down; affected customers are asked to change their passwords.",
        ),
        _brute_force,
        later=("actor", "information_impact"),
        detected_by_csirt=0.2,
    ),
    Scenario(
        "exploit",
        "intrusion-attempts:exploit",
        6,
        ("steppe-cloud", "mdd", "marsk-airport", "aralsat", "axe", "marsk-water", "aralgaz", "port-tolvan"),
        (
            "Exploitation attempts against a VPN appliance vulnerability at {org}",
            "Attempts to exploit the {org} web portal",
            "Exploit attempts against {org} file-transfer servers",
        ),
        (
            "The intrusion detection system flagged exploit attempts for a recently published vulnerability in the VPN appliance. The appliance was patched the day before; the logs are being checked for signs of success.",
            "Requests carrying an exploit for the content management system reached the public portal. The web application firewall blocked them; the version in use is not affected.",
        ),
        _exploit,
        detected_by_csirt=0.3,
    ),
    Scenario(
        "malware",
        "malicious-code:infected-system",
        11,
        (
            "asu",
            "tolvan-district",
            "kesh-clinic",
            "aral-logistics",
            "marsk-soft",
            "tolvan-hotels",
            "marsk-city",
            "aralpost",
            "tolvan-steel",
            "aral-dairy",
            "kesh-msp",
            "marsk-hospitals",
            "aralkhim",
            "port-tolvan",
            "moh",
            "marsk-waste",
        ),
        (
            "Infected workstations at {org}",
            "Information-stealing malware found on {org} laptops",
            "Botnet infection reported for {org} address space",
            "Malware on a shared file server at {org}",
        ),
        (
            "Endpoint protection reported an information stealer on a few workstations in the accounting department. The machines were taken off the network and are being re-imaged; passwords used on them are being changed.",
            "A partner's sinkhole reports connections from our address range to a known botnet command server. We are looking for the infected machines.",
            "A USB stick brought from outside spread malware to shared folders. The file server was cleaned from a backup.",
        ),
        _malware,
        detected_by_csirt=0.3,
    ),
    Scenario(
        "ddos",
        "availability:ddos",
        7,
        ("first-bank", "steppe-bank", "tax", "mfa", "karvon", "araltelecom", "namehouse", "marsk-airport", "axe"),
        (
            "DDoS attack on {org} online services",
            "Denial-of-service attack against the {org} website",
            "Volumetric DDoS on {org} customer portal",
        ),
        (
            "A volumetric attack of several gigabits per second saturated the uplink of the online service. Traffic was moved to the upstream scrubbing service; customers saw time-outs in the meantime.",
            "A hacktivist group claimed an attack on our website on social media. The site was slow or unreachable for a while; the attack came mostly from compromised home routers.",
        ),
        _ddos,
        later=("actor", "potential_impact"),
    ),
    Scenario(
        "ransomware",
        "information-content-security:unauthorised-information-modification",
        4,
        (
            "aral-dairy",
            "tolvan-steel",
            "kesh-clinic",
            "aralpost",
            "marsk-city",
            "kesh-msp",
            "aralfarm",
            "tolvan-hotels",
            "aralkhim",
            "marsk-waste",
            "marsk-soft",
        ),
        (
            "Ransomware encrypted servers at {org}",
            "Ransomware attack on {org} office network",
            "Files encrypted and ransom note found at {org}",
        ),
        (
            "Staff found files renamed and a ransom note on the file servers in the morning. Several servers and many workstations are encrypted; the production systems are separated and still running. Backups are being checked.",
            "A ransomware group listed the organisation on its leak site after encrypting the office network over the weekend. The entry point seems to be a remote-access account without a second factor.",
        ),
        _ransomware,
        later=("information_impact", "recoverability", "financial_loss_eur", "potential_impact", "actor"),
    ),
    Scenario(
        "data-leak",
        "information-content-security:data-leak",
        4,
        (
            "karvon",
            "asu",
            "aralpost",
            "kesh-mobile",
            "marsk-city",
            "kesh-clinic",
            "aralfarm",
            "steppe-bank",
            "tolvan-hotels",
        ),
        (
            "Customer data of {org} offered for sale on a forum",
            "Misconfigured storage exposed {org} records",
            "Personal data leak at {org}",
        ),
        (
            "A database with names, phone numbers and addresses that appear to be our customers' is offered on a criminal forum. We are checking where it came from.",
            "A security researcher told us that a storage bucket with export files was publicly readable. Access was closed the same day; the logs show downloads from a few addresses.",
        ),
        _data_leak,
        later=("records_affected", "users_data_compromised", "actor", "potential_impact"),
    ),
    Scenario(
        "account",
        "intrusions:unprivileged-account-compromise",
        6,
        (
            "asu",
            "tolvan-district",
            "aral-logistics",
            "marsk-soft",
            "mdd",
            "tax",
            "marsk-city",
            "aralpost",
            "karvon",
            "kesh-msp",
            "moh",
        ),
        (
            "Compromised mailbox at {org} used to send fraud e-mails",
            "Unauthorised log-ins to {org} employee accounts",
            "Administrator account misused at {org}",
        ),
        (
            "A staff mailbox was used to send invoices with changed bank details to suppliers. The account was taken over after a phishing e-mail; the password was reset and forwarding rules removed.",
            "Log-ins to the webmail from abroad for accounts of people who were in the office. The accounts have been locked and we are looking at what was read.",
        ),
        _account,
    ),
    Scenario(
        "outage",
        "availability:outage",
        6,
        (
            "steppe-cloud",
            "araltelecom",
            "kesh-mobile",
            "first-bank",
            "aralsat",
            "marsk-power",
            "aralia-railways",
            "namehouse",
            "aralsign",
            "tax",
        ),
        (
            "Outage of {org} services after a failed update",
            "Power failure in a {org} data centre",
            "{org} services unavailable after a supplier failure",
        ),
        (
            "A configuration change during the night took the main service down. It was rolled back; the root cause was a missing check in the deployment procedure.",
            "A cooling failure forced a controlled shutdown of part of the data centre. Services failed over to the second site with a delay.",
            "An upstream provider's fibre cut left the service unreachable for customers in two regions until traffic was rerouted.",
        ),
        _outage,
        later=("potential_impact",),
        tlp={"TLP:GREEN": 2, "TLP:CLEAR": 2, "TLP:AMBER": 1},
    ),
    Scenario(
        "vulnerable",
        "vulnerable:vulnerable-system",
        7,
        (
            "tolvan-district",
            "tolvan-water",
            "kesh-clinic",
            "marsk-water",
            "aral-dairy",
            "tolvan-hotels",
            "marsk-city",
            "asu",
            "marsk-waste",
            "port-tolvan",
            "aralkhim",
        ),
        (
            "Exposed control panel of {org} found on the internet",
            "Unpatched internet-facing server at {org}",
            "Open database of {org} reachable from the internet",
        ),
        (
            "An internet-wide scan by a partner found a web interface of the organisation's control system reachable without a VPN. We informed the organisation, which has since put it behind the firewall.",
            "Our scans show a public server running a version with a known critical vulnerability. No sign of exploitation so far; the operator is asked to patch.",
        ),
        _vulnerable,
        later=("potential_impact",),
        detected_by_csirt=0.8,
        tlp={"TLP:AMBER": 3, "TLP:AMBER+STRICT": 1},
    ),
    Scenario(
        "defacement",
        "intrusions:application-compromise",
        3,
        ("tolvan-district", "asu", "marsk-city", "tolvan-hotels", "moh", "mdd", "aral-dairy", "marsk-waste"),
        (
            "Website of {org} defaced",
            "Hacktivist message posted on the {org} website",
        ),
        (
            "The public website showed a political message for part of the morning. The site runs on an old plug-in that was exploited; it was restored from a backup and taken offline for patching.",
        ),
        _defacement,
        later=("actor",),
        tlp={"TLP:CLEAR": 2, "TLP:GREEN": 2},
    ),
    Scenario(
        "spam",
        "abusive-content:spam",
        2,
        ("asu", "tolvan-hotels", "aral-logistics", "aralpost", "marsk-city", "kesh-mobile"),
        ("Spam wave sent through {org} contact forms", "Unsolicited bulk e-mail abusing {org} domain"),
        (
            "Our domain is being spoofed in a spam campaign; we receive the bounces. The messages advertise investment scams.",
        ),
        _spam,
        later=(),
        tlp={"TLP:CLEAR": 1, "TLP:GREEN": 1},
    ),
    Scenario(
        "fraud",
        "fraud:masquerade",
        3,
        ("first-bank", "steppe-bank", "aral-logistics", "tax", "aralpost", "karvon", "tolvan-hotels", "mof"),
        (
            "Fake {org} website collecting payments",
            "Scam calls impersonating {org}",
            "CEO fraud attempt at {org}",
        ),
        (
            "A look-alike domain imitates the organisation's payment page. Victims lost money paying fake fees; the registrar was asked to suspend the domain.",
            "The finance department received an urgent payment order in the name of the director. One payment left before the bank recalled it.",
        ),
        _fraud,
        later=("financial_loss_eur", "users_affected"),
    ),
    Scenario(
        "intrusion",
        "intrusions:system-compromise",
        2.5,
        (
            "steppe-bank",
            "aralgaz",
            "marsk-power",
            "araltelecom",
            "kesh-msp",
            "axe",
            "marsk-water",
            "port-tolvan",
            "aralsat",
            "mof",
        ),
        (
            "Intruders on {org} servers through a compromised supplier account",
            "Web shell found on a {org} server in the internal network",
            "Unknown remote-access tool on {org} management servers",
        ),
        (
            "During an upgrade, administrators found a web shell and a remote-access tool on servers in the management network. The tools are months old; the supplier's maintenance account was used to reach them.",
            "The endpoint detection system flagged credential dumping on a server that manages industrial systems. The server was isolated; we need help with the forensic analysis.",
        ),
        _intrusion,
        later=("information_impact", "recoverability", "actor", "potential_impact", "users_affected"),
        tlp={"TLP:AMBER+STRICT": 2, "TLP:AMBER": 2},
    ),
    Scenario(
        "c2",
        "malicious-code:c2-server",
        2,
        ("steppe-cloud", "kesh-msp", "araltelecom"),
        ("Command-and-control server hosted at {org}", "Malware command server on a customer machine at {org}"),
        (
            "A partner reports that a virtual server rented from the provider serves as a command server for an information stealer. The customer account was suspended and the disk image kept for the investigation.",
        ),
        _c2,
        later=("actor",),
        detected_by_csirt=0.5,
    ),
    Scenario(
        "misuse",
        "fraud:unauthorised-use-of-resources",
        2,
        ("steppe-cloud", "asu", "marsk-soft", "kesh-msp"),
        ("Crypto-mining on compromised {org} servers", "Stolen cloud credentials used for mining at {org}"),
        (
            "A tenant's leaked access key was used to start many virtual machines that mine cryptocurrency. The key was revoked and the machines removed; the customer disputes the bill.",
        ),
        _misuse,
        later=("financial_loss_eur",),
    ),
]

# -------------------------------------------------------------------- timeline texts

TRIAGE_NOTES = (
    "Triaged: facts checked with the reporter; level confirmed.",
    "Triaged. Indicators added to the national sharing feed.",
    "Triaged; the operator is handling it, we follow up.",
    "Triaged after a call with the reporter. Waiting for logs.",
    "Triaged. Similar reports this week from other operators; watching for a campaign.",
)
REJECT_NOTES = (
    "Rejected: a false positive of the reporter's monitoring (a scheduled vulnerability scan).",
    "Rejected: not a security incident (a planned maintenance window).",
    "Rejected: out of scope: a private person's account, referred to the police hotline.",
    "Rejected: test report sent while setting up the reporting process.",
)
ANALYST_COMMENTS = (
    "Asked the reporter for firewall logs of the affected period and the sender addresses.",
    "Indicators shared with the sectoral partners under TLP:AMBER.",
    "Checked the addresses against our sensor data: the same infrastructure hit two other operators.",
    "Requested a takedown of the malicious domain from the registrar.",
    "Called the operator's security team; they confirm the timeline and will send a short report.",
    "The hash of the sample matches a known commodity malware family; no sign of a targeted attack.",
    "Recommended resetting credentials for every account used on the affected hosts.",
    "Informed the sector regulator as agreed in the memorandum.",
    "Added the indicators to the blocklist distributed to government networks.",
    "No further activity seen from these addresses in the last 48 hours.",
)
REPORTER_COMMENTS = (
    "Logs of the affected period uploaded to our shared folder; the link was sent by e-mail.",
    "Update: all affected accounts have been reset and second factors enforced.",
    "We restored the service from yesterday's backup; monitoring continues.",
    "Our supplier confirmed the root cause and sent a fix.",
    "No more suspicious activity since the firewall change.",
    "Customers were informed through our website and SMS.",
    "Management asked whether we need to notify the regulator: please advise.",
)
CONTAINED_NOTES = (
    "Contained: affected hosts isolated, malicious accounts disabled.",
    "Contained: attack traffic filtered upstream.",
    "Contained; eradication and recovery under way.",
)
RESOLVED_NOTES = (
    "Resolved: service restored and the root cause fixed.",
    "Resolved: the operator completed recovery and hardening; lessons learned shared.",
    "Resolved: advice given; the operator handles the rest.",
    "Resolved: takedown done, indicators shared.",
)
CLOSED_NOTES = (
    "Closed after the reporter's confirmation.",
    "Closed: no further activity in two weeks.",
    "Closed; final report received.",
)
COORDINATOR_COMMENTS = (
    "Brief the sector regulator and the ministry today.",
    "Keep the partners abroad informed through the CSIRT network.",
    "Please escalate if anything points to a targeted campaign.",
)
ATTACHMENTS = (
    ("iocs.txt", "# Indicators (fictional, demo data)\n198.51.100.23\n203.0.113.77\nlogin-aralia-secure.example\n"),
    (
        "mail-headers.txt",
        'Received: from mail.invalid (198.51.100.23)\nFrom: "Service desk" <it-support@aralia-mail.example>\nSubject: Mailbox quota exceeded\n',
    ),
    (
        "firewall-excerpt.csv",
        "time,src,dst,port,action\n02:14:07,203.0.113.77,192.0.2.10,3389,deny\n02:14:09,203.0.113.77,192.0.2.10,445,deny\n",
    ),
)


# ------------------------------------------------------------------------ stakeholders and routing


@dataclass(frozen=True)
class DemoContact:
    """A stakeholder contact; tier 1 is told first, tier 2 when tier 1 does not acknowledge in time."""

    org: str
    name: str
    function: str
    language: str = "en"
    tier: int = 1
    webhook: bool = False  # told by a signed webhook as well as by e-mail

    @property
    def email(self) -> str:
        local = "".join(c if c.isalnum() else "-" for c in self.function.lower()).strip("-")
        return f"{'-'.join(filter(None, local.split('-')))[:40]}@{self.org}.example"


CONTACTS: list[DemoContact] = [
    DemoContact(CSIRT, "CERT-XA duty officer", "Incident duty officer"),
    DemoContact(CSIRT, "Head of CERT-XA", "Head of the national CSIRT", tier=2),
    DemoContact("erxa", "ERXA duty desk", "Energy security duty desk", "ru"),
    DemoContact("erxa", "Head of supervision, ERXA", "Head of energy supervision", "uz", tier=2),
    DemoContact("nbxa", "NBXA cyber risk desk", "Cyber risk supervision desk", "ru", webhook=True),
    DemoContact("nbxa", "Deputy Governor's office, NBXA", "Office of the Deputy Governor", "ru", tier=2),
    DemoContact("hsi", "Health inspectorate duty desk", "Health ICT supervision desk", "uz"),
    DemoContact("ncmc", "Crisis centre watch desk", "National crisis watch desk", "ru"),
    DemoContact("ncmc", "Head of the crisis centre", "Head of the national crisis cell", "uz", tier=2),
    DemoContact("mdd", "Deputy Minister for Cyber Security", "Deputy Minister, digital development"),
    DemoContact("mia-cyber", "Cybercrime duty officer", "Cybercrime duty officer", "ru"),
    DemoContact("veskaria-cda", "Veskaria OSCE CBM 8 point of contact", "OSCE CBM 8 policy point of contact"),
    DemoContact("veskaria-cda", "Veskarian CSIRT duty desk", "OSCE CBM 8 technical point of contact", "ru"),
    DemoContact("ostmark-ncc", "Ostmark OSCE CBM 8 point of contact", "OSCE CBM 8 policy point of contact"),
]


@dataclass(frozen=True)
class DemoRule:
    """A routing rule: a condition of the rule language, its events, whom it tells."""

    name: str
    description: str
    condition: dict[str, Any]
    events: tuple[str, ...]
    orgs: tuple[str, ...] = ()
    contacts: tuple[str, ...] = ()  # contact names
    ack_hours: float | None = None


ROUTING_RULES: list[DemoRule] = [
    DemoRule(
        "CERT-XA duty: High and above",
        "The duty officer hears of every serious incident; the head of the CSIRT when a target is missed.",
        {"level": ">= 3"},
        ("reported", "level_raised", "target_breached"),
        orgs=(CSIRT,),
    ),
    DemoRule(
        "Energy, High and above",
        "Energy incidents at level 3 or more go to the energy regulator and the crisis cell.",
        {"level": ">= 3", "sector": "energy"},
        ("reported", "level_raised"),
        orgs=("erxa", "ncmc"),
        ack_hours=2,
    ),
    DemoRule(
        "Banking and market infrastructure, Medium and above",
        "The National Bank supervises banks and the stock exchange.",
        {"level": ">= 2", "sector": ["banking", "financial"]},
        ("reported", "level_raised"),
        orgs=("nbxa",),
        ack_hours=4,
    ),
    DemoRule(
        "Health, Medium and above",
        "Hospitals and medicines distribution: the health inspectorate.",
        {"level": ">= 2", "sector": "health"},
        ("reported", "level_raised"),
        orgs=("hsi",),
        ack_hours=4,
    ),
    DemoRule(
        "Severe and above: crisis cell and ministry",
        "A national crisis in the making, whatever the sector.",
        {"level": ">= 4"},
        ("reported", "level_raised"),
        orgs=("ncmc",),
        contacts=("Deputy Minister for Cyber Security",),
        ack_hours=1,
    ),
    DemoRule(
        "Malicious, Medium and above: the police",
        "Suspected crime at level 2 or more goes to the cybercrime department.",
        {"malicious": True, "level": ">= 2"},
        ("reported", "level_raised"),
        orgs=("mia-cyber",),
    ),
    DemoRule(
        "Veskaria affected: CBM 8 contact points",
        "OSCE CBM 8: tell Veskaria's points of contact when an incident reaches into Veskaria.",
        {"countries_affected": "contains XB", "level": ">= 2"},
        ("reported", "level_raised"),
        orgs=("veskaria-cda",),
    ),
    DemoRule(
        "Ostmark affected: CBM 8 contact point",
        "OSCE CBM 8: tell Ostmark's point of contact when an incident reaches into Ostmark.",
        {"countries_affected": "contains XC", "level": ">= 2"},
        ("reported", "level_raised"),
        orgs=("ostmark-ncc",),
    ),
    DemoRule(
        "Reporting deadlines: remind the duty officer",
        "A reminder before each regulatory report falls due.",
        {},
        ("regime_reminder",),
        contacts=("CERT-XA duty officer",),
    ),
]
