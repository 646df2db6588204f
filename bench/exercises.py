"""Exercises benchmark: scripted runs of the shipped scenarios, their after-action data and reports.

    .venv/bin/python bench/exercises.py [--runs 20] [--events 2000]

For each shipped scenario: loading it (scales included, cold), playing its script (the mean of
``--runs`` runs), the after-action data, and the report as HTML and as PDF (in Russian). Then a
long session: ``--events`` team assessments and shares on the grid scenario, timed per event
(each re-assesses levels and re-checks every pair of teams for divergence), and its replay.
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nciss_platform.settings")
    os.environ.setdefault("NCISS_DEBUG", "1")
    import django

    django.setup()
    from nciss.exercises import (
        SCENARIOS,
        Exercise,
        after_action,
        load_scenario,
        load_script,
        run_script,
        shipped_scenarios,
    )
    from nciss_platform import clock
    from nciss_platform.exercises.report import after_action_report

    for path in shipped_scenarios():
        started = time.perf_counter()
        scenario = load_scenario(path)
        loaded = time.perf_counter() - started
        steps = load_script(SCENARIOS / f"{scenario.id}.script.yaml", scenario)
        started = time.perf_counter()
        for _ in range(args.runs):
            exercise = run_script(scenario, steps)
        run = (time.perf_counter() - started) / args.runs
        started = time.perf_counter()
        after_action(exercise, "ru")
        data = time.perf_counter() - started
        report = after_action_report(exercise, lang="ru", now=clock.now())
        started = time.perf_counter()
        report.html()
        html = time.perf_counter() - started
        started = time.perf_counter()
        pdf = report.pdf()
        rendered = time.perf_counter() - started
        print(
            f"{scenario.id}: load {loaded * 1000:.0f} ms; script of {len(steps)} steps {run * 1000:.1f} ms "
            f"({len(exercise.timeline)} timeline entries); after-action data {data * 1000:.1f} ms; "
            f"HTML {html * 1000:.0f} ms; PDF {rendered:.1f} s ({pdf.pages} pages)",
            flush=True,
        )

    grid = load_scenario(SCENARIOS / "cross-border-grid.scenario.yaml")
    exercise = Exercise(grid)
    exercise.apply({"do": "start"})
    exercise.apply({"do": "advance", "to": 30})
    teams = ["aralia-csirt", "aralia-grid", "veskaria-cda", "veskaria-mfa"]
    choices = [{}, {"potential_impact": "severe"}, {"potential_impact": None}, {"actor": "apt"}, {"actor": None}]
    started = time.perf_counter()
    for i in range(args.events):
        team = teams[i % len(teams)]
        if i % 10 == 9:
            exercise.apply({"by": team, "do": "share", "incident": "grid-disruption", "to": teams[(i + 1) % 4]})
        else:
            exercise.apply({"by": team, "do": "assess", "incident": "grid-disruption", "facts": choices[i % 5]})
    played = time.perf_counter() - started
    started = time.perf_counter()
    Exercise.replay(grid, exercise.events)
    replayed = time.perf_counter() - started
    print(
        f"long session: {args.events} team events in {played:.2f} s ({args.events / played:.0f} events/s, "
        f"{len(exercise.divergences)} divergences); replay of {len(exercise.events)} events {replayed:.2f} s",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
