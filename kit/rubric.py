"""Explainable scoring of customer-service replies: six dimensions, evidence, hints, red lines.

The rubric is data: small yes/no rules in ``datasets/rubric/rules.yaml``, red-line lists in
``datasets/phrases/red_lines.yaml`` and weights, pass mark and scenario requirements in
``datasets/rubric/settings.toml``. This module is a generic engine over those files: it finds
every rule's matches (with spans into the original reply), adds the rules' weights to their
dimensions, applies what the scenario and the customer's message require, and turns the six
dimension scores into a total out of 100. Any red line sets the total to 0.

>>> r = score_reply("亲，稍后给你回复")
>>> r.passed, r.dimensions["commitment"].evidence[0].text
(False, '稍后')
>>> r.dimensions["commitment"].hint
'把“稍后”换成具体时间，比如“今天18点前”或“2小时内”。'
>>> good = score_reply("非常抱歉让您久等了！我已为您催促快递，今天18点前给您回复。",
...                    customer="快递怎么还没到？？", scenario="logistics_delay")
>>> good.passed, good.total > r.total
(True, True)
>>> score_reply("加我微信，给您便宜点").total
0
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

DIMENSIONS: tuple[str, ...] = (
    "politeness",
    "empathy",
    "commitment",
    "solution",
    "positivity",
    "clarity",
)
RED_LINE = "red_line"
MAX_SPANS = 20
"""Evidence spans kept per rule (a 100,000-character reply would otherwise list thousands)."""

RULES_FILE = "rubric/rules.yaml"
RED_LINES_FILE = "phrases/red_lines.yaml"
SETTINGS_FILE = "rubric/settings.toml"

_FLAGS = re.IGNORECASE | re.MULTILINE
_SENTENCE_END = re.compile(r"[。！？!?；;\n]+")
_CJK = re.compile(r"[\u4e00-\u9fff]+")
_FUNCTION_CHARS = frozenset(
    "的了吗呢吧啊呀么嘛哦哈你我他她它您们这那是有在和就都也还不没请问什怎么样个一"
)


class RubricError(ValueError):
    """A rubric data file (rules, red lines, settings) is invalid; the message names the
    file, the line where known, and the field."""


# --------------------------------------------------------------------------- result types
@dataclass(frozen=True)
class Span:
    """A piece of the reply: ``reply[start:end] == text``, found by rule ``rule_id``."""

    start: int
    end: int
    text: str
    rule_id: str


@dataclass(frozen=True)
class DimensionScore:
    """One dimension's score (0–1), the evidence for it and a hint in Chinese ("" if none)."""

    score: float
    evidence: list[Span]
    hint: str


@dataclass(frozen=True)
class RedLine:
    """A red-line finding: its category (insult, off_platform, …) and where it stands."""

    category: str
    span: Span


@dataclass(frozen=True)
class Hit:
    """A rule that fired (or a required element that was missing, ``require.<name>``)."""

    rule_id: str
    dimension: str
    sign: str
    weight: float
    spans: tuple[Span, ...]
    hint: str


@dataclass(frozen=True)
class ReplyScore:
    """The rubric's verdict on one reply."""

    total: int
    passed: bool
    pass_mark: int
    dimensions: dict[str, DimensionScore]
    red_lines: list[RedLine]
    hits: list[Hit]

    def explain(self) -> str:
        """A short Chinese report: total, each dimension with its hint, red lines.

        >>> print(score_reply("爱买不买").explain().splitlines()[:2])
        ['总分 0/100，未通过（及格线 80）', '红线：推诿赶客「爱买不买」→ 0 分']
        """
        verdict = "通过" if self.passed else "未通过"
        lines = [f"总分 {self.total}/100，{verdict}（及格线 {self.pass_mark}）"]
        for red in self.red_lines:
            lines.append(f"红线：{_red_label(red.category)}「{red.span.text}」→ 0 分")
        for key, dim in self.dimensions.items():
            hint = f" —— {dim.hint}" if dim.hint else ""
            lines.append(f"{_dimension_label(key)} {dim.score:.2f}{hint}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- rules
@dataclass(frozen=True)
class Rule:
    """One yes/no check of the rubric, as read from ``rules.yaml`` or ``red_lines.yaml``.

    ``dimension`` is one of :data:`DIMENSIONS`, or ``"red_line"`` for a red-line category
    (its id is ``redline.<category>``).
    """

    id: str
    dimension: str
    sign: str
    weight: float
    description: str
    hint: str
    words: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    feature: str | None = None
    feature_min: float | None = None
    feature_max: float | None = None
    unless: tuple[str, ...] = ()
    unless_after: tuple[str, ...] = ()
    unless_before: tuple[str, ...] = ()
    unless_rules: tuple[str, ...] = ()
    scenarios: tuple[str, ...] = ()
    requires_customer: tuple[str, ...] = ()
    examples: Mapping[str, tuple[Any, ...]] = field(default_factory=dict, compare=False)

    @cached_property
    def regex(self) -> re.Pattern[str] | None:
        return _compile(self.words, self.patterns)

    @cached_property
    def unless_regex(self) -> re.Pattern[str] | None:
        return _compile((), self.unless)

    @cached_property
    def unless_after_regex(self) -> re.Pattern[str] | None:
        return _compile((), self.unless_after)

    @cached_property
    def unless_before_regex(self) -> re.Pattern[str] | None:
        regex = _compile((), self.unless_before)
        return re.compile(f"(?:{regex.pattern})\\Z", _FLAGS) if regex else None


def _compile(words: Iterable[str], patterns: Iterable[str]) -> re.Pattern[str] | None:
    parts = [f"(?:{p})" for p in patterns]
    if words:
        parts.append(_trie_pattern([w for w in set(words) if w]))
    return re.compile("|".join(parts), _FLAGS) if parts else None


def _trie_pattern(words: list[str]) -> str:
    """One regex for a word list, factored by common prefixes (much faster to match than a
    flat alternation, and it prefers the longest word, like a longest-first list).

    >>> _trie_pattern(["尽快", "尽早", "稍后"])
    '(?:尽(?:快|早)|稍后)'
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if "" in node else body

    return emit(trie) if len(words) > 1 else re.escape(words[0])


# --------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class Element:
    """A required element: at least one of ``any_of`` must fire, else ``dimension`` loses
    ``penalty`` and ``hint`` is shown."""

    name: str
    dimension: str
    any_of: tuple[str, ...]
    penalty: float
    hint: str


@dataclass(frozen=True)
class Requirement:
    """What a scenario or a customer condition asks of a reply."""

    requires: tuple[str, ...] = ()
    weight_factors: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    """Pass mark, dimension weights and bases, and scenario requirements."""

    pass_mark: int
    weak_floor: float
    weak_penalty: float
    labels: Mapping[str, str]
    weights: Mapping[str, float]
    bases: Mapping[str, float]
    elements: Mapping[str, Element]
    scenarios: Mapping[str, Requirement]
    customer: Mapping[str, Requirement]
    source: str = ""


_SETTINGS_KEYS = {
    "pass_mark",
    "weak_floor",
    "weak_penalty",
    "dimensions",
    "elements",
    "scenarios",
    "customer",
}


def _read_config(path: Path) -> dict[str, Any]:
    """Parse a TOML or YAML file into a dict; errors name the file and line."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RubricError(f"{path}: invalid TOML: {exc}") from exc
    elif path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:  # the C loader when PyYAML has it: the rules load 5× faster
            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark else str(path)
            raise RubricError(f"{where}: invalid YAML: {exc}") from exc
    else:
        raise RubricError(f"{path}: settings must be a .toml, .yaml or .yml file")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RubricError(f"{path}: expected a mapping of settings at the top level")
    return data


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _number(where: str, value: Any, low: float, high: float | None = None) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"≥ {low}"
        raise RubricError(f"{where}: expected a number {bound}, got {value!r}")
    return float(value)


def _string_list(where: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RubricError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(value)


def _requirements(src: str, section: str, data: Any, elements: Mapping[str, Element]):
    if not isinstance(data, dict):
        raise RubricError(f"{src}: [{section}]: expected a table")
    out: dict[str, Requirement] = {}
    for name, spec in data.items():
        where = f"{src}: [{section}.{name}]"
        if not isinstance(spec, dict) or set(spec) - {"requires", "weight_factors"}:
            raise RubricError(f"{where}: expected keys requires, weight_factors; got {spec!r}")
        requires = _string_list(f"{where} requires", spec.get("requires"))
        for element in requires:
            if element not in elements:
                raise RubricError(f"{where} requires: unknown element {element!r}")
        factors = spec.get("weight_factors", {})
        if not isinstance(factors, dict) or set(factors) - set(DIMENSIONS):
            raise RubricError(f"{where} weight_factors: keys must be among {DIMENSIONS}")
        out[name] = Requirement(
            requires,
            {k: _number(f"{where} weight_factors.{k}", v, 0.0) for k, v in factors.items()},
        )
    return out


def _settings_from_dict(data: Mapping[str, Any], src: str) -> Settings:
    unknown = set(data) - _SETTINGS_KEYS
    if unknown:
        raise RubricError(f"{src}: unknown setting(s) {sorted(unknown)}; known: "
                          f"{sorted(_SETTINGS_KEYS)}")
    dims = data.get("dimensions", {})
    if set(dims) != set(DIMENSIONS):
        raise RubricError(f"{src}: [dimensions] must list exactly {DIMENSIONS}, got {sorted(dims)}")
    labels, weights, bases = {}, {}, {}
    for key in DIMENSIONS:
        spec = dims[key]
        where = f"{src}: [dimensions.{key}]"
        if not isinstance(spec, dict) or set(spec) - {"label", "weight", "base"}:
            raise RubricError(f"{where}: expected keys label, weight, base; got {spec!r}")
        labels[key] = str(spec.get("label", key))
        weights[key] = _number(f"{where} weight", spec.get("weight"), 0.0)
        bases[key] = _number(f"{where} base", spec.get("base"), 0.0, 1.0)
    if sum(weights.values()) <= 0:
        raise RubricError(f"{src}: [dimensions]: at least one weight must be above 0")
    elements = {}
    for name, spec in data.get("elements", {}).items():
        where = f"{src}: [elements.{name}]"
        if not isinstance(spec, dict) or spec.get("dimension") not in DIMENSIONS:
            raise RubricError(f"{where} dimension: expected one of {DIMENSIONS}")
        elements[name] = Element(
            name,
            spec["dimension"],
            _string_list(f"{where} any_of", spec.get("any_of")),
            _number(f"{where} penalty", spec.get("penalty"), 0.0, 1.0),
            str(spec.get("hint", "")),
        )
    pass_mark = _number(f"{src}: pass_mark", data.get("pass_mark"), 0, 100)
    return Settings(
        pass_mark=round(pass_mark),
        weak_floor=_number(f"{src}: weak_floor", data.get("weak_floor", 0.0), 0.0, 1.0),
        weak_penalty=_number(f"{src}: weak_penalty", data.get("weak_penalty", 0.0), 0.0),
        labels=labels,
        weights=weights,
        bases=bases,
        elements=elements,
        scenarios=_requirements(src, "scenarios", data.get("scenarios", {}), elements),
        customer=_requirements(src, "customer", data.get("customer", {}), elements),
        source=src,
    )


@lru_cache(maxsize=4)
def _default_settings_raw(path: str) -> dict[str, Any]:
    return _read_config(Path(path))


def _data_file(name: str) -> Path:
    from kit.datasets import dataset_path

    return dataset_path(name)


def _datasets_key() -> str:
    """Cache key for the loaded data: the datasets folder override, if any."""
    return os.environ.get("KIT_DATASETS", "")


def load_settings(path: str | Path | None = None) -> Settings:
    """Return the default settings, with the keys in ``path`` (TOML or YAML) overriding them.

    An instructor's file needs only the keys it changes, e.g. ``pass_mark = 70`` or
    ``[dimensions.empathy]`` ``weight = 2``.

    >>> load_settings().pass_mark
    80
    """
    default_path = str(_data_file(SETTINGS_FILE))
    data = _default_settings_raw(default_path)
    src = default_path
    if path is not None:
        override_path = Path(path)
        if not override_path.exists():
            raise RubricError(f"{override_path}: settings file not found")
        data = _merge(data, _read_config(override_path))
        src = str(override_path)
    settings = _settings_from_dict(data, src)
    _check_references(settings, {r.id for r in rules()}, set(_conditions()))
    return settings


def _check_references(settings: Settings, rule_ids: set[str], conditions: set[str]) -> None:
    for element in settings.elements.values():
        for rule_id in element.any_of:
            if rule_id not in rule_ids:
                raise RubricError(f"{settings.source}: [elements.{element.name}] any_of: "
                                  f"unknown rule id {rule_id!r}")
    for name in settings.customer:
        if name not in conditions:
            raise RubricError(f"{settings.source}: [customer.{name}]: unknown condition; "
                              f"rules.yaml defines {sorted(conditions)}")


# --------------------------------------------------------------------------- loading rules
_RULE_KEYS = {"id", "dimension", "sign", "weight", "description", "hint", "match", "examples"}
_MATCH_KEYS = {
    "words",
    "patterns",
    "feature",
    "unless",
    "unless_after",
    "unless_before",
    "unless_rules",
    "scenarios",
    "requires_customer",
}


def _yaml_line(path: Path, section: str, index: int | str) -> str:
    """``path:line`` of item ``index`` of top-level ``section`` (used only for errors)."""
    import yaml

    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
        node = next(v for k, v in root.value if k.value == section)
        if isinstance(index, int):
            item = node.value[index]
        else:
            item = next(v for k, v in node.value if k.value == index)
        return f"{path}:{item.start_mark.line + 1}"
    except Exception:  # the location is a courtesy; the message stands without it
        return str(path)


def _parse_rule(spec: Any, where: str, known_dims: tuple[str, ...]) -> Rule:
    if not isinstance(spec, dict):
        raise RubricError(f"{where}: expected a mapping, got {spec!r}")
    unknown = set(spec) - _RULE_KEYS
    if unknown:
        raise RubricError(f"{where}: unknown field(s) {sorted(unknown)}")
    for key in ("id", "dimension", "sign", "weight", "description", "hint", "match"):
        if key not in spec:
            raise RubricError(f"{where}: missing field {key!r}")
    rule_id = spec["id"]
    where = f"{where} (rule {rule_id})"
    if spec["dimension"] not in known_dims:
        raise RubricError(f"{where}: field 'dimension' must be one of {known_dims}")
    if spec["sign"] not in ("+", "-"):
        raise RubricError(f"{where}: field 'sign' must be \"+\" or \"-\"")
    match = spec["match"]
    if not isinstance(match, dict) or set(match) - _MATCH_KEYS:
        raise RubricError(f"{where}: field 'match' accepts only {sorted(_MATCH_KEYS)}")
    feature = match.get("feature")
    fname = fmin = fmax = None
    if feature is not None:
        if not isinstance(feature, dict) or feature.get("name") not in _FEATURES:
            raise RubricError(f"{where}: field 'match.feature' needs a name among "
                              f"{sorted(_FEATURES)}")
        fname = feature["name"]
        fmin = feature.get("min")
        fmax = feature.get("max")
        if fmin is None and fmax is None:
            raise RubricError(f"{where}: field 'match.feature' needs min or max")
    lists = {k: _string_list(f"{where}: field 'match.{k}'", match.get(k)) for k in
             ("words", "patterns", "unless", "unless_after", "unless_before", "unless_rules",
              "scenarios",
              "requires_customer")}
    if not (lists["words"] or lists["patterns"] or fname):
        raise RubricError(f"{where}: field 'match' needs words, patterns or a feature")
    rule = Rule(
        id=str(rule_id),
        dimension=spec["dimension"],
        sign=spec["sign"],
        weight=_number(f"{where}: field 'weight'", spec["weight"], 0.0, 1.0),
        description=str(spec["description"]),
        hint=str(spec["hint"]),
        feature=fname,
        feature_min=fmin,
        feature_max=fmax,
        examples=_parse_examples(spec.get("examples"), where),
        **lists,
    )
    for attr in ("regex", "unless_regex", "unless_after_regex", "unless_before_regex"):
        try:
            getattr(rule, attr)
        except re.error as exc:
            raise RubricError(f"{where}: invalid regular expression: {exc}") from exc
    return rule


def _parse_examples(data: Any, where: str) -> dict[str, tuple[Any, ...]]:
    if data is None:
        return {}
    if not isinstance(data, dict) or set(data) - {"match", "no_match"}:
        raise RubricError(f"{where}: field 'examples' accepts only match and no_match")
    return {k: tuple(v or ()) for k, v in data.items()}


def _parse_rule_at(spec: Any, path: Path, index: int) -> Rule:
    try:
        return _parse_rule(spec, f"rules[{index}]", DIMENSIONS)
    except RubricError as exc:
        raise RubricError(f"{_yaml_line(path, 'rules', index)}: {exc}") from None


def _load_red_lines(path: Path) -> tuple[list[Rule], dict[str, str]]:
    """The red-line categories as rules (``redline.<category>``), and their labels."""
    data = _read_config(path)
    categories = data.get("categories")
    if not isinstance(categories, dict) or not categories:
        raise RubricError(f"{path}: expected a mapping 'categories' of red-line categories")
    negations = _string_list(f"{path}: field 'unless_before'", data.get("unless_before"))
    out, labels = [], {}
    for name, spec in categories.items():
        if not isinstance(spec, dict) or set(spec) - {"label", "description", "hint", "words",
                                                      "patterns", "examples"}:
            raise RubricError(f"{_yaml_line(path, 'categories', name)} (category {name}): "
                              "expected keys label, description, hint, words, patterns, examples")
        rule_spec = {
            "id": f"redline.{name}",
            "dimension": RED_LINE,
            "sign": "-",
            "weight": 1.0,
            "description": f"{spec.get('label', name)}：{spec.get('description', '')}",
            "hint": spec.get("hint", ""),
            "match": {**{k: spec[k] for k in ("words", "patterns") if k in spec},
                      "unless_before": list(negations)},
            "examples": spec.get("examples"),
        }
        try:
            out.append(_parse_rule(rule_spec, f"category {name}", (RED_LINE,)))
        except RubricError as exc:
            raise RubricError(f"{_yaml_line(path, 'categories', name)}: {exc}") from None
        labels[name] = str(spec.get("label", name))
    return out, labels


@dataclass(frozen=True)
class _Rubric:
    rules: tuple[Rule, ...]
    conditions: Mapping[str, re.Pattern[str]]
    condition_notes: Mapping[str, str]
    red_labels: Mapping[str, str]


@lru_cache(maxsize=4)
def _load(datasets_key: str) -> _Rubric:
    path = _data_file(RULES_FILE)
    data = _read_config(path)
    if not isinstance(data.get("rules"), list):
        raise RubricError(f"{path}: expected a list 'rules'")
    rule_list: list[Rule] = []
    for i, spec in enumerate(data["rules"]):
        rule = _parse_rule_at(spec, path, i)
        if any(r.id == rule.id for r in rule_list):
            raise RubricError(f"{_yaml_line(path, 'rules', i)}: duplicate rule id {rule.id!r}")
        rule_list.append(rule)
    conditions, notes = {}, {}
    for name, spec in (data.get("conditions") or {}).items():
        where = f"{_yaml_line(path, 'conditions', name)} (condition {name})"
        if not isinstance(spec, dict):
            raise RubricError(f"{where}: expected a mapping with words and/or patterns")
        regex = _compile(_string_list(f"{where}: field 'words'", spec.get("words")),
                         _string_list(f"{where}: field 'patterns'", spec.get("patterns")))
        if regex is None:
            raise RubricError(f"{where}: needs words or patterns")
        conditions[name] = regex
        notes[name] = str(spec.get("description", ""))
    ids = {r.id for r in rule_list}
    for rule in rule_list:
        for ref in rule.unless_rules:
            if ref not in ids:
                raise RubricError(f"{path} (rule {rule.id}): field 'match.unless_rules': "
                                  f"unknown rule id {ref!r}")
        for cond in rule.requires_customer:
            if cond.removeprefix("not ") not in conditions:
                raise RubricError(f"{path} (rule {rule.id}): field 'match.requires_customer': "
                                  f"unknown condition {cond!r}")
    red, labels = _load_red_lines(_data_file(RED_LINES_FILE))
    return _Rubric(tuple(rule_list + red), conditions, notes, labels)


def _rubric() -> _Rubric:
    return _load(_datasets_key())


def _conditions() -> Mapping[str, re.Pattern[str]]:
    return _rubric().conditions


def rules() -> list[Rule]:
    """Every rule of the rubric, in file order, red-line categories last.

    >>> [r.id for r in rules()][:2]
    ['polite.nin', 'polite.please']
    >>> rules()[-1].dimension
    'red_line'
    """
    return list(_rubric().rules)


@lru_cache(maxsize=4)
def _default_settings(datasets_key: str) -> Settings:
    return load_settings()


def default_settings() -> Settings:
    """The settings in ``datasets/rubric/settings.toml`` (loaded once)."""
    return _default_settings(_datasets_key())


# --------------------------------------------------------------------------- measuring text
def _stripped_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    seg = text[start:end]
    body = seg.strip()
    if not body:
        return None
    lead = len(seg) - len(seg.lstrip())
    return start + lead, start + lead + len(body)


class _View:
    """The reply (and customer message) with measurements computed on first use."""

    __slots__ = ("_bigrams", "_blocks", "_sentences", "customer", "question", "text")

    def __init__(self, text: str, customer: str | None,
                 question: re.Pattern[str] | None = None) -> None:
        self.text = text
        self.customer = customer
        self.question = question
        self._sentences: list[tuple[int, int]] | None = None
        self._blocks: list[tuple[int, int]] | None = None
        self._bigrams: set[str] | None = None

    def _split(self, regex: re.Pattern[str]) -> list[tuple[int, int]]:
        out, pos = [], 0
        for m in regex.finditer(self.text):
            span = _stripped_span(self.text, pos, m.start())
            if span:
                out.append(span)
            pos = m.end()
        span = _stripped_span(self.text, pos, len(self.text))
        if span:
            out.append(span)
        return out

    def sentences(self) -> list[tuple[int, int]]:
        if self._sentences is None:
            self._sentences = self._split(_SENTENCE_END)
        return self._sentences

    def blocks(self) -> list[tuple[int, int]]:
        if self._blocks is None:
            self._blocks = self._split(_LINE_BREAK)
        return self._blocks

    def customer_bigrams(self) -> set[str]:
        if self._bigrams is None:
            self._bigrams = _content_bigrams(self.customer or "")
        return self._bigrams

    def first_positions(self, grams: set[str]) -> dict[str, int]:
        """Where each of ``grams`` first stands in the reply."""
        found: dict[str, int] = {}
        for run in _CJK.finditer(self.text):
            text, base = run.group(), run.start()
            for i in range(len(text) - 1):
                pair = text[i : i + 2]
                if pair in grams and pair not in found:
                    found[pair] = base + i
        return found


def _content_bigrams(text: str) -> set[str]:
    """Pairs of adjacent Chinese characters, neither of them a function character."""
    grams: set[str] = set()
    for run in _CJK.findall(text):
        for i in range(len(run) - 1):
            pair = run[i : i + 2]
            if pair[0] not in _FUNCTION_CHARS and pair[1] not in _FUNCTION_CHARS:
                grams.add(pair)
    return grams


_LINE_BREAK = re.compile(r"\n+")


def _in_range(value: float, rule: Rule) -> bool:
    return (rule.feature_min is None or value >= rule.feature_min) and (
        rule.feature_max is None or value <= rule.feature_max
    )


def _longest(spans: list[tuple[int, int]], rule: Rule) -> list[tuple[int, int]]:
    best = max(spans, key=lambda s: s[1] - s[0], default=None)
    return [best] if best and _in_range(best[1] - best[0], rule) else []


def _feature_longest_sentence(view: _View, rule: Rule) -> list[tuple[int, int]]:
    return _longest(view.sentences(), rule)


def _feature_longest_block(view: _View, rule: Rule) -> list[tuple[int, int]]:
    return _longest(view.blocks(), rule)


def _feature_total_chars(view: _View, rule: Rule) -> list[tuple[int, int]]:
    span = _stripped_span(view.text, 0, len(view.text)) or (0, 0)
    return [span] if _in_range(span[1] - span[0], rule) else []


def _feature_short_sentences(view: _View, rule: Rule) -> list[tuple[int, int]]:
    sentences = view.sentences()
    if len(sentences) < 2 or not all(_in_range(e - s, rule) for s, e in sentences):
        return []
    return [(sentences[0][0], sentences[-1][1])]


@lru_cache(maxsize=8)
def _repeat_regex(times: int) -> re.Pattern[str]:
    return re.compile(rf"([^\W\d_]{{1,6}}?)\1{{{max(times - 1, 1)},}}")


def _feature_repeated_phrase(view: _View, rule: Rule) -> list[tuple[int, int]]:
    """Runs of one short phrase said back to back (亲亲亲亲亲亲, 抱歉抱歉抱歉)."""
    return [m.span() for m in _repeat_regex(int(rule.feature_min or 3)).finditer(view.text)]


def _feature_repeated_sentence(view: _View, rule: Rule) -> list[tuple[int, int]]:
    """The same sentence (4 characters or more) said several times, like a pasted template."""
    seen: dict[str, list[tuple[int, int]]] = {}
    for start, end in view.sentences():
        if end - start >= 4:
            seen.setdefault(view.text[start:end], []).append((start, end))
    return next((spans for spans in seen.values() if _in_range(len(spans), rule)), [])


def _feature_echo_customer(view: _View, rule: Rule) -> list[tuple[int, int]]:
    grams = view.customer_bigrams()
    if not grams:
        return []
    spans = [(s, s + 2) for s in view.first_positions(grams).values()]
    return spans if _in_range(len(spans), rule) else []


_CLAUSE = re.compile(r"[^。！？!?；;，,\n]+[。！？!?；;，,\n]*")
# A clause asking for an amount (多大、多少、几天、多久) is taken up by an amount in the reply
# (4升、38码、3天、18点), whatever words the two use.
_ASKS_AMOUNT = re.compile(r"多[大少久长重高宽厚远]|几[个天号点寸码升斤米件岁年月周人]"
                          r"|什么时候|哪天")
_AMOUNT = re.compile(r"[0-9０-９]+(?:\.[0-9]+)?\s*(?:个)?\s*[a-z%％\u4e00-\u9fff]"
                     r"|[一二两三四五六七八九十半]+\s*(?:个)?\s*(?:天|小时|分钟|周|月|年|升|斤|米|码|件|人|寸)")


def _feature_question_coverage(view: _View, rule: Rule) -> list[tuple[int, int]]:
    """Share of the customer's question clauses whose content the reply takes up."""
    if not view.customer or view.question is None:
        return []
    clauses = [c for c in _CLAUSE.findall(view.customer[:5000]) if view.question.search(c)]
    asked = [(g, _ASKS_AMOUNT.search(c) is not None) for g, c in
             ((_content_bigrams(c), c) for c in clauses) if g]
    if not asked:
        return []
    found = view.first_positions(set().union(*(g for g, _ in asked)))
    amount = _AMOUNT.search(view.text) if any(a for _, a in asked) else None
    covered = []
    for grams, wants_amount in asked:
        where = [found[g] for g in grams if g in found]
        if where:
            covered.append(min(where))
        elif wants_amount and amount is not None:
            covered.append(amount.start())
    if not _in_range(len(covered) / len(asked), rule):
        return []
    return [(s, s + 2) for s in sorted(set(covered))]


_LIST_ITEM = re.compile(r"(?:^|(?<=[\s；;。，,：:]))[1-9][0-9]?[.、)）](?![0-9])|[①-⑳]")


def _feature_list_items(view: _View, rule: Rule) -> list[tuple[int, int]]:
    spans = [m.span() for m in _LIST_ITEM.finditer(view.text)]
    return spans if _in_range(len(spans), rule) else []


_FEATURES = {
    "longest_sentence": _feature_longest_sentence,
    "longest_block": _feature_longest_block,
    "total_chars": _feature_total_chars,
    "short_sentences": _feature_short_sentences,
    "repeated_phrase": _feature_repeated_phrase,
    "repeated_sentence": _feature_repeated_sentence,
    "echo_customer": _feature_echo_customer,
    "list_items": _feature_list_items,
    "question_coverage": _feature_question_coverage,
}


BEFORE_WINDOW = 12
"""How far before a match ``unless_before`` looks (characters)."""


class _FollowedBy:
    """Answers "does ``regex`` match somewhere at or after ``pos``?" for increasing ``pos``
    in linear total time (a refusal is forgiven when an alternative follows it)."""

    __slots__ = ("no_from", "regex", "text", "yes_upto")

    def __init__(self, regex: re.Pattern[str], text: str) -> None:
        self.regex, self.text = regex, text
        self.yes_upto, self.no_from = -1, len(text) + 1

    def __call__(self, pos: int) -> bool:
        if pos <= self.yes_upto:
            return True
        if pos >= self.no_from:
            return False
        m = self.regex.search(self.text, pos)
        if m is None:
            self.no_from = pos
            return False
        self.yes_upto = m.start()
        return True


def _find(rule: Rule, view: _View) -> tuple[Span, ...]:
    text = view.text
    if rule.unless_regex is not None and rule.unless_regex.search(text):
        return ()
    found: list[tuple[int, int]] = []
    if rule.regex is not None:
        followed = (_FollowedBy(rule.unless_after_regex, text)
                    if rule.unless_after_regex is not None else None)
        preceded = rule.unless_before_regex
        for m in rule.regex.finditer(text):
            if m.end() == m.start() or (followed is not None and followed(m.end())):
                continue
            start = m.start()
            if preceded is not None and preceded.search(text, max(0, start - BEFORE_WINDOW),
                                                        start):
                continue
            found.append(m.span())
            if len(found) >= MAX_SPANS:
                break
    if rule.feature is not None and len(found) < MAX_SPANS:
        found.extend(_FEATURES[rule.feature](view, rule)[: MAX_SPANS - len(found)])
    return tuple(Span(s, e, text[s:e], rule.id) for s, e in found)


# --------------------------------------------------------------------------- scoring
def _applies(rule: Rule, scenario: str | None, state: Mapping[str, bool]) -> bool:
    if rule.scenarios and scenario not in rule.scenarios:
        return False
    for cond in rule.requires_customer:
        negated = cond.startswith("not ")
        if state.get(cond.removeprefix("not "), False) == negated:
            return False
    return True


def _fill(hint: str, match: str) -> str:
    shown = match if len(match) <= 20 else match[:20] + "…"
    return hint.replace("{match}", shown)


def _clamp(value: float) -> float:
    return 0.0 if value < 0 else 1.0 if value > 1 else value


def compare_replies(replies: Iterable[str], *, customer: str | None = None,
                    scenario: str | None = None, settings: Settings | None = None) -> Any:
    """Score several replies to the same customer message side by side (before/after tables).

    Returns:
        A pandas DataFrame indexed by the reply text, with the columns 总分, 通过, 红线 (the
        red lines crossed, "" if none), the six dimensions' Chinese labels (scores 0–1) and
        提示 (the first hint of the reply).

    >>> good = "非常抱歉让您久等了，我这就帮您催快递，今天18点前回复您。"
    >>> table = compare_replies(["等着吧", good], customer="快递怎么还没到？",
    ...                         scenario="logistics_delay")
    >>> bool(table.loc["等着吧", "总分"] < table.loc[good, "总分"])
    True
    >>> row = compare_replies(["加我微信聊"]).loc["加我微信聊"]
    >>> int(row["总分"]), row["红线"]
    (0, '引导站外交易或联系')
    """
    import pandas as pd

    rows = {}
    for reply in replies:
        result = score_reply(reply, customer=customer, scenario=scenario, settings=settings)
        hints = [dim.hint for dim in result.dimensions.values() if dim.hint]
        red = "、".join(dict.fromkeys(_red_label(r.category) for r in result.red_lines))
        rows[reply] = {"总分": result.total, "通过": result.passed, "红线": red,
                       **{_dimension_label(k): round(d.score, 2)
                          for k, d in result.dimensions.items()},
                       "提示": hints[0] if hints else ""}
    return pd.DataFrame.from_dict(rows, orient="index")


def customer_conditions(customer: str | None) -> dict[str, bool]:
    """Which conditions of ``rules.yaml`` the customer's message meets.

    >>> customer_conditions("都三天了还没发货？？我要投诉")["customer_is_angry"]
    True
    >>> customer_conditions(None)["customer_asks_question"]
    False
    """
    return {name: bool(customer) and regex.search(customer) is not None
            for name, regex in _conditions().items()}


def score_reply(
    reply: str,
    *,
    customer: str | None = None,
    scenario: str | None = None,
    settings: Settings | None = None,
) -> ReplyScore:
    """Score an agent's ``reply`` on the six dimensions, with evidence and hints.

    Args:
        reply: the agent's reply (any string; spans index it exactly).
        customer: the customer's message it answers, if known (an angry customer raises
            the weight of empathy and needs soothing; a question needs an answer).
        scenario: a scenario key of the settings (presale, bargain, complaint, …) whose
            required elements the reply must contain.
        settings: from :func:`load_settings`; the defaults when omitted.

    Raises:
        TypeError: if ``reply`` or ``customer`` is not a string.
        ValueError: if ``scenario`` is not a scenario of the settings.

    >>> r = score_reply("不能便宜", customer="能便宜点吗", scenario="bargain")
    >>> r.total < 50, [h.rule_id for h in r.hits if h.sign == "-"]
    (True, ['polite.curt', 'solution.refusal_bare', 'require.alternative'])
    """
    if not isinstance(reply, str):
        raise TypeError(f"reply must be a str, got {type(reply).__name__}")
    if customer is not None and not isinstance(customer, str):
        raise TypeError(f"customer must be a str or None, got {type(customer).__name__}")
    settings = settings or default_settings()
    if scenario is not None and scenario not in settings.scenarios:
        raise ValueError(f"unknown scenario {scenario!r}; the settings ({settings.source}) "
                         f"define {sorted(settings.scenarios)}")
    rubric = _rubric()
    state = customer_conditions(customer)
    view = _View(reply, customer, rubric.conditions.get("customer_asks_question"))

    matched: dict[str, tuple[Span, ...]] = {}
    for rule in rubric.rules:
        if _applies(rule, scenario, state):
            spans = _find(rule, view)
            if spans:
                matched[rule.id] = spans

    gains = dict(settings.bases)
    losses = dict.fromkeys(DIMENSIONS, 0.0)
    evidence: dict[str, list[Span]] = {d: [] for d in DIMENSIONS}
    hits: list[Hit] = []
    red_lines: list[RedLine] = []
    for rule in rubric.rules:
        spans = matched.get(rule.id)
        if not spans or any(ref in matched for ref in rule.unless_rules):
            continue
        hint = _fill(rule.hint, spans[0].text) if rule.sign == "-" else ""
        hits.append(Hit(rule.id, rule.dimension, rule.sign, rule.weight, spans, hint))
        if rule.dimension == RED_LINE:
            category = rule.id.removeprefix("redline.")
            red_lines.extend(RedLine(category, span) for span in spans)
            continue
        (gains if rule.sign == "+" else losses)[rule.dimension] += rule.weight
        evidence[rule.dimension].extend(spans)
    fired = {h.rule_id for h in hits}

    required, weights = _requirements_in_force(settings, scenario, state)
    # gains stop at 1, so a negative rule always costs, however much else the reply did well
    scores = {d: _clamp(min(1.0, gains[d]) - losses[d]) for d in DIMENSIONS}
    for name in required:
        element = settings.elements[name]
        if not any(rule_id in fired for rule_id in element.any_of):
            scores[element.dimension] = _clamp(scores[element.dimension] - element.penalty)
            hits.append(Hit(f"require.{name}", element.dimension, "-", element.penalty, (),
                            element.hint))

    dimensions = {
        d: DimensionScore(round(scores[d], 3), evidence[d],
                          _dimension_hint(d, scores[d], settings.weak_floor, hits, rubric, scenario,
                                          state, fired))
        for d in DIMENSIONS
    }
    wsum = sum(weights.values()) or 1.0
    mean = sum(weights[d] * scores[d] for d in DIMENSIONS) / wsum
    avg_weight = wsum / len(DIMENSIONS)
    factor = 1.0
    for d in DIMENSIONS:
        shortfall = max(0.0, settings.weak_floor - scores[d])
        factor *= max(0.0, 1.0 - settings.weak_penalty * shortfall) ** (weights[d] / avg_weight)
    total = 0 if red_lines else round(min(100.0, 100 * mean * factor))
    return ReplyScore(total, total >= settings.pass_mark, settings.pass_mark, dimensions,
                      red_lines, hits)


def _requirements_in_force(settings: Settings, scenario: str | None,
                           state: Mapping[str, bool]) -> tuple[list[str], dict[str, float]]:
    """The elements the scenario and the customer's message require, and the dimension
    weights after their weight factors."""
    weights = dict(settings.weights)
    required: list[str] = []
    active = [settings.scenarios[scenario]] if scenario is not None else []
    active += [settings.customer[c] for c, on in state.items() if on and c in settings.customer]
    for req in active:
        required += [e for e in req.requires if e not in required]
        for dim, factor in req.weight_factors.items():
            weights[dim] *= factor
    return required, weights


def _dimension_hint(dim: str, score: float, floor: float, hits: list[Hit], rubric: _Rubric,
                    scenario: str | None, state: Mapping[str, bool], fired: set[str]) -> str:
    """What went wrong (negative rules, missing elements) first; when nothing did but the
    dimension is still weak, how to earn it (the heaviest positive rule that did not fire)."""
    negative = sorted((h for h in hits if h.dimension == dim and h.sign == "-"),
                      key=lambda h: -h.weight)
    tips = list(dict.fromkeys(h.hint for h in negative if h.hint))
    if not tips and score < floor:
        missed = [r for r in rubric.rules if r.dimension == dim and r.sign == "+"
                  and r.id not in fired and _applies(r, scenario, state)]
        tips = [max(missed, key=lambda r: r.weight).hint] if missed else []
    return "".join(tips[:2])


def _dimension_label(key: str) -> str:
    return default_settings().labels.get(key, key)


def _red_label(category: str) -> str:
    return _rubric().red_labels.get(category, category)


# --------------------------------------------------------------------------- documentation
def _cell(value: Any, limit: int = 60) -> str:
    if isinstance(value, dict):
        text = value.get("reply", "")
        extra = [f"客户：{value['customer']}" for _ in [0] if value.get("customer")]
        extra += [f"场景：{value['scenario']}" for _ in [0] if value.get("scenario")]
        value = text + (f"（{'；'.join(extra)}）" if extra else "")
    text = str(value).replace("\n", "⏎")
    if len(text) > limit:
        text = text[:limit] + "…"
    return text.replace("|", "\\|")


def _examples_cell(rule: Rule, kind: str) -> str:
    return "<br>".join(f"「{_cell(e)}」" for e in rule.examples.get(kind, ())[:2])


def _conditions_cell(rule: Rule) -> str:
    parts = []
    if rule.scenarios:
        parts.append("场景：" + "、".join(rule.scenarios))
    if rule.requires_customer:
        parts.append("客户：" + "、".join(rule.requires_customer))
    if rule.unless_rules:
        parts.append("除非命中 " + "、".join(rule.unless_rules))
    if rule.unless_after:
        parts.append("后面有替代说法则不算")
    if rule.unless_before:
        parts.append("前面是否定说法则不算")
    if rule.feature:
        bound = [f"≥{rule.feature_min}" for _ in [0] if rule.feature_min is not None]
        bound += [f"≤{rule.feature_max}" for _ in [0] if rule.feature_max is not None]
        parts.append(f"测量 {rule.feature} {' '.join(bound)}")
    return "；".join(parts) or "全部"


def rules_table_markdown() -> str:
    """The rules, requirements and red lines as Markdown (the text of docs/rubric-rules.md).

    >>> rules_table_markdown().startswith("# 回复评分规则一览")
    True
    """
    settings = default_settings()
    rubric = _rubric()
    out = [
        "# 回复评分规则一览",
        "",
        "> 本页由 `python -m kit.rubric --table > docs/rubric-rules.md` 从",
        "> `datasets/rubric/rules.yaml`、`datasets/rubric/settings.toml` 和",
        "> `datasets/phrases/red_lines.yaml` 生成，请勿手改；改规则请改数据文件后重新生成。",
        "",
        "## 怎么算分",
        "",
        "1. 每个维度从“起始分”出发，加上命中的加分规则的权重（最多加到 1），再减去命中的"
        "扣分规则的权重（同一条规则命中多次只算一次），结果限制在 0–1。",
        "2. 场景或客户消息要求的必备要素缺失时，对应维度再扣掉该要素的扣分。",
        f"3. 总分 = 100 × 六个维度的加权平均 × 短板系数：每个低于短板线 {settings.weak_floor} "
        f"的维度把总分乘以 (1 − {settings.weak_penalty:g} × (短板线 − 得分))，"
        "再按该维度的相对权重取幂（权重越大，短板越伤总分）。",
        f"4. 出现任何红线，总分直接为 0。总分 ≥ {settings.pass_mark} 为通过。",
        "",
        "## 维度",
        "",
        "| 维度 | key | 权重 | 起始分 |",
        "|---|---|---|---|",
    ]
    out += [f"| {settings.labels[d]} | `{d}` | {settings.weights[d]:g} | {settings.bases[d]:g} |"
            for d in DIMENSIONS]
    for dim in DIMENSIONS:
        out += ["", f"## {settings.labels[dim]}（{dim}）", "",
                "| 规则 | ± | 权重 | 检查什么 | 适用 | 命中例 | 不命中例 |",
                "|---|---|---|---|---|---|---|"]
        for rule in (r for r in rubric.rules if r.dimension == dim):
            out.append(f"| `{rule.id}` | {rule.sign} | {rule.weight:g} | "
                       f"{_cell(rule.description, 200)} | {_cell(_conditions_cell(rule), 200)} | "
                       f"{_examples_cell(rule, 'match')} | {_examples_cell(rule, 'no_match')} |")
    out += ["", "## 必备要素", "", "| 要素 | 维度 | 满足条件（任一规则命中） | 缺少时扣分 | 提示 |",
            "|---|---|---|---|---|"]
    for el in settings.elements.values():
        any_of = "、".join(f"`{r}`" for r in el.any_of)
        out.append(f"| `{el.name}` | {settings.labels[el.dimension]} | {any_of} | "
                   f"{el.penalty:g} | {_cell(el.hint, 200)} |")
    out += ["", "## 场景与客户消息的要求", "",
            "| 触发 | 必备要素 | 维度权重倍数 |", "|---|---|---|"]
    triggers = [(f"场景 `{k}`", v) for k, v in settings.scenarios.items()]
    triggers += [(f"客户 `{k}`：{rubric.condition_notes.get(k, '')}", v)
                 for k, v in settings.customer.items()]
    for name, req in triggers:
        factors = "、".join(f"{settings.labels[d]}×{f:g}" for d, f in req.weight_factors.items())
        out.append(f"| {name} | {'、'.join(req.requires) or '—'} | {factors or '—'} |")
    out += ["", "## 红线（命中即 0 分）", "",
            "| 类别 | 说明 | 命中例 | 不命中例 |", "|---|---|---|---|"]
    for rule in (r for r in rubric.rules if r.dimension == RED_LINE):
        out.append(f"| `{rule.id.removeprefix('redline.')}` | {_cell(rule.description, 200)} | "
                   f"{_examples_cell(rule, 'match')} | {_examples_cell(rule, 'no_match')} |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m kit.rubric --table`` prints the rules table; ``python -m kit.rubric REPLY``
    scores a reply (``--customer``, ``--scenario``, ``--settings`` optional)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m kit.rubric",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("reply", nargs="?", help="a reply to score")
    parser.add_argument("--table", action="store_true", help="print the rules table (Markdown)")
    parser.add_argument("--customer", help="the customer's message the reply answers")
    parser.add_argument("--scenario", help="scenario key (presale, bargain, complaint, …)")
    parser.add_argument("--settings", help="an instructor's settings override (TOML or YAML)")
    args = parser.parse_args(argv)
    if args.table:
        sys.stdout.write(rules_table_markdown())
        return 0
    if args.reply is None:
        parser.error("give a reply to score, or --table")
    settings = load_settings(args.settings) if args.settings else None
    result = score_reply(args.reply, customer=args.customer, scenario=args.scenario,
                         settings=settings)
    print(result.explain())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
