"""The directory's forms: a contact, and a routing rule whose condition is written as in scale files (YAML)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import yaml
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from nciss_platform.accounts.models import Organisation
from nciss_platform.notifications.models import Channel, Contact, Event, RoutingRule

_DURATION = re.compile(r"^(\d+)\s*(m|h|d|w)$")
_MINUTES = {"m": 1, "h": 60, "d": 1440, "w": 10080}


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=Organisation.objects.all())
    function = forms.CharField(label=_("Function"), max_length=200, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    webhook_url = forms.URLField(label=_("Webhook URL"), required=False, assume_scheme="https")
    webhook_secret = forms.CharField(
        label=_("Webhook secret"),
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the current secret."),
    )
    channels = forms.MultipleChoiceField(
        label=_("Channels"), choices=Channel.choices, widget=forms.CheckboxSelectMultiple
    )
    language = forms.ChoiceField(label=_("Language of the messages"), choices=settings.LANGUAGES)
    tier = forms.IntegerField(
        label=_("Tier"), min_value=1, initial=1, help_text=_("1 is told first; 2 when tier 1 does not acknowledge.")
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    @classmethod
    def for_contact(cls, contact: Contact) -> ContactForm:
        return cls(initial={name: getattr(contact, name) for name in cls.base_fields if name != "webhook_secret"})

    def fields_for(self, contact: Contact | None) -> dict[str, Any]:
        """The service's keyword arguments; an empty secret keeps the contact's current one."""
        data = dict(self.cleaned_data)
        if not data["webhook_secret"] and contact is not None:
            data["webhook_secret"] = contact.webhook_secret
        return data


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    condition = forms.CharField(
        label=_("Condition"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "class": "code"}),
        help_text=_(
            "In the rule language of scale files, e.g. “level: '>= 3'” and “sector: energy” on two lines. "
            "Empty: every incident."
        ),
    )
    events = forms.MultipleChoiceField(label=_("Events"), choices=Event.choices, widget=forms.CheckboxSelectMultiple)
    organisations = forms.ModelMultipleChoiceField(
        label=_("Organisations told (their contacts of the rule's tier)"),
        queryset=Organisation.objects.all(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    contacts = forms.ModelMultipleChoiceField(
        label=_("Contacts told by name"),
        queryset=Contact.objects.select_related("organisation").filter(active=True),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    tier = forms.IntegerField(label=_("Tier told first"), min_value=1, initial=1)
    ack_within = forms.CharField(
        label=_("Acknowledge within"),
        required=False,
        max_length=10,
        help_text=_("e.g. 30m, 2h, 1d; empty: no acknowledgement expected"),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    order = forms.IntegerField(label=_("Order"), min_value=0, initial=100)

    @classmethod
    def for_rule(cls, rule: RoutingRule) -> RuleForm:
        initial = {name: getattr(rule, name) for name in ("name", "description", "events", "tier", "active", "order")}
        initial["condition"] = condition_text(rule.condition)
        initial["ack_within"] = duration_text(rule.ack_within)
        initial["organisations"] = list(rule.organisations.all())
        initial["contacts"] = list(rule.contacts.all())
        return cls(initial=initial)

    def clean_condition(self) -> Any:
        return parse_condition_text(self.cleaned_data["condition"])

    def clean_ack_within(self) -> dt.timedelta | None:
        return parse_duration_text(self.cleaned_data["ack_within"])


def parse_condition_text(text: str) -> Any:
    """The condition as data (a mapping), from the YAML (or JSON) a person wrote."""
    if not text.strip():
        return {}
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise forms.ValidationError(
            _("not valid YAML%(where)s: %(problem)s")
            % {"where": where, "problem": getattr(exc, "problem", None) or exc}
        ) from None


def condition_text(condition: Any) -> str:
    return "" if not condition else yaml.safe_dump(condition, allow_unicode=True, sort_keys=False).strip()


def parse_duration_text(text: str) -> dt.timedelta | None:
    """``30m``, ``2h``, ``1d`` or ``1w`` as a duration; empty is None."""
    text = text.strip()
    if not text:
        return None
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise forms.ValidationError(_("a duration such as 30m, 2h or 1d"))
    return dt.timedelta(minutes=int(match.group(1)) * _MINUTES[match.group(2)])


def duration_text(value: dt.timedelta | None) -> str:
    if value is None:
        return ""
    minutes = int(value.total_seconds() // 60)
    for unit, size in (("d", 1440), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"
