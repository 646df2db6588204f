"""The core commands of ``nciss``: ``scales``, ``facts-schema``, ``assess`` and ``crosswalk``.

Pure Python (never imports Django). ``nciss_platform.cli`` registers these commands beside
its own with ``add_core_commands(subparsers)`` and runs them with ``run_core(args)``;
``main(argv)`` runs them standalone (``python -m nciss``).

Output is readable (rich tables and colours) by default and plain JSON with ``--json``.
Bad input never gives a traceback: one line ``nciss: <reason>`` on stderr and exit code 2.

``nciss assess --json`` is the batch path: JSON Lines in, JSON Lines out, in order, one
output line per non-blank input line. It reads and writes in chunks, keeps rich out of the
per-line loop, remembers the output of repeated input lines, and spreads large inputs over
the machine's cores (``--workers``), keeping the order.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import itertools
import json
import os
import signal
import stat
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

import orjson

from nciss.crosswalks import crosswalk as crosswalk_level
from nciss.crosswalks import resolve_level
from nciss.deadlines import reporting_deadlines
from nciss.engine import assess
from nciss.facts import FactsError, fact_specs, facts_json_schema
from nciss.scale_schema import SCALE_SCHEMA
from nciss.scales import Duration, Level, Scale, ScaleError, list_scales, load_scale
from nciss.taxonomy import rsit_labels

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text as RichText

    from nciss.engine import Assessment

LANGS = ("en", "ru", "uz")
EXIT_OK, EXIT_BAD_INPUT = 0, 2

# The JSON Lines path reads this many lines per chunk; an input of more than
# LARGE_LINES lines or LARGE_BYTES bytes is "large": it gets a progress bar (on a
# terminal) and, with more than one core, worker processes.
CHUNK_LINES = 2000
LARGE_LINES = 10_000
LARGE_BYTES = 1 << 20
REPEAT_CACHE = 4096  # remembered outputs of repeated input lines


class CliError(Exception):
    """Bad input: printed as one line ``nciss: <reason>``, exit code 2."""


# ---------------------------------------------------------------- argument parsing


def _one_line_error(parser: argparse.ArgumentParser, message: str) -> None:
    """argparse errors as one line on stderr (no usage block), exit code 2."""
    where = parser.prog.split(" ", 1)[1] + ": " if " " in parser.prog else ""
    parser.exit(EXIT_BAD_INPUT, f"nciss: {where}{message} (see {parser.prog} --help)\n")


def one_line_errors(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Make ``parser`` report usage errors as one line ``nciss: ...`` (exit 2), without the usage block."""
    parser.error = types.MethodType(_one_line_error, parser)  # type: ignore[method-assign]
    return parser


def _add(subparsers: argparse._SubParsersAction, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    return one_line_errors(subparsers.add_parser(name, **kwargs))


def _lang_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=LANGS, default="en", help="language of names and explanations (default: en)")


def add_core_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``scales``, ``facts-schema``, ``assess`` and ``crosswalk`` on ``subparsers``."""
    scales = _add(
        subparsers,
        "scales",
        help="list, show, validate national scales; print their JSON Schema",
        description="National scales: the presets and scale definition files.",
    )
    scales.set_defaults(core_func=_need_subcommand(scales), core_command="scales")
    sub = scales.add_subparsers(title="commands", metavar="{list,show,validate,schema}")

    p = _add(sub, "list", help="the preset scales", description="List the preset scales.")
    p.add_argument("--json", action="store_true", help="a JSON array of {id, name, version, levels}")
    p.set_defaults(core_func=_cmd_scales_list, core_command="scales list")

    p = _add(
        sub, "show", help="one scale in full", description="Show a scale: levels, method, rules, regime, crosswalks."
    )
    p.add_argument("scale", metavar="ID", help="a preset id or a scale definition file")
    p.add_argument("--json", action="store_true", help="the definition as JSON")
    _lang_option(p)
    p.set_defaults(core_func=_cmd_scales_show, core_command="scales show")

    p = _add(
        sub,
        "validate",
        help="check scale definition files",
        description="Check scale definition files: 'FILE: valid', or one 'path: reason' line per error (exit 2).",
    )
    p.add_argument("files", metavar="FILE", nargs="+", help="YAML or JSON scale definition")
    p.set_defaults(core_func=_cmd_scales_validate, core_command="scales validate")

    p = _add(sub, "schema", help="the JSON Schema of scale definitions", description="Print the scale JSON Schema.")
    p.set_defaults(core_func=_cmd_scales_schema, core_command="scales schema")

    p = _add(
        subparsers, "facts-schema", help="the JSON Schema of incident facts", description="Print the facts JSON Schema."
    )
    p.set_defaults(core_func=_cmd_facts_schema, core_command="facts-schema")

    p = _add(
        subparsers,
        "assess",
        help="assess incident facts on a scale",
        description=(
            "Assess incident facts. Without --json, FILE holds one JSON object and the result is a readable "
            "report. With --json, FILE is JSON Lines (one facts object per line) and so is the output, in order; "
            'a line that cannot be assessed gives {"error": ...} in its place and exit code 2.'
        ),
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--scale", metavar="ID", help="a preset id or a scale definition file")
    which.add_argument("--all-scales", action="store_true", help="every preset, side by side")
    p.add_argument(
        "file", metavar="FILE", nargs="?", default="-", help="facts (JSON, or JSON Lines with --json); - or none: stdin"
    )
    p.add_argument("--json", action="store_true", help="JSON Lines in and out")
    _lang_option(p)
    p.add_argument(
        "--workers", type=int, metavar="N", help="processes for large JSON Lines inputs (default: one per core)"
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: for large inputs when stderr is a terminal)",
    )
    p.set_defaults(core_func=_cmd_assess, core_command="assess")

    p = _add(
        subparsers,
        "crosswalk",
        help="a level of one scale on another",
        description="Read a level of one scale on another scheme's scale: the target range and its rationale.",
    )
    p.add_argument("--from", dest="source", metavar="A", required=True, help="the source scale (id or file)")
    p.add_argument("--to", dest="target", metavar="B", required=True, help="the target scale (id or file)")
    p.add_argument("level", metavar="LEVEL", help="a rank (0 = least severe) or a level name of A")
    p.add_argument("--json", action="store_true", help='{"min", "max", "rationale"}')
    _lang_option(p)
    p.set_defaults(core_func=_cmd_crosswalk, core_command="crosswalk")


def _need_subcommand(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        raise CliError(f"{parser.prog.removeprefix('nciss ')}: give a command (see {parser.prog} --help)")

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nciss",
        description="National cyber incident classification and severity scales.",
    )
    one_line_errors(parser)
    sub = parser.add_subparsers(dest="command", title="commands", required=True)
    add_core_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a core command standalone; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help, or a usage error already reported on one line
        return e.code if isinstance(e.code, int) else EXIT_BAD_INPUT
    return run_core(args)


def run_core(args: argparse.Namespace) -> int:
    """Run the core command ``args`` was parsed for; returns the exit code."""
    func = getattr(args, "core_func", None)
    if func is None:
        return _fail("not a core command")
    try:
        code: int = func(args)
        return code
    except CliError as e:
        return _fail(str(e))
    except ScaleError as e:
        return _fail(_scale_error_line(e))
    except FactsError as e:
        return _fail(f"invalid facts: {e}")
    except BrokenPipeError:
        _silence_stdout()
        return 1
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


def _fail(reason: str, code: int = EXIT_BAD_INPUT) -> int:
    sys.stdout.flush()
    sys.stderr.write(f"nciss: {' '.join(reason.split())}\n")
    sys.stderr.flush()
    return code


def _silence_stdout() -> None:
    """After the reader of stdout went away (``| head``): no error at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _scale_error_line(e: ScaleError) -> str:
    if len(e.errors) == 1 and e.errors[0][0] in ("scale", "to", "level", "from"):
        return e.errors[0][1]
    where = f"{e.source}: " if e.source else ""
    if len(e.errors) == 1:
        path, reason = e.errors[0]
        return f"{where}{reason}" if path == e.source else f"{where}{path}: {reason}"
    path, reason = e.errors[0]
    check = f" (nciss scales validate {e.source})" if e.source else ""
    return f"{where}not a valid scale, {len(e.errors)} errors, first {path}: {reason}{check}"


# ---------------------------------------------------------------- output helpers


def _write_bytes(data: bytes) -> None:
    out = sys.stdout
    buffer = getattr(out, "buffer", None)
    if buffer is None:
        out.write(data.decode("utf-8"))
        return
    out.flush()
    buffer.write(data)


def _print_json(obj: Any) -> None:
    _write_bytes((json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8"))


def _console() -> Console:
    from rich.console import Console

    return Console(file=sys.stdout, highlight=False, markup=False)


def _say(console: Console, key: str, value: str | RichText, key_style: str = "bold") -> None:
    """One line ``key: value``, the key styled (no markup is parsed in data)."""
    from rich.text import Text

    console.print(Text.assemble((key, key_style), ": ", value))


def _hex_luminance(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _badge(level: Level, lang: str) -> RichText:
    """A level's name on its colour."""
    from rich.text import Text

    fg = "black" if _hex_luminance(level.colour) > 0.5 else "white"
    return Text(f" {level.name.get_for(lang)} ", style=f"bold {fg} on {level.colour}")


def _range(scale: Scale, lo: int, hi: int, lang: str) -> RichText:
    from rich.text import Text

    if lo == hi:
        return _badge(scale.levels[lo], lang)
    return Text.assemble(_badge(scale.levels[lo], lang), " to ", _badge(scale.levels[hi], lang))


def _fact_label(fact: str, lang: str) -> str:
    spec = fact_specs().get(fact)
    return spec.label.get_for(lang) if spec else fact


def _value_label(fact: str, value: Any, lang: str, with_value: bool = True) -> str:
    spec = fact_specs().get(fact)
    if spec is not None and isinstance(value, str):
        label = spec.value_labels.get(value)
        if label:
            return f"{label.get_for(lang)} ({value})" if with_value else label.get_for(lang)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return str(value)


def _num(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------- scales


def _cmd_scales_list(args: argparse.Namespace) -> int:
    scales = list_scales()
    if args.json:
        _print_json([s.summary() for s in scales])
        return EXIT_OK
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Scale presets", title_justify="left")
    table.add_column("ID", style="bold", no_wrap=True)
    table.add_column("Name")
    table.add_column("Version", no_wrap=True)
    table.add_column("Levels (least severe first)")
    for s in scales:
        levels = Text("\n").join(_badge(level, "en") for level in s.levels)
        table.add_row(s.id, s.name.get_for("en"), s.version, levels)
    console = _console()
    console.print(table)
    console.print("Details: nciss scales show ID.  A scale file works wherever an ID does.", style="dim")
    return EXIT_OK


def _cmd_scales_show(args: argparse.Namespace) -> int:
    scale = load_scale(args.scale)
    if args.json:
        _print_json(scale.definition)
        return EXIT_OK
    _show_scale(scale, args.lang, _console())
    return EXIT_OK


def _show_scale(scale: Scale, lang: str, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    t = lambda text: text.get_for(lang)  # noqa: E731
    header = Text.assemble((t(scale.name), "bold"), f"  {scale.id} version {scale.version}")
    if scale.country:
        header.append(f"  country {scale.country}")
    console.print(header)
    if t(scale.description):
        console.print(t(scale.description))
    for note in scale.notional:
        _say(console, "Notional", note, "dim")

    levels = Table(title="Levels (rank 0 is the least severe)", title_justify="left")
    levels.add_column("Rank", justify="right", no_wrap=True)
    levels.add_column("Level", min_width=12)
    levels.add_column("Meaning", ratio=1, min_width=24)
    levels.add_column("Targets", no_wrap=True)
    words = {"triage": "triage", "first_response": "respond", "resolution": "resolve"}
    for level in scale.levels:
        targets = "\n".join(f"{words.get(k, k)} {v}" for k, v in level.targets.items()) or "-"
        levels.add_row(
            str(level.rank), Text.assemble(_badge(level, lang), "\n", (level.colour, "dim")), t(level.meaning), targets
        )
    console.print(levels)

    w = scale.weighted
    if w is not None:
        thresholds = ", ".join(
            f"{scale.levels[rank].name.get_for(lang)} from {_num(start)}" for rank, start in w.thresholds
        )
        _say(
            console,
            "Weighted method",
            f"score = 100 x (weighted sum - {_num(w.minimum)}) / ({_num(w.maximum)} - {_num(w.minimum)}), "
            f"clamped to 0..100. Levels by score: {thresholds}.",
        )
        cats = Table(title="Categories", title_justify="left")
        cats.add_column("Category", min_width=12)
        cats.add_column("Weight", justify="right", no_wrap=True)
        cats.add_column("Fact", min_width=10)
        cats.add_column("Options (value: points)", ratio=1, min_width=24)
        for c in w.categories:
            if c.band_fact:
                options = ", ".join(f">= {_num(start)}: {_num(value)}" for start, value in c.bands)
                cats.add_row(t(c.name), _num(c.weight), c.band_fact, options)
            else:
                for i, source in enumerate(c.sources):
                    options = ", ".join(f"{k}: {_num(v)}" for k, v in source.options.items())
                    note = " (when given)" if i < len(c.sources) - 1 else ""
                    cats.add_row(
                        t(c.name) if i == 0 else "", _num(c.weight) if i == 0 else "", source.fact + note, options
                    )
        console.print(cats)

    if scale.rules:
        rules = Table(title="Rules (set, then ceilings, then floors)", title_justify="left")
        rules.add_column("Rule (and why)", ratio=3, min_width=20)
        rules.add_column("When", ratio=2, min_width=16, overflow="fold")
        rules.add_column("Effect", min_width=10)
        words = {"level": "sets", "floor": "at least", "ceiling": "at most"}
        for r in scale.rules:
            effect = Text.assemble(words[r.effect] + " ", _badge(scale.levels[r.level], lang))
            why = Text.assemble((t(r.name), "bold"), ("\n" + t(r.rationale), "dim") if t(r.rationale) else "")
            rules.add_row(why, r.when.describe(), effect)
        console.print(rules)

    if scale.assumptions:
        items = ", ".join(f"{k} = {_value_label(k, v, 'en')}" for k, v in scale.assumptions.items())
        _say(console, "Assumed when not reported", items)

    national_types = scale.definition.get("taxonomy", {}).get("types", [])
    if national_types:
        _say(console, "Taxonomy", "RSIT, plus " + ", ".join(f"{x['class']}:{x['type']}" for x in national_types))
    if scale.national_sectors:
        _say(console, "National sectors", ", ".join(sorted(scale.national_sectors)))

    if scale.regime is not None:
        regime = scale.regime
        table = Table(
            title=f"Reporting regime: {t(regime.name)} (from level {scale.levels[regime.from_level].name.get_for(lang)})",
            title_justify="left",
        )
        table.add_column("Deadline", ratio=1)
        table.add_column("Within", no_wrap=True)
        table.add_column("After", no_wrap=True)
        table.add_column("Applies when", ratio=1)
        for d in regime.deadlines:
            table.add_row(t(d.name), _duration_words(d.within), d.after, d.when.describe() if d.when else "always")
        console.print(table)

    for target, rows in sorted(scale.crosswalks.items()):
        target_scale = _try_load(target)
        table = Table(title=f"Crosswalk to {target}", title_justify="left")
        table.add_column(scale.id, min_width=10)
        table.add_column(target, min_width=10)
        table.add_column("Rationale", ratio=1, min_width=24)
        for row in sorted(rows, key=lambda r: r.source):
            to = (
                _range(target_scale, row.min, row.max, lang)
                if target_scale and row.max <= target_scale.top
                else Text(f"{row.min}-{row.max}")
            )
            table.add_row(_badge(scale.levels[row.source], lang), to, t(row.rationale))
        console.print(table)


def _try_load(scale_id: str) -> Scale | None:
    try:
        return load_scale(scale_id)
    except ScaleError:
        return None


def _duration_words(d: Duration) -> str:
    units = {"m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "calendar month"}
    return f"{d.amount} {units[d.unit]}{'' if d.amount == 1 else 's'}"


def _cmd_scales_validate(args: argparse.Namespace) -> int:
    files: list[str] = args.files
    several = len(files) > 1
    lines: list[str] = []
    invalid = 0
    for name in files:
        try:
            scale = load_scale(name)
        except ScaleError as e:
            invalid += 1
            for path, reason in e.errors:
                if path == name or path.startswith("line "):  # unreadable, not YAML or JSON
                    lines.append(f"{name}: {reason}" if path == name else f"{name}: {path}: {reason}")
                else:
                    lines.append(f"{name}: {path}: {reason}" if several else f"{path}: {reason}")
            continue
        lines.append(f"{name}: valid")
        lines.extend(f"{name}: {path}: {reason} (warning)" for path, reason in _grouped_warnings(scale.warnings))
    _write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    if invalid:
        what = (
            "is not a valid scale definition"
            if len(files) == 1
            else f"of {len(files)} files are not valid scale definitions"
        )
        return _fail(f"{files[0] if len(files) == 1 else invalid} {what}")
    return EXIT_OK


def _grouped_warnings(warnings: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Missing translations of one text on one line: ``name: no ru, uz text, falls back to English``."""
    missing: dict[str, list[str]] = {}
    out: list[tuple[str, str]] = []
    for path, reason in warnings:
        text, _, lang = path.rpartition(".")
        if reason.startswith("missing, falls back") and lang in LANGS:
            if text not in missing:
                missing[text] = []
                out.append((text, ""))
            missing[text].append(lang)
        else:
            out.append((path, reason))
    return [(p, r or f"no {', '.join(missing[p])} text, falls back to English") for p, r in out]


def _cmd_scales_schema(args: argparse.Namespace) -> int:
    _print_json(SCALE_SCHEMA)
    return EXIT_OK


def _cmd_facts_schema(args: argparse.Namespace) -> int:
    _print_json(facts_json_schema())
    return EXIT_OK


# ---------------------------------------------------------------- crosswalk


def _resolve_level(scale: Scale, text: str) -> int:
    """A rank from a rank, a level name, or the unique start of one (``Category 3``)."""
    try:
        return resolve_level(scale, text)
    except ScaleError:
        wanted = " ".join(text.split()).lower()
        found = {lv.rank for lv in scale.levels for name in lv.name.values() if name.lower().startswith(wanted)}
        if wanted and len(found) == 1:
            return found.pop()
        raise


def _cmd_crosswalk(args: argparse.Namespace) -> int:
    source = load_scale(args.source)
    target = _try_load(args.target)
    target_id = target.id if target is not None else args.target
    rank = _resolve_level(source, args.level)
    row = crosswalk_level(source, target_id, rank)
    if args.json:
        _print_json(row.to_dict(args.lang))
        return EXIT_OK
    from rich.text import Text

    console = _console()
    lang = args.lang
    if target is not None and row.max <= target.top:
        to = Text.assemble(
            _range(target, row.min, row.max, lang),
            f"  (rank{'s' if row.min != row.max else ''} ",
            f"{row.min}-{row.max}" if row.min != row.max else str(row.min),
            ")",
        )
    else:
        to = Text(f"rank {row.min}" if row.min == row.max else f"ranks {row.min}-{row.max}")
    console.print(
        Text.assemble(
            (source.id, "bold"),
            " ",
            _badge(source.levels[rank], lang),
            f" (rank {rank})  ->  ",
            (target_id, "bold"),
            " ",
            to,
        )
    )
    console.print(row.rationale.get_for(lang))
    return EXIT_OK


# ---------------------------------------------------------------- assess: input


def _stdin() -> IO[bytes]:
    stream: Any = sys.stdin
    return stream.buffer if hasattr(stream, "buffer") else stream


def _open_input(name: str) -> tuple[IO[bytes], int | None, str]:
    """The input as a binary stream, its size when known, and a name for messages."""
    if name == "-":
        stream = _stdin()
        try:
            st = os.fstat(stream.fileno())
            size = st.st_size if stat.S_ISREG(st.st_mode) else None
        except (OSError, ValueError, AttributeError):
            size = None
        return stream, size, "stdin"
    try:
        f = open(name, "rb")  # noqa: SIM115 - closed by the caller
        size = os.fstat(f.fileno()).st_size
    except OSError as e:
        raise CliError(f"{name}: cannot read: {e.strerror or e}") from None
    return f, size, name


def _read_one_object(name: str) -> dict[str, Any]:
    stream, _, label = _open_input(name)
    if label == "stdin" and sys.stdin.isatty():
        sys.stderr.write("nciss: reading one JSON object of facts from the terminal; end with Ctrl-D\n")
    try:
        data = stream.read()
    except OSError as e:
        raise CliError(f"{label}: cannot read: {e.strerror or e}") from None
    finally:
        if stream is not _stdin():
            stream.close()
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data.strip():
        raise CliError(f"{label}: empty: expected one JSON object of facts")
    try:
        obj = json.loads(data)
    except json.JSONDecodeError as e:
        hint = " (several objects? use --json for JSON Lines)" if e.msg == "Extra data" else ""
        raise CliError(f"{label}: not valid JSON: {e.msg} at line {e.lineno} column {e.colno}{hint}") from None
    except (ValueError, RecursionError) as e:
        raise CliError(f"{label}: not valid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise CliError(f"{label}: expected one JSON object of facts, not a JSON {type(obj).__name__}")
    return obj


# ---------------------------------------------------------------- assess: the JSON Lines path


class _Job:
    """What a chunk of input lines is assessed with (set in each worker process)."""

    scales: tuple[Scale, ...] = ()
    lang: str = "en"
    all_scales: bool = False
    repeats: dict[bytes, bytes] = {}


def _init_job(scales: tuple[Scale, ...], lang: str, all_scales: bool) -> None:
    _Job.scales, _Job.lang, _Job.all_scales = scales, lang, all_scales
    _Job.repeats = {}


def _init_worker(scales: tuple[Scale, ...], lang: str, all_scales: bool) -> None:
    """A worker process: Ctrl-C is the parent's to handle (it stops the workers)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _init_job(scales, lang, all_scales)


_json_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


def _encode(obj: Any) -> bytes:
    """One compact JSON line (without the newline), UTF-8."""
    try:
        return orjson.dumps(obj)
    except (TypeError, orjson.JSONEncodeError):
        return _json_encode(obj).encode("utf-8")  # e.g. an integer beyond 64 bits


def _error_line(lineno: int, reason: str, errors: list[tuple[str, str]] | None = None) -> bytes:
    obj: dict[str, Any] = {"error": f"line {lineno}: {reason}", "line": lineno}
    if errors:
        obj["errors"] = [{"path": p, "reason": r} for p, r in errors]
    return _encode(obj)


_NOT_JSON = object()


def _facts_of(line: bytes) -> tuple[Any, str]:
    """The JSON object on ``line``, or (_NOT_JSON, reason); (None, "") for a blank line."""
    try:
        facts = orjson.loads(line)
    except (ValueError, RecursionError):
        # orjson refuses some JSON the standard library reads (integers beyond 64 bits,
        # NaN): read it again with json, whose messages also say where the problem is.
        try:
            facts = json.loads(line)
        except UnicodeDecodeError:
            return _NOT_JSON, "not UTF-8 text"
        except json.JSONDecodeError as e:
            if not line.strip():
                return None, ""
            return _NOT_JSON, f"not valid JSON: {e.msg} at column {e.colno}"
        except (ValueError, RecursionError) as e:
            return _NOT_JSON, f"not valid JSON: {e}"
    if not isinstance(facts, dict):
        return _NOT_JSON, f"expected a JSON object of facts, not {_json_encode(facts)[:40]}"
    return facts, ""


def _assess_chunk(task: tuple[int, list[bytes]]) -> tuple[bytes, int, int, str | None]:
    """Assess one chunk of JSON Lines: (output, lines assessed, lines in error, first error)."""
    first_lineno, lines = task
    scales, lang, all_scales = _Job.scales, _Job.lang, _Job.all_scales
    repeats = _Job.repeats
    out: list[bytes] = []
    done = failed = 0
    first_error: str | None = None
    for lineno, line in enumerate(lines, first_lineno):
        cached = repeats.get(line)
        if cached is not None:
            out.append(cached)
            done += 1
            continue
        facts, reason = _facts_of(line)
        if facts is None:
            continue  # a blank line
        errors: list[tuple[str, str]] | None = None
        if facts is not _NOT_JSON:
            try:
                if all_scales:
                    result = _encode(_assess_all(scales, facts, lang))
                else:
                    result = _encode(assess(scales[0], facts, lang).to_dict())
            except FactsError as e:
                reason, errors = f"invalid facts: {e}", e.errors
            else:
                out.append(result)
                done += 1
                if len(repeats) >= REPEAT_CACHE:
                    repeats.clear()
                repeats[line] = result
                continue
        failed += 1
        first_error = first_error or f"line {lineno}: {reason}"
        out.append(_error_line(lineno, reason, errors))
    data = b"\n".join(out) + b"\n" if out else b""
    return data, done, failed, first_error


def _assess_all(scales: tuple[Scale, ...], facts: dict[str, Any], lang: str) -> dict[str, Any]:
    """{scale id: assessment} on every scale; FactsError when no scale accepts the facts."""
    out: dict[str, Any] = {}
    first: FactsError | None = None
    for s in scales:
        try:
            out[s.id] = assess(s, facts, lang).to_dict()
        except FactsError as e:
            first = first or e
            out[s.id] = {"error": f"invalid facts: {e}", "errors": [{"path": p, "reason": r} for p, r in e.errors]}
    if first is not None and len(scales) == sum(1 for v in out.values() if "error" in v):
        raise first
    return out


def _chunks(stream: IO[bytes]) -> Iterator[tuple[int, list[bytes], int]]:
    """(first line number, lines, bytes) per chunk of CHUNK_LINES lines."""
    lineno = 1
    while True:
        lines = list(itertools.islice(stream, CHUNK_LINES))
        if not lines:
            return
        if isinstance(lines[0], str):  # a text stream (tests)
            lines = [line.encode("utf-8") for line in lines]  # type: ignore[attr-defined,unused-ignore]
        yield lineno, lines, sum(map(len, lines))
        lineno += len(lines)


def _workers(requested: int | None) -> int:
    if requested is not None:
        if requested < 1:
            raise CliError("--workers must be at least 1")
        return requested
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def _assess_json_lines(args: argparse.Namespace, scales: tuple[Scale, ...]) -> int:
    stream, size, label = _open_input(args.file)
    chunks = _chunks(stream)
    _init_job(scales, args.lang, args.all_scales)
    # Decide whether the input is large: by its size when known, else by reading ahead.
    ahead: list[tuple[int, list[bytes], int]] = []
    if size is None or size <= LARGE_BYTES:
        for chunk in chunks:
            ahead.append(chunk)
            if len(ahead) * CHUNK_LINES > LARGE_LINES:
                break
    large = (size is not None and size > LARGE_BYTES) or len(ahead) * CHUNK_LINES > LARGE_LINES
    workers = _workers(args.workers) if (large or args.workers) else 1
    show_progress = args.progress if args.progress is not None else (large and sys.stderr.isatty())

    pool = None
    if workers > 1:
        import multiprocessing

        try:
            context = multiprocessing.get_context("fork")
        except ValueError:  # no fork here: one process
            workers = 1
        else:
            pool = context.Pool(workers, initializer=_init_worker, initargs=(scales, args.lang, args.all_scales))
    progress = _Progress(size, label, force=bool(args.progress)) if show_progress else None
    done = failed = 0
    first_error: str | None = None

    def emit(result: tuple[bytes, int, int, str | None], nbytes: int) -> None:
        nonlocal done, failed, first_error
        data, d, f, err = result
        if data:
            _write_bytes(data)
        done, failed = done + d, failed + f
        first_error = first_error or err
        if progress is not None:
            progress.advance(nbytes, d + f)

    try:
        all_chunks = itertools.chain(ahead, chunks)
        if pool is None:
            for lineno, lines, nbytes in all_chunks:
                emit(_assess_chunk((lineno, lines)), nbytes)
        else:
            pending: collections.deque[tuple[Any, int]] = collections.deque()
            for lineno, lines, nbytes in all_chunks:
                pending.append((pool.apply_async(_assess_chunk, ((lineno, lines),)), nbytes))
                if len(pending) >= 2 * workers:
                    result, n = pending.popleft()
                    emit(result.get(), n)
            while pending:
                result, n = pending.popleft()
                emit(result.get(), n)
        sys.stdout.flush()
    except OSError as e:
        if isinstance(e, BrokenPipeError):
            raise
        raise CliError(f"{label}: cannot read: {e.strerror or e}") from None
    finally:
        if progress is not None:
            progress.stop()
        if pool is not None:
            pool.terminate()
            pool.join()
        if stream is not _stdin():
            stream.close()
    if failed:
        return _fail(f"{failed} of {done + failed} lines could not be assessed (first: {first_error})")
    return EXIT_OK


class _Progress:
    """A rich progress bar on stderr: by bytes when the input's size is known, else by lines."""

    def __init__(self, size: int | None, label: str, force: bool = False):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns: list[Any] = [TextColumn(f"assessing {label}"), BarColumn()]
        if size is not None:
            columns += [TextColumn("{task.percentage:>3.0f}%"), TimeRemainingColumn()]
        else:
            columns += [MofNCompleteColumn(), TimeElapsedColumn()]
        columns.append(TextColumn("{task.fields[lines]} lines, {task.fields[rate]}/s"))
        self.console = Console(stderr=True, force_terminal=force or None)
        self.progress = Progress(*columns, console=self.console, transient=True)
        self.task = self.progress.add_task("assess", total=size, lines=0, rate="-")
        self.by_bytes = size is not None
        self.lines = 0
        self.progress.start()

    def advance(self, nbytes: int, lines: int) -> None:
        self.lines += lines
        elapsed = self.progress.tasks[0].elapsed or 0.0
        rate = f"{self.lines / elapsed:,.0f}" if elapsed > 0 else "-"
        self.progress.update(self.task, advance=nbytes if self.by_bytes else lines, lines=f"{self.lines:,}", rate=rate)

    def stop(self) -> None:
        elapsed = self.progress.tasks[0].elapsed or 0.0
        self.progress.stop()
        rate = f" ({self.lines / elapsed:,.0f} per second)" if elapsed > 0 else ""
        self.console.print(f"assessed {self.lines:,} lines in {elapsed:.1f} s{rate}", style="dim", highlight=False)


# ---------------------------------------------------------------- assess: the readable report


def _cmd_assess(args: argparse.Namespace) -> int:
    scales = tuple(list_scales()) if args.all_scales else (load_scale(args.scale),)
    if args.json:
        return _assess_json_lines(args, scales)
    facts = _read_one_object(args.file)
    console = _console()
    if args.all_scales:
        return _report_all(scales, facts, args.lang, console)
    assessment = assess(scales[0], facts, args.lang)
    _report(assessment, args.lang, console)
    return EXIT_OK


def _report(a: Assessment, lang: str, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    scale = a.scale
    level = scale.levels[a.rank]
    console.print(Text.assemble((scale.name.get_for(lang), "bold"), f"  {scale.id} {scale.version}"))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("Level", Text.assemble(_badge(level, lang), f"  level {a.rank} of 0-{scale.top}"))
    if a.score is not None:
        grid.add_row(
            "Score", f"{a.score:.1f} of 100 (the score alone gives {scale.levels[a.score_level].name.get_for(lang)})"
        )
    if a.reachable_max > a.rank:
        grid.add_row(
            "Reachable", Text.assemble(_range(scale, a.rank, a.reachable_max, lang), "  as unknown facts become known")
        )
        decisive = (
            ", ".join(f"{_fact_label(f, lang)} ({f})" for f in a.decisive_unknowns) or "only several of them together"
        )
        grid.add_row("Could change it", decisive)
    else:
        grid.add_row("Reachable", Text.assemble(_badge(level, lang), "  settled: no unknown fact can change it"))
    if a.classification:
        grid.add_row("Classification", f"{rsit_labels().get(a.classification, a.classification)} ({a.classification})")
    targets = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in level.targets.items())
    if targets:
        grid.add_row("Response targets", targets)
    if a.assumed:
        grid.add_row(
            "Assumed", ", ".join(f"{_fact_label(f, lang)}: {_value_label(f, a.facts[f], lang)}" for f in a.assumed)
        )
    console.print(grid)

    if a.contributions:
        table = Table(title="Contributions to the score", title_justify="left")
        table.add_column("Category")
        table.add_column("Answer")
        table.add_column("Points", justify="right")
        table.add_column("Weight", justify="right")
        table.add_column("Contribution", justify="right")
        names = {c.id: c.name.get_for(lang) for c in scale.weighted.categories} if scale.weighted else {}
        for c in a.contributions:
            if c["known"]:
                answer = Text(_value_label(c["fact"], c["value"], lang, with_value=False))
            else:
                answer = Text("not known", style="dim italic")
            table.add_row(
                names.get(c["category"], c["name"]),
                answer,
                _num(c["points"]),
                _num(c["weight"]),
                f"{c['contribution']:+.1f}",
            )
        console.print(table)

    if a.rules_fired:
        table = Table(title="Rules that apply", title_justify="left")
        table.add_column("Rule")
        table.add_column("Effect", no_wrap=True)
        words = {"level": "sets", "floor": "at least", "ceiling": "at most"}
        by_id = {r.id: r for r in scale.rules}
        for r in a.rules_fired:
            rule = by_id.get(r["id"])
            table.add_row(
                rule.name.get_for(lang) if rule else r["name"],
                Text.assemble(words.get(r["effect"], r["effect"]) + " ", _badge(scale.levels[r["level"]], lang)),
            )
        console.print(table)

    if scale.regime is not None:
        _report_regime(a, lang, console)

    console.print(Text("Explanation", style="bold"))
    console.print(a.explanation)


def _report_regime(a: Assessment, lang: str, console: Console) -> None:

    regime = a.scale.regime
    assert regime is not None
    name = regime.name.get_for(lang)
    if a.rank < regime.from_level:
        if a.reachable_max >= regime.from_level:
            _say(
                console,
                f"Reporting ({name})",
                f"not required yet; required if the level reaches {a.scale.levels[regime.from_level].name.get_for(lang)}.",
            )
        else:
            _say(console, f"Reporting ({name})", "not required.")
        return
    _say(console, f"Reporting ({name})", "required.")
    times = {k: t for k in _ANCHOR_WORDS if (t := _parse_time(a.facts.get(k))) is not None}
    for d in reporting_deadlines(a.scale, a.facts, a.rank, a.reachable_max, times):
        after = (
            _ANCHOR_WORDS.get(d.after)
            or "the " + next((x.name.get_for(lang) for x in regime.deadlines if x.id == d.after), d.after).lower()
        )
        line = f"  {d.name.get_for(lang)}: within {_duration_words(d.within)} of {after}"
        if d.due is not None:
            line += f", by {d.due.isoformat(timespec='minutes')}"
        if d.conditional:
            line += f" (if {d.condition})"
        console.print(line)


_ANCHOR_WORDS = {"detected_at": "detection", "occurred_at": "occurrence", "reported_at": "the report"}


def _parse_time(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _report_all(scales: tuple[Scale, ...], facts: dict[str, Any], lang: str, console: Console) -> int:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="The same facts on every scale", title_justify="left")
    table.add_column("Scale", no_wrap=True)
    table.add_column("Level")
    table.add_column("Score", justify="right", no_wrap=True)
    table.add_column("Could reach")
    table.add_column("Decisive unknowns", overflow="fold")
    failed = 0
    first: FactsError | None = None
    for scale in scales:
        try:
            a = assess(scale, facts, lang)
        except FactsError as e:
            failed += 1
            first = first or e
            table.add_row(scale.id, Text("invalid facts", style="red"), "", "", str(e))
            continue
        table.add_row(
            Text(scale.id, style="bold"),
            _badge(scale.levels[a.rank], lang),
            f"{a.score:.1f}" if a.score is not None else "-",
            _badge(scale.levels[a.reachable_max], lang) if a.reachable_max > a.rank else Text("settled", style="dim"),
            ", ".join(a.decisive_unknowns) or "-",
        )
    if first is not None and failed == len(scales):
        raise first
    console.print(table)
    if first is not None:
        return _fail(f"{failed} of {len(scales)} scales could not assess these facts: {first}")
    return EXIT_OK
