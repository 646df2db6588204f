"""The report machinery other reports reuse: markings, page furniture, charts, the PDF's only fetches."""

from __future__ import annotations

import pytest
from django.utils import translation

from nciss_platform.incidents.models import TLP
from nciss_platform.reports import charts, documents


def test_it_picks_the_most_restrictive_tlp_with_a_floor() -> None:
    assert documents.most_restrictive([TLP.CLEAR, TLP.AMBER, TLP.GREEN]) == TLP.AMBER
    assert documents.most_restrictive([TLP.AMBER, TLP.AMBER_STRICT]) == TLP.AMBER_STRICT
    assert documents.most_restrictive([], floor=TLP.GREEN) == TLP.GREEN
    assert documents.most_restrictive([TLP.CLEAR], floor=TLP.GREEN) == TLP.GREEN


def test_it_gives_each_tlp_label_its_tlp_2_colour() -> None:
    colours = {label: documents.Marking(label).colour for label in TLP.values}
    assert colours == {
        "TLP:CLEAR": "#FFFFFF",
        "TLP:GREEN": "#33FF00",
        "TLP:AMBER": "#FFC000",
        "TLP:AMBER+STRICT": "#FFC000",
        "TLP:RED": "#FF2B2B",
    }


def test_it_writes_page_x_of_y_in_each_language_as_css() -> None:
    expected = {
        "en": '"page " counter(page) " of " counter(pages)',
        "ru": '"стр. " counter(page) " из " counter(pages)',
        "uz": '"sahifa " counter(page) " / " counter(pages)',
    }
    for lang, css in expected.items():
        with translation.override(lang):
            assert documents.page_counter() == css


def test_it_keeps_any_text_inside_its_css_string() -> None:
    assert documents.css_string('a "quoted" \\ </style><script>') == '"a \\"quoted\\" \\\\ \\3c /style>\\3c script>"'
    css = documents.page_css(title='"}; @import url(x); {', marking=documents.Marking(TLP.RED), generated="now")
    assert "@import url(x)" in css and '"\\"}; @import url(x); {"' in css


def test_it_fetches_its_fonts_and_nothing_else() -> None:
    _weasyprint, fonts_only = documents._weasyprint()
    fetcher = fonts_only()
    for url in ("file:///etc/hostname", "http://127.0.0.1:9/logo.png", (documents.FONTS / ".." / "apps.py").as_uri()):
        with pytest.raises(ValueError, match="nothing but their fonts"):
            fetcher.fetch(url)
    response = fetcher.fetch((documents.FONTS / "DejaVuSans.ttf").as_uri())
    assert response.read(4) == b"\x00\x01\x00\x00"  # a TrueType font
    response.close()


def test_it_draws_bars_with_their_labels_values_and_outlines() -> None:
    svg = charts.bar_chart(
        [charts.Bar("Severe", 3, "#cc0033"), charts.Bar("Baseline <b>", 0, "#ffffff")], title="Open & closed"
    )
    assert svg.startswith("<svg") and 'aria-label="Open &amp; closed"' in svg
    assert ">Severe</text>" in svg and ">3</text>" in svg and ">0</text>" in svg
    assert "Baseline &lt;b&gt;" in svg and "<b>" not in svg
    assert svg.count('stroke="#444444"') == 2  # a white bar stays visible


def test_it_stacks_columns_with_totals_and_a_legend() -> None:
    svg = charts.stacked_columns(
        ["1 Mar", "2 Mar"],
        [charts.Series("Low", "#339900", [2, 0]), charts.Series("High", "#ffc000", [1, 0])],
        title="New incidents",
    )
    assert ">1 Mar</text>" in svg and ">2 Mar</text>" in svg
    assert ">3</text>" in svg  # the first day's total
    assert ">Low</text>" in svg and ">High</text>" in svg  # the legend names every colour
    assert svg.count("<rect") == 2 + 2  # two segments, two legend swatches: an empty day draws nothing
