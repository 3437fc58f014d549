"""Interactive drills for JupyterLab (ipywidgets 8): reply rewriter, dialogue explorer, quiz,
role-play.

Each drill is an :class:`ipywidgets.VBox`, so the last line of a cell displays it::

    import kit.widgets
    kit.widgets.ReplyRewriter(scenario="bargain")      # rewrite bad replies, get scored
    kit.widgets.DialogueExplorer(channel="douyin")     # read sample dialogues as a chat
    kit.widgets.Quiz(chapter="00")                     # the chapter's quiz
    kit.widgets.RolePlay("angry_broken_item")         # chat with a scripted customer

Every constructor reads the course data (``datasets/``) by default and also takes a path or
a ready DataFrame / list. Everything is also driven from Python — set a widget's ``value``,
call a button's ``click()`` — which is how the tests work and why nothing here ever waits for
input: under nbgrader (``NBGRADER_EXECUTION`` set) and nbval the drills build quickly and
headless; under nbgrader the explorer skips drawing its chart (see :func:`headless`).

Safety: every text that reaches HTML — the trainee's own text, dialogue messages, data-file
texts, notes — is escaped with :func:`html.escape`. Highlights (rubric evidence, sentiment
cues, quiz keywords) slice the *original* text at the span offsets and escape each piece
(:func:`highlight`); no raw text is ever inserted.

Files the learner's drills write (never inside ``datasets/``): ``my_rewrites.csv`` (the
rewriter's attempt history, :meth:`ReplyRewriter.export_csv`) and ``my_cases.jsonl`` (the
personal case library, :func:`save_case`), both in the working folder by default. A class's
rewriter exports are ranked for the monthly phrasing contest by :func:`rank_contest`.

Stable CSS classes (``add_class``) for browser tests and styling
----------------------------------------------------------------
=====================================  ===================================================
``kit-rewriter``                       the ReplyRewriter root
``kit-rewriter-scenario``              scenario filter (Dropdown)
``kit-rewriter-difficulty``            difficulty filter (Dropdown)
``kit-rewriter-position``              「第 i / n 题」 (HTML)
``kit-rewriter-item``                  customer message and bad reply (HTML)
``kit-rewriter-input``                 the trainee's rewrite (Textarea)
``kit-rewriter-score``                 「评分」 (Button)
``kit-rewriter-reference-toggle``      「参考答案」 (ToggleButton; disabled before an attempt)
``kit-rewriter-prev`` / ``-next``      「上一题」/「下一题」 (Buttons; they stop at the ends)
``kit-rewriter-result``                total, pass/fail, dimension bars, evidence, hints (HTML)
``kit-rewriter-reference``             model rewrites (HTML; empty until shown)
``kit-rewriter-progress``              attempts and passes so far (HTML)
``kit-rewriter-export``                「导出记录」 (Button); ``kit-rewriter-status`` its message
``kit-explorer``                       the DialogueExplorer root
``kit-explorer-scenario/-channel/      filters (Dropdowns)
-agent/-csat``
``kit-explorer-dialogue``              dialogue chooser (Dropdown)
``kit-explorer-count``                 how many dialogues match (HTML)
``kit-explorer-chat``                  the chat (HTML)
``kit-explorer-mood``                  the customer's mood, message by message (HTML)
``kit-explorer-chart``                 mood trajectory chart (Image, PNG)
``kit-explorer-metrics``               the dialogue's metrics (HTML)
``kit-explorer-note``                  learner's note (Textarea)
``kit-explorer-save``                  「存入案例库」 (Button); ``kit-explorer-save-status``
``kit-quiz``                           the Quiz root; ``kit-quiz-title``, ``kit-quiz-score``
``kit-quiz-question``                  one question's box, also ``kit-quiz-q-<id>``
``kit-quiz-choice``                    single choice (RadioButtons)
``kit-quiz-option``                    one option of a multiple choice (Checkbox)
``kit-quiz-answer``                    short answer (Textarea)
``kit-quiz-submit``                    「提交」 (Button)
``kit-quiz-feedback``                  verdict, feedback, explanation (HTML)
``kit-roleplay``                       the RolePlay root
``kit-roleplay-persona``               persona chooser (Dropdown)
``kit-roleplay-briefing``              what the trainee knows before the chat (HTML)
``kit-roleplay-chat``                  the chat (HTML)
``kit-roleplay-mood``                  the customer's current mood (HTML)
``kit-roleplay-input``                 the trainee's reply (Textarea)
``kit-roleplay-send``                  「发送」 (Button; disabled once the chat has ended)
``kit-roleplay-restart``               「重新开始」 (Button)
``kit-roleplay-result``                outcome, score vs pass mark, moods, times (HTML)
``kit-roleplay-chart``                 mood and response-time chart at the end (Image, PNG)
=====================================  ===================================================

Inside the HTML: ``kit-mark`` with ``kit-mark-plus`` / ``-minus`` / ``-red_line`` (rubric
evidence), ``-pos`` / ``-neg`` / ``-mod`` (sentiment cues), ``-accept`` / ``-reject`` (quiz
keywords); ``kit-total``, ``kit-verdict-pass`` / ``kit-verdict-fail``, ``kit-dimension``,
``kit-hints``, ``kit-rewrite``; ``kit-msg`` with ``kit-msg-customer`` / ``-agent`` /
``-bot`` / ``-system``, ``kit-gap``, ``kit-rt`` (a round's response time) and ``kit-slow``
(over 180 s), ``kit-turning``, ``kit-mood-chip``, ``kit-correct`` / ``kit-wrong``,
``kit-roleplay-outcome``.

>>> html_text = highlight("亲，稍后<b>回复", [Mark(2, 4, "minus", "扣分")])
>>> html_text
'亲，<mark class="kit-mark kit-mark-minus" style="background:rgba(229,57,53,.28);\
color:inherit;border-radius:3px;padding:0 1px" title="扣分">稍后</mark>&lt;b&gt;回复'
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import ipywidgets as widgets

from kit.datasets import REPO_ROOT, dataset_path, datasets_dir, read_yaml
from kit.labels import CHANNEL_LABELS, ROLE_LABELS, SCENARIO_LABELS
from kit.quiz import AnswerResult, QuizSet, check_answer, load_quiz
from kit.rubric import DIMENSIONS, ReplyScore, Settings, default_settings, load_settings

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CASE_LIBRARY",
    "HISTORY_COLUMNS",
    "HISTORY_FILE",
    "BankError",
    "DialogueExplorer",
    "Mark",
    "Quiz",
    "ReplyRewriter",
    "RolePlay",
    "SavedCase",
    "headless",
    "highlight",
    "load_bank",
    "load_history",
    "rank_contest",
    "save_case",
    "score_html",
    "show_dialogue",
]

TIMEZONE = "Asia/Shanghai"
SLOW_REPLY_S = 180.0
GAP_NOTE_S = 60.0
CASE_LIBRARY = "my_cases.jsonl"
HISTORY_FILE = "my_rewrites.csv"
BANK_FILE = "bad_replies.jsonl"
DIALOGUES_FILE = "dialogues.jsonl"
HISTORY_COLUMNS = ("trainee", "item_id", "scenario", "difficulty", "attempt", "timestamp",
                   "text", "total", "passed", "pass_mark", "red_lines", *DIMENSIONS)

DIFFICULTY_LABELS = {"1": "入门", "2": "进阶", "3": "挑战"}
# Short names of the bank's failure patterns (the vocabulary is in datasets/README.md).
PATTERN_LABELS = {
    "bare_refusal": "生硬拒绝", "cold_refusal": "冷硬推脱", "blame_courier": "推给快递或第三方",
    "blame_customer": "指责顾客", "vague_promise": "模糊承诺", "one_word": "一句话打发",
    "wall_of_text": "大段文字", "jargon": "内部术语", "no_apology": "该道歉没道歉",
    "off_platform": "引导到平台外（红线）", "superlative": "极限用语（红线）",
    "go_elsewhere": "赶客推诿（红线）", "ignores_question": "答非所问",
    "rule_citing": "拿规定当挡箭牌", "rude_address": "口气不礼貌", "no_next_step": "没有下一步",
    "template_paste": "套模板",
}
ALL = ""  # the "全部" choice of every filter

# --------------------------------------------------------------------------- styles
# Colours are translucent or JupyterLab theme variables, so they read on light and dark themes.
_TEXT = "font-family:var(--jp-ui-font-family,sans-serif);color:var(--jp-ui-font-color1,#222);" \
        "line-height:1.6"
_CARD = "box-sizing:border-box;border:1px solid var(--jp-border-color2,#ddd);" \
        "border-radius:6px;padding:8px 12px;margin:4px 0;background:var(--jp-layout-color1,#fff)"
_MUTED = "color:var(--jp-ui-font-color2,#666);font-size:0.85em"
_PRE = "white-space:pre-wrap;word-break:break-word"
_GOOD, _FAIR, _BAD = "#2e9e44", "#e0a100", "#e53935"
_MARK_STYLE = {
    "plus": "background:rgba(46,160,67,.28)",
    "minus": "background:rgba(229,57,53,.28)",
    "red_line": "background:rgba(229,57,53,.55);text-decoration:underline wavy",
    "pos": "background:rgba(46,160,67,.28)",
    "neg": "background:rgba(229,57,53,.28)",
    "mod": "border-bottom:2px dotted var(--jp-ui-font-color2,#888)",
    "accept": "background:rgba(46,160,67,.28)",
    "reject": "background:rgba(229,57,53,.28)",
}
_MARK_PRIORITY = {kind: rank for rank, kind in enumerate(
    ("mod", "accept", "plus", "pos", "reject", "minus", "neg", "red_line"))}
_BUBBLE = {
    "customer": ("flex-start", "background:var(--jp-layout-color2,#eef0f2)"),
    "agent": ("flex-end", "background:rgba(25,118,210,.16)"),
    "bot": ("center", "border:1px dashed var(--jp-border-color2,#ccc);"
                      "color:var(--jp-ui-font-color2,#666);font-size:0.9em"),
    "system": ("center", "color:var(--jp-ui-font-color2,#666);font-size:0.85em"),
}


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _attrs(cls: str, style: str) -> str:
    return (f' class="{cls}"' if cls else "") + (f' style="{style}"' if style else "")


def _div(content: str, cls: str = "", style: str = "") -> str:
    return f"<div{_attrs(cls, style)}>{content}</div>"


def _notice(text: str) -> str:
    return _div(_esc(text), "kit-notice", _TEXT + ";" + _MUTED)


def headless() -> bool:
    """True when notebooks run without a person watching: under nbgrader
    (``NBGRADER_EXECUTION`` is set during autograde and validate). Drills then skip charts.

    >>> import os
    >>> os.environ.pop("NBGRADER_EXECUTION", None) and None
    >>> headless()
    False
    """
    return bool(os.environ.get("NBGRADER_EXECUTION"))


class Mark(NamedTuple):
    """A piece of a text to highlight: ``text[start:end]``, its kind (see ``_MARK_STYLE``)
    and a tooltip."""

    start: int
    end: int
    kind: str
    title: str = ""


def highlight(text: str, marks: Iterable[Mark]) -> str:
    """Escape ``text`` for HTML, wrapping the marked pieces in ``<mark>``.

    The text is cut at every mark boundary and each piece escaped on its own, so offsets
    always refer to the original text. Where marks overlap the strongest kind wins (red line
    over minus over plus …) and the tooltips are joined; neighbouring pieces of one kind are
    merged. Marks outside the text are clipped, empty ones ignored.

    >>> out = highlight("<i>好</i>评", [Mark(3, 4, "pos"), Mark(0, 99, "mod")])
    >>> out.count("<mark"), "&lt;i&gt;" in out, "<i>" in out
    (3, True, False)
    """
    n = len(text)
    valid = [Mark(max(0, m.start), min(n, m.end), m.kind, m.title) for m in marks
             if min(n, m.end) > max(0, m.start)]
    if not valid:
        return _esc(text)
    cuts = sorted({0, n, *(m.start for m in valid), *(m.end for m in valid)})
    pieces: list[list[Any]] = []  # [kind or None, titles, text]
    for a, b in pairwise(cuts):
        active = [m for m in valid if m.start <= a and m.end >= b]
        kind = max((m.kind for m in active), key=lambda k: _MARK_PRIORITY.get(k, 0),
                   default=None)
        titles = [m.title for m in active if m.title]
        if pieces and pieces[-1][0] == kind:
            pieces[-1][1] += titles
            pieces[-1][2] += text[a:b]
        else:
            pieces.append([kind, titles, text[a:b]])
    out = []
    for kind, titles, piece in pieces:
        if kind is None:
            out.append(_esc(piece))
            continue
        style = _MARK_STYLE.get(kind, _MARK_STYLE["mod"]) + \
            ";color:inherit;border-radius:3px;padding:0 1px"
        title = "；".join(dict.fromkeys(titles))
        out.append(f'<mark class="kit-mark kit-mark-{_esc(kind)}" style="{style}" '
                   f'title="{_esc(title)}">{_esc(piece)}</mark>')
    return "".join(out)


def _label(mapping: Mapping[str, str], key: Any) -> str:
    return mapping.get(str(key), str(key))


def _options(values: Iterable[Any], labels: Mapping[str, str]) -> list[tuple[str, str]]:
    keys = sorted({str(v) for v in values if _present(v)})
    return [("全部", ALL)] + [(_label(labels, k), k) for k in keys]


def _present(value: Any) -> bool:
    """False for None, NaN and pandas NA."""
    if value is None:
        return False
    try:
        return not bool(value != value)
    except (TypeError, ValueError):  # pandas NA refuses bool()
        return False


def _pick(dropdown: widgets.Dropdown, value: Any, what: str) -> None:
    if value is None:
        return
    keys = [v for _, v in dropdown.options]
    if str(value) not in keys:
        raise ValueError(f"{what} {value!r} is not in the data; choose from {keys[1:]}")
    dropdown.value = str(value)


def _duration(seconds: float) -> str:
    """Seconds as Chinese text: 45秒, 3分20秒, 1小时5分.

    >>> _duration(45), _duration(200), _duration(3900)
    ('45秒', '3分20秒', '1小时5分')
    """
    s = round(seconds)
    if s < 60:
        return f"{s}秒"
    if s < 3600:
        return f"{s // 60}分{s % 60}秒" if s % 60 else f"{s // 60}分钟"
    hours, minutes = divmod(s // 60, 60)
    return f"{hours}小时{minutes}分" if minutes else f"{hours}小时"


def _learner_file(path: str | os.PathLike[str]) -> Path:
    """A file the learner's drills write: refuse the course data folder."""
    target = Path(path).expanduser().resolve()
    for data in {datasets_dir().resolve(), (REPO_ROOT / "datasets").resolve()}:
        if target == data or data in target.parents:
            raise ValueError(f"{target} is inside the course data folder {data}; keep your own "
                             f"files in your working folder (for example {Path(path).name})")
    return target


def _default_trainee() -> str:
    return os.environ.get("JUPYTERHUB_USER") or os.environ.get("USER") \
        or os.environ.get("USERNAME") or ""


# --------------------------------------------------------------------------- the bank
_BANK_REQUIRED = ("id", "scenario", "customer", "bad_reply", "rewrites")
_BANK_LISTS = ("rewrites", "problems", "patterns")


class BankError(ValueError):
    """The bad-reply bank is invalid; the message names the file, line and field."""


def _bank_item(obj: Any, where: str) -> dict[str, Any]:
    if not isinstance(obj, Mapping):
        raise BankError(f"{where}: an item must be an object, got {type(obj).__name__}")
    item = dict(obj)
    for name in _BANK_REQUIRED:
        if name not in item or not _present(item[name]):
            raise BankError(f"{where} field {name!r}: missing")
    for name in ("id", "scenario", "customer", "bad_reply"):
        if not isinstance(item[name], str) or not item[name].strip():
            raise BankError(f"{where} field {name!r}: must be non-empty text, "
                            f"got {item[name]!r}")
    for name in _BANK_LISTS:
        value = item.get(name, [])
        if not _present(value):
            value = []
        if isinstance(value, str) or not isinstance(value, Iterable) \
                or not all(isinstance(v, str) and v.strip() for v in value):
            raise BankError(f"{where} field {name!r}: must be a list of non-empty texts")
        item[name] = list(value)
    if not item["rewrites"]:
        raise BankError(f"{where} field 'rewrites': needs at least one model rewrite")
    difficulty = item.get("difficulty")
    item["difficulty"] = str(difficulty) if _present(difficulty) else ""
    note = item.get("note")
    item["note"] = note if isinstance(note, str) else ""
    return item


def load_bank(source: Any = None) -> list[dict[str, Any]]:
    """Read the bad-reply bank and check every item.

    Args:
        source: None for ``datasets/bad_replies.jsonl``; a JSONL path; a DataFrame or a
            list of dicts with the bank's fields (``id, scenario, customer, bad_reply,
            rewrites``; optional ``problems, patterns, difficulty, note``).

    Returns:
        The items in order, each a dict; ``difficulty`` as text ("" when absent).

    Raises:
        BankError: a bad line or item, naming the file, line (or item number) and field; a
            repeated id.

    >>> load_bank([{"id": "b1", "scenario": "bargain", "customer": "能便宜吗",
    ...             "bad_reply": "不能", "rewrites": ["亲，这款已是活动价啦"]}])[0]["difficulty"]
    ''
    """
    if source is None:
        source = dataset_path(BANK_FILE)
    items: list[dict[str, Any]] = []
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        with open(name, encoding="utf-8-sig") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise BankError(f"{name}:{number}: invalid JSON: {exc.msg}") from None
                items.append(_bank_item(obj, f"{name}:{number}"))
        origin = name
    else:
        records = source.to_dict("records") if hasattr(source, "to_dict") else list(source)
        items = [_bank_item(obj, f"bank item {i + 1}") for i, obj in enumerate(records)]
        origin = "bank"
    seen: set[str] = set()
    for item in items:
        if item["id"] in seen:
            raise BankError(f"{origin}: item id {item['id']!r} appears twice")
        seen.add(item["id"])
    return items


# --------------------------------------------------------------------------- rubric rendering
@cache
def _red_line_labels() -> dict[str, str]:
    categories = read_yaml("phrases/red_lines.yaml").get("categories", {})
    return {key: spec.get("label", key) for key, spec in categories.items()}


def _bar(score: float) -> str:
    colour = _GOOD if score >= 0.8 else _FAIR if score >= 0.6 else _BAD
    return (f'<div style="display:inline-block;vertical-align:middle;width:140px;height:10px;'
            f'border-radius:5px;background:var(--jp-layout-color3,#ddd)">'
            f'<div style="width:{100 * score:.0f}%;height:100%;border-radius:5px;'
            f'background:{colour}"></div></div>')


def _evidence_marks(score: ReplyScore, labels: Mapping[str, str]) -> list[Mark]:
    signs = {h.rule_id: h.sign for h in score.hits}
    marks = []
    for key, dim in score.dimensions.items():
        for span in dim.evidence:
            plus = signs.get(span.rule_id) == "+"
            marks.append(Mark(span.start, span.end, "plus" if plus else "minus",
                              f"{labels.get(key, key)}{'加分' if plus else '扣分'}"))
    red = _red_line_labels()
    marks += [Mark(r.span.start, r.span.end, "red_line", f"红线：{red.get(r.category, r.category)}")
              for r in score.red_lines]
    return marks


def score_html(score: ReplyScore, reply: str, labels: Mapping[str, str]) -> str:
    """The rubric's verdict as HTML: total and pass/fail, red lines, a bar per dimension,
    the reply with its evidence highlighted, and the hints (all text escaped)."""
    verdict = ('<span class="kit-verdict kit-verdict-pass" style="color:#2e9e44;'
               'font-weight:bold">通过</span>' if score.passed else
               '<span class="kit-verdict kit-verdict-fail" style="color:#e53935;'
               'font-weight:bold">未通过</span>')
    parts = [_div(f'总分 <b style="font-size:1.3em">{score.total}</b>/100　{verdict}'
                  f'<span style="{_MUTED}">（及格线 {score.pass_mark}）</span>', "kit-total")]
    red = _red_line_labels()
    for line in score.red_lines:
        parts.append(_div(f"红线：{_esc(red.get(line.category, line.category))}"
                          f"「{_esc(line.span.text)}」→ 总分记 0", "kit-red-line",
                          f"color:{_BAD};font-weight:bold"))
    rows = []
    for key, dim in score.dimensions.items():
        rows.append(f'<tr class="kit-dimension kit-dimension-{key}">'
                    f'<td style="padding:1px 8px 1px 0">{_esc(labels.get(key, key))}</td>'
                    f'<td>{_bar(dim.score)}</td>'
                    f'<td style="padding:0 8px">{dim.score:.2f}</td></tr>')
    parts.append(f'<table style="border-collapse:collapse;margin:4px 0">{"".join(rows)}</table>')
    parts.append(_div("你的回复（<span style=\"{}\">绿色</span>＝加分依据，"
                      "<span style=\"{}\">红色</span>＝扣分依据）：".format(
                          _MARK_STYLE["plus"], _MARK_STYLE["minus"]), "", _MUTED))
    parts.append(_div(highlight(reply, _evidence_marks(score, labels)), "kit-reply",
                      _CARD + ";" + _PRE))
    hints = [(labels.get(k, k), d.hint) for k, d in score.dimensions.items() if d.hint]
    hints += [("红线", h.hint) for h in score.hits if h.dimension == "red_line" and h.hint]
    if hints:
        items = "".join(f"<li><b>{_esc(name)}</b>：{_esc(hint)}</li>" for name, hint in hints)
        parts.append(_div(f"改进提示：<ul style=\"margin:2px 0\">{items}</ul>", "kit-hints"))
    return _div("".join(parts), "kit-score", _TEXT)


# --------------------------------------------------------------------------- ReplyRewriter
class ReplyRewriter(widgets.VBox):
    """Drill over the bad-reply bank: rewrite the bad reply, get it scored and explained.

    Args:
        bank: the bank (see :func:`load_bank`; default ``datasets/bad_replies.jsonl``).
        scenario: start filtered to this scenario key.
        difficulty: start filtered to this difficulty.
        trainee: the name written into the history (default: the login name).
        settings: rubric settings, or the path of an instructor's override file.

    Attributes:
        history: every attempt as a DataFrame (:data:`HISTORY_COLUMNS`).
        items: the items that pass the filters; ``current`` is the one shown.
        last_score: the :class:`kit.rubric.ReplyScore` of the last attempt (None before).

    >>> bank = [{"id": "b1", "scenario": "logistics_delay", "customer": "快递怎么还没到？？",
    ...          "bad_reply": "等着吧", "rewrites": ["非常抱歉让您久等了！我已为您催促快递，"
    ...          "今天18点前给您回复。"]}]
    >>> drill = ReplyRewriter(bank, trainee="demo")
    >>> drill.input.value = "亲，稍后给你回复"
    >>> drill.score_button.click()
    >>> drill.last_score.passed, "kit-mark-minus" in drill.result.value
    (False, True)
    >>> drill.history[["item_id", "attempt", "passed"]].values.tolist()
    [['b1', 1, False]]
    """

    def __init__(self, bank: Any = None, *, scenario: str | None = None,
                 difficulty: str | int | None = None, trainee: str | None = None,
                 settings: Settings | str | os.PathLike[str] | None = None) -> None:
        super().__init__(layout=widgets.Layout(width="100%"))
        self.add_class("kit-rewriter")
        self._bank = load_bank(bank)
        if not self._bank:
            raise ValueError("the bad-reply bank is empty")
        self._settings = settings if isinstance(settings, Settings) else (
            load_settings(settings) if settings is not None else default_settings())
        self._labels = dict(self._settings.labels)
        self.trainee = _default_trainee() if trainee is None else trainee
        self.items: list[dict[str, Any]] = []
        self.position = 0
        self.last_score: ReplyScore | None = None
        self._records: list[dict[str, Any]] = []
        self._drafts: dict[str, str] = {}
        self._results: dict[str, str] = {}

        self.scenario_filter = widgets.Dropdown(
            options=_options((i["scenario"] for i in self._bank), SCENARIO_LABELS),
            description="场景", layout=widgets.Layout(width="220px"))
        self.difficulty_filter = widgets.Dropdown(
            options=_options((i["difficulty"] for i in self._bank), DIFFICULTY_LABELS),
            description="难度", layout=widgets.Layout(width="200px"))
        self.position_label = widgets.HTML()
        self.item_view = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.input = widgets.Textarea(placeholder="在这里写出你的改写，然后点「评分」",
                                      layout=widgets.Layout(width="100%", height="7em"))
        self.score_button = widgets.Button(description="评分", button_style="primary",
                                           icon="check")
        self.reference_toggle = widgets.ToggleButton(description="参考答案", icon="eye",
                                                     disabled=True,
                                                     tooltip="先提交一次改写，再看参考答案")
        self.prev_button = widgets.Button(description="上一题", icon="arrow-left")
        self.next_button = widgets.Button(description="下一题", icon="arrow-right")
        self.result = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.reference = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.progress = widgets.HTML()
        self.export_button = widgets.Button(description="导出记录", icon="download",
                                            tooltip=f"把提交记录保存为 {HISTORY_FILE}")
        self.status = widgets.HTML()
        for w, cls in ((self.scenario_filter, "scenario"), (self.difficulty_filter, "difficulty"),
                       (self.position_label, "position"), (self.item_view, "item"),
                       (self.input, "input"), (self.score_button, "score"),
                       (self.reference_toggle, "reference-toggle"),
                       (self.prev_button, "prev"), (self.next_button, "next"),
                       (self.result, "result"), (self.reference, "reference"),
                       (self.progress, "progress"), (self.export_button, "export"),
                       (self.status, "status")):
            w.add_class(f"kit-rewriter-{cls}")
        _pick(self.scenario_filter, scenario, "scenario")
        _pick(self.difficulty_filter, difficulty, "difficulty")
        self.children = [
            widgets.HTML(_div("<b>差评回复改写练习</b>　读顾客的话和一条不合格的回复，"
                              "写出你的改写，点「评分」看得分和依据。", "", _TEXT)),
            widgets.HBox([self.scenario_filter, self.difficulty_filter, self.position_label]),
            self.item_view, self.input,
            widgets.HBox([self.score_button, self.reference_toggle, self.prev_button,
                          self.next_button]),
            self.result, self.reference,
            widgets.HBox([self.progress, self.export_button, self.status]),
        ]
        self.scenario_filter.observe(self._on_filter, names="value")
        self.difficulty_filter.observe(self._on_filter, names="value")
        self.score_button.on_click(self._on_score)
        self.prev_button.on_click(lambda _: self.previous())
        self.next_button.on_click(lambda _: self.next())
        self.reference_toggle.observe(self._on_reference, names="value")
        self.export_button.on_click(self._on_export)
        self._on_filter()

    # ---- navigation
    @property
    def current(self) -> dict[str, Any] | None:
        """The item shown (None when no item passes the filters)."""
        return self.items[self.position] if self.items else None

    def _on_filter(self, _: Any = None) -> None:
        self._keep_draft()
        scenario, difficulty = self.scenario_filter.value, self.difficulty_filter.value
        self.items = [i for i in self._bank
                      if scenario in (ALL, i["scenario"]) and difficulty in (ALL, i["difficulty"])]
        self.position = 0
        self._show()

    def next(self) -> None:
        """Go to the next item (stays on the last one)."""
        self._go(self.position + 1)

    def previous(self) -> None:
        """Go to the previous item (stays on the first one)."""
        self._go(self.position - 1)

    def _go(self, position: int) -> None:
        if self.items and 0 <= position < len(self.items) and position != self.position:
            self._keep_draft()
            self.position = position
            self._show()

    def _keep_draft(self) -> None:
        if self.current is not None:
            self._drafts[self.current["id"]] = self.input.value

    def _attempts(self, item_id: str) -> list[dict[str, Any]]:
        return [r for r in self._records if r["item_id"] == item_id]

    def _show(self) -> None:
        item = self.current
        self.reference_toggle.value = False
        self.reference.value = ""
        empty = item is None
        for w in (self.input, self.score_button):
            w.disabled = empty
        self.prev_button.disabled = empty or self.position == 0
        self.next_button.disabled = empty or self.position == len(self.items) - 1
        if empty:
            self.position_label.value = _notice("没有符合条件的题目")
            self.item_view.value = _notice("没有符合条件的题目，请换一个场景或难度。")
            self.input.value = ""
            self.result.value = ""
            self.reference_toggle.disabled = True
        else:
            self.position_label.value = _div(f"第 {self.position + 1} / {len(self.items)} 题",
                                             "", _TEXT)
            self.item_view.value = self._item_html(item)
            self.input.value = self._drafts.get(item["id"], "")
            self.result.value = self._results.get(item["id"], "")
            self.reference_toggle.disabled = not self._attempts(item["id"])
        self._show_progress()

    def _item_html(self, item: Mapping[str, Any]) -> str:
        tags = [_label(SCENARIO_LABELS, item["scenario"])]
        if item["difficulty"]:
            tags.append(f"难度：{_label(DIFFICULTY_LABELS, item['difficulty'])}")
        return _div(
            _div(f"题号 {_esc(item['id'])} · {_esc(' · '.join(tags))}", "", _MUTED)
            + _div("<b>顾客：</b>" + _esc(item["customer"]), "kit-rewriter-customer",
                   _CARD + ";" + _PRE)
            + _div("<b>不合格的回复：</b>" + _esc(item["bad_reply"]), "kit-rewriter-bad",
                   _CARD + f";{_PRE};border-left:4px solid {_BAD}"),
            "", _TEXT)

    # ---- scoring
    def submit(self, text: str | None = None) -> ReplyScore | None:
        """Score ``text`` (or the textarea's content) as a click on 「评分」 would."""
        if text is not None:
            self.input.value = text
        before = len(self._records)
        self.score_button.click()
        return self.last_score if len(self._records) > before else None

    def _on_score(self, _: Any = None) -> None:
        from kit.rubric import score_reply

        item, text = self.current, self.input.value
        if item is None:
            return
        if not text.strip():
            self.result.value = _notice("请先在上面写下你的改写，再点「评分」。")
            return
        scenario = item["scenario"] if item["scenario"] in self._settings.scenarios else None
        score = score_reply(text, customer=item["customer"], scenario=scenario,
                            settings=self._settings)
        before = self._attempts(item["id"])
        self._records.append({
            "trainee": self.trainee, "item_id": item["id"], "scenario": item["scenario"],
            "difficulty": item["difficulty"], "attempt": len(before) + 1,
            "timestamp": datetime.now(timezone.utc), "text": text, "total": score.total,
            "passed": score.passed, "pass_mark": score.pass_mark,
            "red_lines": ",".join(r.category for r in score.red_lines),
            **{d: score.dimensions[d].score for d in DIMENSIONS},
        })
        self.last_score = score
        header = f"第 {len(before) + 1} 次提交"
        if before:
            change = score.total - before[-1]["total"]
            header += f"（上次 {before[-1]['total']} 分，这次{'+' if change >= 0 else ''}{change}）"
        result = _div(_esc(header), "kit-attempt", _MUTED) + score_html(score, text, self._labels)
        self._results[item["id"]] = result
        self.result.value = result
        self.reference_toggle.disabled = False
        self._show_progress()

    def _on_reference(self, change: Mapping[str, Any]) -> None:
        item = self.current
        if not change["new"] or item is None or not self._attempts(item["id"]):
            self.reference.value = ""
            return
        from kit.rubric import score_reply

        scenario = item["scenario"] if item["scenario"] in self._settings.scenarios else None
        rows = []
        for n, rewrite in enumerate(item["rewrites"], 1):
            total = score_reply(rewrite, customer=item["customer"], scenario=scenario,
                                settings=self._settings).total
            rows.append(_div(f"<b>参考改写 {n}</b>（{total} 分）：{_esc(rewrite)}", "kit-rewrite",
                             _CARD + f";{_PRE};border-left:4px solid {_GOOD}"))
        problems = [self._labels.get(p, "红线" if p == "red_line" else p)
                    for p in item["problems"]]
        patterns = [PATTERN_LABELS.get(p, p) for p in item["patterns"]]
        for title, values in (("原回复失分的维度", problems), ("问题类型", patterns)):
            if values:
                rows.append(_div(f"<b>{title}：</b>" + "、".join(_esc(v) for v in values)))
        if item["note"]:
            rows.append(_div(f"<b>说明：</b>{_esc(item['note'])}", "", _PRE))
        self.reference.value = _div("".join(rows), "kit-reference", _TEXT)

    def _show_progress(self) -> None:
        done = {r["item_id"] for r in self._records}
        passed = {r["item_id"] for r in self._records if r["passed"]}
        text = (f"已练 {len(done)} 题 · 通过 {len(passed)} 题 · 共提交 {len(self._records)} 次")
        item = self.current
        if item is not None and self._attempts(item["id"]):
            text += f" · 本题最好 {max(r['total'] for r in self._attempts(item['id']))} 分"
        self.progress.value = _div(_esc(text), "", _TEXT + ";" + _MUTED)

    # ---- history
    @property
    def history(self) -> pd.DataFrame:
        """Every attempt so far, one row each, columns :data:`HISTORY_COLUMNS`."""
        import pandas as pd

        frame = pd.DataFrame(self._records, columns=list(HISTORY_COLUMNS))
        return _history_types(frame, "history")

    def export_csv(self, path: str | os.PathLike[str] = HISTORY_FILE) -> Path:
        """Write the history as CSV (UTF-8 with BOM, so spreadsheet programs read the
        Chinese); read it back with :func:`load_history`. Refuses the course data folder.
        Text that a spreadsheet would run as a formula is written as plain text
        (:func:`kit.datasets.spreadsheet_safe`)."""
        from kit.datasets import spreadsheet_safe

        target = _learner_file(path)
        frame = self.history
        frame["timestamp"] = frame["timestamp"].map(lambda t: t.isoformat())
        spreadsheet_safe(frame).to_csv(target, index=False, encoding="utf-8-sig")
        return target

    def _on_export(self, _: Any = None) -> None:
        try:
            path = self.export_csv()
        except (OSError, ValueError) as exc:
            self.status.value = _div(_esc(f"导出失败：{exc}"), "", f"color:{_BAD}")
            return
        self.status.value = _div(_esc(f"已保存 {len(self._records)} 条记录到 {path}"), "", _MUTED)


def _history_types(frame: pd.DataFrame, origin: str) -> pd.DataFrame:
    """Give a history frame its column types; errors name ``origin``, the row and column."""
    import pandas as pd

    missing = [c for c in HISTORY_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{origin}: not a rewriter history: missing column(s) {missing}")
    frame = frame[list(HISTORY_COLUMNS)].copy()
    for name in ("trainee", "item_id", "scenario", "difficulty", "text", "red_lines"):
        frame[name] = frame[name].fillna("").astype(str).astype(object)
    for name, kind in (("attempt", "int64"), ("total", "int64"), ("pass_mark", "int64"),
                       *((d, "float64") for d in DIMENSIONS)):
        values = pd.to_numeric(frame[name], errors="coerce")
        bad = values.isna()
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise ValueError(f"{origin}: row {row + 2} field {name!r}: not a number: "
                             f"{frame[name].iloc[row]!r}")
        frame[name] = values.astype(kind)
    passed = frame["passed"].map(lambda v: {"true": True, "false": False}.get(str(v).lower()))
    if passed.isna().any():
        row = int(passed.isna().to_numpy().argmax())
        raise ValueError(f"{origin}: row {row + 2} field 'passed': expected True or False, "
                         f"got {frame['passed'].iloc[row]!r}")
    frame["passed"] = passed.astype(bool)
    stamps = pd.to_datetime(frame["timestamp"], utc=True, errors="coerce", format="ISO8601")
    if stamps.isna().any():
        row = int(stamps.isna().to_numpy().argmax())
        raise ValueError(f"{origin}: row {row + 2} field 'timestamp': not an ISO 8601 time: "
                         f"{frame['timestamp'].iloc[row]!r}")
    frame["timestamp"] = stamps.dt.tz_convert(TIMEZONE).astype(f"datetime64[us, {TIMEZONE}]")
    return frame


def load_history(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a rewriter export (:meth:`ReplyRewriter.export_csv`) back into a DataFrame.

    Raises:
        ValueError: a missing column or a bad value, naming the file, row and field.
    """
    import pandas as pd

    from kit.datasets import from_spreadsheet_safe

    name = os.fspath(path)
    frame = pd.read_csv(name, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return _history_types(from_spreadsheet_safe(frame), name)


# --------------------------------------------------------------------------- contest
def _export_paths(paths: Any) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found: list[Path] = []
    for p in map(Path, paths):
        found += sorted(p.glob("*.csv")) if p.is_dir() else [p]
    if not found:
        raise ValueError("rank_contest: no export files given (or the folder has no .csv)")
    return found


def rank_contest(paths: Any, *, month: str | None = None) -> pd.DataFrame:
    """Rank a class's rewriter exports for the monthly phrasing contest (话术比赛).

    Per trainee: ``attempts`` (submissions), ``items`` (items tried), ``passes`` (items with
    at least one passing attempt) and ``mean_best`` (the mean over the items tried of the best
    total, 2 decimals). Ranking: more ``passes`` first; then higher ``mean_best``; then fewer
    ``attempts`` (the same result with fewer tries). Trainees equal on all three share a rank.
    ``note`` explains, in Chinese, every place where a tie on passes was broken or stayed.

    Args:
        paths: export files (:meth:`ReplyRewriter.export_csv`), or a folder of them.
            A row without a trainee name counts for its file's name (without ``.csv``).
            Rows repeated across files (the same trainee, item, time and text) count once.
        month: ``"YYYY-MM"`` to count only attempts made in that month (Asia/Shanghai).

    Returns:
        Columns ``rank, trainee, attempts, items, passes, mean_best, note``, best first.

    Raises:
        ValueError: a file is not a history export (naming file, row and field), or
            ``month`` is not ``YYYY-MM``.
    """
    import pandas as pd

    frames = []
    for path in _export_paths(paths):
        frame = load_history(path)
        frame.loc[frame["trainee"].str.strip() == "", "trainee"] = path.stem
        frames.append(frame)
    every = pd.concat(frames, ignore_index=True)
    every = every.drop_duplicates(subset=["trainee", "item_id", "timestamp", "text"])
    if month is not None:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
            raise ValueError(f"month must look like '2026-03', got {month!r}")
        every = every[every["timestamp"].dt.strftime("%Y-%m") == month]
    best = every.groupby(["trainee", "item_id"])["total"].max()
    passed = every.groupby(["trainee", "item_id"])["passed"].any()
    table = pd.DataFrame({
        "attempts": every.groupby("trainee").size(),
        "items": best.groupby(level="trainee").size(),
        "passes": passed.groupby(level="trainee").sum(),
        "mean_best": best.groupby(level="trainee").mean().round(2),
    }).reset_index()
    table = table.sort_values(["passes", "mean_best", "attempts", "trainee"],
                              ascending=[False, False, True, True], ignore_index=True)
    keys = ["passes", "mean_best", "attempts"]
    ranks, notes = [], []
    for i, row in table.iterrows():
        prev = table.iloc[i - 1] if i else None
        if prev is not None and all(prev[k] == row[k] for k in keys):
            ranks.append(ranks[-1])
            notes.append(f"与 {prev['trainee']} 并列：通过题数、平均最佳分和提交次数都相同")
            continue
        ranks.append(i + 1)
        if prev is not None and prev["passes"] == row["passes"]:
            if prev["mean_best"] != row["mean_best"]:
                notes.append(f"与 {prev['trainee']} 同为通过 {row['passes']} 题，平均最佳分较低"
                             f"（{row['mean_best']:g} < {prev['mean_best']:g}）")
            else:
                notes.append(f"与 {prev['trainee']} 通过题数和平均最佳分相同，提交次数更多"
                             f"（{row['attempts']} > {prev['attempts']}）")
        else:
            notes.append("")
    table.insert(0, "rank", ranks)
    table["note"] = notes
    table["passes"] = table["passes"].astype("int64")
    return table[["rank", "trainee", "attempts", "items", "passes", "mean_best", "note"]]


# --------------------------------------------------------------------------- case library
class SavedCase(NamedTuple):
    """Where :func:`save_case` wrote, which dialogue, and whether it replaced an earlier save."""

    path: Path
    dialogue_id: str
    updated: bool


def _plain(value: Any) -> Any:
    """A JSON value for a frame cell: None for missing, Python numbers and bools."""
    if not _present(value):
        return None
    return value.item() if hasattr(value, "item") else value


def save_case(messages: pd.DataFrame, dialogue_id: str, note: str = "",
              path: str | os.PathLike[str] = CASE_LIBRARY, *,
              source: str | None = None) -> SavedCase:
    """Save one dialogue, with a note, to the learner's case library (案例库).

    The library is a JSON Lines file in the dialogue format of the course
    (``docs/spec``), each dialogue carrying two extra fields, ``note`` and ``saved_at`` (and
    ``source`` when given), so ``kit.load_dialogues("my_cases.jsonl")`` and
    ``DialogueExplorer("my_cases.jsonl")`` read it back. A new dialogue is appended; saving a
    dialogue that is already in the library replaces that entry (the note is updated).

    Args:
        messages: a message frame (:func:`kit.load_dialogues`) holding the dialogue.
        dialogue_id: the dialogue to save.
        note: the learner's note.
        path: the library file (default ``my_cases.jsonl`` in the working folder); never
            inside the course's ``datasets/`` folder.
        source: where the dialogue came from (a file name), kept in the entry.

    Raises:
        ValueError: the path is inside ``datasets/``, the dialogue is not in ``messages``, or
            the existing library has a line that is not JSON (named; nothing is written).
    """
    target = _learner_file(path)
    rows = messages[messages["dialogue_id"] == dialogue_id]
    if rows.empty:
        raise ValueError(f"dialogue {dialogue_id!r} is not in the messages")
    if "turn" in rows.columns:
        rows = rows.sort_values("turn", kind="stable")
    first = rows.iloc[0]
    record: dict[str, Any] = {"dialogue_id": str(dialogue_id)}
    for name in ("channel", "scenario", "agent_id", "csat", "resolved"):
        record[name] = _plain(first[name]) if name in rows.columns else None
    record["note"] = note
    record["saved_at"] = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
    if source:
        record["source"] = source
    record["turns"] = [{"ts": ts.isoformat(), "role": role, "text": text}
                       for ts, role, text in zip(rows["ts"], rows["role"], rows["text"],
                                                 strict=True)]
    line = json.dumps(record, ensure_ascii=False)
    lines: list[str] = []
    replaced = False
    if target.exists():
        for number, old in enumerate(target.read_text(encoding="utf-8-sig").splitlines(), 1):
            if not old.strip():
                continue
            try:
                same = json.loads(old).get("dialogue_id") == record["dialogue_id"]
            except (json.JSONDecodeError, AttributeError):
                raise ValueError(f"{target}:{number}: not a JSON object; the case library was "
                                 f"not changed — fix or remove that line") from None
            lines.append(line if same else old)
            replaced |= same
    if not replaced:
        lines.append(line)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(temporary, target)
    return SavedCase(target, str(dialogue_id), replaced)


# --------------------------------------------------------------------------- DialogueExplorer
def _csat_key(value: Any) -> str:
    return str(int(value)) if _present(value) else "none"


_CSAT_LABELS = {"none": "未评价", **{str(n): "★" * n for n in range(1, 6)}}


def _span(text: str, cls: str = "", style: str = "") -> str:
    return f"<span{_attrs(cls, style)}>{_esc(text)}</span>"


_MOOD_WORDS = {"pos": "正面", "neg": "负面", "neu": "中性"}
_MODIFIERS = ("negator", "degree", "adversative")


def _cue_marks(text: str) -> tuple[list[Mark], Any]:
    """Sentiment cues of a customer message as marks, and the sentiment result."""
    from kit.sentiment import CONTRIBUTING, sentiment

    result = sentiment(text)
    marks = []
    for cue in result.cues:
        if cue.kind in CONTRIBUTING and cue.weight:
            kind = "pos" if cue.weight > 0 else "neg"
        elif cue.kind in _MODIFIERS:
            kind = "mod"
        else:
            continue
        marks.append(Mark(cue.start, cue.end, kind, f"{cue.kind} {cue.weight:+.2f}"))
    return marks, result


def _mood_span(score: float, words: str) -> str:
    colour = _GOOD if score >= 0.2 else _BAD if score <= -0.2 else "var(--jp-ui-font-color2,#666)"
    return _span(f"情绪 {score:+.2f} {words}", "kit-mood-tag", f"color:{colour}")


def _response_span(seconds: float, prefix: str = "回复用时 ") -> str:
    """A round's response time, marked slow over :data:`SLOW_REPLY_S`."""
    slow = seconds > SLOW_REPLY_S
    label = f"{prefix}{_duration(seconds)}" + ("（慢：超过3分钟）" if slow else "")
    return _span(label, "kit-rt kit-slow" if slow else "kit-rt",
                 f"color:{_BAD};font-weight:bold" if slow else "")


def _mood_chips(points: Iterable[tuple[str, str, float]]) -> str:
    """Mood scores as a row of small chips: (tag, tooltip, score) each, joined by arrows."""
    chips = []
    for tag, title, score in points:
        colour = _GOOD if score >= 0.2 else _BAD if score <= -0.2 else _FAIR
        chips.append(f'<span class="kit-mood-chip" title="{_esc(title)}" style="display:'
                     f'inline-block;margin:1px;padding:0 5px;border-radius:8px;'
                     f'border:1px solid {colour}">{_esc(tag)} {score:+.2f}</span>')
    return " → ".join(chips)


def _chat_bubble(role: str, meta: Sequence[str], body: str) -> str:
    """One chat message: customer on the left, agent on the right, bot/system centred.
    ``meta`` holds ready HTML pieces (escaped), ``body`` the message's HTML (escaped)."""
    align, style = _BUBBLE.get(role, _BUBBLE["system"])
    bubble = _div(_div(" · ".join([_span(ROLE_LABELS.get(role, str(role))), *meta]),
                       "kit-msg-meta", _MUTED) + _div(body, "kit-msg-text", _PRE),
                  f"kit-msg kit-msg-{_esc(role)}",
                  f"max-width:78%;padding:6px 10px;border-radius:10px;{style}")
    return _div(bubble, "kit-msg-row", f"display:flex;justify-content:{align};margin:3px 0")


def _dialogue_bubble(role: str, ts: Any, text: str, response_s: float | None,
                     turning: str | None) -> str:
    """A message of a dialogue file: its time, the customer's mood and cues, the response
    time of an agent message that closes a round."""
    meta = [_span(ts.strftime("%H:%M:%S"))]
    body = _esc(text)
    if role == "customer":
        marks, result = _cue_marks(text)
        body = highlight(text, marks)
        meta.append(_mood_span(result.score, _MOOD_WORDS[result.label]))
        if turning:
            drop = turning == "drop"
            meta.append(_span("情绪转差 ↓" if drop else "情绪回暖 ↑", "kit-turning",
                              f"color:{_BAD if drop else _GOOD};font-weight:bold"))
    if response_s is not None:
        meta.append(_response_span(response_s))
    return _chat_bubble(role, meta, body)


def _closing_rounds(rows: pd.DataFrame, rounds: pd.DataFrame) -> dict[int, float]:
    """Row position of each agent message that closes a round -> the round's seconds."""
    agents = [(i, ts) for i, (role, ts) in enumerate(zip(rows["role"], rows["ts"],
                                                          strict=True)) if role == "agent"]
    closing: dict[int, float] = {}
    for closed, seconds in zip(rounds["closed_at"], rounds["response_s"], strict=True):
        if _present(closed):
            pos = next(i for i, ts in agents if ts == closed and i not in closing)
            closing[pos] = float(seconds)
    return closing


def _chat_html(rows: pd.DataFrame, rounds: pd.DataFrame, turns: pd.DataFrame) -> str:
    closing = _closing_rounds(rows, rounds)
    turning = dict(zip(turns["turn"], turns["direction"], strict=True))
    numbers = rows["turn"] if "turn" in rows.columns else range(len(rows))
    out: list[str] = []
    previous = None
    for pos, (turn, ts, role, text) in enumerate(zip(numbers, rows["ts"], rows["role"],
                                                     rows["text"], strict=True)):
        if previous is None or ts.date() != previous.date():
            out.append(_div(_esc(ts.strftime("%Y-%m-%d %H:%M")), "kit-gap",
                            f"text-align:center;margin:6px 0;{_MUTED}"))
        elif (gap := (ts - previous).total_seconds()) >= GAP_NOTE_S:
            out.append(_div(f"⋯ 过了 {_duration(gap)} ⋯", "kit-gap",
                            f"text-align:center;margin:4px 0;{_MUTED}"))
        previous = ts
        out.append(_dialogue_bubble(role, ts, text if isinstance(text, str) else "",
                                    closing.get(pos), turning.get(turn)))
    unanswered = int(rounds["response_s"].isna().sum())
    if unanswered:
        out.append(_div(f"注意：有 {unanswered} 轮顾客消息没有等到人工回复", "kit-unanswered",
                        f"text-align:center;color:{_BAD};margin:6px 0"))
    return _div("".join(out), "kit-chat", _TEXT + ";max-height:640px;overflow-y:auto")


def _png(fig: Any) -> bytes:
    """A matplotlib Figure as PNG bytes for an ``ipywidgets.Image``."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


def show_dialogue(messages: pd.DataFrame, dialogue_id: str) -> Any:
    """One dialogue as static chat bubbles, for pages where widgets do not run.

    The same chat the :class:`DialogueExplorer` draws (role labels, clock times, response
    time per round with slow replies marked, mood turns), returned as an IPython ``HTML``
    object, so it also shows in ``make html`` pages and slides. All text is escaped.

    Raises:
        ValueError: ``dialogue_id`` is not in ``messages``.

    >>> from kit.dialogues import load_dialogues
    >>> msgs = load_dialogues(dataset_path("dialogues.jsonl"))
    >>> "kit-chat" in show_dialogue(msgs, msgs["dialogue_id"].iloc[0]).data
    True
    """
    from IPython.display import HTML

    from kit.metrics import response_rounds
    from kit.sentiment import turning_points

    rows = messages[messages["dialogue_id"] == dialogue_id]
    if rows.empty:
        raise ValueError(f"dialogue {dialogue_id!r} is not in the messages")
    if "turn" in rows.columns:
        rows = rows.sort_values("turn", kind="stable")
    return HTML(_chat_html(rows, response_rounds(rows), turning_points(rows)))


class DialogueExplorer(widgets.VBox):
    """Read the sample dialogues as a chat, with the customer's mood and the service metrics.

    Args:
        messages: a message frame (:func:`kit.load_dialogues`) or a dialogue file (.jsonl or
            .csv); default ``datasets/dialogues.jsonl``. A case library works too.
        dialogue_id: the dialogue shown first.
        scenario, channel, agent, csat: start with these filters (``csat`` 1–5 or "none").
        case_library: the file 「存入案例库」 appends to (default ``my_cases.jsonl``).
        charts: draw the mood chart (default: yes, except under nbgrader, see
            :func:`headless`).

    >>> import pandas as pd
    >>> msgs = pd.DataFrame({"dialogue_id": ["d1"] * 3, "turn": [0, 1, 2],
    ...     "ts": pd.to_datetime(["2026-03-02 10:00:00", "2026-03-02 10:04:00",
    ...                           "2026-03-02 10:05:00"]).tz_localize("Asia/Shanghai"),
    ...     "role": ["customer", "agent", "customer"],
    ...     "text": ["怎么还没发货？？", "亲，已为您加急", "好的谢谢"],
    ...     "channel": "jd", "scenario": "logistics_delay", "agent_id": "A1",
    ...     "csat": pd.array([4] * 3, dtype="Int64"), "resolved": True})
    >>> explorer = DialogueExplorer(msgs, charts=False)
    >>> "kit-slow" in explorer.chat.value, "4分钟" in explorer.chat.value
    (True, True)
    """

    def __init__(self, messages: Any = None, *, dialogue_id: str | None = None,
                 scenario: str | None = None, channel: str | None = None,
                 agent: str | None = None, csat: int | str | None = None,
                 case_library: str | os.PathLike[str] = CASE_LIBRARY,
                 charts: bool | None = None) -> None:
        import pandas as pd

        from kit.dialogues import load_dialogues

        super().__init__(layout=widgets.Layout(width="100%"))
        self.add_class("kit-explorer")
        self.source = None
        if messages is None:
            messages = dataset_path(DIALOGUES_FILE)
        if isinstance(messages, (str, os.PathLike)):
            self.source = Path(messages).name
            messages = load_dialogues(messages)
        self.messages = messages.reset_index(drop=True)
        if self.messages.empty:
            raise ValueError("there are no messages to explore")
        self.case_library = case_library
        self.charts = not headless() if charts is None else charts
        self._rows = self.messages.groupby("dialogue_id", sort=False).indices
        firsts = self.messages.groupby("dialogue_id", sort=False).first()
        self.dialogues = firsts.reindex(
            columns=["channel", "scenario", "agent_id", "csat", "resolved"])
        self.dialogues["messages"] = self.messages.groupby("dialogue_id", sort=False).size()
        d = self.dialogues
        self._keys = pd.DataFrame({c: [str(v) if _present(v) else "" for v in d[c]]
                                   for c in ("scenario", "channel", "agent_id")}, index=d.index)
        self._keys["csat"] = [_csat_key(v) for v in d["csat"]]
        self._option_labels = {
            i: " · ".join(p for p in (str(i), _label(CHANNEL_LABELS, ch),
                                      _label(SCENARIO_LABELS, sc), agent, _CSAT_LABELS[cs]) if p)
            for i, sc, ch, agent, cs in self._keys.itertuples()}
        self._shown: str | None = None
        self._updating = False

        def dropdown(description: str, column: str, labels: Mapping[str, str]) -> Any:
            return widgets.Dropdown(options=_options(self.dialogues[column], labels),
                                    description=description,
                                    layout=widgets.Layout(width="190px"))

        self.scenario_filter = dropdown("场景", "scenario", SCENARIO_LABELS)
        self.channel_filter = dropdown("渠道", "channel", CHANNEL_LABELS)
        self.agent_filter = dropdown("客服", "agent_id", {})
        self.csat_filter = widgets.Dropdown(
            options=[("全部", ALL)] + [(_CSAT_LABELS[k], k) for k in
                                      sorted({_csat_key(v) for v in self.dialogues["csat"]})],
            description="评分", layout=widgets.Layout(width="190px"))
        self.dialogue = widgets.Dropdown(description="对话", layout=widgets.Layout(width="460px"))
        self.count = widgets.HTML()
        self.chat = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.mood = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.chart = widgets.Image(format="png", layout=widgets.Layout(max_width="760px"))
        self.metrics = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.note = widgets.Textarea(placeholder="写下这段对话值得学习或需要改进的地方",
                                     layout=widgets.Layout(width="100%", height="4em"))
        self.save_button = widgets.Button(description="存入案例库", icon="bookmark")
        self.save_status = widgets.HTML()
        for w, cls in ((self.scenario_filter, "scenario"), (self.channel_filter, "channel"),
                       (self.agent_filter, "agent"), (self.csat_filter, "csat"),
                       (self.dialogue, "dialogue"), (self.count, "count"), (self.chat, "chat"),
                       (self.mood, "mood"), (self.chart, "chart"), (self.metrics, "metrics"),
                       (self.note, "note"), (self.save_button, "save"),
                       (self.save_status, "save-status")):
            w.add_class(f"kit-explorer-{cls}")
        _pick(self.scenario_filter, scenario, "scenario")
        _pick(self.channel_filter, channel, "channel")
        _pick(self.agent_filter, agent, "agent")
        _pick(self.csat_filter, csat, "csat")
        if not self.charts:
            self.chart.layout.display = "none"
        self.children = [
            widgets.HTML(_div("<b>对话浏览器</b>　按条件挑一段对话，像聊天窗口一样阅读；"
                              "右侧标出每轮回复用时，顾客消息里标出情绪线索。", "", _TEXT)),
            widgets.HBox([self.scenario_filter, self.channel_filter, self.agent_filter,
                          self.csat_filter], layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([self.dialogue, self.count]),
            widgets.HBox([widgets.VBox([self.chat], layout=widgets.Layout(width="60%")),
                          widgets.VBox([self.metrics, self.mood],
                                       layout=widgets.Layout(width="40%"))]),
            self.chart,
            self.note, widgets.HBox([self.save_button, self.save_status]),
        ]
        self._filters = ((self.scenario_filter, "scenario"), (self.channel_filter, "channel"),
                         (self.agent_filter, "agent_id"), (self.csat_filter, "csat"))
        for f, _ in self._filters:
            f.observe(self._on_filter, names="value")
        self.dialogue.observe(self._on_dialogue, names="value")
        self.save_button.on_click(self._on_save)
        self._on_filter()
        if dialogue_id is not None:
            if dialogue_id not in self._rows:
                raise ValueError(f"dialogue {dialogue_id!r} is not in the messages")
            if dialogue_id not in self.matching:
                for f, _ in self._filters:
                    f.value = ALL
            self.dialogue.value = dialogue_id

    @property
    def matching(self) -> list[str]:
        """The dialogue ids that pass the filters, in file order."""
        return [value for _, value in self.dialogue.options]

    def _on_filter(self, _: Any = None) -> None:
        keep = None
        for f, column in self._filters:
            if f.value != ALL:
                hit = self._keys[column] == f.value
                keep = hit if keep is None else keep & hit
        chosen = list(self._keys.index if keep is None else self._keys.index[keep.to_numpy()])
        options = [(self._option_labels[i], i) for i in chosen]
        self._updating = True
        try:
            self.dialogue.options = options
            if options:
                current = self._shown if self._shown in set(chosen) else chosen[0]
                self.dialogue.value = current
        finally:
            self._updating = False
        self.count.value = _div(f"共 {len(options)} 段对话符合条件", "", _TEXT + ";" + _MUTED)
        self.save_button.disabled = not options
        if not options:
            self._shown = None
            self.chat.value = _notice("没有符合条件的对话，请放宽筛选条件。")
            self.mood.value = self.metrics.value = ""
            self.chart.value = b""
        elif self.dialogue.value != self._shown:
            self.show(self.dialogue.value)

    def _on_dialogue(self, change: Mapping[str, Any]) -> None:
        if not self._updating and change["new"] is not None and change["new"] != self._shown:
            self.show(change["new"])

    def show(self, dialogue_id: str) -> None:
        """Render one dialogue: chat, mood, chart, metrics."""
        from kit.metrics import response_rounds, service_summary
        from kit.sentiment import mood_trajectory, turning_points

        if dialogue_id not in self._rows:
            raise ValueError(f"dialogue {dialogue_id!r} is not in the messages")
        self._shown = dialogue_id

        rows = self.messages.iloc[self._rows[dialogue_id]]
        if "turn" in rows.columns:
            rows = rows.sort_values("turn", kind="stable")
        rounds = response_rounds(rows)
        summary = service_summary(rows).iloc[0]
        trajectory = mood_trajectory(rows)
        turns = turning_points(rows)
        self.chat.value = _chat_html(rows, rounds, turns)
        self.mood.value = self._mood_html(trajectory)
        self.metrics.value = self._metrics_html(rows, summary, trajectory)
        self.chart.value = self._chart_png(rows, dialogue_id) if self.charts else b""
        note = rows["note"].iloc[0] if "note" in rows.columns else ""
        self.note.value = note if isinstance(note, str) else ""
        self.save_status.value = ""

    @staticmethod
    def _mood_html(trajectory: pd.DataFrame) -> str:
        if trajectory.empty:
            return _notice("这段对话没有顾客消息。")
        chips = _mood_chips((f"#{turn}", f"第 {turn} 条消息", score)
                            for turn, score in zip(trajectory["turn"], trajectory["score"],
                                                   strict=True))
        return _div(f"<b>顾客情绪走势</b>（-1 负面 … +1 正面）<br>{chips}", "kit-mood", _TEXT)

    def _metrics_html(self, rows: pd.DataFrame, summary: Any, trajectory: pd.DataFrame) -> str:
        first = rows.iloc[0]

        def value(name: str) -> Any:
            return first[name] if name in rows.columns else None

        def seconds(v: Any) -> str:
            return _duration(float(v)) if _present(v) else "—"

        rate = summary["within_3min_rate"]
        resolved = value("resolved")
        table = [
            ("渠道", _label(CHANNEL_LABELS, value("channel")) if _present(value("channel"))
             else "—"),
            ("场景", _label(SCENARIO_LABELS, value("scenario"))
             if _present(value("scenario")) else "—"),
            ("客服", value("agent_id") if _present(value("agent_id")) else "—"),
            ("顾客评分", _CSAT_LABELS[_csat_key(value("csat"))]),
            ("是否解决", "—" if not _present(resolved) else "已解决" if resolved else "未解决"),
            ("消息数", str(len(rows))),
            ("对话时长", _duration((rows["ts"].iloc[-1] - rows["ts"].iloc[0]).total_seconds())),
            ("人工回复轮次", f"{int(summary['rounds'])}（未回复 {int(summary['unanswered'])}）"),
            ("首次响应", seconds(summary["first_response_median_s"])),
            ("平均响应", seconds(summary["mean_response_s"])),
            ("3分钟回复率", f"{rate:.0%}" if _present(rate) else "—"),
            ("最后情绪", f"{trajectory['score'].iloc[-1]:+.2f}" if len(trajectory) else "—"),
        ]
        if "note" in rows.columns and isinstance(value("note"), str) and value("note"):
            table.append(("我的笔记", value("note")))
        cells = "".join(f'<tr><td style="padding:1px 10px 1px 0;{_MUTED}">{_esc(k)}</td>'
                        f'<td style="{_PRE}">{_esc(v)}</td></tr>' for k, v in table)
        return _div(f"<b>本段对话的指标</b><table>{cells}</table>", "kit-metrics", _TEXT)

    @staticmethod
    def _chart_png(rows: pd.DataFrame, dialogue_id: str) -> bytes:
        from kit.charts import mood_trajectory_chart

        if not (rows["role"] == "customer").any():
            return b""
        return _png(mood_trajectory_chart(rows, dialogue_id))

    def save(self, note: str | None = None) -> SavedCase:
        """Save the dialogue shown, with ``note`` (default: the note box), to the library."""
        return save_case(self.messages, self.dialogue.value,
                         self.note.value if note is None else note, self.case_library,
                         source=self.source)

    def _on_save(self, _: Any = None) -> None:
        if self.dialogue.value is None:
            return
        try:
            saved = self.save()
        except (OSError, ValueError) as exc:
            self.save_status.value = _div(_esc(f"没有保存：{exc}"), "", f"color:{_BAD}")
            return
        verb = "已更新" if saved.updated else "已存入"
        note = self.note.value.strip()
        self.save_status.value = _div(
            _esc(f"{verb}案例库 {saved.path.name}：{saved.dialogue_id}")
            + (f"　笔记：<span class=\"kit-note\">{_esc(note)}</span>" if note else ""),
            "", _TEXT + ";" + _MUTED)


# --------------------------------------------------------------------------- Quiz
_KIND_LABELS = {"single": "单选", "multiple": "多选", "short": "简答"}


class Quiz(widgets.VBox):
    """A chapter's quiz: every question with its input, a 「提交」 button and feedback.

    Args:
        source: a quiz file, or a :class:`kit.quiz.QuizSet`.
        chapter: instead of ``source``, the chapter (``"01"``): ``datasets/quizzes/ch01.yaml``.

    Attributes:
        results: the latest :class:`kit.quiz.AnswerResult` of each question answered.

    >>> quiz = Quiz(chapter="00")
    >>> first = quiz.quiz.questions[0]
    >>> quiz.answer(first.id, first.answer).correct, quiz.score
    (True, (1, 7))
    """

    def __init__(self, source: Any = None, *, chapter: str | int | None = None) -> None:
        super().__init__(layout=widgets.Layout(width="100%"))
        self.add_class("kit-quiz")
        self.quiz = source if isinstance(source, QuizSet) else load_quiz(source, chapter=chapter)
        self.results: dict[str, AnswerResult] = {}
        self.inputs: dict[str, Any] = {}
        self.buttons: dict[str, widgets.Button] = {}
        self.feedback: dict[str, widgets.HTML] = {}
        title = widgets.HTML(_div(f"<b>{_esc(self.quiz.title)}</b>", "", _TEXT))
        title.add_class("kit-quiz-title")
        self.score_view = widgets.HTML()
        self.score_view.add_class("kit-quiz-score")
        boxes = [self._question_box(n, q) for n, q in enumerate(self.quiz.questions, 1)]
        self.children = [title, *boxes, self.score_view]
        self._show_score()

    def _question_box(self, number: int, question: Any) -> widgets.VBox:
        prompt = widgets.HTML(_div(f"<b>{number}.</b>（{_KIND_LABELS[question.kind]}）"
                                   f"{_esc(question.prompt)}", "kit-quiz-prompt",
                                   f"{_TEXT};{_PRE}"))
        letters = [f"{chr(65 + i)}. {text}" for i, text in enumerate(question.options)]
        field: Any
        if question.kind == "single":
            field = widgets.RadioButtons(options=[(label, i) for i, label in enumerate(letters)],
                                         value=None, layout=widgets.Layout(width="auto"))
            field.add_class("kit-quiz-choice")
            inputs: list[Any] = [field]
        elif question.kind == "multiple":
            boxes = [widgets.Checkbox(description=label, indent=False, value=False,
                                      layout=widgets.Layout(width="auto")) for label in letters]
            for box in boxes:
                box.add_class("kit-quiz-option")
            field = boxes
            inputs = boxes
        else:
            field = widgets.Textarea(placeholder="在这里写下你的回答",
                                     layout=widgets.Layout(width="100%", height="4em"))
            field.add_class("kit-quiz-answer")
            inputs = [field]
        button = widgets.Button(description="提交", icon="check")
        button.add_class("kit-quiz-submit")
        feedback = widgets.HTML(layout=widgets.Layout(width="100%"))
        feedback.add_class("kit-quiz-feedback")
        button.on_click(lambda _: self._on_submit(question.id))
        self.inputs[question.id] = field
        self.buttons[question.id] = button
        self.feedback[question.id] = feedback
        box = widgets.VBox([prompt, *inputs, button, feedback],
                           layout=widgets.Layout(border="1px solid var(--jp-border-color2,#ddd)",
                                                 padding="4px 10px", margin="4px 0"))
        box.add_class("kit-quiz-question")
        box.add_class(f"kit-quiz-q-{question.id}")
        return box

    def response(self, question_id: str) -> Any:
        """The current response to a question, as :func:`kit.quiz.check_answer` takes it."""
        field = self.inputs[question_id]
        if isinstance(field, list):
            return [i for i, box in enumerate(field) if box.value]
        return field.value

    def answer(self, question_id: str, response: Any) -> AnswerResult:
        """Fill in ``response`` and click 「提交」, as a learner would; return the result."""
        field = self.inputs[question_id]
        if isinstance(field, list):
            chosen = set(response)
            for i, box in enumerate(field):
                box.value = i in chosen
        else:
            field.value = response
        self.buttons[question_id].click()
        return self.results[question_id]

    def _on_submit(self, question_id: str) -> None:
        question = self.quiz.question(question_id)
        result = check_answer(question, self.response(question_id))
        if result.answered:
            self.results[question_id] = result
        if not result.answered:
            body = _esc(result.feedback)
        else:
            mark = (_span("✔ 正确", "kit-correct", f"color:{_GOOD};font-weight:bold")
                    if result.correct else
                    _span("✘ 还不对", "kit-wrong", f"color:{_BAD};font-weight:bold"))
            body = f"{mark}　{_esc(result.feedback)}"
            if question.kind == "short":
                text = self.response(question_id)
                marks = [Mark(m.start, m.end, m.kind) for m in result.matches]
                body += _div("你的回答：" + highlight(text, marks), "kit-quiz-echo",
                             _CARD + ";" + _PRE)
            body += _div(f"<b>解析：</b>{_esc(result.explanation)}", "kit-quiz-explanation",
                         "margin-top:4px;" + _PRE)
        self.feedback[question_id].value = _div(body, "", _TEXT)
        self._show_score()

    @property
    def score(self) -> tuple[int, int]:
        """(questions answered correctly — latest answer counts, number of questions)."""
        return sum(r.correct for r in self.results.values()), len(self.quiz)

    def _show_score(self) -> None:
        right, total = self.score
        self.score_view.value = _div(f"得分：{right} / {total}（已作答 {len(self.results)} 题）",
                                     "", _TEXT + ";font-weight:bold")


# --------------------------------------------------------------------------- RolePlay
class RolePlay(widgets.VBox):
    """Practise a chat against a scripted customer (:mod:`kit.roleplay`).

    The trainee reads the briefing and the customer's opening, types a reply and clicks
    「发送」; the customer reacts (their mood is shown after each message). The trainee's
    own response time is measured with ``clock`` (default :func:`time.monotonic`) from the
    moment the customer's messages are shown to the click, and passed to the session (replies
    slower than 3 minutes cost points). When the chat ends the result shows the outcome, the
    score against the pass mark, the mood and response-time trajectory and a tip.

    Args:
        persona: a persona id or :class:`kit.roleplay.Persona` (default: the first one).
        pass_mark, max_turns, settings: as for :class:`kit.roleplay.Session`.
        clock: a function returning seconds (tests pass a fake clock).

    Attributes:
        session: the :class:`kit.roleplay.Session` being played.

    >>> ticks = iter([0.0, 42.0, 43.0])  # chat shown, 「发送」 clicked, reply shown
    >>> play = RolePlay("anxious_late_parcel", clock=lambda: next(ticks))
    >>> turn = play.reply("非常抱歉让您着急了！我已经联系快递加急，今天18点前给您回复进展。")
    >>> turn.response_s, turn.mood_after > turn.mood_before
    (42.0, True)
    """

    def __init__(self, persona: Any = None, *, pass_mark: int | None = None,
                 max_turns: int = 8, settings: Settings | None = None,
                 clock: Any = None) -> None:
        import time

        from kit.roleplay import list_personas

        super().__init__(layout=widgets.Layout(width="100%"))
        self.add_class("kit-roleplay")
        self._clock = clock or time.monotonic
        self._session_args = {"pass_mark": pass_mark, "max_turns": max_turns,
                              "settings": settings}
        personas = list_personas()
        if not isinstance(persona, (str, type(None))):
            personas = [persona] + [p for p in personas if p.id != persona.id]
        self._personas = {p.id: p for p in personas}
        self.persona_choice = widgets.Dropdown(
            options=[(f"{p.name} · {_label(SCENARIO_LABELS, p.scenario)} · {p.summary}", p.id)
                     for p in personas],
            description="顾客", layout=widgets.Layout(width="100%"))
        if isinstance(persona, str):
            _pick(self.persona_choice, persona, "persona")
        elif persona is not None:
            self.persona_choice.value = persona.id
        self.briefing = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.chat = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.mood = widgets.HTML()
        self.input = widgets.Textarea(placeholder="输入你的回复，然后点「发送」",
                                      layout=widgets.Layout(width="100%", height="5em"))
        self.send_button = widgets.Button(description="发送", button_style="primary",
                                          icon="paper-plane")
        self.restart_button = widgets.Button(description="重新开始", icon="refresh")
        self.result = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.chart = widgets.Image(format="png", layout=widgets.Layout(max_width="760px"))
        for w, cls in ((self.persona_choice, "persona"), (self.briefing, "briefing"),
                       (self.chat, "chat"), (self.mood, "mood"), (self.input, "input"),
                       (self.send_button, "send"), (self.restart_button, "restart"),
                       (self.result, "result"), (self.chart, "chart")):
            w.add_class(f"kit-roleplay-{cls}")
        self.children = [
            widgets.HTML(_div("<b>模拟顾客对练</b>　先读顾客背景，再像在工作台上一样回复顾客；"
                              "顾客会按你的回复改变情绪，回复用时也会计入。", "", _TEXT)),
            self.persona_choice, self.briefing, self.chat, self.mood, self.input,
            widgets.HBox([self.send_button, self.restart_button]), self.result, self.chart,
        ]
        self.persona_choice.observe(lambda _: self.restart(), names="value")
        self.send_button.on_click(lambda _: self._on_send())
        self.restart_button.on_click(lambda _: self.restart())
        self.restart()

    def restart(self) -> None:
        """Start a new chat with the chosen persona."""
        from kit.roleplay import Session

        persona = self._personas[self.persona_choice.value]
        self.session = Session(persona, **self._session_args)
        self.briefing.value = _div(_esc(persona.briefing()), "kit-briefing",
                                   f"{_TEXT};{_CARD};{_PRE}")
        self.input.value = ""
        self.result.value = ""
        self._render()

    def reply(self, text: str) -> Any:
        """Type ``text`` and click 「发送」, as the trainee would; return the session's
        :class:`kit.roleplay.Turn` (None when nothing was sent)."""
        self.input.value = text
        before = len(self.session.turns)
        self.send_button.click()
        return self.session.turns[-1] if len(self.session.turns) > before else None

    @property
    def transcript(self) -> pd.DataFrame:
        """The chat so far (:meth:`kit.roleplay.Session.transcript`)."""
        return self.session.transcript()

    def _on_send(self) -> None:
        text = self.input.value
        if self.session.ended:
            return
        if not text.strip():
            self.result.value = _notice("请先输入回复再发送。")
            return
        elapsed = max(0.0, self._clock() - self._shown_at)
        self.session.reply(text, response_s=elapsed)
        self.input.value = ""
        self.result.value = ""
        self._render()

    def _render(self) -> None:
        from kit.roleplay import mood_label

        out = []
        for role, text, mood, total, seconds, note in zip(
                *(self.transcript[c] for c in ("role", "text", "mood", "total", "response_s",
                                              "note")), strict=True):
            if role == "customer":
                meta = [_mood_span(mood, mood_label(mood))]
                body = _esc(text) + (_div(f"（顾客为什么这样反应：{_esc(note)}）",
                                          "kit-roleplay-why", _MUTED) if note else "")
            else:
                meta = [_span(f"得分 {total}", "kit-roleplay-total")]
                meta += [_response_span(seconds)] if _present(seconds) else []
                body = _esc(text)
            out.append(_chat_bubble(role, meta, body))
        self.chat.value = _div("".join(out), "kit-chat", _TEXT)
        mood = self.session.mood
        self.mood.value = _div(f"顾客此刻的情绪：{_mood_span(mood, mood_label(mood))}", "",
                               _TEXT)
        ended = self.session.ended
        self.input.disabled = self.send_button.disabled = ended
        if ended:
            from kit.charts import roleplay_chart

            self.result.value = self._result_html()
            self.chart.value = b"" if headless() else _png(roleplay_chart(self.transcript))
        else:
            self.chart.value = b""
        self._shown_at = self._clock()

    def _result_html(self) -> str:
        r = self.session.result()
        verdict = _span("通过", "kit-verdict kit-verdict-pass", f"color:{_GOOD};font-weight:bold") \
            if r.passed else _span("未通过", "kit-verdict kit-verdict-fail",
                                   f"color:{_BAD};font-weight:bold")
        moods = _mood_chips([("开始", "对话开始时", r.moods[0])] +
                            [(f"第{i}轮后", f"第 {i} 次回复之后", m)
                             for i, m in enumerate(r.moods[1:], 1)])
        times = "、".join(_response_span(s, f"第{i}轮 ") if _present(s) else _span(f"第{i}轮 —")
                         for i, s in enumerate(r.response_s, 1))
        parts = [
            _div(f"对话结束：{_esc(r.outcome_label)}", "", "font-weight:bold"),
            _div(f'总分 <b style="font-size:1.3em">{r.score}</b>/100　{verdict}'
                 f'<span style="{_MUTED}">（及格线 {r.pass_mark}）</span>', "kit-total"),
            _div(f"顾客情绪：{moods}", "kit-mood"),
            _div(f"每轮回复用时：{times}"),
            _div(_esc(r.summary), "kit-roleplay-summary", f"{_CARD};{_PRE}"),
        ]
        return _div("".join(parts), "kit-roleplay-outcome", _TEXT)
