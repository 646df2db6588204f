"""The exercise pages: the list of runs, the facilitator's console and a team's view (docs/exercises.md).

Every page extends ``exercises/base.html``, which carries the EXERCISE banner. The console and
the team view refresh their live part every few seconds (HTMX polling) unless the reader is
filling in a form there. Each form posts one event, taken by ``services.take``.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from nciss.batch import facts_read
from nciss.exercises import Exercise, ExerciseError, ScenarioError, team_view
from nciss.exercises.engine import FACILITATOR
from nciss.exercises.review import clock as exercise_clock
from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.exercises import services
from nciss_platform.exercises.models import ExerciseRun
from nciss_platform.exercises.report import after_action_report
from nciss_platform.incidents import display
from nciss_platform.incidents.views import answers_from_facts
from nciss_platform.pages import LANGUAGE_CODES, reader_language, render_page
from nciss_platform.scales import services as scales

FACILITATOR_MOVES = ("start", "pause", "resume", "end", "advance", "push", "hold", "release")


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _facilitated(request: HttpRequest, pk: int) -> ExerciseRun:
    run = get_object_or_404(ExerciseRun, pk=pk)
    if not services.can_facilitate(request.user, run):
        raise PermissionDenied(_("Only the exercise's facilitators may open this page."))
    return run


def _played(request: HttpRequest, pk: int) -> tuple[ExerciseRun, str]:
    """The run and the reader's team in it; 404 for anyone who does not play it."""
    run = get_object_or_404(ExerciseRun, pk=pk)
    team = services.team_of(request.user, run)
    if team is None:
        raise Http404
    return run, team


def _seen(request: HttpRequest, pk: int) -> tuple[ExerciseRun, str, bool]:
    """The run, the team whose view to show, and whether the reader plays it.

    A player sees their own team's view; a facilitator any team's (``?team=ID``), read-only.
    """
    run = get_object_or_404(ExerciseRun, pk=pk)
    team = services.team_of(request.user, run)
    asked = request.GET.get("team", "")
    if asked and asked != team and services.can_facilitate(request.user, run):
        if asked not in services.scenario_of(run.source).teams:
            raise Http404
        return run, asked, False
    if team is None:
        raise Http404
    return run, team, True


def _with_badges(value: Any) -> Any:
    """Give every level in engine data what ``scales/_badge.html`` shows beside its colour: ink and bars."""
    if isinstance(value, dict):
        if {"colour", "rank", "top"} <= value.keys():
            value["ink"] = scales.ink_for(value["colour"])
            value["meter"] = "▰" * value["rank"] + "▱" * (value["top"] - value["rank"])
        for child in value.values():
            _with_badges(child)
    elif isinstance(value, list):
        for child in value:
            _with_badges(child)
    return value


def _errors(error: ScenarioError) -> list[str]:
    return [f"{path}: {reason}" for path, reason in error.errors]


# ---------------------------------------------------------------- the list of runs


@login_required
@require_http_methods(["GET", "POST"])
def run_list(request: HttpRequest) -> HttpResponse:
    """Runs the reader leads or plays; facilitators start a new one from a shipped or uploaded scenario."""
    user = _user(request)
    facilitator = services.can_facilitate(user)
    if request.method == "POST":
        if not facilitator:
            raise PermissionDenied(_("Only coordinators and administrators may start an exercise."))
        upload = request.FILES.get("scenario_file")
        source = (
            upload.read().decode("utf-8", "replace")
            if upload
            else services.shipped().get(request.POST.get("shipped", ""), "")
        )
        if not source:
            return _list_page(request, [_("Choose a shipped scenario or upload a scenario file.")], status=400)
        try:
            run = services.create_run(user, source)
        except ScenarioError as e:
            return _list_page(request, _errors(e), status=400)
        messages.success(request, _("EXERCISE: run of %(scenario)s created.") % {"scenario": run.scenario_id})
        return redirect("exercises:console", pk=run.pk)
    return _list_page(request, [])


def _list_page(request: HttpRequest, errors: list[str], status: int = 200) -> HttpResponse:
    user = _user(request)
    facilitator = services.can_facilitate(user)
    runs = ExerciseRun.objects.all() if facilitator else ExerciseRun.objects.filter(participants__user=user)
    played = services.played_runs(user)
    rows = [{"run": run, "team": played.get(run.pk), "clock": exercise_clock(run.minute)} for run in runs[:100]]
    context = {"rows": rows, "facilitator": facilitator, "shipped": sorted(services.shipped()), "errors": errors}
    return render_page(request, "exercises/list.html", context, status=status)


# ---------------------------------------------------------------- the facilitator's console


def _console_context(run: ExerciseRun, exercise: Exercise, lang: str) -> dict[str, Any]:
    report = after_action_report(exercise, lang=lang, now=clock.now())
    aar = _with_badges(report.context["aar"])
    sc = exercise.scenario
    teams = [(team_id, team.name.get_for(lang)) for team_id, team in sc.teams.items()]
    levels = []
    for incident in aar["incidents"]:
        by_team = {row["team_id"]: row for row in incident["teams"]}
        levels.append({"title": incident["title"], "cells": [by_team.get(team_id) for team_id, _name in teams]})
    injects = [
        {
            "id": inject.id,
            "title": inject.title.get_for(lang),
            "at": exercise_clock(inject.at),
            "to": ", ".join(sc.teams[t].name.get_for(lang) for t in inject.to),
            "status": exercise.inject_status[inject.id],
            "branch": inject.when is not None,
        }
        for inject in sc.injects
    ]
    return {
        "run": run,
        "phase": exercise.phase,
        "clock": exercise_clock(exercise.minute),
        "aar": aar,
        "teams": teams,
        "levels": levels,
        "injects": injects,
        "escalation_max": sc.escalation_max,
        "escalation_chart": report.context["escalation_chart"],
        "recent": list(reversed(aar["timeline"]))[:20],
        "participants": [
            {"username": p.user.get_username(), "team": sc.teams[p.team].name.get_for(lang)}
            for p in run.participants.select_related("user")
        ],
    }


@login_required
@require_GET
def console(request: HttpRequest, pk: int) -> HttpResponse:
    run = _facilitated(request, pk)
    lang = reader_language(request)
    return render_page(request, "exercises/console.html", _console_context(run, services.exercise_of(run), lang))


@login_required
@require_GET
def console_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The console's live part, for HTMX polling."""
    run = _facilitated(request, pk)
    lang = reader_language(request)
    return render_page(request, "exercises/_console.html", _console_context(run, services.exercise_of(run), lang))


@login_required
@require_POST
def control(request: HttpRequest, pk: int) -> HttpResponse:
    """One facilitator move: start, pause, resume, end, advance the clock, push, hold or release an inject."""
    run = _facilitated(request, pk)
    do = request.POST.get("do", "")
    event: dict[str, Any] = {"by": FACILITATOR, "do": do}
    errors: list[str] = []
    if do not in FACILITATOR_MOVES:
        errors.append(_("Unknown move: %(do)s") % {"do": do})
    elif do == "advance":
        try:
            event["minutes"] = int(request.POST.get("minutes", ""))
        except ValueError:
            errors.append(_("Advance the clock by a whole number of minutes."))
    elif do in ("push", "hold", "release"):
        event["inject"] = request.POST.get("inject", "")
    return _take(request, run, event, errors, "exercises:console", "exercises/console.html")


@login_required
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Put a user in one of the run's teams."""
    run = _facilitated(request, pk)
    username, team = request.POST.get("username", "").strip(), request.POST.get("team", "")
    player = User.objects.filter(username=username, is_active=True).first()
    errors = [] if player else [_("No active user %(username)s.") % {"username": username}]
    if player:
        try:
            services.assign(_user(request), run, player, team)
        except ExerciseError as e:
            errors = _errors(e)
    if errors:
        return _console_with_errors(request, run, errors)
    messages.success(request, _("EXERCISE: %(username)s plays %(team)s.") % {"username": username, "team": team})
    return redirect("exercises:console", pk=run.pk)


def _console_with_errors(request: HttpRequest, run: ExerciseRun, errors: list[str]) -> HttpResponse:
    context = _console_context(run, services.exercise_of(run), reader_language(request))
    return render_page(request, "exercises/console.html", {**context, "errors": errors}, status=400)


def _take(
    request: HttpRequest, run: ExerciseRun, event: dict[str, Any], errors: list[str], back: str, page: str
) -> HttpResponse:
    """Take ``event`` unless the form was already wrong; the page again with the reasons (400) if refused."""
    if not errors:
        try:
            services.take(run, _user(request), event)
        except ExerciseError as e:
            errors = _errors(e)
    if not errors:
        return redirect(f"{reverse(back, args=[run.pk])}?{request.GET.urlencode()}")
    if page == "exercises/console.html":
        return _console_with_errors(request, run, errors)
    return _team_page(request, run, event["by"], "exercises/team.html", errors, status=400)


# ---------------------------------------------------------------- a team's view


def _team_lang(request: HttpRequest, run: ExerciseRun, team: str) -> str:
    """The page's language: asked for with ``?lang=``, else the team's own (the scenario's)."""
    asked = request.GET.get("lang", "")
    return asked if asked in LANGUAGE_CODES else services.scenario_of(run.source).teams[team].language


def _team_page(
    request: HttpRequest,
    run: ExerciseRun,
    team: str,
    template: str,
    errors: list[str] | None = None,
    status: int = 200,
    *,
    plays: bool = True,
) -> HttpResponse:
    exercise = services.exercise_of(run)
    lang = _team_lang(request, run, team)
    sc = exercise.scenario
    with translation.override(lang):
        view = _with_badges(team_view(exercise, team, lang))
        report = after_action_report(exercise, lang=lang, now=clock.now())
        entries = list(reversed(_with_badges(report.context["aar"]["per_team"][team]["entries"])))
        known = exercise.views[team]
        chosen = request.GET.get("incident", "")
        chosen = chosen if chosen in known else next(iter(known), "")
        questions, facts = [], []
        if chosen:
            facts = display.fact_rows({**known[chosen].known, **known[chosen].choices}, lang)
            reads = set(facts_read(sc.team_scale(team)))
            answers = answers_from_facts({**known[chosen].known, **known[chosen].choices})
            for group in scales.questionnaire(sc.team_scale(team), answers, lang):
                questions += [q for q in group.questions if q.fact in reads]
        context = {
            "run": run,
            "team": team,
            "view": view,
            "entries": entries[:30],
            "chosen": chosen,
            "questions": questions,
            "facts": facts,
            "others": [(t, other.name.get_for(lang)) for t, other in sc.teams.items() if t != team],
            "states": [(s, state.name.get_for(lang)) for s, state in sc.states.items() if s != sc.teams[team].state],
            "escalation_max": sc.escalation_max,
            "query": request.GET.urlencode(),
            "languages": LANGUAGE_CODES,
            "lang": lang,
            "errors": errors or [],
            "plays": plays,
        }
        return render(request, template, context, status=status)


@login_required
@require_GET
def team_page(request: HttpRequest, pk: int) -> HttpResponse:
    run, team, plays = _seen(request, pk)
    return _team_page(request, run, team, "exercises/team.html", plays=plays)


@login_required
@require_GET
def team_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The team view's live part, for HTMX polling."""
    run, team, plays = _seen(request, pk)
    return _team_page(request, run, team, "exercises/_team.html", plays=plays)


@login_required
@require_POST
def team_act(request: HttpRequest, pk: int) -> HttpResponse:
    """One team move: assess an incident, notify or share it with another team, or an action of the menu."""
    run, team = _played(request, pk)
    post = request.POST
    do = post.get("do", "")
    event: dict[str, Any] = {"by": team, "do": do}
    if post.get("incident"):
        event["incident"] = post["incident"]
    if do == "assess":
        scale = services.scenario_of(run.source).team_scale(team)
        answers = {name: post.getlist(name) for name in facts_read(scale)}
        event["facts"] = scales.facts_from_answers(answers)
    elif do in ("notify", "share"):
        event["to"] = post.get("to", "")
        event["facts"] = do == "notify" or post.get("with_facts") == "yes"
    else:
        event["do"] = post.get("action", "")
        if post.get("with"):
            event["with"] = post["with"]
        if post.get("note", "").strip():
            event["note"] = post["note"].strip()
    return _take(request, run, event, [], "exercises:team", "exercises/team.html")


# ---------------------------------------------------------------- the after-action report


@login_required
@require_GET
def report(request: HttpRequest, pk: int, fmt: str = "html") -> HttpResponse:
    """The after-action report as it stands, HTML or PDF, marked EXERCISE; for facilitators and players."""
    run = get_object_or_404(ExerciseRun, pk=pk)
    if not services.can_facilitate(request.user, run) and services.team_of(request.user, run) is None:
        raise Http404
    lang = reader_language(request)
    document = after_action_report(services.exercise_of(run), lang=lang, now=clock.now())
    if fmt == "pdf":
        response = HttpResponse(document.pdf().data, content_type="application/pdf")
    else:
        response = HttpResponse(document.html(), content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{document.filename}.{fmt}"'
    return response
