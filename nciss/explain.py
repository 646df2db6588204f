"""Human-readable explanations of assessments, in English, Russian and Uzbek."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nciss.facts import fact_specs
from nciss.taxonomy import rsit_labels

if TYPE_CHECKING:
    from nciss.engine import Assessment

_TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "level": "{level} (level {rank} of 0-{top}) on {scale} {version}.",
        "score": "Score {score:.1f} of 100.",
        "largest": "Largest contributions: {items}.",
        "rules": "Rules that apply: {items}.",
        "floor": "{name} (at least {level})",
        "ceiling": "{name} (at most {level})",
        "set": "{name} (sets {level})",
        "could": "Could be up to {level} if {facts} turn out worse.",
        "could_none": "Could be up to {level} depending on facts not known yet.",
        "settled": "The unknown facts cannot change the level.",
        "complete": "Every fact this scale reads is known.",
        "classified": "Classified as {label}.",
        "and": " or ",
        "assumed": "Assumed, not reported: {items}.",
    },
    "ru": {
        "level": "{level} (уровень {rank} из 0-{top}) по шкале {scale} {version}.",
        "score": "Оценка {score:.1f} из 100.",
        "largest": "Наибольший вклад: {items}.",
        "rules": "Применённые правила: {items}.",
        "floor": "{name} (не ниже «{level}»)",
        "ceiling": "{name} (не выше «{level}»)",
        "set": "{name} (устанавливает «{level}»)",
        "could": "Может подняться до «{level}», если {facts} окажутся хуже.",
        "could_none": "Может подняться до «{level}» в зависимости от ещё неизвестных фактов.",
        "settled": "Неизвестные факты не могут изменить уровень.",
        "complete": "Все факты, используемые шкалой, известны.",
        "classified": "Классификация: {label}.",
        "and": " или ",
        "assumed": "Принято по умолчанию, не сообщено: {items}.",
    },
    "uz": {
        "level": "{level} ({scale} {version} shkalasi bo'yicha 0-{top} dan {rank}-daraja).",
        "score": "Ball: 100 dan {score:.1f}.",
        "largest": "Eng katta hissa: {items}.",
        "rules": "Qo'llangan qoidalar: {items}.",
        "floor": "{name} (kamida «{level}»)",
        "ceiling": "{name} (ko'pi bilan «{level}»)",
        "set": "{name} («{level}» ni belgilaydi)",
        "could": "Agar {facts} yomonroq bo'lib chiqsa, «{level}» gacha ko'tarilishi mumkin.",
        "could_none": "Hali noma'lum faktlarga qarab «{level}» gacha ko'tarilishi mumkin.",
        "settled": "Noma'lum faktlar darajani o'zgartira olmaydi.",
        "complete": "Shkala o'qiydigan barcha faktlar ma'lum.",
        "classified": "Tasnif: {label}.",
        "and": " yoki ",
        "assumed": "Xabar qilinmagan, taxmin qilingan: {items}.",
    },
}


def _value_label(fact: str, value: Any, lang: str) -> str:
    spec = fact_specs()[fact]
    label = spec.value_labels.get(value) if isinstance(value, str) else None
    if label:
        return label.get_for(lang)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def explain(a: Assessment) -> str:
    """The assessment in a few sentences, in the assessment's language."""
    lang = a.lang
    t = _TEMPLATES.get(lang, _TEMPLATES["en"])
    scale = a.scale
    levels = scale.levels

    def level_name(rank: int) -> str:
        return levels[rank].name.get_for(lang)

    parts = [
        t["level"].format(
            level=level_name(a.rank), rank=a.rank, top=scale.top, scale=scale.name.get_for(lang), version=scale.version
        )
    ]
    if a.score is not None:
        parts.append(t["score"].format(score=a.score))
        known = sorted(
            (c for c in a.contributions if c["known"] and c["contribution"] > 0), key=lambda c: -c["contribution"]
        )[:3]
        if known:
            items = ", ".join(
                f"{c['name']}: {_value_label(c['fact'], c['value'], lang)} (+{c['contribution']:.1f})" for c in known
            )
            parts.append(t["largest"].format(items=items))
    if a.rules_fired:
        items = ", ".join(
            t[{"level": "set"}.get(r["effect"], r["effect"])].format(name=r["name"], level=level_name(r["level"]))
            for r in a.rules_fired
        )
        parts.append(t["rules"].format(items=items))
    if a.reachable_max > a.rank:
        if a.decisive_unknowns:
            facts = t["and"].join(fact_specs()[f].label.get_for(lang).lower() for f in a.decisive_unknowns)
            parts.append(t["could"].format(level=level_name(a.reachable_max), facts=facts))
        else:
            parts.append(t["could_none"].format(level=level_name(a.reachable_max)))
    elif a.unknown:
        parts.append(t["settled"])
    else:
        parts.append(t["complete"])
    if a.assumed:
        items = ", ".join(
            f"{fact_specs()[f].label.get_for(lang).lower()}: {_value_label(f, a.facts[f], lang)}" for f in a.assumed
        )
        parts.append(t["assumed"].format(items=items))
    if a.classification:
        parts.append(t["classified"].format(label=rsit_labels().get(a.classification, a.classification)))
    return " ".join(parts)
