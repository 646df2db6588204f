"""The e-mails nciss writes to reporters, with their fixed text in the reporter's language (en, ru, uz).

A reply carries the analyst's words as written; around them, a greeting, who writes, the incident,
and how to answer. A notice tells a known sender that a message of theirs was not processed, and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.incidents.models import Incident

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Hello {name},",
        "incident": "Incident {reference} ({tlp}): {title}",
        "answer": "To answer, reply to this e-mail and keep [{reference}] in the subject: "
        "your answer joins the incident's timeline.",
        "open": "On the platform: {url}",
        "notice_subject": "Not processed: {subject}",
        "notice": "your e-mail “{subject}” was not added to the platform: {reason}.",
        "notice_kept": "It is kept, and the CSIRT can see it. Please send it again once corrected, "
        "or use the platform: {url}",
        "csirt": "the national CSIRT",
        "no_subject": "(no subject)",
    },
    "ru": {
        "greeting": "Здравствуйте, {name}!",
        "incident": "Инцидент {reference} ({tlp}): {title}",
        "answer": "Чтобы ответить, ответьте на это письмо, сохранив [{reference}] в теме: "
        "ваш ответ будет добавлен в хронологию инцидента.",
        "open": "На платформе: {url}",
        "notice_subject": "Не обработано: {subject}",
        "notice": "ваше письмо «{subject}» не добавлено на платформу: {reason}.",
        "notice_kept": "Оно сохранено, и CSIRT его видит. Пожалуйста, исправьте и отправьте его снова "
        "или воспользуйтесь платформой: {url}",
        "csirt": "национальный CSIRT",
        "no_subject": "(без темы)",
    },
    "uz": {
        "greeting": "Hurmatli {name},",
        "incident": "Hodisa {reference} ({tlp}): {title}",
        "answer": "Javob berish uchun ushbu xatga javob yozing va mavzuda [{reference}] ni saqlang: "
        "javobingiz intsident xronologiyasiga qoʻshiladi.",
        "open": "Platformada: {url}",
        "notice_subject": "Qayta ishlanmadi: {subject}",
        "notice": "“{subject}” xatingiz platformaga qoʻshilmadi: {reason}.",
        "notice_kept": "U saqlangan va CSIRT uni koʻra oladi. Iltimos, tuzatib qayta yuboring "
        "yoki platformadan foydalaning: {url}",
        "csirt": "milliy CSIRT",
        "no_subject": "(mavzusiz)",
    },
}


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    language: str


def language_of(user: User) -> str:
    return user.language if user.language in TEXTS else "en"


def reply_subject(incident: Incident) -> str:
    return f"[{incident.reference}] {_one_line(incident.title)}"


def reply(*, incident: Incident, author: User, recipient: User, body: str) -> Mail:
    """The analyst's ``body`` to ``recipient`` about ``incident``, framed in the recipient's language."""
    lang = language_of(recipient)
    t = TEXTS[lang]
    organisation = author.organisation.name if author.organisation else _csirt_name(lang)
    lines = [
        t["greeting"].format(name=_name(recipient)),
        "",
        body.strip(),
        "",
        "-- ",
        f"{_name(author)}, {organisation}",
        t["incident"].format(reference=incident.reference, tlp=incident.tlp, title=_one_line(incident.title)),
        t["answer"].format(reference=incident.reference),
        t["open"].format(url=f"{settings.NCISS_BASE_URL}/incidents/{incident.reference}/"),
    ]
    return Mail(reply_subject(incident), "\n".join(lines), lang)


def notice(*, recipient: User, subject: str, reason: str) -> Mail:
    """Telling ``recipient`` that their message ``subject`` was not processed, and why."""
    lang = language_of(recipient)
    t = TEXTS[lang]
    subject = _one_line(subject) or t["no_subject"]
    lines = [
        t["greeting"].format(name=_name(recipient)),
        "",
        t["notice"].format(subject=subject, reason=reason.rstrip(".")),
        "",
        t["notice_kept"].format(url=f"{settings.NCISS_BASE_URL}/report/"),
        "",
        "-- ",
        _csirt_name(lang),
    ]
    return Mail(t["notice_subject"].format(subject=subject)[:500], "\n".join(lines), lang)


def _name(user: User) -> str:
    return user.get_full_name() or user.username


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _csirt_name(lang: str) -> str:
    name = (
        Organisation.objects.filter(kind=Organisation.Kind.CSIRT, country=settings.NCISS_COUNTRY)
        .order_by("pk")
        .values_list("name", flat=True)
        .first()
    )
    return name or TEXTS[lang]["csirt"]
