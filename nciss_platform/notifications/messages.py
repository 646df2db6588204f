"""Notification messages in the recipient's language (en, ru, uz), and what each TLP lets them say.

What a message may carry depends on the incident's TLP and on where the contact is:

| TLP | who is told | what they are told |
|---|---|---|
| CLEAR, GREEN | every contact a rule names | the summary, with the title |
| AMBER | every contact a rule names | the summary; the title only at home |
| AMBER+STRICT | contacts at home only | the summary without the title |
| RED | the national CSIRT's own contacts only | the reference, the level and a link |

The summary is what the CSIRT itself knows in its own words: level, type, sector, entity
criticality, countries affected, and the affected organisations (abroad only when the reporter
agreed to be named). The reporter's description is never sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import nciss
from nciss.facts import fact_specs
from nciss.texts import Text
from nciss_platform.incidents.display import classification_text, time_text
from nciss_platform.incidents.models import TLP, Incident
from nciss_platform.notifications.models import Contact

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "subject": "[{tlp}] {reference}: {what}",
        "reported": "new incident, level {level}",
        "level_raised": "level raised from {previous} to {level}",
        "reassessed": "incident now concerns you, level {level}",
        "target_breached": "response target missed: {name}, level {level}",
        "deadline_breached": "reporting deadline missed: {name}, level {level}",
        "regime_reminder": "reporting deadline {name} due {due}",
        "unacknowledged": "escalated: not acknowledged in time, level {level}",
        "greeting": "Dear {name},",
        "intro": "the national CSIRT informs you about incident {reference}.",
        "title": "Title",
        "level": "Level",
        "type": "Type",
        "sector": "Sector",
        "criticality": "Entity criticality",
        "countries": "Other countries affected",
        "organisations": "Affected organisations",
        "reported_at": "Reported",
        "why": "Why you receive this: routing rule “{rule}”.",
        "ack": "Please acknowledge receipt: {url}",
        "open": "Details for platform users: {url}",
        "red": "TLP:RED: for the named recipients only. The details are on the platform.",
        "unknown": "not known yet",
        "none": "none",
        "signature": "CERT, national CSIRT (automatic message: replies are not read)",
    },
    "ru": {
        "subject": "[{tlp}] {reference}: {what}",
        "reported": "новый инцидент, уровень {level}",
        "level_raised": "уровень повышен: {previous} → {level}",
        "reassessed": "инцидент теперь касается вас, уровень {level}",
        "target_breached": "срок реагирования пропущен: {name}, уровень {level}",
        "deadline_breached": "срок отчёта пропущен: {name}, уровень {level}",
        "regime_reminder": "срок отчёта «{name}»: {due}",
        "unacknowledged": "эскалация: получение не подтверждено вовремя, уровень {level}",
        "greeting": "Здравствуйте, {name}!",
        "intro": "национальный CSIRT сообщает вам об инциденте {reference}.",
        "title": "Название",
        "level": "Уровень",
        "type": "Тип",
        "sector": "Сектор",
        "criticality": "Критичность организации",
        "countries": "Затронуты другие страны",
        "organisations": "Пострадавшие организации",
        "reported_at": "Сообщено",
        "why": "Почему вы получили это сообщение: правило маршрутизации «{rule}».",
        "ack": "Пожалуйста, подтвердите получение: {url}",
        "open": "Подробности для пользователей платформы: {url}",
        "red": "TLP:RED: только для названных получателей. Подробности на платформе.",
        "unknown": "пока неизвестно",
        "none": "нет",
        "signature": "CERT, национальный CSIRT (автоматическое сообщение: ответы не читаются)",
    },
    "uz": {
        "subject": "[{tlp}] {reference}: {what}",
        "reported": "yangi intsident, daraja {level}",
        "level_raised": "daraja koʻtarildi: {previous} → {level}",
        "reassessed": "intsident endi sizga tegishli, daraja {level}",
        "target_breached": "javob berish muddati oʻtkazib yuborildi: {name}, daraja {level}",
        "deadline_breached": "hisobot muddati oʻtkazib yuborildi: {name}, daraja {level}",
        "regime_reminder": "“{name}” hisoboti muddati: {due}",
        "unacknowledged": "eskalatsiya: qabul qilish oʻz vaqtida tasdiqlanmadi, daraja {level}",
        "greeting": "Hurmatli {name},",
        "intro": "milliy CSIRT sizga {reference} intsidenti haqida xabar beradi.",
        "title": "Nomi",
        "level": "Daraja",
        "type": "Turi",
        "sector": "Soha",
        "criticality": "Tashkilotning muhimligi",
        "countries": "Zarar koʻrgan boshqa davlatlar",
        "organisations": "Zarar koʻrgan tashkilotlar",
        "reported_at": "Xabar qilingan",
        "why": "Nima uchun bu xabarni oldingiz: “{rule}” yoʻnaltirish qoidasi.",
        "ack": "Iltimos, qabul qilganingizni tasdiqlang: {url}",
        "open": "Platforma foydalanuvchilari uchun tafsilotlar: {url}",
        "red": "TLP:RED: faqat nomlangan qabul qiluvchilar uchun. Tafsilotlar platformada.",
        "unknown": "hali nomaʼlum",
        "none": "yoʻq",
        "signature": "CERT, milliy CSIRT (avtomatik xabar: javoblar oʻqilmaydi)",
    },
}


def withheld_reason(incident: Incident, contact: Contact) -> str:
    """Why the TLP forbids telling ``contact`` about ``incident``; empty when it may be told."""
    if incident.tlp == TLP.RED and not contact.is_csirt_internal:
        return "TLP:RED: only the national CSIRT's own contacts are told"
    if incident.tlp == TLP.AMBER_STRICT and contact.organisation.is_foreign:
        return "TLP:AMBER+STRICT: nobody abroad is told"
    return ""


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    payload: dict[str, Any]


def render(
    *,
    incident: Incident,
    event_kind: str,
    level: int,
    previous_level: int | None,
    detail: Mapping[str, Any],
    contact: Contact,
    rule_name: str,
    ack_url: str,
    incident_url: str,
    key: str,
    scale: nciss.Scale,
) -> Message:
    """The message telling ``contact`` about one event of ``incident``, in the contact's language."""
    lang = contact.language if contact.language in TEXTS else "en"
    t = TEXTS[lang]
    facts = incident.facts
    foreign = contact.organisation.is_foreign
    red = incident.tlp == TLP.RED

    def level_name(rank: int) -> str:
        return f"{scale.levels[min(rank, scale.top)].name.get_for(lang)} ({rank})"

    regulatory = event_kind == "target_breached" and not str(detail.get("clock", "")).startswith("response:")
    what = t["deadline_breached" if regulatory else event_kind].format(
        level=level_name(level),
        previous=level_name(previous_level) if previous_level is not None else "",
        name=Text(detail.get("name")).get_for(lang),
        due=time_text(str(detail.get("due", ""))),
    )
    subject = t["subject"].format(tlp=incident.tlp, reference=incident.reference, what=what)
    summary: list[tuple[str, str]] = [(t["level"], level_name(level))]
    title = incident.tlp in (TLP.CLEAR, TLP.GREEN) or (incident.tlp == TLP.AMBER and not foreign)
    organisations: list[str] = []
    if not red:
        if title:
            summary.insert(0, (t["title"], incident.title))
        summary += [
            (t["type"], classification_text(incident.classification) or t["unknown"]),
            (t["sector"], _value("sector", facts, lang) or t["unknown"]),
            (t["criticality"], _value("entity_criticality", facts, lang) or t["unknown"]),
            (t["countries"], ", ".join(facts.get("countries_affected", [])) or t["none"]),
        ]
        if not foreign or incident.reporter_may_be_named:
            organisations = sorted(o.name for o in incident.affected_organisations.all())
            summary.append((t["organisations"], ", ".join(organisations) or t["unknown"]))
        summary.append((t["reported_at"], time_text(incident.reported_at.isoformat())))
    lines = [t["greeting"].format(name=contact.name), "", t["intro"].format(reference=incident.reference), ""]
    lines += [f"{label}: {value}" for label, value in summary]
    lines += ["", incident.tlp, *([t["red"]] if red else [])]
    lines += ["", t["why"].format(rule=rule_name), "", t["ack"].format(url=ack_url), t["open"].format(url=incident_url)]
    lines += ["", "-- ", t["signature"]]
    payload: dict[str, Any] = {
        "type": "nciss.notification",
        "id": key,
        "event": event_kind,
        "language": lang,
        "subject": subject,
        "text": "\n".join(lines),
        "incident": {
            "reference": incident.reference,
            "tlp": incident.tlp,
            "level": {"rank": level, "name": scale.levels[min(level, scale.top)].name.get_for(lang)},
            "previous_level": previous_level,
            "url": incident_url,
        },
        "rule": rule_name,
        "acknowledge_url": ack_url,
    }
    if not red:
        payload["incident"].update(
            {
                "title": incident.title if title else None,
                "classification": incident.classification or None,
                "sector": facts.get("sector"),
                "entity_criticality": facts.get("entity_criticality"),
                "countries_affected": facts.get("countries_affected", []),
                "organisations": organisations,
            }
        )
    return Message(subject=subject, text="\n".join(lines), payload=payload)


def _value(fact: str, facts: Mapping[str, Any], lang: str) -> str:
    value = facts.get(fact)
    if value is None:
        return ""
    label = fact_specs()[fact].value_labels.get(str(value))
    return label.get_for(lang) if label else str(value)
