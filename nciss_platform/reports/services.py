"""The reports as documents: each one's data, title, TLP and file name, rendered in one language.

The pages and ``nciss sitrep`` both ask here; ``documents.render_pdf`` turns the HTML into a PDF.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import formats, translation
from django.utils.translation import gettext as _

from nciss_platform.incidents.models import TLP, Incident
from nciss_platform.reports import advisories, documents, sitreps


@dataclass(frozen=True)
class Report:
    """A report ready to render: its template and data, its title (atop every page) and its marking."""

    template: str
    context: dict[str, Any]
    title: str
    tlp: str
    lang: str
    generated_at: dt.datetime
    filename: str  # without the suffix: sitrep-2026-03-02-en

    def html(self) -> str:
        return documents.render_html(
            self.template, self.context, title=self.title, tlp=self.tlp, lang=self.lang, generated_at=self.generated_at
        )

    def pdf(self) -> documents.Pdf:
        return documents.render_pdf(self.html())


def national_report(incidents: QuerySet[Incident], day: dt.date, *, lang: str, now: dt.datetime) -> Report:
    """The national sitrep of ``day`` over ``incidents``; ServiceError for a day in the future."""
    with translation.override(lang):
        report = sitreps.national_sitrep(incidents, day, lang=lang, now=now)
        title = _("National situation report, %(day)s") % {"day": formats.date_format(day, "DATE_FORMAT")}
    context = {"report": report}
    return Report("reports/national.html", context, title, report.tlp, lang, now, f"sitrep-{day.isoformat()}-{lang}")


def incident_report(incident: Incident, *, visible: QuerySet[Incident], lang: str, now: dt.datetime) -> Report:
    """One incident's sitrep, marked with the incident's TLP."""
    with translation.override(lang):
        report = sitreps.incident_sitrep(incident, visible=visible, lang=lang, now=now)
        title = _("Situation report %(reference)s") % {"reference": incident.reference}
    context = {"report": report, "now": now}
    filename = f"sitrep-{incident.reference}-{lang}"
    return Report("reports/incident.html", context, title, report.tlp, lang, now, filename)


def advisory_report(incident: Incident, *, lang: str, now: dt.datetime) -> Report:
    """The draft public advisory (TLP:CLEAR); NotAllowed for a TLP:RED incident."""
    with translation.override(lang):
        draft = advisories.draft_advisory(incident, lang=lang, now=now)
        title = _("Public advisory (draft)")
    filename = f"advisory-{now.date().isoformat()}-{lang}"
    return Report("reports/advisory.html", {"advisory": draft}, title, TLP.CLEAR, lang, now, filename)
