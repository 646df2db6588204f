"""The demo's shares with Veskaria and Ostmark: named, anonymous, crosswalked, TLP:RED."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from nciss_platform.accounts.models import User
from nciss_platform.sharing.models import PartnerGroup, Share
from nciss_platform.sharing.services import records_for

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[None]:
    """The demo loaded once for the module, rolled back afterwards."""
    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"))
    with django_db_blocker.unblock(), media, transaction.atomic():
        call_command("demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


def test_it_gives_the_partners_their_role_and_a_group(demo) -> None:
    partners = User.objects.filter(username__in=["partner.veskaria", "partner.ostmark"])
    assert {u.role for u in partners} == {User.Role.PARTNER}
    network = PartnerGroup.objects.get(slug="csirt-network")
    assert set(network.organisations.values_list("slug", flat=True)) == {"veskaria-cda", "ostmark-ncc"}


def test_it_shares_named_anonymous_and_crosswalked_incidents(demo) -> None:
    shares = list(Share.objects.select_related("incident", "organisation"))
    assert len(shares) >= 3
    named = [s for s in shares if s.identifies_reporter]
    assert named and all(s.incident.reporter_may_be_named for s in named)
    assert any(s.tlp == "TLP:RED" and s.recipients.filter(username="partner.veskaria").exists() for s in named)
    for share in shares:
        if not share.identifies_reporter:
            reporter = share.incident.reporting_organisation.name
            assert share.record["reporter"] is None and reporter not in json.dumps(share.record, ensure_ascii=False)
    assert any(s.record["assessments"][-1]["basis"] == "crosswalk" for s in shares)
    assert any(s.group is not None for s in shares)


def test_each_partner_reads_only_its_own(demo) -> None:
    veskaria = {r.reference for r in records_for(User.objects.get(username="partner.veskaria"))}
    ostmark = {r.reference for r in records_for(User.objects.get(username="partner.ostmark"))}
    assert veskaria and ostmark and veskaria != ostmark
    red = set(Share.objects.filter(tlp="TLP:RED").values_list("incident__reference", flat=True))
    assert red <= veskaria and not red & ostmark
