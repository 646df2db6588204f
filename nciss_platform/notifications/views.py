"""The stakeholder directory and routing rule pages, the rule check, and acknowledgement.

Thin views over ``services`` and ``access``: CSIRT staff and administrators read the directory
and the rules, coordinators and administrators change them (anyone else gets 403). The
acknowledgement link works without signing in: its signature is the credential, and it asks for
one click on a button, so that a mail filter that opens links never acknowledges for a person.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from nciss.rules import ConditionError
from nciss_platform.accounts.models import User
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.incidents.access import visible_incidents
from nciss_platform.notifications import access, services
from nciss_platform.notifications.forms import ContactForm, RuleForm, duration_text, parse_condition_text
from nciss_platform.notifications.messages import withheld_reason
from nciss_platform.notifications.models import Contact, Notification, RoutingRule
from nciss_platform.pages import render_page


def _viewer(request: HttpRequest) -> User:
    user = cast(User, request.user)
    if not access.may_view_directory(user):
        raise PermissionDenied(_("Only the CSIRT's staff and administrators may open the stakeholder directory."))
    return user


def _editor(request: HttpRequest) -> User:
    user = cast(User, request.user)
    if not access.may_edit_directory(user):
        raise PermissionDenied(_("Only coordinators and administrators may change the directory and the rules."))
    return user


def _show_errors(form: Any, exc: ServiceError) -> None:
    for path, reason in exc.errors:
        field = path.split(".")[0].split("[")[0]
        if field in form.fields:
            form.add_error(field, reason if path == field else f"{path}: {reason}")
        else:
            form.add_error(None, f"{path}: {reason}")


# ---------------------------------------------------------------- contacts


@login_required
@require_GET
def contact_list(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    groups: dict[Any, list[Contact]] = {}
    for contact in Contact.objects.select_related("organisation"):
        groups.setdefault(contact.organisation, []).append(contact)
    context = {"groups": list(groups.items()), "may_edit": access.may_edit_directory(user)}
    return render_page(request, "notifications/contacts.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = _editor(request)
    contact = get_object_or_404(Contact, pk=pk) if pk is not None else None
    if request.method == "GET":
        form = ContactForm.for_contact(contact) if contact else ContactForm()
        return render_page(request, "notifications/contact_form.html", {"form": form, "contact": contact})
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            saved = services.save_contact(actor=user, contact=contact, **form.fields_for(contact))
        except ServiceError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, _("Saved %(name)s.") % {"name": saved.name})
            return redirect(reverse("notifications:contacts") + f"#contact-{saved.pk}")
    return render_page(request, "notifications/contact_form.html", {"form": form, "contact": contact}, status=400)


# ---------------------------------------------------------------- rules


@login_required
@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    rules = RoutingRule.objects.prefetch_related("organisations", "contacts__organisation")
    rows = []
    for rule in rules:
        try:
            condition = services.parse_rule_condition(rule.condition)
            described = condition.describe() if condition else _("every incident")
        except ConditionError as exc:
            described = _("invalid: %(reason)s") % {"reason": exc}
        rows.append({"rule": rule, "condition": described, "ack_within": duration_text(rule.ack_within)})
    return render_page(request, "notifications/rules.html", {"rows": rows, "may_edit": access.may_edit_directory(user)})


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = _editor(request)
    rule = get_object_or_404(RoutingRule, pk=pk) if pk is not None else None
    if request.method == "GET":
        form = RuleForm.for_rule(rule) if rule else RuleForm()
        return render_page(request, "notifications/rule_form.html", {"form": form, "rule": rule})
    form = RuleForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        organisations, contacts = list(data.pop("organisations")), list(data.pop("contacts"))
        try:
            saved = services.save_rule(actor=user, rule=rule, organisations=organisations, contacts=contacts, **data)
        except ServiceError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, _("Saved the rule “%(name)s”.") % {"name": saved.name})
            return redirect(reverse("notifications:rules") + f"#rule-{saved.pk}")
    return render_page(request, "notifications/rule_form.html", {"form": form, "rule": rule}, status=400)


@login_required
@require_POST
def rule_check(request: HttpRequest) -> HttpResponse:
    """The live check of the rule form: the condition's errors or its reading, and a trial on an incident."""
    user = _viewer(request)
    context: dict[str, Any] = {"errors": [], "reading": "", "trial": None}
    raw: Any = {}
    try:
        raw = parse_condition_text(request.POST.get("condition", ""))
        condition = services.parse_rule_condition(raw)
        context["reading"] = condition.describe() if condition else _("every incident")
    except ConditionError as exc:
        context["errors"] = exc.errors
    except ValidationError as exc:  # not YAML
        context["errors"] = [("condition", " ".join(exc.messages))]
    reference = request.POST.get("incident", "").strip()
    if reference and not context["errors"]:
        context["trial"] = _trial(user, reference, raw, request)
    return render_page(request, "notifications/_rule_check.html", context)


def _trial(user: User, reference: str, condition: Any, request: HttpRequest) -> dict[str, Any]:
    """What the rule being edited would do for the incident ``reference`` now."""
    incident = visible_incidents(user).filter(reference=reference).first()
    if incident is None:
        return {"missing": reference}
    rule = RoutingRule(name=request.POST.get("name", "") or _("this rule"), condition=condition)
    verdict = services.evaluate(rule, services.rule_facts(incident))
    tier = int(request.POST["tier"]) if request.POST.get("tier", "").isdigit() else 1
    contacts = Contact.objects.filter(active=True).select_related("organisation")
    named = list(contacts.filter(pk__in=[p for p in request.POST.getlist("contacts") if p.isdigit()]))
    grouped = list(
        contacts.filter(organisation__in=[p for p in request.POST.getlist("organisations") if p.isdigit()], tier=tier)
    )
    recipients = {c.pk: c for c in [*named, *grouped]}.values()
    return {
        "incident": incident,
        "value": verdict.value,
        "unknown": verdict.unknown,
        "recipients": [(c, withheld_reason(incident, c)) for c in recipients],
    }


# ---------------------------------------------------------------- acknowledgement


@require_http_methods(["GET", "POST"])
def acknowledge_link(request: HttpRequest, token: str) -> HttpResponse:
    """The page a notification's link opens; its button acknowledges."""
    try:
        notification = services.notification_for_token(token)
    except ServiceError as exc:
        return render_page(request, "notifications/acknowledge.html", {"problem": exc.errors[0][1]}, status=400)
    if request.method == "POST":
        notification = services.acknowledge(notification=notification, actor=None, via="link")
    with translation.override(notification.language):
        return render(
            request, "notifications/acknowledge.html", {"lang": notification.language, "notification": notification}
        )


@login_required
@require_POST
def acknowledge_in_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A CSIRT member acknowledges on a contact's behalf, from the incident page."""
    user = cast(User, request.user)
    notification = Notification.objects.select_related("incident").filter(pk=pk).first()
    if notification is None or not visible_incidents(user).filter(pk=notification.incident_id).exists():
        raise Http404
    try:
        services.acknowledge(notification=notification, actor=user, via="page")
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, _("Acknowledged for %(name)s.") % {"name": notification.contact.name})
    return redirect(reverse("incidents:detail", args=[notification.incident.reference]) + "#notifications")
