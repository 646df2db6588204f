"""The incident pages: report, follow, triage, work on and oversee incidents.

Thin views: they read the request, ask ``access`` what the user may see and do, call
``services`` for every change and ``display`` for what to show. An incident the user
may not see is a 404 (a TLP:RED incident is never revealed); an action the user may
not take is a 403; bad input re-renders the page with the reasons (400) and changes nothing.
Lists never count the whole table: they fetch one row more than a page to know whether
there is a next one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

import nciss
from nciss.facts import fact_specs
from nciss.taxonomy import rsit_classes, rsit_labels, rsit_types
from nciss_platform import clock
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.incidents import access, display, services
from nciss_platform.incidents.filters import FilterError, filter_incidents
from nciss_platform.incidents.forms import AttachmentForm, CommentForm, ReportForm, SharingForm
from nciss_platform.incidents.models import TLP, Attachment, Incident, TimelineEntry
from nciss_platform.incidents.services import NotAllowed, ServiceError
from nciss_platform.incidents.workflow import OPEN_STATUSES, Status, next_statuses
from nciss_platform.pages import reader_language, render_page
from nciss_platform.scales import services as scales

PAGE_SIZE = 50  # the queue's
LIST_PAGE_SIZE = 25  # an organisation's list, which works out each incident's reporting deadlines
# Facts the system sets itself: never asked in the report or edit forms.
NOT_ASKED = frozenset({"reported_at"})


# ---------------------------------------------------------------- common


def _user(request: HttpRequest) -> User:
    """The signed-in user (every view here requires one)."""
    return cast(User, request.user)


def _require_staff(user: User) -> None:
    if not access.can_manage(user):
        raise PermissionDenied(_("Only the CSIRT's analysts and coordinators may open this page."))


def _visible(user: User, reference: str) -> Incident:
    """The incident by reference if the user may see it; 404 otherwise, whether or not it exists."""
    incident = (
        access.visible_incidents(user)
        .select_related("reporting_organisation", "assignee", "created_by", "duplicate_of")
        .filter(reference=reference)
        .first()
    )
    if incident is None:
        raise Http404(_("No incident with this reference that you may see."))
    return incident


def _page_number(params: Mapping[str, Any]) -> int:
    try:
        return max(1, int(str(params.get("page") or 1)))
    except ValueError:
        return 1


def _one_page(qs: QuerySet[Incident], page: int, size: int) -> tuple[list[Incident], bool]:
    """The incidents of one page, and whether there is a next page (one extra row, never a COUNT)."""
    rows = list(qs[(page - 1) * size : page * size + 1])
    return rows[:size], len(rows) > size


def _page_links(path: str, params: QueryDict, page: int, has_next: bool) -> dict[str, str]:
    def link(number: int) -> str:
        query = params.copy()
        query["page"] = str(number)
        return f"{path}?{query.urlencode()}"

    return {"previous": link(page - 1) if page > 1 else "", "next": link(page + 1) if has_next else ""}


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


# ---------------------------------------------------------------- home


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Each role where it works: reporters to their incidents, partners to what was shared with them,
    analysts to the queue, coordinators to the overview."""
    role = request.user.role
    if role == User.Role.ANALYST:
        return redirect("incidents:queue")
    if role == User.Role.COORDINATOR:
        return redirect("incidents:overview")
    if role == User.Role.REPORTER:
        return redirect("incidents:list")
    if role == User.Role.PARTNER:
        return redirect("sharing:list")
    if role == User.Role.SCALE_OWNER:
        return redirect("calibration:index")
    return redirect("scales:calculator")


# ---------------------------------------------------------------- facts in forms


def answers_from_facts(facts: Mapping[str, Any]) -> dict[str, list[str]]:
    """Facts as the calculator's questions hold them: the inverse of ``scales.facts_from_answers``."""
    answers: dict[str, list[str]] = {}
    specs = fact_specs()
    for name, value in facts.items():
        spec = specs.get(name)
        if spec is None or value is None:
            continue
        if isinstance(value, bool):
            answers[name] = ["yes" if value else "no"]
        elif isinstance(value, list):
            answers[name] = [str(v) for v in value] if spec.items == "sector" else [", ".join(str(v) for v in value)]
        elif spec.kind == "datetime":
            answers[name] = [_datetime_local(str(value))]
        elif isinstance(value, float) and value.is_integer():
            answers[name] = [str(int(value))]
        else:
            answers[name] = [str(value)]
    return answers


def _datetime_local(value: str) -> str:
    """An ISO time as a ``datetime-local`` input holds it, in UTC (the question says UTC)."""
    try:
        moment = dt.datetime.fromisoformat(value).astimezone(dt.UTC)
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%dT%H:%M:%S" if moment.second else "%Y-%m-%dT%H:%M")


def _asked_facts(answers: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    facts = scales.facts_from_answers(answers)
    return {name: value for name, value in facts.items() if name not in NOT_ASKED}


def _fact_errors(facts: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with the facts a form states, by fact (empty when they are fine)."""
    scale = services.national_scale()
    try:
        clean = nciss.validate_facts(dict(facts), extra_sectors=scale.national_sectors)
    except nciss.FactsError as exc:
        return {path.split(".")[0].split("[")[0]: reason for path, reason in exc.errors}
    classification = clean.get("classification")
    if classification is not None and classification not in scale.taxonomy_types:
        return {"classification": _("not an incident type this scale knows")}
    return {}


@dataclasses.dataclass(frozen=True)
class AskedGroup:
    id: str
    title: str
    questions: list[tuple[scales.Question, str]]  # (question, error)
    folded: bool  # shown behind a "show these questions" switch unless one of them has an error

    @property
    def has_error(self) -> bool:
        return any(error for _question, error in self.questions)


# What happened and how bad it is come first; the organisation's profile and the numbers after,
# folded in the report form (a reporter opens them when there is something to say).
GROUP_ORDER = ("classification", "impact", "time", "entity", "measured")
FOLDED_GROUPS = frozenset({"entity", "measured"})


def _questions(
    answers: Mapping[str, Sequence[str]], errors: Mapping[str, str], lang: str, folded: frozenset[str] = FOLDED_GROUPS
) -> list[AskedGroup]:
    """The calculator's questions (from the facts vocabulary), with the answers so far and any error."""
    groups = {group.id: group for group in scales.questionnaire(services.national_scale(), answers, lang)}
    order = [g for g in GROUP_ORDER if g in groups] + [g for g in groups if g not in GROUP_ORDER]
    return [
        AskedGroup(
            groups[g].id,
            groups[g].title,
            [(q, errors.get(q.fact, "")) for q in groups[g].questions if q.fact not in NOT_ASKED],
            g in folded,
        )
        for g in order
    ]


def _error_summary(errors: Mapping[str, str], lang: str) -> list[tuple[str, str, str]]:
    """(anchor, label, reason) for an error summary that links to each question."""
    return [(f"input-{fact}", display.fact_label(fact, lang), reason) for fact, reason in errors.items()]


def _preview_verdict(facts: Mapping[str, Any], lang: str) -> tuple[scales.Verdict, list[scales.Verdict]]:
    """The facts on the national scale and every other one, the decisive unknowns named by their questions."""
    main, others = scales.verdicts(services.national_scale(), facts, lang)
    questions = {name: spec.question.get_for(lang) for name, spec in fact_specs().items()}
    return dataclasses.replace(
        main, decisive=[(fact, questions.get(fact, label)) for fact, label in main.decisive]
    ), others


# ---------------------------------------------------------------- reporting


@login_required
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """The guided report: plain questions, sharing, files, and the preliminary level as one answers."""
    actor = _user(request)
    if actor.organisation is None:
        raise PermissionDenied(_("Your account belongs to no organisation: ask an administrator to add you to one."))
    lang = reader_language(request)
    fact_errors: dict[str, str] = {}
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES, actor=actor)
        answers: dict[str, list[str]] = dict(request.POST.lists())
        facts = _asked_facts(answers)
        fact_errors = _fact_errors(facts)
        if form.is_valid() and not fact_errors:
            try:
                incident = services.report_incident(
                    actor=actor,
                    title=form.cleaned_data["title"],
                    description=form.cleaned_data["description"],
                    facts=facts,
                    tlp=form.cleaned_data["tlp"],
                    pap=form.cleaned_data["pap"],
                    red_recipients=form.cleaned_data["red_recipients"],
                )
            except ServiceError as exc:
                _service_errors_to(form, fact_errors, exc)
            else:
                for upload in form.cleaned_data["attachments"]:
                    services.add_attachment(incident=incident, actor=actor, upload=upload)
                return redirect("incidents:acknowledgement", incident.reference)
        status = 400
    else:
        form = ReportForm(actor=actor)
        answers = answers_from_facts(actor.organisation.entity_facts())
        facts = _asked_facts(answers)
        status = 200
    with translation.override(lang):
        main, others = _preview_verdict(facts if not fact_errors else {}, lang)
        context = {
            "form": form,
            "groups": _questions(answers, fact_errors, lang),
            "fact_errors": _error_summary(fact_errors, lang),
            "files_lost": status == 400 and bool(request.FILES),
            "organisation": actor.organisation,
            "main": main,
            "others": others,
        }
    return render_page(request, "incidents/report.html", context, status)


def _service_errors_to(form: Any, fact_errors: dict[str, str], exc: ServiceError) -> None:
    """A service's (field, reason) errors shown where they belong: by the question or by the form field."""
    for path, reason in exc.errors:
        if path.startswith("facts."):
            fact_errors[path.removeprefix("facts.").split(".")[0]] = reason
        elif form is not None and path in form.fields:
            form.add_error(path, reason)
        elif form is not None:
            form.add_error(None, f"{path}: {reason}")


@login_required
@require_POST
def report_preview(request: HttpRequest) -> HttpResponse:
    """The preliminary level of the answers so far (HTMX swaps it into the report form)."""
    lang = reader_language(request)
    with translation.override(lang):
        main, others = _preview_verdict(_asked_facts(dict(request.POST.lists())), lang)
    return render_page(request, "incidents/_preliminary.html", {"main": main, "others": others})


@login_required
@require_GET
def acknowledgement(request: HttpRequest, reference: str) -> HttpResponse:
    incident = _visible(request.user, reference)
    services.record_read(incident=incident, actor=request.user)
    lang = reader_language(request)
    with translation.override(lang):
        regimes = display.deadlines(incident, clock.now(), lang)
        context = {
            "incident": incident,
            "level": display.level(incident.level, lang),
            "highest": display.level(incident.reachable_max, lang),
            "regimes": regimes,
            "still_due": [row for regime in regimes for row in regime.still_due],
            "attachments": list(incident.attachments.order_by("created_at")),
        }
    return render_page(request, "incidents/acknowledgement.html", context)


# ---------------------------------------------------------------- lists


@login_required
@require_GET
def incident_list(request: HttpRequest) -> HttpResponse:
    """The incidents a user may see (for a reporter: its organisation's), newest first, with deadlines."""
    user = _user(request)
    lang = reader_language(request)
    params = request.GET.copy()
    params.setdefault("ordering", "-reported_at")
    errors: list[tuple[str, str]] = []
    qs = access.visible_incidents(user).select_related("reporting_organisation")
    try:
        qs = filter_incidents(qs, params, user)
    except FilterError as exc:
        errors, qs = exc.errors, qs.none()
    page = _page_number(params)
    incidents, has_next = _one_page(qs, page, LIST_PAGE_SIZE)
    now = clock.now()
    with translation.override(lang):
        rows = []
        for incident in incidents:
            regimes = display.deadlines(incident, now, lang)
            rows.append(
                {
                    "incident": incident,
                    "level": display.level(incident.level, lang),
                    "status": display.status_label(incident.status),
                    "next_deadline": display.next_deadline(regimes),
                    "overdue_deadlines": sum(1 for r in regimes for row in r.rows if row.state == "overdue"),
                }
            )
        context = {
            "rows": rows,
            "errors": errors,
            "status": params.get("status", ""),
            "q": params.get("q", ""),
            "statuses": [("open", _("Open")), *((s, display.status_label(s)) for s in Status.values)],
            "page": page,
            "pages": _page_links(reverse("incidents:list"), request.GET, page, has_next),
            "organisation": user.organisation,
        }
    return render_page(request, "incidents/list.html", context, 400 if errors else 200)


def _queue_params(params: QueryDict) -> QueryDict:
    """The queue shows open incidents unless the status filter says otherwise (an empty choice: any status)."""
    params = params.copy()
    if "status" not in params:
        params["status"] = "open"
    elif not any(v.strip() for v in params.getlist("status")):
        del params["status"]
    return params


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The triage queue: open incidents by level, then by time left on the level's response target."""
    _require_staff(request.user)
    return _queue_page(request, request.GET)


def _queue_page(
    request: HttpRequest,
    given: QueryDict,
    *,
    problem: str = "",
    selected: Sequence[str] = (),
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    lang = reader_language(request)
    params = _queue_params(given)
    errors: list[tuple[str, str]] = []
    qs = access.visible_incidents(user).select_related("reporting_organisation", "assignee")
    try:
        qs = filter_incidents(qs, params, user)
    except FilterError as exc:
        errors, qs = exc.errors, qs.none()
    page = _page_number(given)
    incidents, has_next = _one_page(qs, page, PAGE_SIZE)
    now = clock.now()
    scale = services.national_scale()
    with translation.override(lang):
        levels = {level.rank: display.level(level.rank, lang, scale) for level in scale.levels}
        # Fifty rows share a handful of badges and two URL patterns: render and reverse once per page.
        badges = _BadgeCache()
        detail_url = reverse("incidents:detail", args=[_REF])
        assign_url = reverse("incidents:action", args=[_REF, "assign"])
        rows = [
            {
                "incident": incident,
                "detail_url": detail_url.replace(_REF, incident.reference),
                "assign_url": assign_url.replace(_REF, incident.reference),
                "level": levels[min(incident.level, scale.top)],
                "level_badge": badges.get("scales/_badge.html", level=levels[min(incident.level, scale.top)]),
                "tlp_badge": badges.get("incidents/_tlp.html", incident={"tlp": incident.tlp}),
                "status_badge": badges.get(
                    "incidents/_status.html",
                    incident={"status": incident.status, "waiting_on_reporter": incident.waiting_on_reporter},
                    status=display.status_label(incident.status),
                ),
                "status": display.status_label(incident.status),
                "clock": display.clock_of(incident, now),
                "classification": display.classification_text(incident.classification),
                "assignee": display.user_name(incident.assignee),
                "selected": incident.reference in selected,
            }
            for incident in incidents
        ]
        context = {
            "rows": rows,
            "errors": errors,
            "problem": problem,
            "filters": _filter_choices(params, lang, scale),
            "page": page,
            "pages": _page_links(reverse("incidents:queue"), given, page, has_next),
            # where the bulk and assignment forms come back to (also after a refused bulk action)
            "here": reverse("incidents:queue") + ("?" + given.urlencode() if given else ""),
            "staff": _staff_users(),
        }
    return render_page(request, "incidents/queue.html", context, 400 if errors or problem else status)


_REF = "NCISS-0000-000000"  # a reference-shaped placeholder for URLs reversed once per page


class _BadgeCache:
    """Small templates rendered once per distinct context within one page."""

    def __init__(self) -> None:
        self.rendered: dict[str, str] = {}

    def get(self, template: str, **context: Any) -> str:
        key = template + repr(sorted(context.items(), key=lambda kv: kv[0]))
        if key not in self.rendered:
            self.rendered[key] = render_to_string(template, context)
        return self.rendered[key]


def _staff_users() -> list[tuple[str, str]]:
    staff = User.objects.filter(role__in=[User.Role.ANALYST, User.Role.COORDINATOR], is_active=True).order_by(
        "username"
    )
    return [(u.username, display.user_name(u)) for u in staff]


def _filter_choices(params: QueryDict, lang: str, scale: nciss.Scale) -> dict[str, Any]:
    """The queue's filter form: every choice and what is chosen, named as ``filters.py`` names them."""
    sector = fact_specs()["sector"]
    labels = rsit_labels()
    organisations = Organisation.objects.order_by("name").values_list("slug", "name")
    many = organisations.count() > 300  # then a text box for the organisation's short name
    return {
        "status": params.getlist("status") or [""],
        "statuses": [
            ("open", _("Open (any open status)")),
            ("", _("Any status")),
            *((s, display.status_label(s)) for s in Status.values),
        ],
        "level": params.getlist("level"),
        "levels": [(str(level.rank), display.level(level.rank, lang, scale)) for level in reversed(scale.levels)],
        "sector": params.get("sector", ""),
        "sectors": [
            (v, sector.value_labels[v].get_for(lang) if v in sector.value_labels else v) for v in sector.values
        ],
        "classification": params.get("classification", ""),
        "classifications": [
            (
                labels.get(klass, klass),
                klass,
                [(t, labels.get(t, t)) for t in rsit_types() if t.startswith(f"{klass}:")],
            )
            for klass in rsit_classes()
        ],
        "organisation": params.get("organisation", ""),
        "organisations": [] if many else list(organisations),
        "assignee": params.get("assignee", ""),
        "reported_from": params.get("reported_from", ""),
        "reported_to": params.get("reported_to", ""),
        "overdue": params.get("overdue", "") == "1",
        "q": params.get("q", ""),
        "ordering": params.get("ordering", "queue"),
    }


# Bulk actions on the queue: what each does to one incident, through the services.
BULK_ACTIONS: dict[str, Callable[[Incident, User, str], Any]] = {
    "assign-me": lambda incident, actor, _who: services.assign(incident=incident, actor=actor, assignee=actor),
    "assign": lambda incident, actor, who: services.assign(incident=incident, actor=actor, assignee=_staff_member(who)),
    "unassign": lambda incident, actor, _who: services.assign(incident=incident, actor=actor, assignee=None),
    "triage": lambda incident, actor, _who: services.change_status(incident=incident, actor=actor, to=Status.TRIAGED),
    "reject": lambda incident, actor, _who: services.change_status(incident=incident, actor=actor, to=Status.REJECTED),
}


def _staff_member(username: str) -> User:
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ServiceError([("assignee", _("choose an analyst or coordinator to assign to"))])
    return user


class _BulkFailed(Exception):
    def __init__(self, reference: str, reason: str):
        self.reference, self.reason = reference, reason


@login_required
@require_POST
def queue_bulk(request: HttpRequest) -> HttpResponse:
    """One action on several incidents, all in one transaction: all of them change or none does."""
    actor = _user(request)
    _require_staff(actor)
    back = _safe_next(request, reverse("incidents:queue"))
    back_params = QueryDict(urlsplit(back).query, mutable=True)
    references = list(dict.fromkeys(request.POST.getlist("incident")))
    action = request.POST.get("action", "")
    problem = ""
    if action not in BULK_ACTIONS:
        problem = _("Choose what to do with the selected incidents.")
    elif not references:
        problem = _("Select at least one incident.")
    if problem:
        return _queue_page(request, back_params, problem=problem, selected=references)
    found = {i.reference: i for i in access.visible_incidents(actor).filter(reference__in=references)}
    missing = [ref for ref in references if ref not in found]
    if missing:
        return _queue_page(
            request,
            back_params,
            problem=_("No incident %(ref)s that you may see.") % {"ref": missing[0]},
            selected=references,
        )
    try:
        with transaction.atomic():
            for reference in references:
                try:
                    BULK_ACTIONS[action](found[reference], actor, request.POST.get("assignee", ""))
                except ServiceError as exc:
                    raise _BulkFailed(reference, "; ".join(reason for _path, reason in exc.errors)) from exc
    except _BulkFailed as failed:
        problem = _("%(ref)s: %(reason)s. Nothing was changed.") % {"ref": failed.reference, "reason": failed.reason}
        return _queue_page(request, back_params, problem=problem, selected=references)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(
        request,
        ngettext("%(n)d incident updated.", "%(n)d incidents updated.", len(references)) % {"n": len(references)},
    )
    return _see_other(back)


def _see_other(url: str) -> HttpResponse:
    """After a change, back to a page to read (303: the browser follows with a GET)."""
    response = HttpResponse(status=303)
    response["Location"] = url
    return response


# ---------------------------------------------------------------- the incident page


@login_required
@require_GET
def detail(request: HttpRequest, reference: str) -> HttpResponse:
    incident = _visible(request.user, reference)
    services.record_read(incident=incident, actor=request.user)
    return render_page(request, "incidents/detail.html", _detail_context(request, incident))


def _detail_context(
    request: HttpRequest,
    incident: Incident,
    *,
    failed: str = "",
    form: Any = None,
    fact_answers: Mapping[str, Sequence[str]] | None = None,
    fact_errors: Mapping[str, str] | None = None,
    problems: Sequence[str] = (),
) -> dict[str, Any]:
    """Everything the incident page shows; ``failed`` names the action whose input is shown back with errors."""
    user = _user(request)
    lang = reader_language(request)
    now = clock.now()
    scale = services.national_scale()
    may_add = access.can_add_information(user, incident)
    may_manage = access.can_manage(user)
    may_share = may_manage or incident.created_by_id == user.pk
    visible = access.visible_incidents(user)
    with translation.override(lang):
        latest = incident.assessments.select_related("created_by").first()
        main, others = scales.verdicts(scale, incident.facts, lang)
        entries = list(incident.timeline.select_related("author__organisation"))
        named = display.linked_references(entries)
        seen = set(visible.filter(reference__in=named).values_list("reference", flat=True)) if named else set()
        timeline = display.timeline(entries, lang, seen)
        context = {
            "incident": incident,
            "level": display.level(incident.level, lang, scale),
            "highest": display.level(incident.reachable_max, lang, scale),
            "status": display.status_label(incident.status),
            "clock": display.clock_of(incident, now),
            "classification": display.classification_text(incident.classification),
            "affected": list(incident.affected_organisations.all()),
            "latest": latest,
            "latest_level": display.level(latest.level, lang, scale) if latest else None,
            "stale": latest is not None and (latest.scale_version != scale.version or latest.facts != incident.facts),
            "main": main,
            "others": others,
            "fact_rows": display.fact_rows(incident.facts, lang),
            "fact_history": [entry for entry in timeline if entry.kind == TimelineEntry.Kind.FACTS],
            "timeline": timeline,
            "attachments": list(incident.attachments.select_related("uploaded_by").order_by("created_at")),
            "related": list(visible.filter(related=incident).order_by("reference")),
            "duplicates": list(visible.filter(duplicate_of=incident).order_by("reference")),
            "duplicate_of": incident.duplicate_of
            if incident.duplicate_of_id and visible.filter(pk=incident.duplicate_of_id).exists()
            else None,
            "regimes": display.deadlines(incident, now, lang),
            "response": display.response_targets(incident, now),
            "may_add": may_add,
            "may_manage": may_manage,
            "may_share": may_share,
            "transitions": [
                (to, display.STATUS_ACTIONS.get(to, to)) for to in next_statuses(incident.status, user.role)
            ]
            if may_manage
            else [],
            "staff": _staff_users() if may_manage else [],
            "failed": failed,
            "problems": problems,
            "comment_form": form if failed == "comment" else CommentForm(),
            "attachment_form": form if failed == "attachments" else AttachmentForm(),
            "sharing_form": (form if failed == "sharing" else SharingForm(actor=user, incident=incident))
            if may_share
            else None,
            "groups": _questions(
                fact_answers if fact_answers is not None else answers_from_facts(incident.facts),
                fact_errors or {},
                lang,
                folded=frozenset(),  # the whole form is folded already
            )
            if may_add
            else [],
            "fact_errors": _error_summary(fact_errors or {}, lang),
            "is_red": incident.tlp == TLP.RED,
            "red_recipients": [display.user_name(u) for u in incident.red_recipients.all()]
            if incident.tlp == TLP.RED
            else [],
            "high": display.high_level(scale),
        }
    return context


def _changes(incident: Incident, answers: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """What the edit-facts form changes: every asked fact, ``None`` for one left as "don't know".

    A time given again to the minute is the same time, so it is kept as stored.
    """
    given = _asked_facts(answers)
    changes: dict[str, Any] = {}
    for name, spec in fact_specs().items():
        if name in NOT_ASKED:
            continue
        before, after = incident.facts.get(name), given.get(name)
        if spec.kind == "datetime" and before is not None and after is not None and _same_time(before, after):
            continue
        if before != after:
            changes[name] = after
    return changes


def _same_time(a: Any, b: Any) -> bool:
    try:
        return dt.datetime.fromisoformat(str(a)) == dt.datetime.fromisoformat(str(b))
    except ValueError:
        return False


@login_required
@require_POST
def facts_preview(request: HttpRequest, reference: str) -> HttpResponse:
    """The level the edited facts would give, before saving (HTMX swaps it into the incident page)."""
    incident = _visible(request.user, reference)
    if not access.can_add_information(request.user, incident):
        raise PermissionDenied
    lang = reader_language(request)
    changes = _changes(incident, dict(request.POST.lists()))
    facts = {k: v for k, v in {**incident.facts, **changes}.items() if v is not None}
    errors = _fact_errors(facts)
    with translation.override(lang):
        verdict = None if errors else scales.verdicts(services.national_scale(), facts, lang)[0]
        context = {
            "verdict": verdict,
            "current": display.level(incident.level, lang),
            "errors": _error_summary(errors, lang),
            "changed": [display.fact_label(name, lang) for name in changes],
        }
    return render_page(request, "incidents/_facts_preview.html", context)


# Who may take each action: CSIRT staff only, or whoever may add information (the reporting side while open).
MANAGER_ACTIONS = frozenset({"status", "assign", "waiting", "merge", "link"})
INFORMATION_ACTIONS = frozenset({"comment", "facts", "attachments", "deadline"})


@login_required
@require_POST
def incident_action(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    """One change to an incident from its page, through the services; then back to the page."""
    user = _user(request)
    incident = _visible(user, reference)
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404
    if action in MANAGER_ACTIONS and not access.can_manage(user):
        raise PermissionDenied(_("Only the CSIRT's analysts and coordinators may do this."))
    if action in INFORMATION_ACTIONS and not access.can_add_information(user, incident):
        raise PermissionDenied(_("This incident is closed to new information from your side."))
    if action == "sharing" and not (access.can_manage(user) or incident.created_by_id == user.pk):
        raise PermissionDenied(_("Only the CSIRT or the original reporter may change how it is shared."))
    try:
        with translation.override(reader_language(request)):
            done = handler(request, incident, user)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except _Invalid as invalid:
        context = _detail_context(request, incident, failed=action, **invalid.context)
        return render_page(request, "incidents/detail.html", context, status=400)
    if done:
        messages.success(request, done)
    return _see_other(_safe_next(request, reverse("incidents:detail", args=[incident.reference])))


class _Invalid(Exception):
    """Bad input for an action: what to show back on the incident page."""

    def __init__(self, **context: Any):
        self.context = context


def _problems(exc: ServiceError) -> list[str]:
    return [reason if path in ("", "status") else f"{path}: {reason}" for path, reason in exc.errors]


def _comment(request: HttpRequest, incident: Incident, user: User) -> str:
    form = CommentForm(request.POST)
    if not form.is_valid():
        raise _Invalid(form=form)
    try:
        services.add_comment(incident=incident, actor=user, body=form.cleaned_data["body"])
    except ServiceError as exc:
        raise _Invalid(form=form, problems=_problems(exc)) from exc
    return _("Comment added.")


def _facts(request: HttpRequest, incident: Incident, user: User) -> str:
    answers = dict(request.POST.lists())
    changes = _changes(incident, answers)
    errors = _fact_errors({k: v for k, v in {**incident.facts, **changes}.items() if v is not None})
    if errors:
        raise _Invalid(fact_answers=answers, fact_errors=errors)
    if not changes:
        return _("The facts are unchanged.")
    before = incident.level
    try:
        services.update_facts(incident=incident, actor=user, changes=changes, note=request.POST.get("note", "").strip())
    except ServiceError as exc:
        fact_errors: dict[str, str] = {}
        _service_errors_to(None, fact_errors, exc)
        raise _Invalid(fact_answers=answers, fact_errors=fact_errors, problems=_problems(exc)) from exc
    lang = translation.get_language() or "en"
    if incident.level != before:
        return _("Facts saved and assessed again: the level is now %(level)s (was %(before)s).") % {
            "level": display.level(incident.level, lang).name,
            "before": display.level(before, lang).name,
        }
    return _("Facts saved and assessed again: the level stays %(level)s.") % {
        "level": display.level(incident.level, lang).name
    }


def _attachments(request: HttpRequest, incident: Incident, user: User) -> str:
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        raise _Invalid(form=form)
    files = form.cleaned_data["attachments"]
    try:
        with transaction.atomic():
            for upload in files:
                services.add_attachment(incident=incident, actor=user, upload=upload)
    except ServiceError as exc:
        raise _Invalid(form=form, problems=_problems(exc)) from exc
    return ngettext("%(n)d file added.", "%(n)d files added.", len(files)) % {"n": len(files)}


def _status(request: HttpRequest, incident: Incident, user: User) -> str:
    to = request.POST.get("to", "")
    try:
        services.change_status(incident=incident, actor=user, to=to, note=request.POST.get("note", "").strip())
    except ServiceError as exc:
        raise _Invalid(problems=_problems(exc)) from exc
    return _("Status changed to %(status)s.") % {"status": display.status_label(to)}


def _assign(request: HttpRequest, incident: Incident, user: User) -> str:
    who = request.POST.get("assignee", "")
    try:
        assignee = None if who == "" else user if who == "me" else _staff_member(who)
        services.assign(incident=incident, actor=user, assignee=assignee)
    except ServiceError as exc:
        raise _Invalid(problems=_problems(exc)) from exc
    if assignee is None:
        return _("Nobody is assigned now.")
    return _("Assigned to %(name)s.") % {"name": display.user_name(assignee)}


def _waiting(request: HttpRequest, incident: Incident, user: User) -> str:
    waiting = request.POST.get("waiting") == "1"
    services.set_waiting_on_reporter(incident=incident, actor=user, waiting=waiting)
    return _("Waiting on the reporter: the clocks are paused.") if waiting else _("No longer waiting on the reporter.")


def _other(user: User, field: str, reference: str) -> Incident:
    other = access.visible_incidents(user).filter(reference=reference.strip().upper()).first()
    if other is None:
        raise _Invalid(
            problems=[_("%(field)s: no incident %(ref)s that you may see.") % {"field": field, "ref": reference}]
        )
    return other


def _merge(request: HttpRequest, incident: Incident, user: User) -> str:
    into = _other(user, _("Merge into"), request.POST.get("into", ""))
    try:
        services.merge_duplicate(incident=incident, actor=user, into=into, note=request.POST.get("note", "").strip())
    except ServiceError as exc:
        raise _Invalid(problems=_problems(exc)) from exc
    return _("Marked as a duplicate of %(ref)s.") % {"ref": into.reference}


def _link(request: HttpRequest, incident: Incident, user: User) -> str:
    other = _other(user, _("Related incident"), request.POST.get("other", ""))
    try:
        services.link_related(incident=incident, actor=user, other=other)
    except ServiceError as exc:
        raise _Invalid(problems=_problems(exc)) from exc
    return _("Linked to %(ref)s.") % {"ref": other.reference}


def _sharing(request: HttpRequest, incident: Incident, user: User) -> str:
    form = SharingForm(request.POST, actor=user, incident=incident)
    if not form.is_valid():
        raise _Invalid(form=form)
    try:
        services.set_sharing(
            incident=incident,
            actor=user,
            tlp=form.cleaned_data["tlp"],
            pap=form.cleaned_data["pap"],
            red_recipients=form.cleaned_data["red_recipients"],
        )
    except ServiceError as exc:
        raise _Invalid(form=form, problems=_problems(exc)) from exc
    return _("Sharing changed to %(tlp)s, %(pap)s.") % {"tlp": incident.tlp, "pap": incident.pap}


def _deadline(request: HttpRequest, incident: Incident, user: User) -> str:
    try:
        services.submit_reporting_step(
            incident=incident,
            actor=user,
            scale_id=request.POST.get("scale", ""),
            deadline_id=request.POST.get("deadline", ""),
        )
    except ServiceError as exc:
        raise _Invalid(problems=_problems(exc)) from exc
    return _("Marked as submitted.")


ACTIONS: dict[str, Callable[[HttpRequest, Incident, User], str]] = {
    "comment": _comment,
    "facts": _facts,
    "attachments": _attachments,
    "status": _status,
    "assign": _assign,
    "waiting": _waiting,
    "merge": _merge,
    "link": _link,
    "sharing": _sharing,
    "deadline": _deadline,
}


@login_required
@require_GET
def attachment(request: HttpRequest, reference: str, pk: int) -> FileResponse:
    incident = _visible(request.user, reference)
    stored = Attachment.objects.filter(incident=incident, pk=pk).first()
    if stored is None:
        raise Http404
    services.record_read(incident=incident, actor=request.user)
    return FileResponse(stored.file.open("rb"), as_attachment=True, filename=stored.name)


# ---------------------------------------------------------------- the national overview


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """The national picture: open incidents by level, the highest level now, the newest serious ones, what is late."""
    user = _user(request)
    _require_staff(user)
    lang = reader_language(request)
    now = clock.now()
    scale = services.national_scale()
    open_incidents = access.visible_incidents(user).filter(status__in=OPEN_STATUSES)
    # One pass over the open incidents: per level, how many, how many late, waiting, unassigned.
    rows = (
        open_incidents.order_by()
        .values("level")
        .annotate(
            n=Count("id"),
            overdue=Count("id", filter=Q(due_at__lt=now, waiting_on_reporter=False)),
            waiting=Count("id", filter=Q(waiting_on_reporter=True)),
            unassigned=Count("id", filter=Q(assignee__isnull=True)),
        )
    )
    per_level = {row["level"]: row for row in rows}
    totals = {key: sum(row[key] for row in per_level.values()) for key in ("n", "overdue", "waiting", "unassigned")}
    highest = max((rank for rank, row in per_level.items() if row["n"]), default=None)
    high = display.high_level(scale)
    newest = list(
        open_incidents.filter(level__gte=high).select_related("reporting_organisation").order_by("-reported_at")[:10]
    )
    queue_url = reverse("incidents:queue")
    with translation.override(lang):
        by_level = [
            {
                "level": display.level(level.rank, lang, scale),
                "count": per_level.get(level.rank, {}).get("n", 0),
                "overdue": per_level.get(level.rank, {}).get("overdue", 0),
                "link": f"{queue_url}?{urlencode({'level': level.rank})}",
                "overdue_link": f"{queue_url}?{urlencode({'level': level.rank, 'overdue': 1})}",
            }
            for level in reversed(scale.levels)
        ]
        context = {
            "by_level": by_level,
            "total": totals["n"],
            "totals": totals,
            "highest": display.level(highest, lang, scale) if highest is not None else None,
            "high": display.level(high, lang, scale),
            "newest": [
                {"incident": i, "level": display.level(i.level, lang, scale), "clock": display.clock_of(i, now)}
                for i in newest
            ],
            "scale_name": scale.name.get_for(lang),
            "queue_url": queue_url,
        }
    return render_page(request, "incidents/overview.html", context)
