"""The rule language: conditions over incident facts.

One language for scale rules, routing and escalation rules and exercise scenarios
(docs/scale-format.md, "Conditions"). A condition is parsed once into a tree of
frozen nodes; each node can

- ``evaluate(facts)`` in three-valued logic (True, False or None for unknown),
- report ``directions()``: for each fact it reads, +1 if raising the fact can only
  make the condition truer, -1 if only falser, 0 if either (used by the engine to
  find the reachable range exactly),
- report ``breakpoints()``: the constants each fact is compared with.

Invariant: ``evaluate`` never raises on facts that passed ``validate_facts``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from nciss.facts import FactSpec, fact_specs
from nciss.texts import Text

Facts = Mapping[str, Any]
Errors = list[tuple[str, str]]

_COMPARE = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
_OP_DIRECTION = {">=": 1, ">": 1, "<=": -1, "<": -1, "==": 0, "!=": 0}
_LIST_TEST = re.compile(r"^\s*(not empty|empty|contains\s+(\S+)|count\s*(>=|<=|==|!=|>|<)\s*(\d+))\s*$")
_OP_PREFIX = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*(.+?)\s*$")
COMBINATORS = ("all", "any", "not")

# What rules outside scales may test besides the incident's facts: where the incident stands
# in the platform. Routing, escalation and exercise rules read them (``parse_condition(...,
# context=True)``); scale rules cannot, since a scale's level cannot depend on itself.
CONTEXT_FACTS: dict[str, FactSpec] = {
    "level": FactSpec(
        name="level",
        kind="int",
        group="context",
        label=Text(
            {"en": "Level (national scale)", "ru": "Уровень (национальная шкала)", "uz": "Daraja (milliy shkala)"}
        ),
        question=Text({"en": "The incident's rank on the national scale, from 0"}),
    ),
    "tlp": FactSpec(
        name="tlp",
        kind="enum",
        group="context",
        ordered=True,
        values=("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"),
        label=Text({"en": "TLP", "ru": "TLP", "uz": "TLP"}),
        question=Text({"en": "How the incident may be shared (Traffic Light Protocol 2.0)"}),
    ),
}


# Further context facts that a kind of rule declares for itself (e.g. an exercise's decisions,
# nciss.exercises.scenario.CONTEXT), passed to ``parse_condition(..., context={...})``; remembered here
# so that the parsed nodes can describe themselves.
_DECLARED_CONTEXT: dict[str, FactSpec] = {}


def _spec(name: str) -> FactSpec:
    """A fact of the vocabulary, or a context fact."""
    return fact_specs().get(name) or CONTEXT_FACTS.get(name) or _DECLARED_CONTEXT[name]


class ConditionError(ValueError):
    """A condition that cannot be parsed; ``errors`` holds (path, reason) pairs."""

    def __init__(self, errors: Errors):
        self.errors = errors
        super().__init__("; ".join(f"{p}: {r}" for p, r in errors))


def _merge(into: dict[str, int], fact: str, direction: int) -> None:
    if fact in into and into[fact] != direction:
        into[fact] = 0
    else:
        into[fact] = direction


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Expr:
    """An arithmetic expression over constants and numeric facts."""

    op: str  # "const", "fact", "+", "-", "*", "min", "max"
    args: tuple[Any, ...]

    def value(self, facts: Facts) -> float | None:
        if self.op == "const":
            return float(self.args[0])
        if self.op == "fact":
            v = facts.get(self.args[0])
            return None if v is None else float(v)
        vals = [a.value(facts) for a in self.args]
        if any(v is None for v in vals):
            return None
        nums: list[float] = [v for v in vals if v is not None]
        if self.op == "+":
            return nums[0] + nums[1]
        if self.op == "-":
            return nums[0] - nums[1]
        if self.op == "*":
            return nums[0] * nums[1]
        if self.op == "min":
            return min(nums)
        return max(nums)

    def facts(self) -> Iterator[str]:
        if self.op == "fact":
            yield self.args[0]
        elif self.op != "const":
            for a in self.args:
                yield from a.facts()

    def directions(self, sign: int, out: dict[str, int]) -> None:
        """How each fact moves this expression (times ``sign``)."""
        if self.op == "fact":
            _merge(out, self.args[0], sign)
        elif self.op in ("+", "min", "max"):
            for a in self.args:
                a.directions(sign, out)
        elif self.op == "-":
            self.args[0].directions(sign, out)
            self.args[1].directions(-sign, out)
        elif self.op == "*":
            left, right = self.args
            for this, other in ((left, right), (right, left)):
                if other.op == "const":
                    this.directions(sign if other.args[0] >= 0 else -sign, out)
                elif this.op != "const":
                    this.directions(sign, out)  # facts are never negative

    def source(self, ns: dict[str, Any]) -> str:
        """Python source computing this expression over complete facts ``F``."""
        if self.op == "const":
            return _const(ns, float(self.args[0]))
        if self.op == "fact":
            return f"F[{_const(ns, self.args[0])}]"
        args = [a.source(ns) for a in self.args]
        if self.op in ("min", "max"):
            return f"{self.op}({', '.join(args)})"
        return f"({args[0]} {self.op} {args[1]})"

    def __str__(self) -> str:
        if self.op == "const":
            return f"{self.args[0]:g}"
        if self.op == "fact":
            return str(self.args[0])
        if self.op in ("min", "max"):
            return f"{self.op}({', '.join(map(str, self.args))})"
        return f"({self.args[0]} {self.op} {self.args[1]})"


_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)|([a-z_][a-z0-9_]*)|(.))")


def parse_expression(text: str, path: str) -> Expr:
    """Parse ``min(500000, 0.05 * annual_turnover_eur)`` and the like."""
    tokens = [(m.group(1), m.group(2), m.group(3)) for m in _TOKEN.finditer(text) if m.group(0).strip()]
    pos = 0

    def fail(reason: str) -> ConditionError:
        return ConditionError([(path, reason)])

    def peek() -> str | None:
        if pos >= len(tokens):
            return None
        num, name, sym = tokens[pos]
        return num or name or sym

    def take() -> tuple[str | None, str | None, str | None]:
        nonlocal pos
        if pos >= len(tokens):
            raise fail(f"unexpected end of expression {text!r}")
        pos += 1
        return tokens[pos - 1]

    def sum_() -> Expr:
        node = product()
        while peek() in ("+", "-"):
            op = take()[2]
            assert op is not None
            node = Expr(op, (node, product()))
        return node

    def product() -> Expr:
        node = atom()
        while peek() == "*":
            take()
            node = Expr("*", (node, atom()))
        return node

    def atom() -> Expr:
        num, name, sym = take()
        if num is not None:
            return Expr("const", (float(num),))
        if name in ("min", "max"):
            if take()[2] != "(":
                raise fail(f"expected '(' after {name}")
            args = [sum_()]
            while peek() == ",":
                take()
                args.append(sum_())
            if take()[2] != ")":
                raise fail("expected ')'")
            if len(args) < 2:
                raise fail(f"{name}() needs two or more arguments")
            return Expr(name, tuple(args))
        if name is not None:
            spec = fact_specs().get(name)
            if spec is None:
                raise ConditionError([(path, f"unknown fact {name!r} in expression")])
            if not spec.is_numeric:
                raise fail(f"{name} is not a number")
            return Expr("fact", (name,))
        if sym == "(":
            node = sum_()
            if take()[2] != ")":
                raise fail("expected ')'")
            return node
        raise fail(f"unexpected {sym!r} in expression {text!r}")

    node = sum_()
    if pos != len(tokens):
        raise fail(f"unexpected {peek()!r} in expression {text!r}")
    return node


# ---------------------------------------------------------------- conditions


def _const(ns: dict[str, Any], value: Any) -> str:
    """A name for ``value`` in the compiled function's namespace (no literal is ever inlined)."""
    name = f"C{len(ns)}"
    ns[name] = value
    return name


class Condition:
    """Base of condition nodes."""

    def source(self, ns: dict[str, Any]) -> str:
        """Python source for this condition over complete facts ``F`` (two-valued)."""
        raise NotImplementedError

    def specialise(self, facts: Facts) -> Condition | bool:
        """This condition with ``facts`` fixed: True, False, or what still depends on other facts."""
        if self.facts() <= facts.keys():
            return bool(self.evaluate(facts))
        return self

    def compile(self) -> Callable[[Facts], bool]:
        """A fast two-valued evaluator for facts holding every fact the condition reads.

        The engine evaluates rules on complete assignments millions of times; this
        turns the tree into one Python function. ``evaluate`` stays the reference.
        """
        ns: dict[str, Any] = {}
        code = compile(f"lambda F: bool({self.source(ns)})", "<condition>", "eval")
        scope = {"__builtins__": {"min": min, "max": max, "bool": bool, "len": len}, **ns}
        test: Callable[[Facts], bool] = eval(code, scope)
        return test

    def evaluate(self, facts: Facts) -> bool | None:
        raise NotImplementedError

    def directions(self, sign: int, out: dict[str, int]) -> None:
        raise NotImplementedError

    def breakpoints(self, out: dict[str, set[Any]]) -> None:
        raise NotImplementedError

    def facts(self) -> set[str]:
        out: dict[str, int] = {}
        self.directions(1, out)
        return set(out)

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class All(Condition):
    parts: tuple[Condition, ...]

    def evaluate(self, facts: Facts) -> bool | None:
        result: bool | None = True
        for part in self.parts:
            v = part.evaluate(facts)
            if v is False:
                return False
            if v is None:
                result = None
        return result

    def directions(self, sign: int, out: dict[str, int]) -> None:
        for part in self.parts:
            part.directions(sign, out)

    def breakpoints(self, out: dict[str, set[Any]]) -> None:
        for part in self.parts:
            part.breakpoints(out)

    def source(self, ns: dict[str, Any]) -> str:
        return "(" + " and ".join(p.source(ns) for p in self.parts) + ")"

    def specialise(self, facts: Facts) -> Condition | bool:
        rest = []
        for part in self.parts:
            v = part.specialise(facts)
            if v is False:
                return False
            if v is not True:
                rest.append(v)
        return True if not rest else rest[0] if len(rest) == 1 else All(tuple(rest))

    def describe(self) -> str:
        return " and ".join(_wrap(p) for p in self.parts)


@dataclass(frozen=True)
class Any_(Condition):
    parts: tuple[Condition, ...]

    def evaluate(self, facts: Facts) -> bool | None:
        result: bool | None = False
        for part in self.parts:
            v = part.evaluate(facts)
            if v is True:
                return True
            if v is None:
                result = None
        return result

    directions = All.directions
    breakpoints = All.breakpoints

    def source(self, ns: dict[str, Any]) -> str:
        return "(" + " or ".join(p.source(ns) for p in self.parts) + ")"

    def specialise(self, facts: Facts) -> Condition | bool:
        rest = []
        for part in self.parts:
            v = part.specialise(facts)
            if v is True:
                return True
            if v is not False:
                rest.append(v)
        return False if not rest else rest[0] if len(rest) == 1 else Any_(tuple(rest))

    def describe(self) -> str:
        return " or ".join(_wrap(p) for p in self.parts)


@dataclass(frozen=True)
class Not(Condition):
    part: Condition

    def evaluate(self, facts: Facts) -> bool | None:
        v = self.part.evaluate(facts)
        return None if v is None else not v

    def directions(self, sign: int, out: dict[str, int]) -> None:
        self.part.directions(-sign, out)

    def breakpoints(self, out: dict[str, set[Any]]) -> None:
        self.part.breakpoints(out)

    def source(self, ns: dict[str, Any]) -> str:
        return f"(not {self.part.source(ns)})"

    def specialise(self, facts: Facts) -> Condition | bool:
        v = self.part.specialise(facts)
        return (not v) if isinstance(v, bool) else Not(v)

    def describe(self) -> str:
        return f"not {_wrap(self.part)}"


def _wrap(c: Condition) -> str:
    return f"({c.describe()})" if isinstance(c, (All, Any_)) and len(c.parts) > 1 else c.describe()


@dataclass(frozen=True, eq=False)
class Compare(Condition):
    """``fact OP operand``; ordered enumerations compare by rank, booleans false < true.

    For enumerations the operand is the value itself for ``==``/``!=`` and its rank
    for the order comparisons; for numbers it is an Expr.
    """

    fact: str
    op: str
    operand: Any
    shown: str  # the operand as written, for explanations
    kind: str
    ranks: Mapping[str, int] | None = None

    def evaluate(self, facts: Facts) -> bool | None:
        v = facts.get(self.fact)
        if v is None:
            return None
        if self.ranks is not None:
            return bool(_COMPARE[self.op](self.ranks[v], self.operand))
        if isinstance(self.operand, Expr):
            right = self.operand.value(facts)
            if right is None:
                return None
            return bool(_COMPARE[self.op](v, right))
        return bool(_COMPARE[self.op](v, self.operand))

    def directions(self, sign: int, out: dict[str, int]) -> None:
        spec = _spec(self.fact)
        d = _OP_DIRECTION[self.op]
        if d == 0 and spec.kind == "bool":
            # "== true" only grows with the fact, "== false" only shrinks
            d = 1 if self.operand else -1
            d = d if self.op == "==" else -d
        elif d == 0 and spec.kind == "enum" and spec.ordered:
            if self.operand == spec.values[-1]:
                d = 1 if self.op == "==" else -1
            elif self.operand == spec.values[0]:
                d = -1 if self.op == "==" else 1
        if spec.kind in ("enum", "string", "country") and not spec.ordered:
            d = 0
        _merge(out, self.fact, d * sign)
        if isinstance(self.operand, Expr):
            if d:
                self.operand.directions(-d * sign, out)
            else:
                for f in self.operand.facts():
                    _merge(out, f, 0)

    def breakpoints(self, out: dict[str, set[Any]]) -> None:
        if isinstance(self.operand, Expr):
            if self.operand.op == "const":
                out.setdefault(self.fact, set()).add(self.operand.args[0])
        elif self.ranks is not None:
            out.setdefault(self.fact, set()).add(_spec(self.fact).values[self.operand])
        else:
            out.setdefault(self.fact, set()).add(self.operand)

    def source(self, ns: dict[str, Any]) -> str:
        value = f"F[{_const(ns, self.fact)}]"
        if self.ranks is not None:
            value = f"{_const(ns, self.ranks)}[{value}]"
        right = self.operand.source(ns) if isinstance(self.operand, Expr) else _const(ns, self.operand)
        return f"({value} {self.op} {right})"

    def describe(self) -> str:
        if _spec(self.fact).kind == "bool" and self.op == "==":
            return self.fact if self.operand else f"not {self.fact}"
        return f"{self.fact} {self.op} {self.shown}"


@dataclass(frozen=True)
class Member(Condition):
    """``fact in {values}``."""

    fact: str
    values: frozenset[Any]

    def evaluate(self, facts: Facts) -> bool | None:
        v = facts.get(self.fact)
        return None if v is None else v in self.values

    def directions(self, sign: int, out: dict[str, int]) -> None:
        spec = _spec(self.fact)
        d = 0
        if spec.ordered and spec.kind == "enum":
            ranks = sorted(spec.values.index(v) for v in self.values)
            n = len(spec.values)
            if ranks == list(range(n - len(ranks), n)):
                d = 1  # upward closed
            elif ranks == list(range(len(ranks))):
                d = -1  # downward closed
        _merge(out, self.fact, d * sign)

    def breakpoints(self, out: dict[str, set[Any]]) -> None:
        out.setdefault(self.fact, set()).update(self.values)

    def source(self, ns: dict[str, Any]) -> str:
        return f"(F[{_const(ns, self.fact)}] in {_const(ns, self.values)})"

    def describe(self) -> str:
        return f"{self.fact} in [{', '.join(sorted(map(str, self.values)))}]"


@dataclass(frozen=True)
class ListTest(Condition):
    """Tests on list facts: empty, not empty, contains X, count OP N."""

    fact: str
    test: str  # "empty", "not empty", "contains", "count"
    arg: Any = None
    op: str = ""

    def evaluate(self, facts: Facts) -> bool | None:
        v = facts.get(self.fact)
        if v is None:
            return None
        if self.test == "empty":
            return not v
        if self.test == "not empty":
            return bool(v)
        if self.test == "contains":
            return self.arg in v
        return bool(_COMPARE[self.op](len(v), self.arg))

    def directions(self, sign: int, out: dict[str, int]) -> None:
        d = {"empty": -1, "not empty": 1, "contains": 1}.get(self.test)
        if d is None:
            d = _OP_DIRECTION[self.op]
        _merge(out, self.fact, d * sign)

    def breakpoints(self, out: dict[str, set[Any]]) -> None:
        if self.test == "contains":
            out.setdefault(self.fact, set()).add(self.arg)

    def source(self, ns: dict[str, Any]) -> str:
        value = f"F[{_const(ns, self.fact)}]"
        if self.test == "empty":
            return f"(len({value}) == 0)"
        if self.test == "not empty":
            return f"(len({value}) > 0)"
        if self.test == "contains":
            return f"({_const(ns, self.arg)} in {value})"
        return f"(len({value}) {self.op} {_const(ns, self.arg)})"

    def describe(self) -> str:
        if self.test == "count":
            return f"{self.fact} count {self.op} {self.arg}"
        if self.test == "contains":
            return f"{self.fact} contains {self.arg}"
        return f"{self.fact} {self.test}"


# ---------------------------------------------------------------- parsing


def parse_condition(
    raw: Any,
    path: str,
    extra_values: Mapping[str, frozenset[str]] | None = None,
    *,
    context: bool | Mapping[str, FactSpec] = False,
) -> Condition:
    """Parse a condition mapping; raise ConditionError with every problem found.

    ``context`` lets the condition test the CONTEXT_FACTS too (rules outside scales); a mapping
    of FactSpecs lets it test those further context facts as well.
    """
    errors: Errors = []
    allowed: Mapping[str, FactSpec] = CONTEXT_FACTS if context is True else {}
    if isinstance(context, Mapping):
        allowed = {**CONTEXT_FACTS, **context}
        _DECLARED_CONTEXT.update(context)
    node = _parse(raw, path, errors, extra_values or {}, allowed)
    if errors:
        raise ConditionError(errors)
    assert node is not None
    return node


def _parse(
    raw: Any, path: str, errors: Errors, extra: Mapping[str, frozenset[str]], context: Mapping[str, FactSpec]
) -> Condition | None:
    if not isinstance(raw, dict) or not raw:
        errors.append((path, "expected a mapping of facts to tests, or all/any/not"))
        return None
    parts: list[Condition] = []
    for key, value in raw.items():
        sub = f"{path}.{key}"
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                errors.append((sub, "expected a non-empty list of conditions"))
                continue
            children = [_parse(v, f"{sub}[{i}]", errors, extra, context) for i, v in enumerate(value)]
            kids = tuple(c for c in children if c is not None)
            if len(kids) == len(children):
                parts.append(All(kids) if key == "all" else Any_(kids))
        elif key == "not":
            child = _parse(value, sub, errors, extra, context)
            if child is not None:
                parts.append(Not(child))
        else:
            spec = fact_specs().get(key) or context.get(key)
            if spec is None:
                errors.append((sub, "unknown fact"))
                continue
            atom = _parse_test(spec, value, sub, errors, extra.get(key, frozenset()))
            if atom is not None:
                parts.append(atom)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else All(tuple(parts))


def _parse_test(spec: FactSpec, value: Any, path: str, errors: Errors, extra: frozenset[str]) -> Condition | None:
    kind = spec.kind
    if kind == "list":
        m = _LIST_TEST.match(value) if isinstance(value, str) else None
        if not m:
            errors.append((path, "expected 'empty', 'not empty', 'contains X' or 'count >= N'"))
            return None
        if m.group(2):
            return ListTest(spec.name, "contains", m.group(2).upper() if spec.items == "country" else m.group(2))
        if m.group(3):
            return ListTest(spec.name, "count", int(m.group(4)), m.group(3))
        return ListTest(spec.name, m.group(1))
    if kind == "datetime":
        errors.append((path, "times cannot be tested in conditions"))
        return None
    if isinstance(value, list):
        if not value:
            errors.append((path, "expected a non-empty list of values"))
            return None
        checked = [_operand(spec, v, path, errors, extra) for v in value]
        if any(c is None for c in checked):
            return None
        return Member(spec.name, frozenset(value if kind in ("enum", "string") else checked))
    op, operand_text = "==", value
    if isinstance(value, str):
        m = _OP_PREFIX.match(value)
        if m:
            op, operand_text = m.group(1), m.group(2)
    if op not in ("==", "!=") and not (spec.is_ordered or spec.is_numeric or kind == "bool"):
        errors.append((path, f"{spec.name} has no order: use == or a list of values"))
        return None
    if spec.is_numeric:
        if isinstance(operand_text, bool):
            errors.append((path, "expected a number"))
            return None
        if isinstance(operand_text, (int, float)):
            expr = Expr("const", (float(operand_text),))
        else:
            try:
                expr = parse_expression(str(operand_text), path)
            except ConditionError as e:
                errors.extend(e.errors)
                return None
        return Compare(spec.name, op, expr, str(operand_text), kind)
    literal = _literal(operand_text)
    operand = _operand(spec, literal, path, errors, extra)
    if operand is None:
        return None
    shown = str(literal).lower() if kind == "bool" else str(literal)
    if kind == "enum" and op not in ("==", "!="):
        return Compare(spec.name, op, operand, shown, kind, {v: i for i, v in enumerate(spec.values)})
    return Compare(spec.name, op, literal if kind == "enum" else operand, shown, kind)


def _literal(text: Any) -> Any:
    if text in ("true", "false"):
        return text == "true"
    return text


def _operand(spec: FactSpec, value: Any, path: str, errors: Errors, extra: frozenset[str]) -> Any:
    """The comparable form of ``value`` for ``spec``: a rank, a bool, a number or a string."""
    kind = spec.kind
    if kind == "enum":
        if value in spec.values:
            return spec.values.index(value)
        if value in extra:
            return value
        errors.append((path, f"{value!r} is not a value of {spec.name} ({', '.join(spec.values)})"))
        return None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        errors.append((path, "expected true or false"))
        return None
    if kind in ("int", "number"):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        errors.append((path, "expected a number"))
        return None
    if kind == "country":
        if isinstance(value, str) and len(value) == 2 and value.isalpha():
            return value.upper()
        errors.append((path, "expected a two-letter country code"))
        return None
    if isinstance(value, str):
        return value
    errors.append((path, "expected a string"))
    return None


Evaluator = Callable[[Facts], bool | None]
