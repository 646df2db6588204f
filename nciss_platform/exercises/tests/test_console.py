"""The facilitator's console and the team views, through the pages (Django's test client)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from nciss.exercises import Exercise, load_script, run_script
from nciss_platform.accounts.models import Organisation, User
from nciss_platform.exercises import services
from nciss_platform.exercises.models import ExerciseRun, RunEvent
from nciss_platform.exercises.tests.conftest import SCRIPTS, new_run, play

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_2fa")]


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def control(client: Client, run: ExerciseRun, **data: Any) -> Any:
    return client.post(reverse("exercises:control", args=[run.pk]), data)


def act(client: Client, run: ExerciseRun, query: str = "", **data: Any) -> Any:
    return client.post(reverse("exercises:team-act", args=[run.pk]) + query, data)


def test_a_coordinator_starts_a_run_of_a_shipped_scenario_and_a_bad_upload_is_refused_with_its_reasons(
    coordinator: User,
) -> None:
    client = client_of(coordinator)
    created = client.post(reverse("exercises:list"), {"shipped": "cross-border-grid"})
    made = ExerciseRun.objects.get()
    assert created.status_code == 302 and created["Location"] == reverse("exercises:console", args=[made.pk])
    assert made.scenario_id == "cross-border-grid" and made.phase == "ready" and made.facilitator == coordinator

    bad = SimpleUploadedFile("mine.yaml", b"id: mine\nversion: '1'\n", content_type="application/yaml")
    refused = client.post(reverse("exercises:list"), {"scenario_file": bad})
    assert refused.status_code == 400
    assert "injects: required" in refused.content.decode()
    assert ExerciseRun.objects.count() == 1


def test_only_coordinators_administrators_and_the_runs_facilitator_lead_an_exercise(
    run: ExerciseRun, analyst: User
) -> None:
    stranger = client_of(analyst)
    assert stranger.post(reverse("exercises:list"), {"shipped": "cross-border-grid"}).status_code == 403
    assert stranger.get(reverse("exercises:console", args=[run.pk])).status_code == 403
    assert control(stranger, run, do="start").status_code == 403
    assert stranger.get(reverse("exercises:team", args=[run.pk])).status_code == 404
    assert "No exercise runs for you." in stranger.get(reverse("exercises:list")).content.decode()
    run.refresh_from_db()
    assert run.phase == "ready"

    analyst.role = User.Role.REPORTER
    analyst.save()
    run.facilitator = analyst
    run.save()
    assert client_of(analyst).get(reverse("exercises:console", args=[run.pk])).status_code == 200


def test_the_facilitator_runs_the_clock_and_the_injects_and_the_console_shows_them(
    run: ExerciseRun, coordinator: User
) -> None:
    client = client_of(coordinator)
    assert control(client, run, do="advance", minutes="10").status_code == 400  # not started yet
    assert control(client, run, do="hold", inject="clinic-encrypted").status_code == 302
    assert control(client, run, do="start").status_code == 302
    advanced = control(client, run, do="advance", minutes="30")
    assert advanced.status_code == 302

    page = client.get(reverse("exercises:console-live", args=[run.pk])).content.decode()
    assert re.search(r'id="clock">T\+0:30<', page)
    assert 'data-inject="hospital-encrypted" data-status="delivered"' in page
    assert 'data-inject="clinic-encrypted" data-status="held"' in page
    assert control(client, run, do="push", inject="clinic-encrypted").status_code == 302
    page = client.get(reverse("exercises:console-live", args=[run.pk])).content.decode()
    assert 'data-inject="clinic-encrypted" data-status="delivered"' in page

    refused = control(client, run, do="advance", minutes="soon")
    assert refused.status_code == 400 and "whole number of minutes" in refused.content.decode()
    again = control(client, run, do="push", inject="clinic-encrypted")
    assert again.status_code == 400 and "cannot push clinic-encrypted: it is delivered" in again.content.decode()
    assert control(client, run, do="pause").status_code == 302
    run.refresh_from_db()
    assert (run.phase, run.minute, run.events.count()) == ("paused", 30, 5)


def test_a_player_sees_only_their_teams_view_of_their_run(
    run: ExerciseRun, players: dict[str, User], coordinator: User
) -> None:
    other_run = new_run(coordinator, "cross-border-grid")
    veskaria = client_of(players["veskaria-cda"])
    services.take(run, coordinator, {"do": "start"})

    page = veskaria.get(reverse("exercises:team", args=[run.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Агентство киберобороны Вескарии" in text  # the team's own language: Russian
    assert '<html lang="ru">' in text
    assert 'data-inject="hospital-encrypted"' not in text  # sent to Aralia's teams only
    assert veskaria.get(reverse("exercises:team", args=[other_run.pk])).status_code == 404
    assert veskaria.get(reverse("exercises:console", args=[run.pk])).status_code == 403
    assert veskaria.get(reverse("exercises:report-html", args=[other_run.pk])).status_code == 404

    english = veskaria.get(reverse("exercises:team", args=[run.pk]), {"lang": "en"}).content.decode()
    assert "Veskaria Cyber Defence Agency" in english and '<html lang="en">' in english


def test_a_team_assesses_shares_and_takes_a_cbm_and_the_console_shows_levels_and_the_action(
    run: ExerciseRun, players: dict[str, User], coordinator: User
) -> None:
    services.take(run, coordinator, {"do": "start"})
    aralia = client_of(players["aralia-csirt"])
    page = aralia.get(reverse("exercises:team", args=[run.pk]), {"lang": "en"}).content.decode()
    assert 'name="functional_impact"' in page  # a fact the OSCE reference scale reads, prefilled from the inject
    assert re.search(r'value="significant-critical" selected', page)
    assert '<dd data-fact="records_affected">' not in page  # not revealed to Aralia yet

    assessed = act(
        aralia, run, "?lang=en", do="assess", incident="hospital-ransomware", functional_impact="significant-critical"
    )
    assert assessed.status_code == 302 and assessed["Location"].endswith("?lang=en")
    shared = act(aralia, run, do="share", incident="hospital-ransomware", to="borealia-csirt")  # without facts
    assert shared.status_code == 302
    cbm = act(aralia, run, do="action", action="cbm-15", **{"with": "borealia-csirt"}, incident="hospital-ransomware")
    assert cbm.status_code == 302
    refused = act(aralia, run, do="action", action="cbm-99")
    assert refused.status_code == 400 and "unknown action" in refused.content.decode()

    exercise = services.exercise_of(run)
    aralia_rank = exercise.views["aralia-csirt"]["hospital-ransomware"].rank
    borealia_rank = exercise.views["borealia-csirt"]["hospital-ransomware"].rank
    assert aralia_rank is not None and borealia_rank is not None
    sc = exercise.scenario
    console = client_of(coordinator).get(reverse("exercises:console", args=[run.pk])).content.decode()
    levels = console.split('id="levels"')[1].split("</table>")[0]
    assert sc.team_scale("aralia-csirt").levels[aralia_rank].name.get_for("en") in levels
    assert sc.team_scale("borealia-csirt").levels[borealia_rank].name.get_for("en") in levels  # on its own scale
    actions = console.split('id="actions"')[1].split("</ul>")[0]
    assert 'data-action="cbm-15"' in actions and "Aralia national CSIRT" in actions

    services.take(run, coordinator, {"do": "advance", "minutes": 45})  # the leak is published
    page = aralia.get(reverse("exercises:team", args=[run.pk]), {"lang": "en"}).content.decode()
    assert '<dd data-fact="records_affected">40\u202f000</dd>' in page  # revealed, in words

    borealia = client_of(players["borealia-csirt"]).get(reverse("exercises:team", args=[run.pk])).content.decode()
    received = borealia.split('id="team-incidents"')[1].split("</table>")[0]
    assert sc.team_scale("borealia-csirt").levels[borealia_rank].name.get_for("en") in received


def test_a_run_replays_to_what_the_engine_plays_from_the_same_script(
    run: ExerciseRun, players: dict[str, User], coordinator: User
) -> None:
    play(run, coordinator, players, "hospital-ransomware")
    scenario = services.scenario_of(run.source)
    expected = run_script(scenario, load_script(SCRIPTS["hospital-ransomware"], scenario))
    replayed = services.exercise_of(run)
    assert isinstance(replayed, Exercise)
    assert replayed.state() == expected.state()
    assert run.phase == "ended" and RunEvent.objects.filter(run=run).count() == len(expected.events)


def test_every_exercise_page_and_download_says_exercise(
    run: ExerciseRun, players: dict[str, User], coordinator: User
) -> None:
    services.take(run, coordinator, {"do": "start"})
    facilitator, player = client_of(coordinator), client_of(players["aralia-csirt"])
    pages = [
        (facilitator, reverse("exercises:list")),
        (facilitator, reverse("exercises:console", args=[run.pk])),
        (player, reverse("exercises:list")),
        (player, reverse("exercises:team", args=[run.pk])),
    ]
    for client, url in pages:
        text = client.get(url).content.decode()
        assert 'id="exercise-banner"' in text and "<title>EXERCISE ·" in text, url
    for client, url in [
        (facilitator, reverse("exercises:console-live", args=[run.pk])),
        (player, reverse("exercises:team-live", args=[run.pk])),
    ]:
        assert "EXERCISE" in client.get(url).content.decode(), url  # the banner stays above the live part
    report = player.get(reverse("exercises:report-html", args=[run.pk]))
    assert report["Content-Disposition"].startswith('attachment; filename="exercise-hospital-ransomware')
    assert "EXERCISE" in report.content.decode()
    refused = facilitator.post(reverse("exercises:list"), {"shipped": "nothing"})
    assert refused.status_code == 400 and 'id="exercise-banner"' in refused.content.decode()
    created = facilitator.post(reverse("exercises:list"), {"shipped": "cross-border-grid"}, follow=True)
    assert "EXERCISE: run of cross-border-grid created." in created.content.decode()


def test_the_facilitator_assigns_players_to_teams_of_the_scenario_only(
    run: ExerciseRun, coordinator: User, csirt: Organisation
) -> None:
    client = client_of(coordinator)
    player = User.objects.create_user("player", role="analyst", organisation=csirt)
    assert (
        client.post(
            reverse("exercises:assign", args=[run.pk]), {"username": "player", "team": "veskaria-cda"}
        ).status_code
        == 302
    )
    assert services.team_of(player, run) == "veskaria-cda"
    wrong_team = client.post(reverse("exercises:assign", args=[run.pk]), {"username": "player", "team": "nowhere"})
    assert wrong_team.status_code == 400 and "no team &#x27;nowhere&#x27;" in wrong_team.content.decode()
    nobody = client.post(reverse("exercises:assign", args=[run.pk]), {"username": "ghost", "team": "veskaria-cda"})
    assert nobody.status_code == 400 and "No active user ghost." in nobody.content.decode()
    assert services.team_of(player, run) == "veskaria-cda"


def test_the_console_speaks_the_facilitators_language_and_keeps_exercise_in_english(
    run: ExerciseRun, coordinator: User
) -> None:
    coordinator.language = "ru"
    coordinator.save()
    page = client_of(coordinator).get(reverse("exercises:console", args=[run.pk])).content.decode()
    assert "Пульт ведущего" in page  # "Facilitator console"
    assert "<strong>EXERCISE</strong>" in page
    assert "Республика Аралия / Королевство Бореалия" in page  # the scenario's own words, in Russian


def test_the_facilitator_looks_at_any_teams_view_read_only_and_a_player_only_at_their_own(
    run: ExerciseRun, players: dict[str, User], coordinator: User
) -> None:
    services.take(run, coordinator, {"do": "start"})
    facilitator = client_of(coordinator)
    console = facilitator.get(reverse("exercises:console", args=[run.pk])).content.decode()
    team_url = reverse("exercises:team", args=[run.pk])
    assert f'href="{team_url}?team=aralia-health"' in console

    seen = facilitator.get(team_url, {"team": "aralia-health"}).content.decode()
    assert 'id="read-only"' in seen and 'data-inject="hospital-encrypted"' in seen
    assert 'id="action-form"' not in seen and 'id="assess-form"' not in seen
    assert facilitator.get(team_url, {"team": "nobody"}).status_code == 404
    assert act(facilitator, run, "?team=aralia-health", do="action", action="cbm-8").status_code == 404

    player = client_of(players["veskaria-cda"]).get(team_url, {"team": "aralia-health"}).content.decode()
    assert 'data-inject="hospital-encrypted"' not in player and 'id="action-form"' in player  # still their own


@pytest.mark.django_db
def test_the_menu_leads_players_to_their_exercise_until_it_ends(
    run: ExerciseRun, players: dict[str, User], coordinator: User, analyst: User
) -> None:
    exercises = reverse("exercises:list")
    player = next(iter(players.values()))
    assert f'href="{exercises}"' in client_of(player).get(reverse("home"), follow=True).content.decode()
    assert f'href="{exercises}"' not in client_of(analyst).get(reverse("home"), follow=True).content.decode()
    services.take(run, coordinator, {"do": "start"})
    services.take(run, coordinator, {"do": "end"})
    assert f'href="{exercises}"' not in client_of(player).get(reverse("home"), follow=True).content.decode()
