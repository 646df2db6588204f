"""Reading rendered PDFs back, as a person reading the page would: its text, its header and its footer."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pypdf

MARGIN_TOP_PT = 62  # 22 mm: the page's header band
MARGIN_BOTTOM_PT = 57  # 20 mm: its footer band


@dataclass(frozen=True)
class Page:
    text: str
    header: str
    footer: str
    fonts: frozenset[str]


def read_pdf(data: bytes) -> list[Page]:
    """Every page's text, the text in its header and footer bands, and the fonts it uses."""
    return [_read_page(page) for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def _read_page(page: pypdf.PageObject) -> Page:
    height = float(page.mediabox.height)
    header: list[str] = []
    footer: list[str] = []

    def place(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        if y > height - MARGIN_TOP_PT:
            header.append(text)
        elif y < MARGIN_BOTTOM_PT:
            footer.append(text)

    text = page.extract_text(visitor_text=place)
    fonts = page["/Resources"]["/Font"]
    names = frozenset(str(fonts[key].get_object()["/BaseFont"]) for key in fonts)
    return Page(text, " ".join(header), " ".join(footer), names)


def all_text(pages: list[Page]) -> str:
    return "\n".join(page.text for page in pages)
