"""The incident pages' forms: what a person types besides the facts (the facts are the calculator's questions)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from nciss_platform.accounts.models import User
from nciss_platform.incidents.display import PAP_MEANINGS, TLP_MEANINGS
from nciss_platform.incidents.models import PAP, TLP, Incident


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files at once, each within NCISS_MAX_ATTACHMENT_BYTES."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, (list, tuple)) else [data] if data else []
        if not files and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        cleaned = [super(AttachmentsField, self).clean(f, initial) for f in files]
        limit = settings.NCISS_MAX_ATTACHMENT_BYTES
        too_big = [f.name for f in cleaned if f.size is not None and f.size > limit]
        if too_big:
            raise forms.ValidationError(
                _("%(names)s: larger than the limit of %(limit)s MiB per file."),
                params={"names": ", ".join(too_big), "limit": limit // (1024 * 1024)},
                code="too_big",
            )
        return cleaned


def attachment_help() -> str:
    limit = settings.NCISS_MAX_ATTACHMENT_BYTES // (1024 * 1024)
    return str(_("Logs, screenshots, the attacker's messages: several files at once, up to %(limit)s MiB each.")) % {
        "limit": limit
    }


class RecipientsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        name = obj.get_full_name() or obj.username
        org = obj.organisation.name if obj.organisation else ""
        return f"{name} ({obj.username}, {org})" if org else f"{name} ({obj.username})"


def recipient_candidates(
    actor: User, organisation_id: int | None, *, exclude: tuple[int | None, ...] = ()
) -> QuerySet[User]:
    """Who may be named for TLP:RED: the CSIRT's staff and the reporting organisation's people."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(role__in=[User.Role.ANALYST, User.Role.COORDINATOR]) | Q(organisation=organisation_id))
        .exclude(pk__in=[pk for pk in (actor.pk, *exclude) if pk is not None])
        .select_related("organisation")
        .order_by("organisation__name", "username")
    )


def _tlp_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Who may see it (TLP)"),
        choices=[(value, f"{value}: {TLP_MEANINGS[value]}") for value in TLP.values],
        initial=TLP.AMBER,
        widget=forms.RadioSelect(attrs={"class": "tlp-choice"}),
    )


def _pap_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("What may be done with it (PAP)"),
        choices=[(value, f"{value}: {PAP_MEANINGS[value]}") for value in PAP.values],
        initial=PAP.AMBER,
        widget=forms.RadioSelect,
    )


class _Form(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("label_suffix", "")  # labels read like the questions beside them, without a colon
        super().__init__(*args, **kwargs)


class _SharingMixin(_Form):
    @property
    def recipients(self) -> RecipientsField:
        return cast(RecipientsField, self.fields["red_recipients"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("tlp") == TLP.RED and not data.get("red_recipients") and self.recipients.queryset.exists():
            self.add_error("red_recipients", _("TLP:RED: name at least one person who may read it."))
        return data


class ReportForm(_SharingMixin):
    """A new report, apart from its facts."""

    title = forms.CharField(
        label=_("A short title"),
        max_length=200,
        help_text=_("For example: “Billing system encrypted by ransomware”."),
    )
    description = forms.CharField(
        label=_("What happened, in your own words"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    tlp = _tlp_field()
    pap = _pap_field()
    red_recipients = RecipientsField(
        label=_("Who may read it (TLP:RED only)"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("You can always read it yourself. Name the CSIRT staff who should see it."),
    )
    attachments = AttachmentsField(label=_("Attach files"), required=False)

    def __init__(self, *args: Any, actor: User, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.recipients.queryset = recipient_candidates(actor, actor.organisation_id)
        self.fields["attachments"].help_text = attachment_help()


class SharingForm(_SharingMixin):
    """Change how an incident is shared."""

    tlp = _tlp_field()
    pap = _pap_field()
    red_recipients = RecipientsField(
        label=_("Who may read it (TLP:RED only)"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("You and the original reporter are always named."),
    )

    def __init__(self, *args: Any, actor: User, incident: Incident, **kwargs: Any):
        kwargs.setdefault(
            "initial",
            {"tlp": incident.tlp, "pap": incident.pap, "red_recipients": list(incident.red_recipients.all())},
        )
        super().__init__(*args, prefix="sharing", **kwargs)
        self.recipients.queryset = recipient_candidates(
            actor, incident.reporting_organisation_id, exclude=(incident.created_by_id,)
        )


class CommentForm(_Form):
    body = forms.CharField(label=_("Comment or new information"), widget=forms.Textarea(attrs={"rows": 4}))


class AttachmentForm(_Form):
    attachments = AttachmentsField(label=_("Add files"))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = attachment_help()
