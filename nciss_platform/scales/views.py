"""The severity calculator: the page, and the result panel that HTMX refreshes on every answer.

The page works without JavaScript too: its form is a GET of the same page, so an answered
calculator is also a link that can be shared.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET, require_POST

import nciss
from nciss.scales import Scale
from nciss_platform.scales import services

LANGUAGE_CODES = [code for code, _ in settings.LANGUAGES]


@require_GET
def calculator(request: HttpRequest) -> HttpResponse:
    scale, lang, answers = _read(request, request.GET)
    with translation.override(lang):
        main, others = services.verdicts(scale, services.facts_from_answers(answers), lang)
        context = {
            "lang": lang,
            "languages": settings.LANGUAGES,
            "scale": scale,
            "scale_description": scale.description.get_for(lang),
            "scales": [(offered.id, offered.name.get_for(lang)) for offered in services.offered_scales()],
            "groups": services.questionnaire(scale, answers, lang),
            "main": main,
            "others": others,
        }
        return render(request, "scales/calculator.html", context)


@require_POST
def calculator_result(request: HttpRequest) -> HttpResponse:
    scale, lang, answers = _read(request, request.POST)
    with translation.override(lang):
        main, others = services.verdicts(scale, services.facts_from_answers(answers), lang)
        return render(request, "scales/_result.html", {"lang": lang, "main": main, "others": others})


def _read(request: HttpRequest, params: QueryDict) -> tuple[Scale, str, dict[str, list[str]]]:
    """The chosen scale (by default the national one), the language (by default the browser's) and the answers."""
    lang = params.get("lang", "")
    if lang not in LANGUAGE_CODES:
        lang = translation.get_language_from_request(request)
    try:
        scale = services.find_scale(params.get("scale", ""))
    except nciss.ScaleError:
        scale = services.offered_scales()[0]
    return scale, lang, dict(params.lists())
