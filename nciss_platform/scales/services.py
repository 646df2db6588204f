"""The scales on offer and what a calculator's answers mean on each of them.

Thin over the core: the scales are ``nciss`` presets plus the deployment's national scale,
and every level, score and explanation comes from ``nciss.assess``. Services take plain
values (never a request) and return plain values for the templates and the API.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import nciss
from nciss.facts import FactSpec, fact_groups, fact_specs
from nciss.scales import Level, Scale
from nciss.taxonomy import rsit_labels, rsit_types
from nciss_platform.calibration import versions

DONT_KNOW = ""


def offered_scales() -> list[Scale]:
    """The national scale first, then every preset."""
    national = versions.national_scale()
    return [national, *(scale for scale in nciss.list_scales() if scale.id != national.id)]


def find_scale(scale_id: str) -> Scale:
    """An offered scale by id. Never a file path: API clients must not read the server's files."""
    scales = offered_scales()
    for scale in scales:
        if scale.id == scale_id:
            return scale
    known = ", ".join(scale.id for scale in scales)
    raise nciss.ScaleError([("scale", f"unknown scale {scale_id!r}: use one of {known}")])


def assess(scale_id: str, facts: Mapping[str, Any], lang: str = "en") -> nciss.Assessment:
    """Raises ``nciss.ScaleError`` for an unknown scale, ``nciss.FactsError`` for invalid facts."""
    return nciss.assess(find_scale(scale_id), dict(facts), lang=lang)


# ---------------------------------------------------------------- the calculator's questions


@dataclass(frozen=True)
class Question:
    """One fact as the calculator asks it: a control, its options, and the answer given so far."""

    fact: str
    text: str
    control: str  # select, yes-no, number, text, countries, checkboxes, datetime
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    answer: str = DONT_KNOW
    answers: tuple[str, ...] = ()  # for checkboxes
    step: str = "1"
    minimum: float = 0
    maximum: float | None = None
    help: str = ""  # what the chosen scale says about this fact


@dataclass(frozen=True)
class QuestionGroup:
    id: str
    title: str
    questions: list[Question]


def questionnaire(scale: Scale, answers: Mapping[str, Sequence[str]], lang: str) -> list[QuestionGroup]:
    """Every fact of the vocabulary, grouped, worded in ``lang``, with the scale's help texts."""
    helps = _category_helps(scale, lang)
    groups: dict[str, list[Question]] = {group: [] for group in fact_groups()}
    for spec in fact_specs().values():
        groups[spec.group].append(_question(spec, answers.get(spec.name, ()), lang, helps.get(spec.name, "")))
    titles = fact_groups()
    return [QuestionGroup(group, titles[group].get_for(lang), questions) for group, questions in groups.items()]


def _category_helps(scale: Scale, lang: str) -> dict[str, str]:
    helps: dict[str, str] = {}
    for category in scale.weighted.categories if scale.weighted else ():
        for fact in category.facts:
            helps.setdefault(fact, category.help.get_for(lang))
    return helps


def _question(spec: FactSpec, given: Sequence[str], lang: str, help_text: str) -> Question:
    answer = given[-1].strip() if given else DONT_KNOW
    common: dict[str, Any] = {
        "fact": spec.name,
        "text": spec.question.get_for(lang),
        "answer": answer,
        "help": help_text,
    }
    if spec.kind == "enum":
        options = [(value, _value_label(spec, value, lang)) for value in spec.values]
        return Question(control="select", options=options, **common)
    if spec.name == "classification":
        labels = rsit_labels()
        options = [(value, f"{labels[value.split(':')[0]]}: {labels[value]}") for value in rsit_types()]
        return Question(control="select", options=options, **common)
    if spec.kind == "bool":
        return Question(control="yes-no", **common)
    if spec.is_numeric:
        step = "1" if spec.kind == "int" else "any"
        return Question(control="number", step=step, minimum=spec.minimum, maximum=spec.maximum, **common)
    if spec.kind == "list" and spec.items == "sector":
        options = [
            (value, _value_label(fact_specs()["sector"], value, lang)) for value in fact_specs()["sector"].values
        ]
        return Question(control="checkboxes", options=options, answers=tuple(given), **common)
    if spec.kind == "list":
        return Question(control="countries", **common)
    if spec.kind == "datetime":
        return Question(control="datetime", **common)
    return Question(control="text", **common)


def _value_label(spec: FactSpec, value: str, lang: str) -> str:
    label = spec.value_labels.get(value)
    return label.get_for(lang) if label else value


# ---------------------------------------------------------------- answers to facts

_LIST_SEPARATORS = re.compile(r"[\s,;]+")


def facts_from_answers(answers: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The facts a calculator form states, typed; "don't know" answers are left out.

    Values that do not parse are passed on as given, so that the core's validation
    names the problem (``fatalities: expected a number``).
    """
    facts: dict[str, Any] = {}
    for name, spec in fact_specs().items():
        given = [value.strip() for value in answers.get(name, ()) if value.strip()]
        if not given:
            continue
        if spec.kind == "list":
            items = given if spec.items == "sector" else _LIST_SEPARATORS.split(" ".join(given))
            facts[name] = [item for item in items if item]
        else:
            facts[name] = _typed(spec, given[-1])
    return facts


def _typed(spec: FactSpec, text: str) -> Any:
    if spec.kind == "bool":
        return {"yes": True, "no": False}.get(text, text)
    if spec.is_numeric:
        for parse in (int, float):
            try:
                return parse(text)
            except ValueError:
                continue
        return text
    if spec.kind == "datetime" and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?", text):
        return f"{text}+00:00"  # the calculator asks for UTC
    return text


# ---------------------------------------------------------------- the verdicts


@dataclass(frozen=True)
class LevelView:
    rank: int
    top: int
    name: str
    colour: str
    ink: str  # the text colour that reads best on ``colour``
    meaning: str

    @property
    def meter(self) -> str:
        """The rank as filled and empty bars (▰▰▱▱▱): a shape beside the colour and the name."""
        return "▰" * self.rank + "▱" * (self.top - self.rank)


@dataclass(frozen=True)
class Verdict:
    """One scale's reading of the facts, ready for a template."""

    scale: Scale
    scale_name: str
    assessment: dict[str, Any] | None = None
    level: LevelView | None = None
    highest: LevelView | None = None  # the most severe level still reachable
    decisive: list[tuple[str, str]] = field(default_factory=list)  # (fact, label)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (fact label, reason)

    @property
    def settled(self) -> bool:
        return self.level is not None and self.highest is not None and self.level.rank == self.highest.rank


def verdicts(chosen: Scale, facts: Mapping[str, Any], lang: str) -> tuple[Verdict, list[Verdict]]:
    """The facts on the chosen scale, and on every other offered scale."""
    others = [scale for scale in offered_scales() if scale.id != chosen.id]
    return _verdict(chosen, facts, lang), [_verdict(scale, facts, lang) for scale in others]


def _verdict(scale: Scale, facts: Mapping[str, Any], lang: str) -> Verdict:
    name = scale.name.get_for(lang)
    try:
        result = nciss.assess(scale, dict(facts), lang=lang).to_dict()
    except nciss.FactsError as exc:
        return Verdict(scale, name, errors=[(_fact_label(path, lang), reason) for path, reason in exc.errors])
    labels = [(fact, _fact_label(fact, lang)) for fact in result["decisive_unknowns"]]
    reachable = result["reachable"]
    return Verdict(
        scale,
        name,
        assessment=result,
        level=level_view(scale, scale.levels[result["level"]["rank"]], lang),
        highest=level_view(scale, scale.levels[reachable["max"]], lang),
        decisive=labels,
    )


def level_view(scale: Scale, level: Level, lang: str) -> LevelView:
    return LevelView(
        level.rank,
        scale.top,
        level.name.get_for(lang),
        level.colour,
        ink_for(level.colour),
        level.meaning.get_for(lang),
    )


def _fact_label(fact: str, lang: str) -> str:
    spec = fact_specs().get(fact)
    return spec.label.get_for(lang) if spec else fact


def ink_for(colour: str) -> str:
    """Black or white, whichever contrasts more with the ``#rrggbb`` background (WCAG luminance)."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#ffffff"
