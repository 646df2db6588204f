"""Blind consistency studies: analysts answer alone, the owner reads Krippendorff's alpha per fact."""

from __future__ import annotations

import math

import pytest
from django.test import Client
from django.urls import reverse

from nciss_platform.accounts.models import User
from nciss_platform.audit.models import AuditEvent
from nciss_platform.calibration import services
from nciss_platform.calibration.models import RatingSession
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.incidents.models import Incident


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def study(owner: User, analysts: list[User], history: list[Incident]) -> RatingSession:
    return services.create_rating_session(
        actor=owner, title="Spring study", analysts=analysts[:2], sample_size=3, seed=1
    )


def test_a_study_samples_incidents_for_the_chosen_analysts(study: RatingSession, history: list[Incident]) -> None:
    assert set(study.incidents.all()) == set(history)
    assert "functional_impact" in study.facts and "sector" not in study.facts
    assert AuditEvent.objects.filter(action="calibration.rating_session_created", object_id=str(study.pk)).exists()


def test_a_study_needs_two_analysts_and_a_possible_sample(owner: User, analysts: list[User], history: list) -> None:
    with pytest.raises(ServiceError) as raised:
        services.create_rating_session(actor=owner, title="Too small", analysts=analysts[:1], sample_size=50)
    assert {path for path, _ in raised.value.errors} == {"analysts", "sample_size"}


def test_an_analyst_answers_blind(study: RatingSession, analysts: list[User], history: list[Incident]) -> None:
    first, second = analysts[:2]
    incident = history[0]
    services.submit_rating(
        actor=first, session=study, incident=incident, facts={"functional_impact": "significant-non-critical"}
    )
    page = client_for(second).get(reverse("calibration:rate", args=[study.pk, incident.pk])).content.decode()
    assert incident.title in page and "What happened." in page
    assert 'value="significant-non-critical" selected' not in page  # not the other analyst's answer
    assert 'value="denial-critical" selected' not in page  # not the incident's own facts
    assert "level-badge" not in page  # nor its level
    mine = client_for(first).get(reverse("calibration:rate", args=[study.pk, incident.pk])).content.decode()
    assert 'value="significant-non-critical" selected' in mine


def test_only_the_studys_analysts_rate_and_only_the_owner_reads_the_agreement(
    study: RatingSession, analysts: list[User], history: list[Incident]
) -> None:
    outsider = analysts[2]
    assert client_for(outsider).get(reverse("calibration:rate", args=[study.pk, history[0].pk])).status_code == 404
    with pytest.raises(NotAllowed):
        services.submit_rating(actor=outsider, session=study, incident=history[0], facts={})
    assert client_for(analysts[0]).get(reverse("calibration:session", args=[study.pk])).status_code == 403


def test_rating_from_the_page_records_the_answers_and_their_level(
    study: RatingSession, analysts: list[User], history: list[Incident]
) -> None:
    incident = history[0]
    response = client_for(analysts[0]).post(
        reverse("calibration:rate", args=[study.pk, incident.pk]),
        {"functional_impact": "denial-critical", "observed_activity": "effect", "location": "critical-systems"},
    )
    assert response.status_code == 302
    rating = study.ratings.get()
    assert rating.facts["functional_impact"] == "denial-critical"
    assert rating.level == incident.level  # the same facts as reported, the same organisation: the same level


def test_agreement_per_fact_shows_which_questions_are_ambiguous(
    owner: User, study: RatingSession, analysts: list[User], history: list[Incident]
) -> None:
    first, second = analysts[:2]
    impacts = ["no-impact", "minimal-non-critical", "denial-critical"]
    actors = ["criminal", "hacktivist", "apt"]
    for i, incident in enumerate(history):
        services.submit_rating(
            actor=first,
            session=study,
            incident=incident,
            facts={"functional_impact": impacts[i], "actor": actors[i]},
        )
        services.submit_rating(
            actor=second,
            session=study,
            incident=incident,
            facts={"functional_impact": impacts[i], "actor": actors[(i + 1) % 3]},
        )
    results = {a.name: a for a in services.agreement(study)}
    assert results["functional_impact"].alpha == pytest.approx(1.0)
    assert not results["functional_impact"].ambiguous
    assert results["actor"].alpha < 0 and results["actor"].ambiguous
    assert math.isnan(results["location"].alpha) and results["location"].answers == 0
    page = client_for(owner).get(reverse("calibration:session", args=[study.pk])).content.decode()
    assert '<tr class="ambiguous" data-fact="actor">' in page
    assert 'data-fact="functional_impact"' in page


def test_a_closed_study_takes_no_more_answers(
    owner: User, study: RatingSession, analysts: list[User], history: list[Incident]
) -> None:
    services.close_rating_session(actor=owner, session=study)
    with pytest.raises(ServiceError):
        services.submit_rating(actor=analysts[0], session=study, incident=history[0], facts={})
