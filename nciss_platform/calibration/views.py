"""The calibration lab's pages: drafts and versions, the draft editor, impact, publishing, reference
cases, compatibility between scales and blind consistency studies.

Scale owners and administrators use every page (anyone else: 403), except the rating pages, which
the analysts assigned to a study use, blind. Views only parse the request and call ``services``
(changes) or ``analysis`` (numbers).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from nciss import calibration as core
from nciss.facts import fact_specs
from nciss_platform.accounts.models import User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.calibration import analysis, definition_form, services, versions
from nciss_platform.calibration.access import may_calibrate, may_rate
from nciss_platform.calibration.models import Rating, RatingSession, ReferenceCase, ScaleDraft, ScaleVersion
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.incidents.access import visible_incidents
from nciss_platform.incidents.views import answers_from_facts
from nciss_platform.pages import reader_language, render_page
from nciss_platform.reports.charts import Bar, bar_chart
from nciss_platform.scales import services as scales

MOVERS_SHOWN = 30
SENSITIVITY_SHOWN = 20


def _owner(request: HttpRequest) -> User:
    user = cast(User, request.user)
    if not may_calibrate(user):
        raise PermissionDenied(_("Only scale owners and administrators may open the calibration lab."))
    return user


def _period(request: HttpRequest) -> str:
    period = request.GET.get("period", "all")
    return period if period in analysis.PERIODS else "all"


# ---------------------------------------------------------------- drafts and versions


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    _owner(request)
    context = {
        "drafts": ScaleDraft.objects.filter(published_as=None).select_related("author"),
        "versions": ScaleVersion.objects.select_related("published_by"),
        "history": AuditEvent.objects.filter(action__startswith="calibration.").order_by("-pk")[:30],
        "scale_ids": services.known_scale_ids(),
        "national": versions.base_scale().id,
        "in_effect": services.scale_in_effect(versions.base_scale().id),
    }
    return render_page(request, "calibration/index.html", context)


@login_required
@require_POST
def draft_new(request: HttpRequest) -> HttpResponse:
    user = _owner(request)
    try:
        draft = services.create_draft(actor=user, scale_id=request.POST.get("scale_id", ""))
    except ServiceError as exc:
        return _index_with_errors(request, exc)
    return redirect("calibration:draft", pk=draft.pk)


@login_required
@require_POST
def draft_upload(request: HttpRequest) -> HttpResponse:
    user = _owner(request)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ServiceError([("file", _("choose a YAML or JSON file"))])
        draft = services.upload_draft(actor=user, scale_id=request.POST.get("scale_id", ""), upload=upload)
    except ServiceError as exc:
        return _index_with_errors(request, exc)
    return redirect("calibration:draft", pk=draft.pk)


def _index_with_errors(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    for path, reason in exc.errors:
        messages.error(request, f"{path}: {reason}")
    response = index(request)
    response.status_code = 400
    return response


def _draft(pk: int) -> ScaleDraft:
    return get_object_or_404(ScaleDraft.objects.select_related("author", "published_as"), pk=pk)


def _editor_context(draft: ScaleDraft, source: str | None = None, form_errors: Any = ()) -> dict[str, Any]:
    text = draft.source if source is None else source
    checked = services.validate_source(text, draft.scale_id)
    return {
        "draft": draft,
        "source": text,
        "errors": checked.errors,
        "warnings": checked.warnings,
        "sections": definition_form.sections(checked.definition) if checked.definition else [],
        "form_errors": list(form_errors),
        "effects": definition_form.RULE_EFFECTS,
    }


@login_required
@require_http_methods(["GET", "POST"])
def draft_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The editor: the definition's text (checked as one types) and its form view."""
    user = _owner(request)
    draft = _draft(pk)
    if request.method == "POST":
        try:
            services.update_draft(actor=user, draft=draft, source=request.POST.get("source", ""))
        except ServiceError as exc:
            return render_page(request, "calibration/draft.html", _editor_context(draft, None, exc.errors), 400)
        messages.success(request, _("Draft saved.") if draft.is_valid else _("Draft saved; it is not valid yet."))
        return redirect("calibration:draft", pk=draft.pk)
    return render_page(request, "calibration/draft.html", _editor_context(draft))


@login_required
@require_POST
def draft_validate(request: HttpRequest, pk: int) -> HttpResponse:
    """The live check (HTMX, as one types): the errors with their paths, nothing saved."""
    _owner(request)
    draft = _draft(pk)
    checked = services.validate_source(request.POST.get("source", ""), draft.scale_id)
    return render_page(
        request, "calibration/_validation.html", {"errors": checked.errors, "warnings": checked.warnings}
    )


@login_required
@require_POST
def draft_form(request: HttpRequest, pk: int) -> HttpResponse:
    """The form view saved: the posted values written into the definition, kept as the draft's text."""
    user = _owner(request)
    draft = _draft(pk)
    checked = services.validate_source(draft.source, draft.scale_id)
    if checked.definition is None:
        return render_page(request, "calibration/draft.html", _editor_context(draft, None, checked.errors), 400)
    changed, errors = definition_form.apply(checked.definition, request.POST)
    if errors:
        return render_page(request, "calibration/draft.html", _editor_context(draft, None, errors), 400)
    try:
        services.update_draft(actor=user, draft=draft, source=definition_form.dump(changed))
    except ServiceError as exc:
        return render_page(request, "calibration/draft.html", _editor_context(draft, None, exc.errors), 400)
    messages.success(request, _("Draft saved.") if draft.is_valid else _("Draft saved; it is not valid yet."))
    return redirect(reverse("calibration:draft", args=[draft.pk]) + "#form-view")


# ---------------------------------------------------------------- impact


def _cell_link(draft: ScaleDraft, period: str, **filters: Any) -> str:
    query = {"period": period, **{k: v for k, v in filters.items() if v is not None}}
    return reverse("calibration:impact-incidents", args=[draft.pk]) + "?" + urlencode(query)


@login_required
@require_GET
def draft_impact(request: HttpRequest, pk: int) -> HttpResponse:
    """What the draft would change on the history: every number links to its incidents."""
    user = _owner(request)
    draft = _draft(pk)
    lang, period = reader_language(request), _period(request)
    try:
        result = analysis.what_if(draft, period)
    except ServiceError as exc:
        return render_page(request, "calibration/draft.html", _editor_context(draft, None, exc.errors), 400)
    new, current = result.draft, result.current
    movers = _named_movers(result, lang)
    rows = []
    for before in range(current.top + 1):
        cells = [
            (int(result.matrix[before, after]), _cell_link(draft, period, before=before, after=after), after)
            for after in range(new.top + 1)
        ]
        rows.append((scales.level_view(current, current.levels[before], lang), cells))
    bars = []
    for rank, (count, target) in enumerate(zip(result.distribution, result.target_counts, strict=True)):
        name = new.levels[rank].name.get_for(lang)
        bars.append(Bar(f"{name}: {_('draft')}", count, new.levels[rank].colour, _cell_link(draft, period, after=rank)))
        bars.append(Bar(f"{name}: {_('target')}", round(target), "#d9d9d9", text=f"{target:.0f}"))
    chart = bar_chart(bars, title=_("Incidents per level on the draft, and the target"))
    context = {
        "draft": draft,
        "result": result,
        "period": period,
        "periods": list(analysis.PERIODS),
        "new_levels": [scales.level_view(new, level, lang) for level in new.levels],
        "rows": rows,
        "chart": chart,
        "moved_link": _cell_link(draft, period, direction="moved"),
        "up_link": _cell_link(draft, period, direction="up"),
        "down_link": _cell_link(draft, period, direction="down"),
        "movers": movers,
        "openable": set(
            visible_incidents(user)
            .filter(reference__in=[m.reference for m in movers])
            .values_list("reference", flat=True)
        ),
        "by_sector": [(g, _cell_link(draft, period, sector=g.key)) for g in result.by_sector()],
        "by_classification": [(g, _cell_link(draft, period, classification=g.key)) for g in result.by_classification()],
        "cases": analysis.check_cases(new, draft.scale_id),
    }
    return render_page(request, "calibration/impact.html", context)


def _named_movers(result: core.WhatIf, lang: str) -> list[core.Mover]:
    """The first movers with why, TLP:RED incidents left out (counted in the matrix, never named)."""
    movers = result.movers(MOVERS_SHOWN, lang)
    red = analysis.red_references([m.reference for m in movers])
    return [m for m in movers if m.reference not in red]


@login_required
@require_GET
def draft_sensitivity(request: HttpRequest, pk: int) -> HttpResponse:
    """The sensitivity table of the impact page (loaded when scrolled to: it assesses the history ~200 times)."""
    _owner(request)
    draft = _draft(pk)
    try:
        scale = services.draft_scale(draft)
    except ServiceError as exc:
        return render_page(request, "calibration/_errors.html", {"errors": exc.errors}, 400)
    history = analysis.read([scale], _period(request))
    effects = [e for e in core.sensitivity(scale, history).effects if e.changed][:SENSITIVITY_SHOWN]
    return render_page(request, "calibration/_sensitivity.html", {"effects": effects})


@login_required
@require_GET
def impact_incidents(request: HttpRequest, pk: int) -> HttpResponse:
    """The incidents behind one number of the impact page (a matrix cell, a level, a group, the movers)."""
    user = _owner(request)
    draft = _draft(pk)
    lang, period = reader_language(request), _period(request)
    filters: dict[str, Any] = {}
    for key in ("before", "after"):
        if request.GET.get(key, "").isdigit():
            filters[key] = int(request.GET[key])
    for key in ("sector", "classification"):
        if key in request.GET:
            filters[key] = request.GET[key]
    if request.GET.get("direction") in ("up", "down", "moved"):
        filters["direction"] = request.GET["direction"]
    try:
        result = analysis.what_if(draft, period)
    except ServiceError as exc:
        return render_page(request, "calibration/draft.html", _editor_context(draft, None, exc.errors), 400)
    chosen = analysis.indices(result.select(**filters))
    context = {
        "rows": _incident_rows(
            user, chosen, result.history, (result.current, result.before), (result.draft, result.after), lang
        ),
        "filters": filters,
        "first": _("Now"),
        "second": _("Draft"),
        "back": reverse("calibration:impact", args=[draft.pk]) + "?" + urlencode({"period": period}),
    }
    return render_page(request, "calibration/impact_incidents.html", context)


def _incident_rows(
    user: User,
    chosen: list[int],
    history: core.History,
    first: tuple[Any, Any],
    second: tuple[Any, Any],
    lang: str,
) -> list[dict[str, Any]]:
    """The incidents at ``chosen`` with their level on two scales (``(scale, levels per incident)``).

    TLP:RED incidents are counted but not named: their reference is left out. A reference links to
    the incident's page only for a user who may open it.
    """
    sectors = history.sectors or [None] * len(history)
    classes = history.classifications or [None] * len(history)
    red = analysis.red_references([history.references[i] for i in chosen])
    visible = set(
        visible_incidents(user)
        .filter(reference__in=[history.references[i] for i in chosen])
        .values_list("reference", flat=True)
    )
    return [
        {
            "reference": "" if history.references[i] in red else history.references[i],
            "visible": history.references[i] in visible,
            "before": scales.level_view(first[0], first[0].levels[int(first[1][i])], lang),
            "after": scales.level_view(second[0], second[0].levels[int(second[1][i])], lang),
            "sector": sectors[i] or "",
            "classification": classes[i] or "",
        }
        for i in chosen
    ]


# ---------------------------------------------------------------- publishing


@login_required
@require_http_methods(["GET", "POST"])
def draft_publish(request: HttpRequest, pk: int) -> HttpResponse:
    user = _owner(request)
    draft = _draft(pk)
    context: dict[str, Any] = {"draft": draft, "errors": [], "change_note": "", "effective_from": ""}
    if request.method == "POST":
        raw_when = request.POST.get("effective_from", "").strip()
        when = _parse_when(raw_when)
        context.update(change_note=request.POST.get("change_note", ""), effective_from=raw_when)
        if raw_when and when is None:
            context["errors"] = [("effective_from", _("a date and time, e.g. 2027-01-01 00:00"))]
        else:
            try:
                version = services.publish_draft(
                    actor=user, draft=draft, change_note=context["change_note"], effective_from=when
                )
            except ServiceError as exc:
                context["errors"] = exc.errors
            else:
                messages.success(
                    request,
                    _("Published %(scale)s %(version)s.") % {"scale": version.scale_id, "version": version.version},
                )
                return redirect("calibration:version", pk=version.pk)
        return render_page(request, "calibration/publish.html", context, status=400)
    return render_page(request, "calibration/publish.html", context)


def _parse_when(raw: str) -> dt.datetime | None:
    if not raw:
        return None
    parsed = parse_datetime(raw.replace(" ", "T", 1) if "T" not in raw else raw)
    if parsed is None:
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, dt.UTC)


@login_required
@require_GET
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _owner(request)
    version = get_object_or_404(ScaleVersion.objects.select_related("published_by"), pk=pk)
    national = versions.base_scale().id
    in_effect = versions.versions_in_effect(version.scale_id).first()
    context = {
        "version": version,
        "is_national": version.scale_id == national,
        "in_effect": in_effect is not None and in_effect.pk == version.pk,
        "open_count": services.open_incidents().count(),
    }
    return render_page(request, "calibration/version.html", context)


@login_required
@require_POST
def version_reassess(request: HttpRequest, pk: int) -> HttpResponse:
    user = _owner(request)
    version = get_object_or_404(ScaleVersion, pk=pk)
    try:
        done = services.reassess_open_incidents(version=version, actor=user)
    except ServiceError as exc:
        for path, reason in exc.errors:
            messages.error(request, f"{path}: {reason}")
        return redirect("calibration:version", pk=version.pk)
    messages.success(
        request,
        ngettext(
            "Re-assessed %(count)s open incident on %(version)s; %(changed)s changed level.",
            "Re-assessed %(count)s open incidents on %(version)s; %(changed)s changed level.",
            done.assessed,
        )
        % {"count": done.assessed, "version": version.version, "changed": len(done.changed)},
    )
    return redirect("calibration:version", pk=version.pk)


# ---------------------------------------------------------------- reference cases


@login_required
@require_GET
def cases(request: HttpRequest) -> HttpResponse:
    _owner(request)
    scale_id = request.GET.get("scale") or versions.base_scale().id
    if scale_id not in services.known_scale_ids():
        raise Http404
    scale = services.scale_in_effect(scale_id)
    kept = list(ReferenceCase.objects.filter(scale_id=scale_id))
    results = analysis.check_cases(scale, scale_id)
    context = {
        "scale": scale,
        "scale_ids": services.known_scale_ids(),
        "rows": list(zip(kept, results, strict=False)) if kept else [(None, r) for r in results],
        "kept": bool(kept),
        "shipped": len(core.reference_cases(scale_id)),
        "levels": [scales.level_view(scale, level, reader_language(request)) for level in scale.levels],
    }
    return render_page(request, "calibration/cases.html", context)


@login_required
@require_POST
def cases_seed(request: HttpRequest) -> HttpResponse:
    user = _owner(request)
    scale_id = request.POST.get("scale", "")
    shipped = core.reference_cases(scale_id)
    added = services.seed_reference_cases(actor=user, scale_id=scale_id, cases=[c.to_dict() for c in shipped])
    messages.success(
        request, ngettext("Kept %(count)s reference case.", "Kept %(count)s reference cases.", added) % {"count": added}
    )
    return redirect(reverse("calibration:cases") + "?" + urlencode({"scale": scale_id}))


@login_required
@require_http_methods(["GET", "POST"])
def case_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = _owner(request)
    case = get_object_or_404(ReferenceCase, pk=pk) if pk is not None else None
    scale_id = case.scale_id if case else request.GET.get("scale") or request.POST.get("scale") or ""
    if scale_id not in services.known_scale_ids():
        scale_id = versions.base_scale().id
    scale = services.scale_in_effect(scale_id)
    lang = reader_language(request)
    context: dict[str, Any] = {
        "case": case,
        "scale": scale,
        "levels": [scales.level_view(scale, level, lang) for level in scale.levels],
        "title": case.title if case else "",
        "facts_text": _json(case.facts) if case else "{}",
        "agreed_level": case.agreed_level if case else 0,
        "errors": [],
    }
    if request.method == "POST":
        context.update(
            title=request.POST.get("title", ""),
            facts_text=request.POST.get("facts", ""),
            agreed_level=request.POST.get("agreed_level", ""),
        )
        try:
            facts = _loads(context["facts_text"])
            saved = services.save_reference_case(
                actor=user,
                scale_id=scale_id,
                title=context["title"],
                facts=facts,
                agreed_level=context["agreed_level"],
                case=case,
            )
        except ServiceError as exc:
            context["errors"] = exc.errors
            return render_page(request, "calibration/case_form.html", context, status=400)
        messages.success(request, _("Saved the case “%(title)s”.") % {"title": saved.title})
        return redirect(reverse("calibration:cases") + "?" + urlencode({"scale": saved.scale_id}))
    return render_page(request, "calibration/case_form.html", context)


@login_required
@require_POST
def case_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = _owner(request)
    case = get_object_or_404(ReferenceCase, pk=pk)
    services.delete_reference_case(actor=user, case=case)
    messages.success(request, _("Deleted the case “%(title)s”.") % {"title": case.title})
    return redirect(reverse("calibration:cases") + "?" + urlencode({"scale": case.scale_id}))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)


def _loads(text: str) -> Any:
    try:
        return json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise ServiceError([("facts", f"not valid JSON: {exc.msg} (line {exc.lineno})")]) from None


# ---------------------------------------------------------------- compatibility


@login_required
@require_GET
def compatibility(request: HttpRequest) -> HttpResponse:
    """How two scales agree on the history: weighted kappa, Spearman's rho, the matrix, the crosswalks."""
    _owner(request)
    lang, period = reader_language(request), _period(request)
    refs = analysis.scale_refs()
    a_ref = request.GET.get("a") or versions.base_scale().id
    b_ref = request.GET.get("b") or next((r for r, _label in refs if r != a_ref), a_ref)
    context: dict[str, Any] = {"refs": refs, "a_ref": a_ref, "b_ref": b_ref, "period": period, "errors": []}
    try:
        result = analysis.compatibility(a_ref, b_ref, period)
    except ServiceError as exc:
        context["errors"] = exc.errors
        return render_page(request, "calibration/compatibility.html", context, status=400)
    context["result"] = result
    cell = reverse("calibration:compatibility-incidents")
    context["rows"] = [
        (
            scales.level_view(result.a, result.a.levels[i], lang),
            [
                (int(n), cell + "?" + urlencode({"a": a_ref, "b": b_ref, "period": period, "la": i, "lb": j}))
                for j, n in enumerate(result.matrix[i])
            ],
        )
        for i in range(result.a.top + 1)
    ]
    context["b_levels"] = [scales.level_view(result.b, level, lang) for level in result.b.levels]
    context["stats"] = [
        (_("Weighted kappa (quadratic)"), _fmt(result.kappa_quadratic)),
        (_("Weighted kappa (linear)"), _fmt(result.kappa_linear)),
        (_("Spearman's rho"), _fmt(result.rho)),
        (_("Exact agreement"), _fmt(result.exact_agreement)),
    ]
    return render_page(request, "calibration/compatibility.html", context)


@login_required
@require_GET
def compatibility_incidents(request: HttpRequest) -> HttpResponse:
    """The incidents behind one cell of the compatibility matrix."""
    user = _owner(request)
    lang, period = reader_language(request), _period(request)
    a_ref, b_ref = request.GET.get("a", ""), request.GET.get("b", "")
    filters = {k: int(request.GET[k]) for k in ("la", "lb") if request.GET.get(k, "").isdigit()}
    try:
        result = analysis.compatibility(a_ref, b_ref, period)
    except ServiceError as exc:
        context = {"refs": analysis.scale_refs(), "a_ref": a_ref, "b_ref": b_ref, "errors": exc.errors}
        return render_page(request, "calibration/compatibility.html", context, status=400)
    chosen = analysis.indices(result.select(a=filters.get("la"), b=filters.get("lb")))
    context = {
        "rows": _incident_rows(
            user, chosen, result.history, (result.a, result.levels_a), (result.b, result.levels_b), lang
        ),
        "filters": filters,
        "first": result.a.id,
        "second": result.b.id,
        "back": reverse("calibration:compatibility") + "?" + urlencode({"a": a_ref, "b": b_ref, "period": period}),
    }
    return render_page(request, "calibration/impact_incidents.html", context)


def _fmt(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.3f}"


# ---------------------------------------------------------------- consistency between analysts


@login_required
@require_http_methods(["GET", "POST"])
def sessions(request: HttpRequest) -> HttpResponse:
    """Blind consistency studies: the list, and a new one (sampled incidents, chosen analysts)."""
    user = _owner(request)
    raters = [u for u in User.objects.filter(is_active=True).order_by("username") if may_rate(u)]
    context: dict[str, Any] = {
        "sessions": RatingSession.objects.prefetch_related("analysts"),
        "raters": raters,
        "errors": [],
        "title": "",
        "sample_size": 10,
        "chosen": [],
    }
    if request.method == "POST":
        chosen = [int(p) for p in request.POST.getlist("analysts") if p.isdigit()]
        size = request.POST.get("sample_size", "")
        context.update(title=request.POST.get("title", ""), sample_size=size, chosen=chosen)
        try:
            session = services.create_rating_session(
                actor=user,
                title=context["title"],
                analysts=list(User.objects.filter(pk__in=chosen)),
                sample_size=int(size) if size.isdigit() else 0,
            )
        except ServiceError as exc:
            context["errors"] = exc.errors
            return render_page(request, "calibration/sessions.html", context, status=400)
        messages.success(request, _("Study created: the analysts find it under “My ratings”."))
        return redirect("calibration:session", pk=session.pk)
    return render_page(request, "calibration/sessions.html", context)


@login_required
@require_GET
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The study's progress and, for the owner, the agreement per fact and for the level."""
    _owner(request)
    session = get_object_or_404(RatingSession.objects.prefetch_related("analysts", "incidents"), pk=pk)
    specs = fact_specs()
    lang = reader_language(request)
    agreement = services.agreement(session)
    context = {
        "session": session,
        "level_agreement": agreement[0],
        "facts": [(a, specs[a.name].label.get_for(lang)) for a in agreement[1:]],
        "expected": session.incidents.count() * session.analysts.count(),
        "done": session.ratings.count(),
        "threshold": services.AMBIGUOUS_BELOW,
        "fmt": _fmt,
    }
    context["level_alpha"] = _fmt(agreement[0].alpha)
    context["fact_rows"] = [(a, label, _fmt(a.alpha)) for a, label in context["facts"]]
    return render_page(request, "calibration/session.html", context)


@login_required
@require_POST
def session_close(request: HttpRequest, pk: int) -> HttpResponse:
    user = _owner(request)
    session = get_object_or_404(RatingSession, pk=pk)
    try:
        services.close_rating_session(actor=user, session=session)
    except ServiceError as exc:
        messages.error(request, exc.errors[0][1])
    return redirect("calibration:session", pk=session.pk)


@login_required
@require_GET
def my_ratings(request: HttpRequest) -> HttpResponse:
    """An analyst's studies: the incidents still to rate, blind."""
    user = cast(User, request.user)
    studies = []
    for session in RatingSession.objects.filter(analysts=user, status=RatingSession.Status.OPEN):
        done = set(Rating.objects.filter(session=session, analyst=user).values_list("incident_id", flat=True))
        studies.append((session, [(i, i.pk in done) for i in session.incidents.order_by("reference")]))
    return render_page(request, "calibration/my_ratings.html", {"studies": studies})


@login_required
@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, pk: int, incident_pk: int) -> HttpResponse:
    """One incident of a study, for one analyst: its account, not its facts or level; the questions asked."""
    user = cast(User, request.user)
    session = get_object_or_404(RatingSession, pk=pk, analysts=user)
    incident = get_object_or_404(session.incidents.select_related("reporting_organisation"), pk=incident_pk)
    lang = reader_language(request)
    mine = Rating.objects.filter(session=session, incident=incident, analyst=user).first()
    answers: dict[str, list[str]] = {}
    errors: list[tuple[str, str]] = []
    if request.method == "POST":
        answers = {fact: request.POST.getlist(fact) for fact in session.facts}
        try:
            services.submit_rating(
                actor=user, session=session, incident=incident, facts=scales.facts_from_answers(answers)
            )
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from None
        except ServiceError as exc:
            errors = exc.errors
        else:
            messages.success(
                request, _("Your answers for %(reference)s are saved.") % {"reference": incident.reference}
            )
            return redirect("calibration:my-ratings")
    elif mine is not None:
        answers = answers_from_facts(mine.facts)
    scale = versions.national_scale()
    asked = set(session.facts)
    groups = [
        {"id": group.id, "title": group.title, "questions": [(q, "") for q in group.questions if q.fact in asked]}
        for group in scales.questionnaire(scale, answers, lang)
    ]
    context = {
        "session": session,
        "incident": incident,
        "groups": [group for group in groups if group["questions"]],
        "errors": errors,
        "answered": mine is not None,
    }
    return render_page(request, "calibration/rate.html", context, status=400 if errors else 200)
