"""The campaigns pages, for the CSIRT's analysts and coordinators.

``/campaigns/`` lists them, open first and by level; ``/campaigns/<reference>/`` shows one: its
folded facts, their assessment on the national scale, a chart of its incidents over time and
the member incidents the reader may see (``visible_incidents``: a TLP:RED member is listed only
to its named recipients).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

import nciss
from nciss_platform.accounts.models import User
from nciss_platform.campaigns.models import Campaign
from nciss_platform.incidents import access, display, services
from nciss_platform.incidents.models import Incident
from nciss_platform.pages import reader_language, render_page
from nciss_platform.reports import charts
from nciss_platform.scales import services as scales

CLOSED_SHOWN = 100  # the most recent closed campaigns listed below the open ones
CHART_DAYS = 60  # at most this many days of a long campaign are drawn (the latest)


def _staff(request: HttpRequest) -> User:
    user = cast(User, request.user)
    if not access.can_manage(user):
        raise PermissionDenied(_("Only the CSIRT's analysts and coordinators may open this page."))
    return user


def title_of(campaign: Campaign) -> str:
    """The campaign's title in the active language: what links its incidents, and how many organisations."""
    if campaign.basis == Campaign.Basis.CLASSIFICATION:
        return ngettext(
            "%(classification)s in %(count)d organisation",
            "%(classification)s in %(count)d organisations",
            campaign.organisations_affected,
        ) % {
            "classification": display.classification_text(campaign.classification),
            "count": campaign.organisations_affected,
        }
    indicators = [f"{kind} {value}" for kind, value in campaign.indicators]
    first = indicators[0] if indicators else ""
    if len(indicators) > 1:
        return ngettext(
            "Shared indicator %(indicator)s and %(count)d more",
            "Shared indicator %(indicator)s and %(count)d more",
            len(indicators) - 1,
        ) % {"indicator": first, "count": len(indicators) - 1}
    return _("Shared indicator %(indicator)s") % {"indicator": first}


def status_label(campaign: Campaign) -> str:
    return _("Open") if campaign.status == Campaign.Status.OPEN else _("Closed")


@login_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    """Open campaigns by level, then the latest closed ones."""
    _staff(request)
    lang = reader_language(request)
    scale = services.national_scale()
    open_ones = list(Campaign.objects.filter(status=Campaign.Status.OPEN).order_by("-level", "-last_seen"))
    closed = list(Campaign.objects.filter(status=Campaign.Status.CLOSED).order_by("-last_seen")[:CLOSED_SHOWN])
    with translation.override(lang):
        rows = [
            {
                "campaign": campaign,
                "title": title_of(campaign),
                "level": display.level(campaign.level, lang, scale),
                "status": status_label(campaign),
                "sectors": display.value_text("sectors_affected", campaign.sectors, lang) if campaign.sectors else "",
            }
            for campaign in open_ones + closed
        ]
    return render_page(request, "campaigns/list.html", {"rows": rows, "open_count": len(open_ones)})


@login_required
@require_GET
def campaign_detail(request: HttpRequest, reference: str) -> HttpResponse:
    """One campaign: its assessment on the national scale and the member incidents the reader may see."""
    user = _staff(request)
    campaign = Campaign.objects.filter(reference=reference).first()
    if campaign is None:
        raise Http404(reference)
    lang = reader_language(request)
    scale = services.national_scale()
    members = list(
        access.visible_incidents(user)
        .filter(campaigns=campaign)
        .select_related("reporting_organisation")
        .order_by("detected_at", "reported_at", "pk")
    )
    with translation.override(lang):
        main, others = scales.verdicts(scale, campaign.facts, lang)
        context = {
            "campaign": campaign,
            "title": title_of(campaign),
            "status": status_label(campaign),
            "level": display.level(campaign.level, lang, scale),
            "highest": display.level(campaign.reachable_max, lang, scale),
            "classification": display.classification_text(campaign.classification) if campaign.classification else "",
            "sectors": display.value_text("sectors_affected", campaign.sectors, lang) if campaign.sectors else "",
            "main": main,
            "others": others,
            "fact_rows": display.fact_rows(campaign.facts, lang),
            "members": [
                {
                    "incident": incident,
                    "level": display.level(incident.level, lang, scale),
                    "status": display.status_label(incident.status),
                    "classification": display.classification_text(incident.classification),
                }
                for incident in members
            ],
            "chart": _timeline_chart(members, scale, lang),
        }
    return render_page(request, "campaigns/detail.html", context)


def _timeline_chart(members: list[Incident], scale: nciss.Scale, lang: str) -> SafeString | None:
    """The member incidents (those the reader sees) per day of detection, stacked by level."""
    if not members:
        return None
    days = [(incident.detected_at or incident.reported_at).date() for incident in members]
    last = max(days)
    first = max(min(days), last - dt.timedelta(days=CHART_DAYS - 1))
    span = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    counts = Counter((day, incident.level) for day, incident in zip(days, members, strict=True))
    ranks = sorted({incident.level for incident in members})
    series = [
        charts.Series(
            name=display.level(rank, lang, scale).name,
            colour=scale.levels[min(rank, scale.top)].colour,
            values=[counts[(day, rank)] for day in span],
        )
        for rank in ranks
    ]
    return charts.stacked_columns(
        [day.strftime("%m-%d") for day in span], series, title=_("Incidents of the campaign per day, by level")
    )


def campaigns_of(incident: Incident) -> list[dict[str, Any]]:
    """The campaigns the incident is part of, for the line on the incident page."""
    return [
        {"campaign": campaign, "title": title_of(campaign), "status": status_label(campaign)}
        for campaign in incident.campaigns.order_by("-status", "reference")
    ]
