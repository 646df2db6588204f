from nciss_platform.scales.services import facts_from_answers, ink_for


def test_it_types_the_answers_of_the_form():
    answers = {
        "functional_impact": ["denial-critical"],
        "malicious": ["yes"],
        "data_compromised": ["no"],
        "fatalities": ["2"],
        "population_affected_share": ["0.25"],
        "countries_affected": ["fr, de;pl"],
        "sectors_affected": ["energy", "health"],
        "detected_at": ["2026-10-21T09:12"],
    }
    assert facts_from_answers(answers) == {
        "functional_impact": "denial-critical",
        "malicious": True,
        "data_compromised": False,
        "fatalities": 2,
        "population_affected_share": 0.25,
        "countries_affected": ["fr", "de", "pl"],
        "sectors_affected": ["energy", "health"],
        "detected_at": "2026-10-21T09:12+00:00",
    }


def test_it_leaves_dont_know_answers_out():
    assert facts_from_answers({"fatalities": [""], "malicious": [""], "sectors_affected": []}) == {}


def test_it_ignores_fields_that_are_not_facts():
    assert facts_from_answers({"scale": ["cisa-nciss"], "lang": ["ru"]}) == {}


def test_it_passes_unreadable_numbers_on_for_the_core_to_name():
    assert facts_from_answers({"fatalities": ["many"]}) == {"fatalities": "many"}


def test_it_writes_black_on_light_levels_and_white_on_dark_ones():
    assert ink_for("#ffffff") == ink_for("#ffff00") == "#000000"
    assert ink_for("#000000") == ink_for("#c8102e") == "#ffffff"
