"""Schema and coverage checks for the hand-written content datasets.

- ``datasets/bad_replies.jsonl`` — the bad-reply bank (bad reply, what is wrong, model rewrites);
- ``datasets/reply_pairs.jsonl`` — better/worse answers to the same customer message;
- ``datasets/phrases/library.yaml`` — the phrase library by function.

Every problem is reported as ``<file>:<line>: <field>: <message>`` and a test lists all the
problems it found, not just the first. The vocabularies (scenarios, dimensions, patterns,
aspects, functions) are documented in ``datasets/README.md``.
"""

from __future__ import annotations

import collections
import difflib
import functools
import itertools
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

from kit.datasets import datasets_dir

SCENARIOS = ("presale", "logistics_delay", "quality_complaint", "refund", "after_sale",
             "bargain", "complaint")
DIMENSIONS = ("politeness", "empathy", "commitment", "solution", "positivity", "clarity")
PROBLEMS = (*DIMENSIONS, "red_line")

# The fixed vocabulary of failure patterns in the bad-reply bank (documented in the README).
PATTERNS = {
    "bare_refusal": "光秃秃的拒绝：不讲价、不能退，没有原因也没有替代",
    "cold_refusal": "冷硬推脱：没办法、不是我能决定的、随便",
    "blame_courier": "把责任推给快递或其他第三方（驿站、安装商、仓库）",
    "blame_customer": "指责顾客：你没看详情页、你用法不对、你填错了",
    "vague_promise": "模糊承诺：尽快、稍后、过几天、会联系您，没有具体时间",
    "one_word": "一个词或半句话打发顾客",
    "wall_of_text": "一大段文字墙，重点被淹没",
    "jargon": "内部术语：外箱损伤、揽收、干线、T+1、SKU",
    "no_apology": "店铺有责任或顾客受了累，却没有道歉或安抚",
    "off_platform": "引导加微信、QQ、个人号或私下转账（红线）",
    "superlative": "广告法极限用语：全网最低、第一、100%（红线）",
    "go_elsewhere": "赶客推诿：去别家、找快递去、去投诉吧、随便你（红线）",
    "ignores_question": "答非所问，或没有给出顾客要的信息",
    "rule_citing": "拿规定、流程、标准当挡箭牌",
    "rude_address": "不礼貌或轻蔑的口气，严重时是辱骂（红线）",
    "no_next_step": "没有告诉顾客下一步怎么办，也不主动处理",
    "template_paste": "贴模板、套话，与顾客的问题对不上",
}
# A bad reply showing one of these patterns crosses a red line; a red line needs one of
# these patterns or rude_address (an insult).
RED_LINE_PATTERNS = frozenset({"off_platform", "superlative", "go_elsewhere"})
ASPECTS = ("commitment", "empathy", "solution", "positivity", "clarity", "politeness",
           "answers_question", "red_line")
FUNCTIONS = ("greeting", "apology", "relay_information", "soothing", "commitment",
             "decline_with_alternative", "closing", "follow_up")

MIN_BANK, MIN_PER_SCENARIO, MIN_PER_PATTERN = 200, 20, 8
MIN_PAIRS, MIN_SUBTLE, MIN_PER_ASPECT = 120, 50, 10
MIN_PER_FUNCTION = 10
MAX_OPENING_SHARE = 0.10  # no two-character opening in more than 10% of the rewrites
MIN_SUBTLE_SIMILARITY = 0.3  # subtle pairs share most of their wording

BANK_FIELDS = {"id": str, "scenario": str, "customer": str, "bad_reply": str, "problems": list,
               "patterns": list, "rewrites": list, "difficulty": int, "note": str}
PAIR_FIELDS = {"id": str, "scenario": str, "customer": str, "better": str, "worse": str,
               "kind": str, "aspect": str}

# What a model answer (a rewrite, the better reply of a pair, a library phrase) never says:
# the spec's vague times and negative phrases, and red-line wording.
VAGUE_WORDS = ("尽快", "稍后", "等等")
NEGATIVE_WORDS = ("不知道", "没办法", "不归我们管", "这是规定", "爱买不买")
RED_WORDS = ("微信", "VX", "QQ", "个人号", "私下", "全网", "百分百", "最")
RED_FIRST = re.compile(r"第一(?!时间|次|批|件|单|天|张|步)")
NI = re.compile(r"你(?![好们])")
APOLOGY = re.compile("抱歉|对不起|不好意思|歉|添麻烦|久等|失望|疏忽|失误|责任|受委屈")
TIME = re.compile(r"\d+\s*(个)?\s*(分钟|小时|工作日|天|日|周|月)|今天|今晚|明天|后天|当天"
                  r"|本周|周[一二三四五六日]|\d{1,2}点|\d{1,2}[日号]前")
SENTENCE_END = re.compile(r"[。！？!?；;\n]")
MAX_SENTENCES, MAX_SENTENCE_CHARS = 4, 45
# Cues one of which every worse reply of a red_line pair carries.
RED_CUES = ("微信", "QQ", "私下", "第一", "全网", "百分百", "100%", "最", "别买", "去找",
            "去投诉", "脑子")


def _data(name: str) -> Path:
    return datasets_dir() / name


def _where(path: Path, line: int | None, field: str) -> str:
    return f"{path.name}:{line if line is not None else '?'}: {field}"


def read_jsonl(path: Path) -> tuple[list[tuple[int, Any]], list[str]]:
    """Parse a JSON Lines file into (line number, object) pairs and a list of errors."""
    rows, errors = [], []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                errors.append(f"{_where(path, number, '-')}: empty line")
                continue
            try:
                rows.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                errors.append(f"{_where(path, number, '-')}: invalid JSON: {exc.msg}")
    return rows, errors


def _fields(path: Path, number: int, row: Any, spec: dict[str, type]) -> list[str]:
    """Required fields present with the right type, non-empty strings, no unknown fields."""
    if not isinstance(row, dict):
        return [f"{_where(path, number, '-')}: expected a JSON object"]
    errors = []
    for field, kind in spec.items():
        value = row.get(field)
        if field not in row:
            errors.append(f"{_where(path, number, field)}: missing")
        elif not isinstance(value, kind) or isinstance(value, bool):
            errors.append(f"{_where(path, number, field)}: expected {kind.__name__}, "
                          f"got {type(value).__name__}")
        elif isinstance(value, str) and not value.strip():
            errors.append(f"{_where(path, number, field)}: empty text")
    errors += [f"{_where(path, number, field)}: unknown field" for field in row
               if field not in spec]
    return errors


def _labels(where: str, values: list, allowed: Iterable[str]) -> list[str]:
    allowed = set(allowed)
    errors = [f"{where}: must not be empty"] if not values else []
    errors += [f"{where}: unknown value {v!r}" for v in values if v not in allowed]
    if len(set(map(str, values))) != len(values):
        errors.append(f"{where}: repeated value")
    return errors


def model_answer_problems(text: str, scenario: str | None = None) -> list[str]:
    """What keeps ``text`` from being a model answer (empty list when it is one).

    Generic checks: the customer is addressed as 您 or 亲, never 你; no vague time, negative
    phrase or red-line wording; at most four sentences of at most 45 characters. With a
    scenario: presale answers ask a next question; complaint answers apologise; complaint,
    quality, logistics and refund answers name a time.
    """
    problems = []
    if "您" not in text and "亲" not in text:
        problems.append("does not address the customer as 您 or 亲")
    if NI.search(text):
        problems.append("uses 你 instead of 您")
    for word in (*VAGUE_WORDS, *NEGATIVE_WORDS, *RED_WORDS):
        if word.lower() in text.lower():
            problems.append(f"contains {word!r}")
    if RED_FIRST.search(text):
        problems.append("contains 第一 as a superlative")
    sentences = [s for s in SENTENCE_END.split(text) if s.strip()]
    if len(sentences) > MAX_SENTENCES:
        problems.append(f"{len(sentences)} sentences (max {MAX_SENTENCES})")
    long = [s for s in sentences if len(s) > MAX_SENTENCE_CHARS]
    if long:
        problems.append(f"sentence of {len(long[0])} characters (max {MAX_SENTENCE_CHARS})")
    if scenario == "presale" and "？" not in text and "?" not in text:
        problems.append("presale answer asks no next question")
    if scenario in ("complaint", "quality_complaint") and not APOLOGY.search(text):
        problems.append("complaint answer without an apology")
    if scenario in ("complaint", "quality_complaint", "logistics_delay", "refund") \
            and not TIME.search(text):
        problems.append("promise without a time")
    return problems


# ----------------------------------------------------------------------------- the bank
def _checked_rows(path: Path, spec: dict[str, type], prefix: str, errors: list[str]):
    """Yield ``(line, at, row)`` for every well-formed row of a JSONL data file.

    Runs the checks both files share (JSON, fields, id format and uniqueness, scenario) and
    appends their problems to ``errors``; ``at(field)`` formats ``file:line: field``.
    """
    rows, read_errors = read_jsonl(path)
    errors += read_errors
    ids: dict[str, int] = {}
    for number, row in rows:
        problems = _fields(path, number, row, spec)
        errors += problems
        if problems:
            continue
        at = functools.partial(_where, path, number)
        if not re.fullmatch(rf"{prefix}\d{{3,}}", row["id"]):
            errors.append(f"{at('id')}: expected {prefix} followed by digits, got {row['id']!r}")
        if row["id"] in ids:
            errors.append(f"{at('id')}: duplicate of line {ids[row['id']]}")
        ids.setdefault(row["id"], number)
        if row["scenario"] not in SCENARIOS:
            errors.append(f"{at('scenario')}: unknown scenario {row['scenario']!r}")
        yield number, at, row


def check_bank(path: Path) -> list[str]:
    """Every schema, vocabulary and content problem of the bad-reply bank."""
    errors: list[str] = []
    bad_replies: dict[str, int] = {}
    rewrites: dict[str, int] = {}
    for number, at, row in _checked_rows(path, BANK_FIELDS, "BR", errors):
        errors += _labels(at("problems"), row["problems"], PROBLEMS)
        errors += _labels(at("patterns"), row["patterns"], PATTERNS)
        if row["difficulty"] not in (1, 2, 3):
            errors.append(f"{at('difficulty')}: expected 1, 2 or 3, got {row['difficulty']}")
        patterns, bad = set(row["patterns"]), row["bad_reply"]
        if patterns & RED_LINE_PATTERNS and "red_line" not in row["problems"]:
            errors.append(f"{at('problems')}: patterns {sorted(patterns & RED_LINE_PATTERNS)} "
                          "cross a red line but 'red_line' is missing")
        if "red_line" in row["problems"] and not patterns & (RED_LINE_PATTERNS | {"rude_address"}):
            errors.append(f"{at('patterns')}: 'red_line' needs a red-line pattern")
        if "one_word" in patterns and len(bad) > 8:
            errors.append(f"{at('bad_reply')}: one_word reply of {len(bad)} characters")
        if "wall_of_text" in patterns and len(bad) < 100:
            errors.append(f"{at('bad_reply')}: wall_of_text reply of {len(bad)} characters")
        if bad in bad_replies:
            errors.append(f"{at('bad_reply')}: same as line {bad_replies[bad]}")
        bad_replies.setdefault(bad, number)
        if not 1 <= len(row["rewrites"]) <= 3:
            errors.append(f"{at('rewrites')}: expected 1-3 rewrites, got {len(row['rewrites'])}")
        for i, rewrite in enumerate(row["rewrites"]):
            field = f"rewrites[{i}]"
            if not isinstance(rewrite, str) or not rewrite.strip():
                errors.append(f"{at(field)}: expected non-empty text")
                continue
            if rewrite == bad:
                errors.append(f"{at(field)}: same as the bad reply")
            if rewrite in rewrites:
                errors.append(f"{at(field)}: same as a rewrite on line {rewrites[rewrite]}")
            rewrites.setdefault(rewrite, number)
            errors += [f"{at(field)}: {p}" for p in model_answer_problems(rewrite, row["scenario"])]
    return errors


def bank_rows(path: Path) -> list[dict]:
    rows, errors = read_jsonl(path)
    assert not errors, "\n".join(errors)
    return [row for _, row in rows]


# ----------------------------------------------------------------------------- the pairs
def check_pairs(path: Path) -> list[str]:
    """Every schema, vocabulary and content problem of the reply pairs."""
    errors: list[str] = []
    texts: dict[str, int] = {}
    for number, at, row in _checked_rows(path, PAIR_FIELDS, "RP", errors):
        if row["kind"] not in ("clear", "subtle"):
            errors.append(f"{at('kind')}: expected 'clear' or 'subtle', got {row['kind']!r}")
        if row["aspect"] not in ASPECTS:
            errors.append(f"{at('aspect')}: unknown aspect {row['aspect']!r}")
        better, worse = row["better"], row["worse"]
        if better == worse:
            errors.append(f"{at('worse')}: same as better")
        for field in ("better", "worse"):
            if row[field] in texts:
                errors.append(f"{at(field)}: same text as line {texts[row[field]]}")
            texts.setdefault(row[field], number)
        errors += [f"{at('better')}: {p}" for p in model_answer_problems(better, row["scenario"])]
        if row["aspect"] == "red_line" and not any(cue in worse for cue in RED_CUES):
            errors.append(f"{at('worse')}: red_line pair whose worse reply has no red-line cue")
        if row["kind"] == "subtle":
            ratio = difflib.SequenceMatcher(None, better, worse).ratio()
            if ratio < MIN_SUBTLE_SIMILARITY:
                errors.append(f"{at('worse')}: subtle pair shares too little wording "
                              f"({ratio:.2f} < {MIN_SUBTLE_SIMILARITY})")
    return errors


# ----------------------------------------------------------------------------- the library
def _node_lines(root: yaml.Node) -> dict[tuple, int]:
    """Line numbers (1-based) of the library's nodes, keyed by their path."""
    lines: dict[tuple, int] = {}

    def walk(node: yaml.Node, key: tuple) -> None:
        lines[key] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                walk(v, (*key, k.value))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*key, i))

    walk(root, ())
    return lines


def load_library(path: Path) -> tuple[Any, dict[tuple, int]]:
    """Parse the phrase library; return the data and the line number of every node."""
    loader = yaml.SafeLoader(path.read_text(encoding="utf-8"))
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise AssertionError(f"{_where(path, line, '-')}: invalid YAML: {exc}") from exc
    finally:
        loader.dispose()
    return data, (_node_lines(root) if root is not None else {})


def check_library(path: Path) -> list[str]:
    """Every schema and content problem of the phrase library."""
    data, lines = load_library(path)

    def at(key: tuple, field: str) -> str:
        return _where(path, lines.get(key, lines.get(key[:-1])), field)

    if not isinstance(data, dict) or not isinstance(data.get("functions"), dict):
        return [f"{_where(path, 1, 'functions')}: expected a mapping 'functions'"]
    functions = data["functions"]
    errors = [f"{at(('functions',), 'functions')}: missing function {name!r}"
              for name in FUNCTIONS if name not in functions]
    errors += [f"{at(('functions', name), name)}: unknown function" for name in functions
               if name not in FUNCTIONS]
    seen: dict[str, str] = {}
    for name, spec in functions.items():
        key = ("functions", name)
        if not isinstance(spec, dict):
            errors.append(f"{at(key, name)}: expected a mapping")
            continue
        for field in ("label", "description"):
            if not isinstance(spec.get(field), str) or not spec[field].strip():
                errors.append(f"{at((*key, field), f'{name}.{field}')}: expected non-empty text")
        errors += [f"{at((*key, field), f'{name}.{field}')}: unknown field" for field in spec
                   if field not in ("label", "description", "phrases")]
        phrases = spec.get("phrases")
        if not isinstance(phrases, list):
            errors.append(f"{at((*key, 'phrases'), f'{name}.phrases')}: expected a list")
            continue
        if len(phrases) < MIN_PER_FUNCTION:
            errors.append(f"{at((*key, 'phrases'), f'{name}.phrases')}: {len(phrases)} phrases, "
                          f"at least {MIN_PER_FUNCTION} needed")
        for i, phrase in enumerate(phrases):
            pkey = (*key, "phrases", i)
            here = f"{name}.phrases[{i}]"
            if not isinstance(phrase, dict):
                errors.append(f"{at(pkey, here)}: expected a mapping")
                continue
            errors += [f"{at((*pkey, f), f'{here}.{f}')}: unknown field" for f in phrase
                       if f not in ("text", "scenarios", "note")]
            text = phrase.get("text")
            if not isinstance(text, str) or not text.strip():
                errors.append(f"{at((*pkey, 'text'), f'{here}.text')}: expected non-empty text")
            else:
                if text in seen:
                    errors.append(f"{at((*pkey, 'text'), f'{here}.text')}: same as {seen[text]}")
                seen.setdefault(text, here)
                for word in (*VAGUE_WORDS, *NEGATIVE_WORDS, *RED_WORDS):
                    if word.lower() in text.lower():
                        errors.append(f"{at((*pkey, 'text'), f'{here}.text')}: contains {word!r}")
                if NI.search(text) or RED_FIRST.search(text):
                    errors.append(f"{at((*pkey, 'text'), f'{here}.text')}: 你 or 第一 wording")
            scenarios = phrase.get("scenarios")
            where = at((*pkey, "scenarios"), f"{here}.scenarios")
            if not isinstance(scenarios, list):
                errors.append(f"{where}: expected a list of scenario keys or [all]")
            else:
                errors += _labels(where, scenarios, (*SCENARIOS, "all"))
                if "all" in scenarios and len(scenarios) > 1:
                    errors.append(f"{where}: 'all' must stand alone")
            note = phrase.get("note")
            if note is not None and (not isinstance(note, str) or not note.strip()):
                errors.append(f"{at((*pkey, 'note'), f'{here}.note')}: expected non-empty text")
    return errors


# ----------------------------------------------------------------------------- tests
BANK_PATH = _data("bad_replies.jsonl")
PAIRS_PATH = _data("reply_pairs.jsonl")
LIBRARY_PATH = _data("phrases/library.yaml")


@pytest.mark.parametrize(("path", "check"), [(BANK_PATH, check_bank),
                                             (PAIRS_PATH, check_pairs),
                                             (LIBRARY_PATH, check_library)],
                         ids=["bad_replies", "reply_pairs", "library"])
def test_file_is_valid(path, check):
    errors = check(path)
    assert not errors, f"{len(errors)} problem(s):\n" + "\n".join(errors)


def test_bank_coverage():
    rows = bank_rows(BANK_PATH)
    assert len(rows) >= MIN_BANK
    per_scenario = collections.Counter(r["scenario"] for r in rows)
    per_pattern = collections.Counter(p for r in rows for p in r["patterns"])
    per_problem = collections.Counter(p for r in rows for p in r["problems"])
    per_level = collections.Counter(r["difficulty"] for r in rows)
    short = {s: per_scenario[s] for s in SCENARIOS if per_scenario[s] < MIN_PER_SCENARIO}
    assert not short, f"scenarios under {MIN_PER_SCENARIO} items: {short}"
    short = {p: per_pattern[p] for p in PATTERNS if per_pattern[p] < MIN_PER_PATTERN}
    assert not short, f"patterns under {MIN_PER_PATTERN} items: {short}"
    assert all(per_problem[p] > 0 for p in PROBLEMS), per_problem
    # subtle items (polite but vague, apologetic but no plan) are a real share of the bank
    assert all(per_level[level] >= 0.1 * len(rows) for level in (1, 2, 3)), per_level


def test_bank_rewrites_vary():
    rows = bank_rows(BANK_PATH)
    rewrites = [text for r in rows for text in r["rewrites"]]
    openings = collections.Counter(text[:2] for text in rewrites)
    opening, count = openings.most_common(1)[0]
    assert count <= MAX_OPENING_SHARE * len(rewrites), (
        f"{count} of {len(rewrites)} rewrites open with {opening!r}")
    # rewrites in one item are alternatives, not copies with a word changed
    for row in rows:
        for a, b in itertools.pairwise(row["rewrites"]):
            assert difflib.SequenceMatcher(None, a, b).ratio() < 0.8, row["id"]


def test_pairs_coverage():
    rows = bank_rows(PAIRS_PATH)
    assert len(rows) >= MIN_PAIRS
    kinds = collections.Counter(r["kind"] for r in rows)
    assert kinds["subtle"] >= MIN_SUBTLE, kinds
    per_aspect = collections.Counter(r["aspect"] for r in rows)
    short = {a: per_aspect[a] for a in ASPECTS if per_aspect[a] < MIN_PER_ASPECT}
    assert not short, f"aspects under {MIN_PER_ASPECT} pairs: {short}"
    assert {r["scenario"] for r in rows} == set(SCENARIOS)
    # every aspect has both clear and subtle pairs
    both = collections.Counter((r["aspect"], r["kind"]) for r in rows)
    assert all(both[(a, k)] for a in ASPECTS for k in ("clear", "subtle")), both


def test_library_covers_every_scenario():
    data, _ = load_library(LIBRARY_PATH)
    counts = collections.Counter()
    for name in FUNCTIONS:
        for phrase in data["functions"][name]["phrases"]:
            tags = SCENARIOS if phrase["scenarios"] == ["all"] else phrase["scenarios"]
            counts.update(tags)
    short = {s: counts[s] for s in SCENARIOS if counts[s] < 15}
    assert not short, f"scenarios with fewer than 15 phrases: {short}"


def test_pattern_vocabulary_is_documented():
    text = _data("README.md").read_text(encoding="utf-8")
    missing = [key for key in (*PATTERNS, *ASPECTS, *FUNCTIONS) if f"`{key}`" not in text]
    assert not missing, f"not documented in datasets/README.md: {missing}"


# ----------------------------------------------------------------------------- the checkers
SAME = "您好，退款已提交，今天18点前到账。"
GOOD_BANK_ROW = {"id": "BR001", "scenario": "refund", "customer": "退款什么时候到？",
                 "bad_reply": "会尽快的", "problems": ["commitment"],
                 "patterns": ["vague_promise"],
                 "rewrites": ["让您久等了，退款今天18点前原路退回，请您留意。"],
                 "difficulty": 1, "note": "没有时间。"}


def _write_jsonl(tmp_path: Path, name: str, rows: list[Any]) -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def test_bank_checker_accepts_a_good_row(tmp_path):
    assert check_bank(_write_jsonl(tmp_path, "bad_replies.jsonl", [GOOD_BANK_ROW])) == []


@pytest.mark.parametrize(("change", "expected"), [
    ({"scenario": "shipping"}, "bad_replies.jsonl:2: scenario: unknown scenario"),
    ({"problems": ["tone"]}, "bad_replies.jsonl:2: problems: unknown value 'tone'"),
    ({"patterns": []}, "bad_replies.jsonl:2: patterns: must not be empty"),
    ({"difficulty": 4}, "bad_replies.jsonl:2: difficulty: expected 1, 2 or 3"),
    ({"id": "BR001"}, "bad_replies.jsonl:2: id: duplicate of line 1"),
    ({"bad_reply": SAME, "rewrites": [SAME]}, "bad_replies.jsonl:2: rewrites[0]: same as the bad"),
    ({"rewrites": ["你好，我们会尽快处理"]}, "bad_replies.jsonl:2: rewrites[0]: contains '尽快'"),
    ({"patterns": ["superlative"]}, "bad_replies.jsonl:2: problems: patterns ['superlative']"),
    ({"note": "  "}, "bad_replies.jsonl:2: note: empty text"),
    ({"extra": 1}, "bad_replies.jsonl:2: extra: unknown field"),
])
def test_bank_checker_names_file_line_and_field(tmp_path, change, expected):
    second = {**GOOD_BANK_ROW, "id": "BR002", "bad_reply": "稍后退", "rewrites":
              ["退款已经提交，2小时内到账，请您留意。"], **change}
    errors = check_bank(_write_jsonl(tmp_path, "bad_replies.jsonl", [GOOD_BANK_ROW, second]))
    assert any(e.startswith(expected) for e in errors), errors


def test_pair_checker_names_file_line_and_field(tmp_path):
    row = {"id": "RP001", "scenario": "presale", "customer": "有货吗？",
           "better": "您好，有现货，今天下单今天发。您要哪个颜色？", "worse": "有",
           "kind": "obvious", "aspect": "clarity"}
    broken = tmp_path / "reply_pairs.jsonl"
    broken.write_text(json.dumps(row, ensure_ascii=False) + "\n{not json\n", encoding="utf-8")
    errors = check_pairs(broken)
    assert any(e.startswith("reply_pairs.jsonl:1: kind: expected 'clear' or 'subtle'")
               for e in errors), errors
    assert any(e.startswith("reply_pairs.jsonl:2: -: invalid JSON") for e in errors), errors


def test_library_checker_names_file_line_and_field(tmp_path):
    text = LIBRARY_PATH.read_text(encoding="utf-8")
    text = text.replace("        scenarios: [bargain]\n", "        scenarios: [shopping]\n", 1)
    path = tmp_path / "library.yaml"
    path.write_text(text, encoding="utf-8")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "[shopping]" in s)
    errors = check_library(path)
    assert any(e.startswith(f"library.yaml:{line}: ") and "unknown value 'shopping'" in e
               for e in errors), errors


def test_model_answer_checks():
    assert model_answer_problems("让您久等了，包裹今天18点前送到，请您留意。",
                                 "logistics_delay") == []
    assert "uses 你 instead of 您" in model_answer_problems("你好，你的包裹到了，您留意")
    assert "promise without a time" in model_answer_problems("抱歉，我们马上处理您的问题。",
                                                             "complaint")
    assert "presale answer asks no next question" in model_answer_problems(
        "您好，这款有现货。", "presale")
    assert "contains 第一 as a superlative" in model_answer_problems("您好，这款销量第一。")
    assert model_answer_problems("您好，第一时间为您处理，今天18点前回复。") == []


def test_readme_documents_every_data_file():
    """Every file in datasets/ is named in datasets/README.md, itself or by its folder."""
    root = _data("README.md").parent
    readme = _data("README.md").read_text(encoding="utf-8")
    undocumented = [
        str(path.relative_to(root)) for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.startswith("README")
        and str(path.relative_to(root)) not in readme
        and f"{path.parent.relative_to(root)}/" not in readme
    ]
    assert not undocumented, f"datasets/README.md does not mention {undocumented}"
