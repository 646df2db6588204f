"""Translated texts: a mapping of language code to string, English required."""

from __future__ import annotations

from typing import Any

LANGUAGES = ("en", "ru", "uz")


class Text(dict[str, str]):
    """A text in several languages; ``text.get_for("uz")`` falls back to English."""

    def __init__(self, value: Any = None):
        if isinstance(value, str):
            value = {"en": value}
        super().__init__(value or {})

    def get_for(self, lang: str) -> str:
        return self.get(lang) or self.get("en") or ""

    def __str__(self) -> str:
        return self.get_for("en")
