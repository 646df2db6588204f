"""In a real headless Chromium: a facilitator runs a short exercise and a team plays it, each page updating live."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.exercises import services
from nciss_platform.exercises.models import ExerciseRun

pytestmark = pytest.mark.browser


def test_a_facilitator_runs_the_clock_and_sees_a_teams_level_and_cbm_without_reloading(
    sign_in: Callable[[User | None], Page],
    live_server: object,
    transactional_db: None,
    coordinator: User,
    csirt: Organisation,
) -> None:
    player = User.objects.create_user("borealia-player", role="analyst", organisation=csirt)
    base_url = live_server.url  # type: ignore[attr-defined]

    facilitator = sign_in(coordinator)
    facilitator.goto(f"{base_url}/exercises/")
    expect(facilitator.locator("#exercise-banner")).to_contain_text("EXERCISE")
    facilitator.get_by_label("Shipped scenario").select_option("hospital-ransomware")
    facilitator.get_by_role("button", name="Create the run").click()
    expect(facilitator.get_by_role("heading", level=1)).to_contain_text("Facilitator console")
    run = ExerciseRun.objects.get()
    facilitator.get_by_label("Username").fill(player.username)
    facilitator.locator("#assign").get_by_label("Team").select_option("borealia-csirt")
    facilitator.get_by_role("button", name="Assign").click()
    expect(facilitator.locator("#participants")).to_contain_text("borealia-player: Borealia national CSIRT")
    facilitator.get_by_role("button", name="Start").click()
    expect(facilitator.locator("#phase")).to_have_text("running")

    team = sign_in(player)
    team.goto(f"{base_url}/exercises/{run.pk}/team/")
    expect(team.locator("#exercise-banner")).to_contain_text("EXERCISE")
    expect(team.locator("#inbox")).to_contain_text("Nothing yet")

    facilitator.get_by_label("Advance the clock by (minutes)").fill("20")
    facilitator.get_by_role("button", name="Advance", exact=True).click()
    expect(facilitator.locator("#clock")).to_have_text("T+0:20")
    expect(facilitator.locator('#injects tr[data-inject="clinic-encrypted"]')).to_have_attribute(
        "data-status", "delivered"
    )

    expect(team.locator("#inbox")).to_contain_text("The same ransomware at a Borealian clinic")  # without a reload
    team.reload()  # the forms appear with the first incident
    team.get_by_role("button", name="Record our assessment").click()
    expect(team.locator('#team-incidents tr[data-incident="clinic-ransomware"]')).to_contain_text("yes")
    team.get_by_label("Action", exact=True).select_option("cbm-15")
    team.locator("#action-with").select_option("aralia-csirt")
    team.get_by_role("button", name="Take the action").click()
    expect(team.locator("#team-log")).to_contain_text("Share incident classification")

    exercise = services.exercise_of(run)
    rank = exercise.views["borealia-csirt"]["clinic-ransomware"].rank
    assert rank is not None
    level = exercise.scenario.team_scale("borealia-csirt").levels[rank].name.get_for("en")
    borealia_cell = facilitator.locator('#levels td[data-team="borealia-csirt"]').first
    expect(borealia_cell).to_contain_text(level)  # the console caught up by itself
    expect(facilitator.locator('#actions li[data-action="cbm-15"]')).to_contain_text("Borealia national CSIRT")
