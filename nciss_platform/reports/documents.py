"""Reports as documents: a template rendered to standalone HTML, and that HTML to PDF.

Any report uses it (situation reports, advisories, annual statistics, after-action reports):

- its template extends ``reports/document.html`` and fills ``{% block body %}``;
- ``render_html(template, context, title=..., tlp=..., lang=...)`` gives standalone HTML:
  the stylesheet inline, no script, nothing fetched from anywhere;
- ``render_pdf(html)`` sets it with WeasyPrint in the vendored DejaVu fonts (``fonts/``, with
  their licence), so that Russian and Uzbek render the same on any machine, system fonts unused.

Every PDF page carries the TLP label in its header and its footer (CSS @page margin boxes, the
label's TLP 2.0 colour on black) and "page X of Y"; the HTML version shows the label above and
below the report instead.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from nciss_platform.incidents.models import TLP

FONTS = Path(__file__).resolve().parent / "fonts"
STYLESHEET = Path(__file__).resolve().parent / "static" / "reports" / "report.css"

# FIRST TLP 2.0: each label's colour, always written on a black background.
TLP_COLOURS = {
    TLP.CLEAR: "#FFFFFF",
    TLP.GREEN: "#33FF00",
    TLP.AMBER: "#FFC000",
    TLP.AMBER_STRICT: "#FFC000",
    TLP.RED: "#FF2B2B",
}
TLP_ORDER = list(TLP.values)  # least restrictive first


def most_restrictive(labels: Iterable[str], floor: str = TLP.CLEAR) -> str:
    """The most restrictive of the TLP labels, and never less restrictive than ``floor``."""
    return max([floor, *labels], key=TLP_ORDER.index)


@dataclass(frozen=True)
class Marking:
    """A TLP label as a report shows it."""

    label: str

    @property
    def colour(self) -> str:
        return TLP_COLOURS[TLP(self.label)]


@dataclass(frozen=True)
class Pdf:
    data: bytes
    pages: int


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string, safe inside a <style> element."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ").replace("<", "\\3c ")
    return f'"{escaped}"'


def page_counter() -> str:
    """ "page X of Y" in the active language, as CSS ``content`` (page counters filled in by the renderer)."""
    marker_page, marker_pages = "\x00page\x00", "\x00pages\x00"
    text = _("page %(page)s of %(pages)s") % {"page": marker_page, "pages": marker_pages}
    parts: list[str] = []
    for piece in text.split("\x00"):
        if piece in ("page", "pages"):
            parts.append(f"counter({piece})")
        elif piece:
            parts.append(css_string(piece))
    return " ".join(parts)


def page_css(*, title: str, marking: Marking, generated: str) -> SafeString:
    """The @page rules: the title and the TLP label above, the label, the date and page X of Y below."""
    label = css_string(marking.label)
    tlp_box = (
        f"content: {label}; background: #000; color: {marking.colour}; font-weight: bold; font-size: 9pt;"
        " padding: 0 2.5mm; vertical-align: middle;"
    )
    return mark_safe(  # every text in it is a CSS-escaped string
        "@page {"
        " size: A4; margin: 22mm 16mm 20mm 16mm;"
        f" @top-left {{ content: {css_string(title)}; font-size: 8pt; color: #444; vertical-align: middle; }}"
        f" @top-right {{ {tlp_box} margin: 10mm 0 6mm 0; }}"
        f" @bottom-left {{ {tlp_box} margin: 6mm 0 9mm 0; }}"
        f" @bottom-center {{ content: {css_string(generated)}; font-size: 7.5pt; color: #444; }}"
        f" @bottom-right {{ content: {page_counter()}; font-size: 8pt; color: #444; }}"
        " }"
    )


@cache
def _stylesheet() -> str:
    return STYLESHEET.read_text(encoding="utf-8")


def render_html(
    template: str,
    context: Mapping[str, Any],
    *,
    title: str,
    tlp: str,
    lang: str,
    generated_at: dt.datetime,
) -> str:
    """The report as a standalone HTML document in ``lang``, marked with ``tlp``.

    ``template`` extends ``reports/document.html``; ``title`` heads every page.
    """
    marking = Marking(tlp)
    with translation.override(lang):
        generated = _("Generated %(when)s UTC") % {"when": formats.date_format(generated_at, "DATETIME_FORMAT")}
        return render_to_string(
            template,
            {
                **context,
                "lang": lang,
                "document_title": title,
                "marking": marking,
                "generated": generated,
                "stylesheet": mark_safe(_stylesheet()),  # the package's own file
                "page_css": page_css(title=title, marking=marking, generated=generated),
            },
        )


# ---------------------------------------------------------------- PDF

FONT_FACES = (
    ("NCISS Sans", "normal", "DejaVuSans.ttf"),
    ("NCISS Sans", "bold", "DejaVuSans-Bold.ttf"),
    ("NCISS Mono", "normal", "DejaVuSansMono.ttf"),
)


def font_css() -> str:
    """@font-face rules for the vendored fonts, by file URL: the only fonts a PDF uses."""
    faces = [
        f'@font-face {{ font-family: "{family}"; font-weight: {weight}; src: url("{(FONTS / name).as_uri()}"); }}'
        for family, weight, name in FONT_FACES
    ]
    return "\n".join([*faces, 'html { font-family: "NCISS Sans"; } code, .mono { font-family: "NCISS Mono"; }'])


class _QuietSubsetting(logging.Filter):
    """Drops WeasyPrint's advice to install HarfBuzz-Subset (fontTools does the same, slower)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Using fontTools instead of HarfBuzz-Subset")


def _is_font_file(url: str) -> bool:
    """Whether ``url`` names one of the vendored font files (a file: URL, no way out of the folder)."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return False
    path = Path(url2pathname(parts.path)).resolve()
    return path.parent == FONTS and path.suffix == ".ttf"


@cache
def _weasyprint() -> tuple[Any, Any]:
    """WeasyPrint, and a URL fetcher that fetches the font files and nothing else, loaded once on first use."""
    import weasyprint
    from weasyprint.urls import URLFetcher

    class FontsOnly(URLFetcher):
        """A report never fetches anything but its fonts: no image, stylesheet or page from elsewhere."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if not _is_font_file(url):
                raise ValueError(f"reports fetch nothing but their fonts, not {url[:80]}")
            return super().fetch(url, headers)

    logging.getLogger("weasyprint").addFilter(_QuietSubsetting())
    return weasyprint, FontsOnly


def render_pdf(html: str) -> Pdf:
    """The HTML of ``render_html`` as a PDF in the vendored fonts."""
    from weasyprint.text.fonts import FontConfiguration

    weasyprint, fonts_only = _weasyprint()
    fetcher = fonts_only()
    fonts = FontConfiguration()  # one per document: WeasyPrint's font set-up is not shared between threads
    fonts_css = weasyprint.CSS(string=font_css(), font_config=fonts, url_fetcher=fetcher)
    document = weasyprint.HTML(string=html, url_fetcher=fetcher).render(stylesheets=[fonts_css], font_config=fonts)
    return Pdf(document.write_pdf(), len(document.pages))
