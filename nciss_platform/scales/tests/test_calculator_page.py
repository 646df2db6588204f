import re

import pytest

from nciss.facts import fact_groups, fact_specs


def test_it_asks_every_fact_grouped_with_dont_know_by_default(client):
    page = client.get("/").content.decode()
    for group in fact_groups().values():
        assert f"<legend>{group['en']}</legend>" in page
    for spec in fact_specs().values():
        assert spec.question.get_for("en").replace("'", "&#x27;") in page
    assert 'value="" checked' in page  # yes/no questions start at "don't know"
    assert " selected>" not in page.split('id="input-classification"')[1].split("</select>")[0]


def test_it_opens_on_the_national_scale(client, settings):
    page = client.get("/").content.decode()
    assert f'<option value="{settings.NCISS_NATIONAL_SCALE}" selected>' in page
    assert 'data-scale="osce-reference"' in page


def test_it_shows_the_result_of_answers_given_in_the_address(client):
    page = client.get("/", {"scale": "uk-ncsc", "fatalities": "1"}).content.decode()
    assert "Category 1: National cyber emergency" in page
    assert re.search(r'<input type="number" id="input-fatalities" name="fatalities" value="1"', page)


def test_it_speaks_the_chosen_language(client):
    page = client.get("/", {"lang": "ru", "scale": "cisa-nciss"}).content.decode()
    assert '<html lang="ru">' in page
    assert fact_specs()["fatalities"].question.get_for("ru") in page
    assert fact_groups()["impact"].get_for("ru") in page
    assert "Базовый" in page
    assert "Калькулятор тяжести" in page and "Не знаю" in page  # the interface too


def test_it_speaks_uzbek_in_latin_script(client):
    page = client.get("/", {"lang": "uz"}).content.decode()
    assert "Jiddiylik kalkulyatori" in page and "Bilmayman" in page
    assert fact_specs()["fatalities"].question.get_for("uz").replace("'", "&#x27;") in page


def test_it_refreshes_the_result_panel_with_the_other_scales(client):
    response = client.post(
        "/calculator/result", {"scale": "cisa-nciss", "functional_impact": "denial-critical", "fatalities": "1"}
    )
    panel = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in panel
    assert 'id="verdict" data-scale="cisa-nciss"' in panel
    assert all(f'data-scale="{other}"' in panel for other in ("osce-reference", "uk-ncsc", "eu-nis2"))
    assert "Score <strong>" in panel


def test_it_names_the_facts_that_could_still_raise_the_level(client):
    panel = client.post(
        "/calculator/result", {"scale": "cisa-nciss", "functional_impact": "denial-critical"}
    ).content.decode()
    assert "could be up to" in panel
    assert f'<a href="#input-actor">{fact_specs()["actor"].label["en"]}</a>' in panel
    assert 'href="#input-functional_impact"' not in panel


@pytest.mark.parametrize(("answer", "reason"), [("-3", "must not be negative"), ("many", "expected a number")])
def test_it_says_why_an_answer_cannot_be_used(client, answer, reason):
    panel = client.post("/calculator/result", {"scale": "osce-reference", "fatalities": answer}).content.decode()
    assert 'role="alert"' in panel
    assert f"Deaths: {reason}" in panel


def test_it_needs_the_csrf_token_to_refresh_the_result(settings):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/calculator/result", {"scale": "cisa-nciss"})
    assert response.status_code == 403


def test_it_warns_on_every_page_when_two_factor_authentication_is_off(client, settings):
    settings.NCISS_REQUIRE_2FA = False
    assert "Two-factor authentication is off" in client.get("/").content.decode()
    settings.NCISS_REQUIRE_2FA = True
    assert "Two-factor authentication is off" not in client.get("/").content.decode()


def test_it_serves_its_vendored_htmx_without_a_cdn(client):
    page = client.get("/").content.decode()
    assert '<script src="/static/vendor/htmx-2.0.11.min.js" defer></script>' in page
    assert "https://" not in page
