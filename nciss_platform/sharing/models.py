"""Partner groups and shares: what was sent to whom, frozen as the partner sees it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from nciss_platform.accounts.models import Organisation
from nciss_platform.incidents.models import TLP, Incident


class PartnerGroup(models.Model):
    """Partner organisations abroad that receive shares together; each group is one TAXII collection."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.TextField(blank=True)
    organisations = models.ManyToManyField(Organisation, related_name="partner_groups", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Share(models.Model):
    """One incident as shared with one partner organisation.

    ``record`` is the :class:`nciss.interop.IncidentRecord` (as JSON) the partner receives: its
    level on the partner's preferred scale, only what the TLP allows, and the reporting
    organisation's identity only if it agreed. It is frozen when shared; sharing again after a
    change adds a new share (a new version of the same STIX object, ``stix_id``).
    """

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="shares")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="shares_received")
    group = models.ForeignKey(
        PartnerGroup,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="shares",
        help_text="The group it was shared through (its TAXII collection); empty for a direct share",
    )
    shared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shares_made")
    shared_at = models.DateTimeField()
    tlp = models.CharField(max_length=20, choices=TLP.choices)
    recipients = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="shares_named_in", blank=True, help_text="Named people (TLP:RED)"
    )
    identifies_reporter = models.BooleanField(default=False)
    record = models.JSONField()
    stix_id = models.CharField(max_length=80)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-shared_at", "-id"]
        indexes = [models.Index(fields=["organisation", "-shared_at"], name="share_organisation")]

    def __str__(self) -> str:
        return f"{self.incident.reference} to {self.organisation}"
