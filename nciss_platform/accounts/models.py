"""Organisations (operators, agencies, the CSIRT, regulators, partners abroad) and their users."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models

from nciss.facts import fact_specs


def _choices(fact: str) -> list[tuple[str, str]]:
    spec = fact_specs()[fact]
    return [(v, spec.value_labels[v]["en"] if v in spec.value_labels else v) for v in spec.values]


class Organisation(models.Model):
    """An organisation that reports, is affected, responds or receives shared incidents."""

    class Kind(models.TextChoices):
        OPERATOR = "operator", "Operator"
        AGENCY = "agency", "Government agency"
        CSIRT = "csirt", "CSIRT"
        REGULATOR = "regulator", "Regulator"
        PARTNER = "partner", "Partner abroad"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    sector = models.CharField(max_length=40, choices=_choices("sector"), default="other")
    criticality = models.CharField(max_length=20, choices=_choices("entity_criticality"), default="other")
    size = models.CharField(max_length=30, choices=_choices("entity_size"), default="medium")
    entity_type = models.CharField(max_length=30, choices=_choices("entity_type"), default="other")
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    annual_turnover_eur = models.FloatField(null=True, blank=True)
    preferred_scale = models.CharField(max_length=100, blank=True, help_text="A scale id; blank for the national scale")
    language = models.CharField(max_length=5, choices=settings.LANGUAGES, default="en")
    reporting_calendar = models.JSONField(default=dict, blank=True, help_text="Business hours (used by the clocks)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_foreign(self) -> bool:
        return self.country != settings.NCISS_COUNTRY

    @property
    def scale_id(self) -> str:
        return self.preferred_scale or settings.NCISS_NATIONAL_SCALE

    def entity_facts(self) -> dict[str, Any]:
        """The facts an incident at this organisation starts from (contract: entity facts default)."""
        facts: dict[str, Any] = {
            "sector": self.sector,
            "entity_criticality": self.criticality,
            "entity_size": self.size,
            "entity_type": self.entity_type,
            "entity_country": self.country,
        }
        if self.annual_turnover_eur is not None:
            facts["annual_turnover_eur"] = self.annual_turnover_eur
        return facts


class User(AbstractUser):
    """A person with one role in one organisation."""

    class Role(models.TextChoices):
        REPORTER = "reporter", "Reporter"
        ANALYST = "analyst", "Analyst"
        COORDINATOR = "coordinator", "Coordinator"
        ADMINISTRATOR = "administrator", "Administrator"
        PARTNER = "partner", "Partner abroad"
        SCALE_OWNER = "scale_owner", "Scale owner"

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.REPORTER)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="users", null=True, blank=True
    )
    language = models.CharField(max_length=5, choices=settings.LANGUAGES, default="en")
    totp_secret = models.CharField(max_length=64, blank=True, help_text="Base32 TOTP secret; empty until enrolled")
    totp_confirmed = models.BooleanField(default=False)

    @property
    def is_csirt_staff(self) -> bool:
        """Analysts and coordinators see every incident their TLP allows."""
        return self.role in (self.Role.ANALYST, self.Role.COORDINATOR)

    @property
    def needs_second_factor(self) -> bool:
        """CSIRT staff, scale owners, administrators and superusers must use TOTP unless the deployment turned it off.

        Reporters and partners abroad sign in with a password (their own organisation's policy applies).
        """
        staff_roles = (self.Role.ANALYST, self.Role.COORDINATOR, self.Role.SCALE_OWNER, self.Role.ADMINISTRATOR)
        return bool(settings.NCISS_REQUIRE_2FA) and (self.role in staff_roles or self.is_superuser)


class LoginAttempt(models.Model):
    """One sign-in attempt, kept so that throttling holds across server processes (accounts.throttle).

    A success is a completed sign-in (after the second factor when one is needed). ``otp_step``
    is the TOTP time step a successful code used, so that the same code is never accepted twice.
    """

    at = models.DateTimeField(db_index=True)
    username = models.CharField(max_length=150)
    ip = models.GenericIPAddressField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    stage = models.CharField(max_length=20, help_text="password, otp or token")
    otp_step = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["username", "at"], name="loginattempt_username_at"),
            models.Index(fields=["ip", "at"], name="loginattempt_ip_at"),
        ]

    def __str__(self) -> str:
        outcome = "succeeded" if self.succeeded else "failed"
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} from {self.ip or 'unknown'}: {self.stage} {outcome}"


class NetworkAsset(models.Model):
    """An IP prefix, an autonomous system or a domain of an organisation: events there are theirs.

    ``value`` is normalised (``nciss.constituency.normalise``), so one spelling per asset; prefixes
    of different organisations may nest (the longest wins) but the same value has one owner.
    Assets are added and removed, never edited (``accounts.services.constituency`` relies on it).
    """

    class Kind(models.TextChoices):
        CIDR = "cidr", "IP prefix"
        ASN = "asn", "Autonomous system"
        DOMAIN = "domain", "Domain"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="network_assets")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=255)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="networkasset_unique_kind_value")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"
