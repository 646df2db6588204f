"""The share form on the incident page: to whom, who may read a TLP:RED share, what the partner reads."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from nciss_platform.accounts.models import Organisation, User
from nciss_platform.incidents.models import TLP, Incident
from nciss_platform.sharing.models import PartnerGroup


class PartnerField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Organisation) -> str:
        return f"{obj.name} ({obj.country}, {obj.scale_id})"


class ReaderField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        name = obj.get_full_name() or obj.username
        return f"{name} ({obj.username}, {obj.organisation.name if obj.organisation else ''})"


class ShareForm(forms.Form):
    """Parses what to share; ``services.share_incident`` decides whether it may be shared so."""

    organisations = PartnerField(
        label=_("Partner organisations"),
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    group = forms.ModelChoiceField(
        label=_("Or a partner group"),
        queryset=PartnerGroup.objects.none(),
        required=False,
        empty_label=_("No group"),
    )
    recipients = ReaderField(
        label=_("Who may read it (TLP:RED: at least one person at each organisation)"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    identify_reporter = forms.BooleanField(label=_("Name the reporting organisation (it agreed)"), required=False)
    title = forms.CharField(label=_("Title the partner reads"), max_length=200)
    description = forms.CharField(
        label=_("Description the partner reads"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Take out anything that names the reporting organisation unless it agreed to be named."),
    )

    def __init__(self, *args: Any, incident: Incident, **kwargs: Any):
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("initial", {"title": incident.title, "description": incident.description})
        super().__init__(*args, **kwargs)
        partners = Organisation.objects.filter(kind=Organisation.Kind.PARTNER).order_by("name")
        self.fields["organisations"].queryset = partners
        self.fields["group"].queryset = PartnerGroup.objects.order_by("name")
        if incident.tlp == TLP.RED:
            readers = User.objects.filter(is_active=True, organisation__kind=Organisation.Kind.PARTNER)
            self.fields["recipients"].queryset = readers.select_related("organisation").order_by(
                "organisation__name", "username"
            )
        else:
            del self.fields["recipients"]
        if not incident.reporter_may_be_named:
            del self.fields["identify_reporter"]
