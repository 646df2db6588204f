"""Loads the demo data set (``demo_data``) into the database through the incident services.

The history is *planned* first: every incident gets a list of dated steps (report, triage,
assignment, comments, fact changes, status changes, regulatory submissions, merges ...),
drawn from a seeded random generator, at times relative to now (the last 90 days). Then
all steps of all incidents are played in time order, each inside ``clock.frozen(step
time)``, through the same services the UI and the API use: timelines, assessments,
response targets and the audit chain are real and dated in the past. Steps that would
fall after now are dropped, so recent incidents are still open, as in a real queue.

The whole load is one transaction: it happens completely or not at all. A database that
already holds the demo's national CSIRT is left alone (``load`` reports that instead).
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

import nciss
from nciss.clocks import BusinessCalendar, response_clocks
from nciss_platform import clock
from nciss_platform.accounts.constituency import add_assets
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.incidents import access, services
from nciss_platform.incidents import demo_data as data
from nciss_platform.incidents.models import Incident
from nciss_platform.incidents.workflow import OPEN_STATUSES, Status
from nciss_platform.notifications import services as notifications
from nciss_platform.sharing.models import PartnerGroup
from nciss_platform.sharing.services import set_naming_consent, share_incident

SEED = 2026
DAYS = 90
BACKGROUND = 274  # plus the scripted stories below: about 300 incidents
DUPLICATES = 9
UTC = dt.UTC
MINUTE, HOUR, DAY = dt.timedelta(minutes=1), dt.timedelta(hours=1), dt.timedelta(days=1)

# Reports by local hour: office hours, a dip at lunch, a quiet night.
HOURLY = [0.3, 0.2, 0.2, 0.2, 0.2, 0.3, 0.6, 1.2, 3, 4.5, 5, 4.5, 3, 3.5, 4.5, 4.5, 4, 3, 2, 1.5, 1.2, 1, 0.7, 0.5]


class DemoConflict(RuntimeError):
    """The database holds some of the demo's names but not the demo: nothing was loaded."""


@dataclass
class Summary:
    loaded: bool
    organisations: int
    users: int
    incidents: int
    by_status: dict[str, int]
    by_level: dict[int, int]
    audit_events: int
    overdue: int
    red: int
    seconds: float = 0.0


@dataclass
class Step:
    at: dt.datetime
    kind: str
    actor: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    key: int
    org: str  # the affected organisation
    level: int  # the level its complete facts give
    t0: dt.datetime
    steps: list[Step] = field(default_factory=list)
    background: bool = True

    def add(self, at: dt.datetime, kind: str, actor: str, **args: Any) -> dt.datetime:
        self.steps.append(Step(at, kind, actor, args))
        return at


# ------------------------------------------------------------------------ entry point


def load(now: dt.datetime | None = None) -> Summary:
    """Load the demo unless it is there already; the summary says which."""
    started = time.perf_counter()
    if Organisation.objects.filter(slug=data.CSIRT).exists():
        return summarise(loaded=False)
    _check_free()
    anchor = (now or timezone.now()).astimezone(UTC).replace(second=0, microsecond=0)
    plans = plan_history(anchor)
    with transaction.atomic():
        first = anchor - DAYS * DAY - 7 * DAY
        with clock.frozen(first):
            _create_organisations()
            _create_network_assets()
            _create_people()
            _create_directory()
            _create_partner_groups()
        _play(plans, anchor)
    summary = summarise(loaded=True)
    summary.seconds = time.perf_counter() - started
    return summary


def summarise(*, loaded: bool) -> Summary:
    slugs = [o.slug for o in data.ORGANISATIONS]
    incidents = Incident.objects.filter(reporting_organisation__slug__in=slugs)
    by_status = Counter(incidents.values_list("status", flat=True))
    by_level = Counter(incidents.values_list("level", flat=True))
    return Summary(
        loaded=loaded,
        organisations=Organisation.objects.filter(slug__in=slugs).count(),
        users=User.objects.filter(username__in=[p.username for p in data.PEOPLE]).count(),
        incidents=incidents.count(),
        by_status={s: by_status.get(s, 0) for s in Status.values},
        by_level=dict(sorted(by_level.items())),
        audit_events=AuditEvent.objects.count(),
        overdue=incidents.filter(status__in=OPEN_STATUSES, due_at__lt=timezone.now()).count(),
        red=incidents.filter(tlp="TLP:RED").count(),
    )


def _check_free() -> None:
    taken = list(
        Organisation.objects.filter(slug__in=[o.slug for o in data.ORGANISATIONS]).values_list("slug", flat=True)
    )
    taken += list(
        User.objects.filter(username__in=[p.username for p in data.PEOPLE]).values_list("username", flat=True)
    )
    if taken:
        raise DemoConflict(
            f"the database already holds {', '.join(sorted(taken)[:5])}{' ...' if len(taken) > 5 else ''} "
            "but not the demo: load the demo into a fresh database (e.g. DATABASE_URL=sqlite:////tmp/demo.sqlite3)"
        )


def demo_organisation(o: data.Org) -> Organisation:
    """The unsaved Organisation row of one demo organisation (the benchmark loads them too)."""
    return Organisation(
        slug=o.slug,
        name=o.name,
        kind=o.kind,
        sector=o.sector,
        criticality=o.criticality,
        size=o.size,
        entity_type=o.entity_type,
        country=o.country,
        annual_turnover_eur=o.turnover_meur * 1_000_000 if o.turnover_meur is not None else None,
        preferred_scale=o.preferred_scale,
        language=o.language,
        reporting_calendar=data.CALENDAR if o.country == data.COUNTRY else {},
    )


def _create_organisations() -> None:
    for o in data.ORGANISATIONS:
        demo_organisation(o).save()


def _create_network_assets() -> None:
    orgs = {o.slug: o for o in Organisation.objects.filter(slug__in=data.NETWORK_ASSETS)}
    for slug, assets in data.NETWORK_ASSETS.items():
        add_assets(actor=None, organisation=orgs[slug], assets=assets)


def _create_people() -> None:
    # One hash for everyone: the same demo password, hashed once (Argon2 is slow on purpose).
    password = make_password(data.DEMO_PASSWORD)
    orgs = {o.slug: o for o in Organisation.objects.all()}
    for p in data.PEOPLE:
        admin = p.role == User.Role.ADMINISTRATOR
        User.objects.create(
            username=p.username,
            first_name=p.first_name,
            last_name=p.last_name,
            email=p.email,
            role=p.role,
            organisation=orgs[p.org],
            language=p.language,
            password=password,
            is_staff=admin,
            is_superuser=admin,
        )


def _create_partner_groups() -> None:
    orgs = {o.slug: o for o in Organisation.objects.filter(kind=Organisation.Kind.PARTNER)}
    for slug, name, description, members in data.PARTNER_GROUPS:
        group = PartnerGroup.objects.create(slug=slug, name=name, description=description)
        group.organisations.set([orgs[m] for m in members])


def _create_directory() -> None:
    """The stakeholder directory and the routing rules, set up by the administrator before the history."""
    admin = User.objects.get(username="admin")
    orgs = {o.slug: o for o in Organisation.objects.all()}
    contacts = {}
    for c in data.CONTACTS:
        hook = {"webhook_url": f"https://{c.org}.example/nciss/webhook", "webhook_secret": f"demo-{c.org}"}
        contacts[c.name] = notifications.save_contact(
            actor=admin,
            name=c.name,
            organisation=orgs[c.org],
            function=c.function,
            email=c.email,
            channels=["email", "webhook"] if c.webhook else ["email"],
            language=c.language,
            tier=c.tier,
            **(hook if c.webhook else {}),
        )
    for order, r in enumerate(data.ROUTING_RULES, start=1):
        notifications.save_rule(
            actor=admin,
            name=r.name,
            description=r.description,
            condition=r.condition,
            events=list(r.events),
            organisations=[orgs[slug] for slug in r.orgs],
            contacts=[contacts[name] for name in r.contacts],
            ack_within=dt.timedelta(hours=r.ack_hours) if r.ack_hours else None,
            order=order * 10,
        )


# ------------------------------------------------------------------------ planning


def plan_history(anchor: dt.datetime, seed: int = SEED) -> list[Plan]:
    """Every incident's dated steps; deterministic for a seed (times move with ``anchor``)."""
    rng = random.Random(seed)
    planner = _Planner(rng, anchor)
    plans = planner.stories()
    for _ in range(BACKGROUND):
        plans.append(planner.background())
    planner.duplicates(plans, DUPLICATES)
    planner.links(plans)
    return plans


class _Planner:
    def __init__(self, rng: random.Random, anchor: dt.datetime):
        self.rng = rng
        self.anchor = anchor
        self.scale = services.national_scale()
        self.nis2 = nciss.load_scale("eu-nis2")
        self.calendar = BusinessCalendar.from_json(data.CALENDAR)  # the CSIRT's, as the platform's clocks count
        self.keys = itertools.count()
        self.extra: list[Plan] = []  # plans made along with a story (its duplicate report)

    # -- helpers

    def uniform(self, low: dt.timedelta, high: dt.timedelta) -> dt.timedelta:
        return low + (high - low) * self.rng.random()

    def local(self, days_ago: int, hour: int, minute: int = 0) -> dt.datetime:
        """``days_ago`` days before the anchor, at a local (Aralian) time of day."""
        day = (self.anchor.astimezone(data.LOCAL_TIME) - days_ago * DAY).date()
        return dt.datetime.combine(day, dt.time(hour, minute), data.LOCAL_TIME).astimezone(UTC)

    def report_time(self) -> dt.datetime:
        while True:
            day = self.rng.randrange(DAYS)
            weekday = (self.anchor.astimezone(data.LOCAL_TIME) - day * DAY).weekday()
            if weekday >= 5 and self.rng.random() < 0.6:
                continue
            t = self.local(day, self.rng.choices(range(24), weights=HOURLY)[0], self.rng.randrange(60))
            if t < self.anchor - 10 * MINUTE:
                return t

    def level(self, org: str, facts: dict[str, Any], scale: nciss.Scale | None = None) -> int:
        return nciss.assess(scale or self.scale, {**data.ORGS[org].entity_facts(), **facts}).rank

    def handler(self) -> str:
        return self.rng.choices(data.ANALYSTS, weights=[4, 3, 2, 2])[0]

    def targets(self, level: int, t0: dt.datetime) -> dict[str, dt.timedelta]:
        clocks = response_clocks(self.scale.levels[level], t0, {}, [], self.calendar, t0)
        return {target.step: target.due - t0 for target in clocks}

    # -- a random incident

    def background(self) -> Plan:
        rng = self.rng
        sc = rng.choices(data.SCENARIOS, weights=[s.weight for s in data.SCENARIOS])[0]
        org = rng.choices(sc.targets, weights=[1 / (i + 1) for i in range(len(sc.targets))])[0]
        facts = {"classification": sc.classification, **sc.facts(rng)}
        t0 = self.report_time()
        detected = t0 - self.uniform(10 * MINUTE, 20 * HOUR)
        facts["detected_at"] = detected.isoformat()
        if rng.random() < 0.5:
            facts["occurred_at"] = (detected - self.uniform(5 * MINUTE, 3 * DAY)).isoformat()
        plan = Plan(next(self.keys), org, self.level(org, facts), t0)
        withheld = [f for f in sc.later if f in facts and rng.random() < 0.7]
        initial = {k: v for k, v in facts.items() if k not in withheld}
        handler = self.handler()
        if rng.random() < sc.detected_by_csirt:
            reporter, reporting_org = handler, data.CSIRT
        elif org in data.REPORTER_OF:
            reporter, reporting_org = data.REPORTER_OF[org], org
        else:  # a phone call or an e-mail, entered by the CSIRT for the operator
            reporter, reporting_org = handler, org
        tlp = rng.choices(list(sc.tlp), weights=list(sc.tlp.values()))[0]
        recipients: list[str] = []
        if plan.level >= 2 and rng.random() < (0.4 if plan.level >= 3 else 0.2):
            tlp, recipients = "TLP:RED", [handler, "coordinator"]
        name = data.ORGS[org].name.split(" (")[0]
        plan.add(
            t0,
            "report",
            reporter,
            title=rng.choice(sc.titles).format(org=name),
            description=rng.choice(sc.descriptions),
            facts=initial,
            reporting_org=reporting_org,
            affected=[org],
            tlp=tlp,
            pap=rng.choices(["PAP:AMBER", "PAP:GREEN", "PAP:CLEAR", "PAP:RED"], weights=[5, 3, 1, 0.3])[0],
            red_recipients=recipients,
        )
        self.lifecycle(plan, handler, {k: facts[k] for k in withheld}, reporter if reporting_org == org else None)
        self.reporting(plan, facts, detected, reporter if reporting_org == org else None)
        return plan

    def lifecycle(self, plan: Plan, handler: str, withheld: dict[str, Any], reporter: str | None) -> None:
        """Triage, investigation, containment, resolution and closure, as far as time allows."""
        rng, level = self.rng, plan.level
        targets = self.targets(level, plan.t0)
        late = rng.random() < 0.2
        t = plan.t0 + targets["triage"] * (rng.uniform(1.2, 2.5) if late else rng.uniform(0.03, 0.8))
        if rng.random() < 0.06:
            plan.add(t, "status", handler, to=Status.REJECTED, note=rng.choice(data.REJECT_NOTES))
            return
        plan.add(t, "status", handler, to=Status.TRIAGED, note=rng.choice(data.TRIAGE_NOTES))
        if level >= 3:
            plan.add(t + 2 * MINUTE, "assign", "coordinator", assignee=handler)
            plan.add(t + 5 * MINUTE, "comment", "coordinator", body=rng.choice(data.COORDINATOR_COMMENTS))
        elif level >= 1 or rng.random() < 0.6:
            plan.add(t + MINUTE, "assign", handler, assignee=handler)
        if rng.random() < 0.03:
            plan.add(t + 30 * MINUTE, "attach", reporter or handler, file=rng.choice(data.ATTACHMENTS))
        if level <= 1 and rng.random() < 0.45:  # advice given, nothing more for the CSIRT to do (or to find out)
            t = plan.add(
                t + self.uniform(HOUR, 3 * DAY), "status", handler, to=Status.RESOLVED, note=data.RESOLVED_NOTES[2]
            )
        else:
            if withheld and rng.random() < 0.5:
                t = plan.add(
                    t + self.uniform(10 * MINUTE, 3 * HOUR),
                    "facts",
                    handler,
                    changes=withheld,
                    note="Facts completed after a call with the reporter.",
                )
                withheld = {}
            late = rng.random() < 0.2
            t = plan.add(
                t + targets["first_response"] * (rng.uniform(1.1, 2.0) if late else rng.uniform(0.02, 0.7)),
                "status",
                handler,
                to=Status.INVESTIGATING,
            )
            span = DAY * {0: 5, 1: 10, 2: 14, 3: 12, 4: 14, 5: 10}[level] * rng.uniform(0.3, 2.0)
            if rng.random() < 0.08:  # stalled: waiting for a supplier, a court order, a forensic report ...
                span *= rng.uniform(4, 8)
            if rng.random() < 0.06 and reporter:
                plan.add(t + 0.1 * span, "waiting", handler, waiting=True)
                plan.add(
                    t + 0.1 * span + self.uniform(HOUR, 4 * DAY),
                    "comment",
                    reporter,
                    body=rng.choice(data.REPORTER_COMMENTS),
                )
            for i in range(rng.choice([0, 1, 1, 2, 3])):
                who = reporter if reporter and rng.random() < 0.4 else handler
                pool = data.REPORTER_COMMENTS if who == reporter else data.ANALYST_COMMENTS
                plan.add(t + span * (0.15 + 0.2 * i), "comment", who, body=rng.choice(pool))
            if withheld:
                plan.add(
                    t + span * 0.25, "facts", handler, changes=withheld, note="Facts updated from the investigation."
                )
            if level >= 2 or rng.random() < 0.4:
                plan.add(t + span * 0.6, "status", handler, to=Status.CONTAINED, note=rng.choice(data.CONTAINED_NOTES))
            t = plan.add(t + span, "status", handler, to=Status.RESOLVED, note=rng.choice(data.RESOLVED_NOTES))
        if rng.random() < 0.9:
            plan.add(
                t + self.uniform(DAY, 10 * DAY), "status", handler, to=Status.CLOSED, note=rng.choice(data.CLOSED_NOTES)
            )

    def reporting(self, plan: Plan, facts: dict[str, Any], detected: dt.datetime, reporter: str | None) -> None:
        """NIS2 early warning, notification and final report for significant incidents, mostly on time."""
        if data.ORGS[plan.org].kind not in ("operator", "agency") or self.level(plan.org, facts, self.nis2) < 1:
            return
        rng = self.rng
        if rng.random() < 0.15:
            return  # never reported: the deadlines show as overdue
        who = reporter or self.handler()
        early = detected + (
            self.uniform(26 * HOUR, 40 * HOUR) if rng.random() < 0.1 else self.uniform(2 * HOUR, 22 * HOUR)
        )
        plan.add(max(early, plan.t0 + 10 * MINUTE), "submit", who, deadline="early-warning")
        notified = detected + self.uniform(36 * HOUR, 70 * HOUR)
        plan.add(max(notified, plan.t0 + HOUR), "submit", who, deadline="notification")
        if rng.random() < 0.8:
            plan.add(
                max(notified, plan.t0 + HOUR) + self.uniform(18 * DAY, 30 * DAY), "submit", who, deadline="final-report"
            )

    # -- duplicates and related incidents

    def duplicates(self, plans: list[Plan], count: int) -> None:
        """Second reports of the same incident by another channel, merged into the first."""
        rng = self.rng
        candidates = [
            p
            for p in plans
            if p.background
            and p.steps[0].actor not in data.ANALYSTS
            and not any(s.args.get("to") == Status.REJECTED for s in p.steps)
            and p.t0 < self.anchor - 2 * DAY
        ]
        for primary in rng.sample(candidates, count):
            first = primary.steps[0]
            t0 = primary.t0 + self.uniform(20 * MINUTE, 20 * HOUR)
            handler = self.handler()
            dup = Plan(next(self.keys), primary.org, primary.level, t0, background=False)
            dup.add(
                t0,
                "report",
                handler,
                title=f"{first.args['title']} (seen by CERT-XA sensors)",
                description="Seen in the CSIRT's own monitoring; the operator has been contacted.",
                facts={k: v for k, v in first.args["facts"].items() if k not in ("occurred_at",)},
                reporting_org=data.CSIRT,
                affected=[primary.org],
                tlp="TLP:AMBER",
                pap="PAP:AMBER",
                red_recipients=[],
            )
            dup.add(
                t0 + self.uniform(15 * MINUTE, 5 * HOUR),
                "merge",
                handler,
                into=primary.key,
                note="Same incident as the operator's own report.",
            )
            plans.append(dup)

    def links(self, plans: list[Plan]) -> None:
        """Phishing waves: reports of the same campaign within three days are linked."""
        waves = sorted(
            (p for p in plans if p.background and p.steps[0].args["facts"].get("classification") == "fraud:phishing"),
            key=lambda p: p.t0,
        )
        for a, b in itertools.pairwise(waves):
            if b.t0 - a.t0 < 3 * DAY and self.rng.random() < 0.35:
                b.add(b.t0 + self.uniform(2 * HOUR, DAY), "link", self.handler(), other=a.key)

    # -- the scripted stories a demo walks through

    def story(self, org: str, t0: dt.datetime, reporter: str, facts: dict[str, Any], **report: Any) -> Plan:
        plan = Plan(next(self.keys), org, self.level(org, facts), t0, background=False)
        report.setdefault("reporting_org", data.CSIRT if reporter in data.ANALYSTS else org)
        report.setdefault("affected", [org])
        report.setdefault("tlp", "TLP:AMBER")
        report.setdefault("pap", "PAP:AMBER")
        report.setdefault("red_recipients", [])
        plan.add(t0, "report", reporter, facts=facts, **report)
        return plan

    def stories(self) -> list[Plan]:
        grid = self.grid_blackout()
        self.grid_key = grid.key
        return [
            grid,
            self.gas_intrusion(),
            self.hospital_ransomware(),
            self.bank_ddos(),
            self.cloud_outage(),
            self.marketplace_leak(),
            self.ministry_espionage(),
            self.university_fresh_report(),
            self.water_overdue(),
            self.test_report(),
            self.dns_degradation(),
            self.telecom_route_leak(),
            self.railway_ransomware(),
            self.trust_service_outage(),
            self.partner_c2_report(),
            self.airport_checkin(),
            *self.extra,
        ]

    def grid_blackout(self) -> Plan:
        """The one Emergency: an OT intrusion at the transmission operator, felt across the border."""
        t0 = self.local(6, 2, 10)
        plan = self.story(
            "aralia-grid",
            t0,
            "reporter.grid",
            {
                "classification": "intrusions:system-compromise",
                "root_cause": "malicious-actions",
                "malicious": True,
                "functional_impact": "denial-critical",
                "observed_activity": "effect",
                "location": "critical-systems",
                "users_affected": 180_000,
                "detected_at": (t0 - 25 * MINUTE).isoformat(),
                "occurred_at": (t0 - 40 * MINUTE).isoformat(),
            },
            title="Loss of control of substations: intrusion into the Aralia Grid SCADA network",
            description=(
                "At 01:30 the national control centre lost visibility and control of three 220 kV substations "
                "in the Marsk region; breakers opened without an operator command. Engineering workstations "
                "show remote sessions nobody started. The region is without power; substations are operated by hand."
            ),
            tlp="TLP:RED",
            pap="PAP:RED",
            red_recipients=["coordinator", "analyst", "l.nazarova", "reporter.regulator"],
        )
        add = plan.add
        add(
            t0 + 8 * MINUTE,
            "status",
            "analyst",
            to=Status.TRIAGED,
            note="Triaged: control centre blind on three substations; operator on manual control.",
        )
        add(t0 + 10 * MINUTE, "assign", "coordinator", assignee="analyst")
        add(
            t0 + 12 * MINUTE,
            "comment",
            "coordinator",
            body="National crisis cell convened; Ministry of Digital Development and the regulator informed.",
        )
        add(t0 + 20 * MINUTE, "status", "analyst", to=Status.INVESTIGATING)
        add(
            t0 + 70 * MINUTE,
            "facts",
            "analyst",
            changes={
                "population_affected_share": 0.21,
                "users_affected": 640_000,
                "recoverability": "extended",
                "actor": "apt-targeted",
                "potential_impact": "severe",
                "information_impact": "core-credential-compromise",
                "countries_affected": ["XB"],
            },
            note="The interconnector to Veskaria tripped; about 21 % of the population is without power. Engineering credentials were stolen.",
        )
        add(t0 + 80 * MINUTE, "consent", "reporter.grid", agreed=True)
        add(
            t0 + 85 * MINUTE,
            "share",
            "coordinator",
            organisations=["veskaria-cda"],
            recipients=["partner.veskaria"],
            identify_reporter=True,
        )
        add(
            t0 + 90 * MINUTE,
            "comment",
            "coordinator",
            body="Veskarian Cyber Defence Agency informed through the CSIRT network; the OSCE point of contact notified.",
        )
        add(t0 + 3 * HOUR, "submit", "reporter.grid", deadline="early-warning")
        add(
            t0 + 5 * HOUR,
            "comment",
            "reporter.grid",
            body="Substations in the Marsk region run by hand; partial restoration expected tonight.",
        )
        add(t0 + 9 * HOUR, "attach", "analyst", file=data.ATTACHMENTS[0])
        add(
            t0 + 2 * DAY,
            "status",
            "analyst",
            to=Status.CONTAINED,
            note="Contained: the attacker's remote access to the SCADA network is cut; engineering workstations isolated.",
        )
        add(t0 + 2 * DAY + 20 * HOUR, "submit", "reporter.grid", deadline="notification")
        add(
            t0 + 3 * DAY,
            "comment",
            "reporter.grid",
            body="Power restored to all customers; SCADA runs on rebuilt servers under increased monitoring.",
        )
        add(
            t0 + 4 * DAY,
            "comment",
            "analyst",
            body="Forensics: initial access through a supplier's VPN account, compromised three weeks earlier.",
        )
        # The distribution operator's report of the same blackout, merged into this one.
        dup = self.story(
            "marsk-power",
            t0 + 30 * MINUTE,
            "l.nazarova",
            {
                "classification": "availability:outage",
                "functional_impact": "denial-critical",
                "observed_activity": "effect",
                "users_affected": 240_000,
                "detected_at": (t0 - 20 * MINUTE).isoformat(),
            },
            title="Blackout in Marsk: no supply from the transmission grid",
            description="Phoned in by Marsk Power Distribution's duty engineer: the whole city lost supply from the transmission grid at 01:30.",
            reporting_org="marsk-power",
        )
        dup.add(
            t0 + 55 * MINUTE,
            "merge",
            "analyst",
            into=plan.key,
            note="The distribution operator's view of the same blackout.",
        )
        self.extra.append(dup)
        return plan

    def gas_intrusion(self) -> Plan:
        t0 = self.local(5, 11, 40)
        plan = self.story(
            "aralgaz",
            t0,
            "l.nazarova",
            {
                "classification": "intrusions:privileged-account-compromise",
                "root_cause": "malicious-actions",
                "malicious": True,
                "functional_impact": "no-impact-to-services",
                "observed_activity": "presence",
                "location": "critical-system-management",
                "actor": "apt-targeted",
                "information_impact": "core-credential-compromise",
                "potential_impact": "high",
                "detected_at": (t0 - 2 * HOUR).isoformat(),
            },
            title="Tools of the grid intruders found on an AralGaz engineering workstation",
            description="Hunting for the indicators of the Aralia Grid intrusion found the same remote-access tool on an engineering workstation of the gas transmission operator. No effect on the pipeline control system so far.",
            tlp="TLP:AMBER+STRICT",
            pap="PAP:RED",
        )
        plan.add(
            t0 + 15 * MINUTE, "status", "l.nazarova", to=Status.TRIAGED, note="Triaged: linked to the grid intrusion."
        )
        plan.add(t0 + 20 * MINUTE, "assign", "coordinator", assignee="l.nazarova")
        plan.add(t0 + 40 * MINUTE, "status", "l.nazarova", to=Status.INVESTIGATING)
        plan.add(t0 + 2 * HOUR, "link", "l.nazarova", other=self.grid_key)
        plan.add(
            t0 + 3 * HOUR,
            "share",
            "l.nazarova",
            organisations=["ostmark-ncc"],
            title="Tools of the grid intruders found at a gas transmission operator",
            description=(
                "Hunting for the indicators of the grid intrusion found the same remote-access tool on an "
                "engineering workstation of a gas transmission operator. No effect on the pipeline control system "
                "so far."
            ),
        )
        plan.add(
            t0 + 1 * DAY,
            "comment",
            "l.nazarova",
            body="Asked AralGaz for the VPN logs of the last 60 days and a disk image of the workstation.",
        )
        plan.add(t0 + 1 * DAY + MINUTE, "waiting", "l.nazarova", waiting=True)
        plan.add(
            t0 + 1 * DAY + 2 * HOUR,
            "sharing",
            "coordinator",
            tlp="TLP:RED",
            pap="PAP:RED",
            red_recipients=["l.nazarova", "analyst"],
        )
        return plan

    def hospital_ransomware(self) -> Plan:
        t0 = self.local(19, 6, 30)
        plan = self.story(
            "marsk-hospitals",
            t0,
            "reporter.hospital",
            {
                "classification": "information-content-security:unauthorised-information-modification",
                "root_cause": "malicious-actions",
                "malicious": True,
                "functional_impact": "denial-critical",
                "observed_activity": "effect",
                "location": "business-network-management",
                "actor": "criminal",
                "detected_at": (t0 - 50 * MINUTE).isoformat(),
                "occurred_at": (t0 - 4 * HOUR).isoformat(),
            },
            title="Ransomware at Marsk Clinical Hospital Group: patient records offline, ambulances diverted",
            description="The hospital information system and the laboratory system are encrypted in all four hospitals. Emergency admissions are diverted to Tolvan; wards work on paper.",
            tlp="TLP:AMBER+STRICT",
        )
        add = plan.add
        add(
            t0 + 20 * MINUTE,
            "status",
            "r.tashev",
            to=Status.TRIAGED,
            note="Triaged: hospital-wide encryption, patient care affected.",
        )
        add(t0 + 22 * MINUTE, "assign", "coordinator", assignee="r.tashev")
        add(
            t0 + 25 * MINUTE,
            "comment",
            "coordinator",
            body="Ministry of Health informed; ask the regional hospitals to check for the same indicators.",
        )
        add(t0 + HOUR, "status", "r.tashev", to=Status.INVESTIGATING)
        add(
            t0 + 3 * HOUR,
            "facts",
            "r.tashev",
            changes={
                "information_impact": "destruction-non-critical",
                "recoverability": "extended",
                "potential_impact": "high",
                "population_affected_share": 0.03,
                "users_affected": 350_000,
                "financial_loss_eur": 2_400_000.0,
                "data_compromised": True,
                "unauthorised_access": True,
            },
            note="Backups of the hospital information system were encrypted too; recovery will take days.",
        )
        add(t0 + 6 * HOUR, "submit", "reporter.hospital", deadline="early-warning")
        add(t0 + 8 * HOUR, "attach", "reporter.hospital", file=data.ATTACHMENTS[2])
        add(t0 + 50 * HOUR, "submit", "reporter.hospital", deadline="notification")
        add(
            t0 + 3 * DAY,
            "status",
            "r.tashev",
            to=Status.CONTAINED,
            note="Contained: domain rebuilt, attacker accounts removed.",
        )
        add(
            t0 + 6 * DAY,
            "comment",
            "reporter.hospital",
            body="Laboratory and admissions back online; archives are being restored from tape.",
        )
        add(
            t0 + 12 * DAY,
            "status",
            "r.tashev",
            to=Status.RESOLVED,
            note="Resolved: all hospital systems restored; final report due one month after the notification.",
        )
        return plan

    def bank_ddos(self) -> Plan:
        t0 = self.local(33, 10, 5)
        plan = self.story(
            "first-bank",
            t0,
            "reporter.firstbank",
            {
                "classification": "availability:ddos",
                "root_cause": "malicious-actions",
                "malicious": True,
                "functional_impact": "denial-non-critical",
                "observed_activity": "effect",
                "location": "business-dmz",
                "actor": "hacktivist",
                "outage_minutes": 150,
                "degraded_minutes": 320,
                "users_affected": 420_000,
                "users_unavailable": 420_000,
                "information_impact": "no-impact",
                "recoverability": "regular",
                "detected_at": (t0 - 15 * MINUTE).isoformat(),
            },
            title="DDoS attack takes First Bank of Aralia online banking down",
            description="Online and mobile banking unreachable from 09:50; attack traffic of about 40 Gbit/s from abroad. A hacktivist channel claims the attack.",
        )
        self.lifecycle(plan, "d.ermekova", {"potential_impact": "moderate"}, "reporter.firstbank")
        plan.add(t0 + 3 * DAY, "sharing", "d.ermekova", tlp="TLP:GREEN", pap="PAP:GREEN", red_recipients=[])
        self.reporting(plan, plan.steps[0].args["facts"], t0 - 15 * MINUTE, "reporter.firstbank")
        return plan

    def cloud_outage(self) -> Plan:
        t0 = self.local(12, 15, 20)
        facts = {
            "classification": "availability:outage",
            "root_cause": "system-failures",
            "malicious": False,
            "functional_impact": "minimal-critical",
            "observed_activity": "none",
            "information_impact": "no-impact",
            "recoverability": "regular",
            "outage_minutes": 45,
            "users_affected": 1_300,
            "users_unavailable": 1_300,
            "detected_at": (t0 - 55 * MINUTE).isoformat(),
        }
        plan = self.story(
            "steppe-cloud",
            t0,
            "reporter.cloud",
            facts,
            title="Steppe Cloud: 45-minute outage of the compute platform in the Marsk region",
            description="A faulty storage firmware update made every virtual machine in the Marsk region unavailable for 45 minutes (14:25-15:10). About 1 300 customers were affected, including two ministries.",
            tlp="TLP:GREEN",
        )
        self.lifecycle(plan, "analyst", {}, "reporter.cloud")
        self.reporting(plan, facts, t0 - 55 * MINUTE, "reporter.cloud")
        return plan

    def marketplace_leak(self) -> Plan:
        t0 = self.local(40, 9, 45)
        facts = {
            "classification": "information-content-security:data-leak",
            "root_cause": "malicious-actions",
            "malicious": True,
            "functional_impact": "no-impact-to-services",
            "observed_activity": "effect",
            "location": "business-dmz",
            "information_impact": "privacy-breach",
            "records_affected": 1_400_000,
            "users_data_compromised": 1_400_000,
            "users_affected": 1_400_000,
            "data_compromised": True,
            "unauthorised_access": True,
            "actor": "criminal",
            "potential_impact": "moderate",
            "detected_at": (t0 - 6 * HOUR).isoformat(),
        }
        plan = self.story(
            "karvon",
            t0,
            "reporter.karvon",
            facts,
            title="Karvon Market customer database (1.4 million accounts) for sale",
            description="A seller on a criminal forum offers names, phone numbers, addresses and order histories of Karvon Market customers. The sample matches our data; entry through an old API key of a delivery partner.",
        )
        self.lifecycle(plan, "d.ermekova", {}, "reporter.karvon")
        self.reporting(plan, facts, t0 - 6 * HOUR, "reporter.karvon")
        return plan

    def ministry_espionage(self) -> Plan:
        t0 = self.local(27, 16, 10)
        plan = self.story(
            "mfa",
            t0,
            "reporter.mfa",
            {
                "classification": "intrusions:privileged-account-compromise",
                "root_cause": "malicious-actions",
                "malicious": True,
                "functional_impact": "no-impact-to-services",
                "observed_activity": "presence",
                "location": "business-network-management",
                "actor": "apt",
                "information_impact": "proprietary-breach",
                "national_security_affected": True,
                "detected_at": (t0 - 3 * HOUR).isoformat(),
            },
            title="Diplomatic mail exfiltrated from a Ministry of Foreign Affairs mail server",
            description="A domain administrator account was used at night to export mailboxes of two departments. The mail server contacted an address known from an espionage campaign against the region.",
            tlp="TLP:RED",
            pap="PAP:RED",
            red_recipients=["analyst", "coordinator"],
        )
        add = plan.add
        add(
            t0 + 40 * MINUTE,
            "status",
            "analyst",
            to=Status.TRIAGED,
            note="Triaged: espionage; TLP:RED, need-to-know only.",
        )
        add(t0 + 42 * MINUTE, "assign", "coordinator", assignee="analyst")
        add(t0 + 2 * HOUR, "status", "analyst", to=Status.INVESTIGATING)
        add(
            t0 + 1 * DAY,
            "comment",
            "analyst",
            body="Second mail server shows the same implant; the ministry is rebuilding its domain controllers.",
        )
        add(t0 + 9 * DAY, "comment", "reporter.mfa", body="All privileged accounts re-issued with hardware tokens.")
        add(
            t0 + 20 * DAY, "comment", "coordinator", body="Keep open until the partners' analysis of the implant is in."
        )
        return plan

    def university_fresh_report(self) -> Plan:
        t0 = self.anchor - 25 * MINUTE
        return self.story(
            "asu",
            t0,
            "r.tashev",
            {
                "classification": "malicious-code:infected-system",
                "root_cause": "malicious-actions",
                "malicious": True,
                "observed_activity": "presence",
                "location": "business-network",
                "detected_at": (t0 - 40 * MINUTE).isoformat(),
            },
            title="Aralia State University: research cluster talking to a known botnet server",
            description="Our sensors see regular connections from the university's research cluster to a botnet command server. The university's IT desk has been called.",
            reporting_org="asu",
            tlp="TLP:GREEN",
        )

    def water_overdue(self) -> Plan:
        t0 = self.anchor - 30 * HOUR
        return self.story(
            "marsk-water",
            t0,
            "reporter.water",
            {
                "classification": "intrusion-attempts:exploit",
                "root_cause": "malicious-actions",
                "malicious": True,
                "functional_impact": "no-impact-to-services",
                "observed_activity": "engage",
                "location": "critical-system-dmz",
                "potential_impact": "high",
                "detected_at": (t0 - HOUR).isoformat(),
            },
            title="Exploit attempts against the remote-access gateway of Marsk City Water's treatment plant",
            description="The gateway in front of the treatment plant's control system logged exploit attempts for a new vulnerability overnight. We do not know yet whether any succeeded.",
        )

    def test_report(self) -> Plan:
        t0 = self.local(61, 11, 0)
        plan = self.story(
            "dsra",
            t0,
            "reporter.regulator",
            {"classification": "test:test", "functional_impact": "no-impact"},
            title="Test report from the regulator's new reporting desk",
            description="Please ignore: a test of the reporting process.",
            tlp="TLP:CLEAR",
            pap="PAP:CLEAR",
        )
        plan.add(t0 + 35 * MINUTE, "status", "d.ermekova", to=Status.REJECTED, note=data.REJECT_NOTES[3])
        return plan

    def dns_degradation(self) -> Plan:
        t0 = self.local(8, 20, 15)
        plan = self.story(
            "namehouse",
            t0,
            "reporter.dns",
            {
                "classification": "availability:ddos",
                "root_cause": "malicious-actions",
                "malicious": True,
                "functional_impact": "significant-non-critical",
                "observed_activity": "effect",
                "location": "business-dmz",
                "avg_response_seconds": 4.2,
                "degraded_minutes": 95,
                "domains_affected": 12_000,
                "domains_affected_share": 0.3,
                "detected_at": (t0 - 30 * MINUTE).isoformat(),
            },
            title="NameHouse DNS: random-subdomain attack slows resolution for 12 000 domains",
            description="A random-subdomain flood against our authoritative servers raised the average response time to about four seconds for 95 minutes.",
        )
        self.lifecycle(plan, "r.tashev", {"actor": "unknown", "potential_impact": "low"}, "reporter.dns")
        self.reporting(plan, plan.steps[0].args["facts"], t0 - 30 * MINUTE, "reporter.dns")
        return plan

    def telecom_route_leak(self) -> Plan:
        t0 = self.local(50, 13, 30)
        facts = {
            "classification": "availability:misconfiguration",
            "root_cause": "human-errors",
            "malicious": False,
            "functional_impact": "significant-non-critical",
            "observed_activity": "none",
            "information_impact": "no-impact",
            "recoverability": "regular",
            "outage_minutes": 35,
            "users_affected": 900_000,
            "population_affected_share": 0.06,
            "detected_at": (t0 - 40 * MINUTE).isoformat(),
        }
        plan = self.story(
            "araltelecom",
            t0,
            "reporter.telecom",
            facts,
            title="AralTelecom routing error cuts international connectivity for 35 minutes",
            description="A wrong route filter pushed to the border routers withdrew most international routes. Rolled back after 35 minutes.",
            tlp="TLP:GREEN",
        )
        self.lifecycle(plan, "analyst", {}, "reporter.telecom")
        self.reporting(plan, facts, t0 - 40 * MINUTE, "reporter.telecom")
        return plan

    def railway_ransomware(self) -> Plan:
        t0 = self.local(10, 7, 50)
        facts = {
            "classification": "information-content-security:unauthorised-information-modification",
            "root_cause": "malicious-actions",
            "malicious": True,
            "functional_impact": "significant-critical",
            "observed_activity": "effect",
            "location": "business-network-management",
            "actor": "criminal",
            "information_impact": "destruction-non-critical",
            "recoverability": "supplemented",
            "potential_impact": "high",
            "users_affected": 85_000,
            "financial_loss_eur": 650_000.0,
            "detected_at": (t0 - HOUR).isoformat(),
        }
        plan = self.story(
            "aralia-railways",
            t0,
            "reporter.rail",
            facts,
            title="Aralia Railways ticketing and timetable systems encrypted by ransomware",
            description="Ticket sales, seat reservation and the passenger information displays are down nationwide; trains run on the published timetable, tickets are sold on board.",
        )
        add = plan.add
        add(
            t0 + 40 * MINUTE,
            "status",
            "d.ermekova",
            to=Status.TRIAGED,
            note="Triaged: nationwide passenger services affected; signalling not affected.",
        )
        add(t0 + 45 * MINUTE, "assign", "coordinator", assignee="d.ermekova")
        add(t0 + 2 * HOUR, "status", "d.ermekova", to=Status.INVESTIGATING)
        add(t0 + 5 * HOUR, "submit", "reporter.rail", deadline="early-warning")
        add(
            t0 + 1 * DAY,
            "comment",
            "reporter.rail",
            body="Ticket sales restored at the main stations from clean servers; online sales still down.",
        )
        add(t0 + 2 * DAY + 3 * HOUR, "submit", "reporter.rail", deadline="notification")
        add(t0 + 4 * DAY, "status", "d.ermekova", to=Status.CONTAINED, note=data.CONTAINED_NOTES[0])
        return plan

    def trust_service_outage(self) -> Plan:
        t0 = self.local(22, 9, 10)
        facts = {
            "classification": "availability:outage",
            "root_cause": "third-party-failures",
            "malicious": False,
            "functional_impact": "denial-non-critical",
            "observed_activity": "none",
            "information_impact": "no-impact",
            "recoverability": "regular",
            "outage_minutes": 300,
            "outage_minutes_week": 300,
            "users_affected": 60_000,
            "detected_at": (t0 - 20 * MINUTE).isoformat(),
        }
        plan = self.story(
            "aralsign",
            t0,
            "analyst",
            facts,
            title="AralSign qualified signature service down for five hours",
            description="AralSign's hosting provider lost both data-centre links; electronic signatures for tax returns and notaries were unavailable for five hours.",
            reporting_org="aralsign",
            tlp="TLP:GREEN",
        )
        self.lifecycle(plan, "analyst", {"potential_impact": "low"}, None)
        self.reporting(plan, facts, t0 - 20 * MINUTE, "analyst")
        return plan

    def partner_c2_report(self) -> Plan:
        t0 = self.local(15, 14, 0)
        facts = {
            "classification": "malicious-code:c2-server",
            "root_cause": "malicious-actions",
            "malicious": True,
            "functional_impact": "no-impact-to-services",
            "observed_activity": "presence",
            "location": "business-dmz",
            "actor": "criminal",
            "countries_affected": ["XC"],
            "detected_at": (t0 - DAY).isoformat(),
        }
        plan = self.story(
            "steppe-cloud",
            t0,
            "partner.ostmark",
            facts,
            title="Ostmark NCC: banking-trojan command server hosted at Steppe Cloud",
            description="Our investigation of a banking trojan hitting Ostmark banks found its command server on a Steppe Cloud virtual machine. Indicators attached; please arrange a takedown.",
            reporting_org="ostmark-ncc",
        )
        plan.add(t0 + 10 * MINUTE, "attach", "partner.ostmark", file=data.ATTACHMENTS[0])
        self.lifecycle(plan, "l.nazarova", {}, "partner.ostmark")
        return plan

    def airport_checkin(self) -> Plan:
        t0 = self.local(3, 5, 45)
        facts = {
            "classification": "information-content-security:unauthorised-information-modification",
            "root_cause": "malicious-actions",
            "malicious": True,
            "functional_impact": "denial-critical",
            "observed_activity": "effect",
            "location": "business-network-management",
            "actor": "criminal",
            "information_impact": "destruction-non-critical",
            "recoverability": "extended",
            "potential_impact": "high",
            "users_affected": 40_000,
            "population_affected_share": 0.012,
            "financial_loss_eur": 3_200_000.0,
            "countries_affected": ["XB", "XC"],
            "detected_at": (t0 - 30 * MINUTE).isoformat(),
        }
        plan = self.story(
            "marsk-airport",
            t0,
            "l.nazarova",
            facts,
            title="Marsk International Airport: check-in and baggage systems encrypted, flights cancelled",
            description="The airport's check-in, boarding and baggage systems were encrypted at 05:15. Departures are cancelled or delayed; flights to Veskaria and Ostmark are affected.",
            reporting_org="marsk-airport",
        )
        add = plan.add
        add(
            t0 + 10 * MINUTE,
            "status",
            "l.nazarova",
            to=Status.TRIAGED,
            note="Triaged: airport operations stopped; cross-border flights affected.",
        )
        add(t0 + 12 * MINUTE, "assign", "coordinator", assignee="l.nazarova")
        add(t0 + 30 * MINUTE, "status", "l.nazarova", to=Status.INVESTIGATING)
        add(t0 + 6 * HOUR, "submit", "l.nazarova", deadline="early-warning")
        add(
            t0 + 7 * HOUR,
            "share",
            "l.nazarova",
            group="csirt-network",
            title="International airport: check-in and baggage systems encrypted, flights cancelled",
        )
        add(
            t0 + 1 * DAY,
            "comment",
            "l.nazarova",
            body="Manual check-in running; about half of the departures leave with delays.",
        )
        return plan


# ------------------------------------------------------------------------ playing


def _play(plans: list[Plan], anchor: dt.datetime) -> None:
    users = {u.username: u for u in User.objects.filter(username__in=[p.username for p in data.PEOPLE])}
    orgs = {o.slug: o for o in Organisation.objects.filter(slug__in=[o.slug for o in data.ORGANISATIONS])}
    incidents: dict[int, Incident] = {}
    steps = sorted(((s.at, p.key, i, s) for p in plans for i, s in enumerate(p.steps)), key=lambda x: x[:3])
    for at, key, _, step in steps:
        if at >= anchor:
            continue  # not yet: the incident stays where it is now
        with clock.frozen(at):
            _do(step, key, incidents, users, orgs)


def _do(
    step: Step, key: int, incidents: dict[int, Incident], users: dict[str, User], orgs: dict[str, Organisation]
) -> None:
    a = step.args
    actor = users[step.actor]
    if step.kind == "report":
        incidents[key] = services.report_incident(
            actor=actor,
            title=a["title"],
            description=a["description"],
            facts=a["facts"],
            reporting_organisation=orgs[a["reporting_org"]],
            affected_organisations=[orgs[s] for s in a["affected"]],
            tlp=a["tlp"],
            pap=a["pap"],
            red_recipients=[users[u] for u in a["red_recipients"]],
        )
        return
    incident = incidents[key]
    if not actor.is_csirt_staff and not access.can_add_information(actor, incident):
        actor = incident.assignee or users["analyst"]  # the reporter's turn has passed: the CSIRT records it
    if step.kind == "status":
        services.change_status(incident=incident, actor=actor, to=a["to"], note=a.get("note", ""))
    elif step.kind == "assign":
        services.assign(incident=incident, actor=actor, assignee=users[a["assignee"]])
    elif step.kind == "comment":
        services.add_comment(incident=incident, actor=actor, body=a["body"])
    elif step.kind == "facts":
        services.update_facts(incident=incident, actor=actor, changes=a["changes"], note=a.get("note", ""))
    elif step.kind == "waiting":
        services.set_waiting_on_reporter(incident=incident, actor=actor, waiting=a["waiting"])
    elif step.kind == "submit":
        services.submit_reporting_step(incident=incident, actor=actor, scale_id="eu-nis2", deadline_id=a["deadline"])
    elif step.kind == "merge":
        services.merge_duplicate(incident=incident, actor=actor, into=incidents[a["into"]], note=a.get("note", ""))
    elif step.kind == "link":
        services.link_related(incident=incident, actor=actor, other=incidents[a["other"]])
    elif step.kind == "sharing":
        services.set_sharing(
            incident=incident,
            actor=actor,
            tlp=a["tlp"],
            pap=a["pap"],
            red_recipients=[users[u] for u in a["red_recipients"]],
        )
    elif step.kind == "consent":
        set_naming_consent(incident=incident, actor=actor, agreed=a["agreed"])
    elif step.kind == "share":
        share_incident(
            incident=incident,
            actor=actor,
            organisations=[orgs[slug] for slug in a.get("organisations", ())],
            group=PartnerGroup.objects.get(slug=a["group"]) if a.get("group") else None,
            recipients=[users[u] for u in a.get("recipients", ())],
            identify_reporter=a.get("identify_reporter", False),
            title=a.get("title"),
            description=a.get("description"),
        )
    elif step.kind == "attach":
        name, content = a["file"]
        upload = SimpleUploadedFile(name, content.encode(), content_type="text/plain")
        services.add_attachment(incident=incident, actor=actor, upload=upload)
    else:  # pragma: no cover - a typo in a plan
        raise ValueError(f"unknown demo step {step.kind!r}")
