"""The feed pages for CSIRT staff and administrators: intake status, and the dead letters."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from nciss_platform.accounts.models import User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.feeds import intake
from nciss_platform.feeds.models import DeadLetter, FeedBatch
from nciss_platform.pages import render_page

LATEST = 20
LATEST_LETTERS = 100


def _staff(request: HttpRequest) -> None:
    if not intake.may_view(cast(User, request.user)):
        raise PermissionDenied


@login_required
@require_GET
def status(request: HttpRequest) -> HttpResponse:
    """The backlog of HTTP batches, the latest batches and ingest runs, and the dead letters' count."""
    _staff(request)
    runs = AuditEvent.objects.filter(action="feeds.ingested").order_by("-at", "-id")[:LATEST]
    context = {
        "backlog": intake.backlog(),
        "batches": FeedBatch.objects.defer("body")[:LATEST],
        "runs": runs,
        "dead_letters": DeadLetter.objects.count(),
    }
    return render_page(request, "feeds/status.html", context)


@login_required
@require_GET
def dead_letters(request: HttpRequest) -> HttpResponse:
    """Dead letters by source and reason, then the latest with their lines; ``?source=`` picks one source."""
    _staff(request)
    source = request.GET.get("source", "")
    letters = DeadLetter.objects.filter(source=source) if source else DeadLetter.objects.all()
    context = {
        "source": source,
        "sources": DeadLetter.objects.order_by("source").values_list("source", flat=True).distinct()[:200],
        "counts": intake.dead_letter_counts(source),
        "total": letters.count(),
        "letters": letters.order_by("-received_at", "-id")[:LATEST_LETTERS],
    }
    return render_page(request, "feeds/dead_letters.html", context)
