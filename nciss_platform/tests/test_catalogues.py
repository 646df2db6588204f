"""The interface's Russian and Uzbek catalogues are complete, keep their placeholders and are compiled."""

from __future__ import annotations

import ast
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ["ru", "uz"]
MO_MAGIC = 0x950412DE

PYTHON_PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[sdif]")
BRACE_PLACEHOLDER = re.compile(r"\{\w*\}")
HTML_TAG = re.compile(r"</?\w+[^>]*>|&\w+;")


@dataclass
class Entry:
    """One message of a .po file."""

    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str]:
        return self.msgctxt, self.msgid

    def label(self) -> str:
        return f"line {self.line}: {self.msgid!r}"


def read_po(path: Path) -> tuple[dict[str, str], list[Entry]]:
    """The header fields and the (non-obsolete) entries of a .po file."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal entry
        if entry.msgstr:
            entries.append(entry)
        entry = Entry()

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#"):
            if entry.msgstr:
                finish()
            if line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith('"'):
            assert target is not None, f"{path}:{number}: a string continues nothing"
            text = ast.literal_eval(line)
            if target[0] == "msgstr":
                entry.msgstr[target[1]] += text
            else:
                setattr(entry, target[0], getattr(entry, target[0]) + text)
            continue
        keyword, _, value = line.partition(" ")
        text = ast.literal_eval(value)
        if keyword in ("msgctxt", "msgid") and entry.msgstr:
            finish()
        if not entry.line:
            entry.line = number
        form = re.fullmatch(r"msgstr(?:\[(\d+)\])?", keyword)
        if form:
            index = int(form.group(1) or 0)
            entry.msgstr[index] = text
            target = ("msgstr", index)
        else:
            setattr(entry, keyword, text)
            target = (keyword, 0)
    finish()
    header = next(e for e in entries if e.msgid == "" and e.msgctxt is None)
    fields = dict(line.split(": ", 1) for line in header.msgstr[0].splitlines() if ": " in line)
    return fields, [e for e in entries if e is not header]


def plural_count(header: dict[str, str]) -> int:
    match = re.search(r"nplurals\s*=\s*(\d+)", header["Plural-Forms"])
    assert match, "the Plural-Forms header names no nplurals"
    return int(match.group(1))


def read_mo(path: Path) -> dict[tuple[str | None, str], list[str]]:
    """The messages of a compiled .mo file, keyed like the .po entries (the header left out)."""
    data = path.read_bytes()
    order = "<" if struct.unpack("<I", data[:4])[0] == MO_MAGIC else ">"
    _magic, _revision, count, originals_at, translations_at = struct.unpack(order + "5I", data[:20])
    messages: dict[tuple[str | None, str], list[str]] = {}
    for index in range(count):
        length, offset = struct.unpack(order + "2I", data[originals_at + 8 * index : originals_at + 8 * index + 8])
        original = data[offset : offset + length].decode("utf-8")
        length, offset = struct.unpack(
            order + "2I", data[translations_at + 8 * index : translations_at + 8 * index + 8]
        )
        translated = data[offset : offset + length].decode("utf-8")
        context, _, msgid = original.rpartition("\x04")
        msgid = msgid.split("\x00")[0]
        if msgid:
            messages[(context or None, msgid)] = translated.split("\x00")
    return messages


def placeholders(text: str, python_format: bool) -> list[str]:
    found = BRACE_PLACEHOLDER.findall(text) + HTML_TAG.findall(text)
    if python_format:
        found += PYTHON_PLACEHOLDER.findall(text.replace("%%", ""))
    return sorted(found)


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_has_every_entry_translated_and_none_fuzzy(language):
    header, entries = read_po(LOCALE / language / "LC_MESSAGES" / "django.po")
    forms = plural_count(header)
    problems = []
    for entry in entries:
        expected = forms if entry.msgid_plural is not None else 1
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy {entry.label()}")
        elif len(entry.msgstr) != expected or any(not text for text in entry.msgstr.values()):
            problems.append(f"untranslated {entry.label()}")
    assert entries, "the catalogue has no entries"
    assert not problems, f"{language}: {len(problems)} entries to translate:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_keeps_every_placeholder_in_the_translation(language):
    _header, entries = read_po(LOCALE / language / "LC_MESSAGES" / "django.po")
    problems = []
    for entry in entries:
        python_format = "python-format" in entry.flags
        wanted = set(placeholders(entry.msgid, python_format))
        if entry.msgid_plural is not None:
            wanted |= set(placeholders(entry.msgid_plural, python_format))
        for index, text in entry.msgstr.items():
            missing = wanted - set(placeholders(text, python_format))
            if text and missing:
                problems.append(f"{entry.label()} msgstr[{index}] lacks {sorted(missing)}")
    assert not problems, f"{language}:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_has_a_compiled_catalogue_matching_the_po(language):
    folder = LOCALE / language / "LC_MESSAGES"
    _header, entries = read_po(folder / "django.po")
    translated = {
        entry.key: [entry.msgstr[index] for index in sorted(entry.msgstr)]
        for entry in entries
        if "fuzzy" not in entry.flags and all(entry.msgstr.values())
    }
    compiled = read_mo(folder / "django.mo")
    stale = sorted(
        str(key[1]) for key in translated.keys() | compiled.keys() if translated.get(key) != compiled.get(key)
    )
    assert not stale, f"{language}: django.mo differs from django.po (run compilemessages) for:\n" + "\n".join(stale)


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_shows_the_catalogue_translations_on_the_pages(language):
    _header, entries = read_po(LOCALE / language / "LC_MESSAGES" / "django.po")
    singular = [
        e for e in entries if e.msgid_plural is None and e.msgctxt is None and e.msgstr[0] and "fuzzy" not in e.flags
    ]
    with translation.override(language):
        wrong = [e.label() for e in singular if translation.gettext(e.msgid) != e.msgstr[0]]
    assert not wrong, f"{language}: Django does not give the catalogue's translation for:\n" + "\n".join(wrong)
