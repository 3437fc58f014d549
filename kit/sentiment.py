"""Explainable, lexicon-and-rule sentiment for Chinese customer-service chat.

``sentiment(text)`` scores one message in [-1, 1], labels it ``"neg"``, ``"neu"`` or
``"pos"`` and returns the cues that drove the score, each indexing the original string, so a
widget can highlight them. It is built for chat rather than reviews: questions, order numbers
and logistics statements stay neutral; negation (不满意, 没有问题, 不太好), degree words (太,
非常, 有点), adversatives (但是, 不过, 就是), repeated punctuation (？？, ！！), sarcasm (呵呵,
真快啊 beside a complaint), platform slang (亲, 差评, 五星) and emoji codes ([微笑], [怒]) are
handled by rules. Everything is deterministic and offline; the lexicons are data files in
``datasets/lexicons/`` (see ``datasets/README.md``), loaded once on first use.

How a message is scored
-----------------------
1. Full-width ASCII is folded to half-width and letters lower-cased (one character for one
   character, so positions stay those of the original text).
2. A longest-match scan over every lexicon entry finds tokens; regex patterns (order numbers,
   "waited three days") are matched too and win where they overlap a token.
3. The text is cut into clauses at punctuation and spaces. Inside a clause a negator flips
   the next sentiment word within a few characters (softened for 不太, emphatic for 根本不), a
   degree word multiplies it, and an aspect followed by a size word is read together
   (价格高 is negative, 性价比高 positive; 手机很薄 is praise, 面料太薄 a complaint).
4. Questions and hypotheticals damp the sentiment of their clause (质量好吗 is not praise);
   rhetorical questions (为什么这么慢) do not. ``？？`` adds impatience, ``！！`` intensifies.
5. Adversatives weight the part after them more; sarcasm markers and ironic praise beside a
   complaint turn praise negative; courtesy words inside a request are damped.
6. ``score = tanh(sum of contributing cue weights)``; ``|score| < NEUTRAL_BAND`` is neutral.

Cue weights: for kinds in :data:`CONTRIBUTING` the weight is the signed contribution to the
sum (modifiers already applied); for ``negator``, ``degree`` and ``adversative`` it is the
multiplier that was applied; ``neutral`` cues (question and request markers, order numbers)
weigh 0.

>>> r = sentiment("质量很好，就是物流太慢了！！")
>>> r.label
'neg'
>>> [(c.text, c.kind) for c in r.cues if c.kind in CONTRIBUTING]
[('质量很好', 'word'), ('太慢', 'word'), ('！！', 'punct')]
>>> sentiment("请问什么时候发货？").label
'neu'
"""

from __future__ import annotations

import math
import re
import sys
import types
from bisect import bisect_right
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CONTRIBUTING",
    "NEUTRAL_BAND",
    "Cue",
    "LexiconError",
    "SentimentResult",
    "mood_trajectory",
    "sentiment",
    "sentiment_series",
    "turning_points",
]

#: Scores with an absolute value below this are labelled neutral.
NEUTRAL_BAND = 0.2
#: Cue kinds whose weights add up (before tanh) to the score.
CONTRIBUTING = frozenset(
    {"word", "slang", "emoji", "sarcasm", "punct", "aspect", "pattern", "function"}
)

_NEG_WINDOW = 3  # characters allowed between a negator (or degree word) and its word
_ASPECT_WINDOW = 4  # characters allowed between an aspect and its size word
_POST_NEG_WINDOW = 6  # characters allowed between a word and a negator after it (线头都没有)
_ASPECT_WEIGHT = 0.6
_EXCESS_WEIGHT = -0.4  # 太大 / 偏小 without an aspect
_FLIP_POS = 0.8  # 不喜欢 = -0.8 × 喜欢
_FLIP_NEG = 0.5  # 不贵 = +0.5 × |贵|
_Q_DAMP_POS = 0.1  # praise inside a question: 质量好吗
_Q_DAMP_NEG = 0.25  # complaint words inside a question: 会不会掉色
_HYPO_DAMP = 0.2  # 如果坏了 / 听说会起球
_POLITE_DAMP = 0.3  # 谢谢 inside a request: 帮我查下，谢谢
_IMPATIENCE = -0.3  # ？？ after a clause without praise
_PUNCT_GAIN = 0.3  # ！！ or ？？ intensify their clause by this fraction
_IRONY_EVIDENCE = -0.4  # the rest of the message must be at least this negative
_TAIL_OK = frozenset("了的啊呀吧哦哈呢嘛啦哇咯噢喔滴嘞又也且点些就得死哟呐")
_SEPARATORS = re.compile(r"[\s,.!?;:~，。！？；：～、…\u3000]+")
_SENTENCE_END = frozenset(".!?。！？\n\r")

_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FOLD.update({c: c + 32 for c in range(ord("A"), ord("Z") + 1)})
_FOLD.update({0x3000: 0x20})
for _c in range(0xFF21, 0xFF3B):  # full-width capitals fold straight to lower case
    _FOLD[_c] = _c - 0xFEE0 + 32
del _c


class Cue(NamedTuple):
    """One word or pattern that shaped a score: ``text == original[start:end]``."""

    start: int
    end: int
    text: str
    weight: float
    kind: str


class SentimentResult(NamedTuple):
    """The score in [-1, 1], its label and the cues behind it (sorted by position)."""

    score: float
    label: str
    cues: tuple[Cue, ...]


class LexiconError(ValueError):
    """A lexicon file is malformed; the message names the file, line and field."""


class _Entry:
    """Every role one lexicon string plays (a string may be a word and a degree adverb)."""

    __slots__ = (
        "adv_after",
        "adv_before",
        "adv_initial",
        "again",
        "ascii",
        "aspect",
        "body_aspect",
        "body_magnitude",
        "concessive",
        "degree",
        "excess",
        "function",
        "hypo",
        "imperative",
        "kind",
        "magnitude",
        "marker",
        "negator",
        "polite",
        "post_degree",
        "post_negator",
        "prefix",
        "question",
        "request",
        "rhetorical",
        "suffix",
        "tail",
        "weight",
    )

    def __init__(self, text: str) -> None:
        self.weight = 0.0
        self.kind = ""
        self.tail = self.polite = False
        self.negator = 0.0
        self.post_negator = self.imperative = self.again = False
        self.degree = 0.0
        self.post_degree = self.excess = False
        self.adv_before = self.adv_after = 0.0
        self.adv_initial = self.concessive = False
        self.question = self.rhetorical = self.hypo = self.request = False
        self.aspect = self.magnitude = 0
        self.body_aspect = self.body_magnitude = False  # 手机/机身 pair only with 薄/轻/厚/重
        self.function = 0.0
        self.prefix = self.suffix = self.marker = False
        self.ascii = text.isascii() and text.isalnum()

    @property
    def bears(self) -> bool:
        """True when the entry can carry sentiment by itself or with a neighbour."""
        return bool(self.weight or self.aspect or self.magnitude or self.function)


class _Lexicon(NamedTuple):
    entries: dict[str, _Entry]
    lengths: dict[str, tuple[int, ...]]  # first character → entry lengths, longest first
    patterns: tuple[tuple[str, str, float, re.Pattern[str]], ...]


def _rows(name: str, min_fields: int, max_fields: int):
    """Yield (path, line number, fields) for the data lines of lexicon file ``name``."""
    from kit.datasets import dataset_path

    path = dataset_path(f"lexicons/{name}")
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            if not min_fields <= len(fields) <= max_fields or not fields[0]:
                raise LexiconError(
                    f"{path}:{number}: expected {min_fields}-{max_fields} tab-separated "
                    f"fields with a non-empty entry, got {line!r}"
                )
            yield path, number, fields


def _number(path, number: int, field: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise LexiconError(f"{path}:{number}: field {field}: not a number: {value!r}") from None


def _flags(path, number: int, fields: list[str], index: int, allowed: set[str]) -> set[str]:
    flags = set(filter(None, fields[index].split(","))) if len(fields) > index else set()
    if flags - allowed:
        raise LexiconError(
            f"{path}:{number}: field flags: unknown {sorted(flags - allowed)}, "
            f"allowed {sorted(allowed)}"
        )
    return flags


def _choice(path, number: int, field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise LexiconError(f"{path}:{number}: field {field}: {value!r} is not one of {allowed}")
    return value


@cache
def _lexicon() -> _Lexicon:
    """Load and index every lexicon file (once per process)."""
    entries: dict[str, _Entry] = {}
    weighted: dict[str, str] = {}

    def entry(text: str) -> _Entry:
        found = entries.get(text)
        if found is None:
            found = entries[text] = _Entry(text)
        return found

    def set_weight(path, number, text, weight, kind):
        if text in weighted:
            raise LexiconError(
                f"{path}:{number}: field entry: {text!r} already has a weight in {weighted[text]}"
            )
        weighted[text] = f"{path.name}:{number}"
        e = entry(text)
        e.weight, e.kind = weight, kind
        return e

    for name, sign in (("positive.tsv", 1), ("negative.tsv", -1)):
        for path, number, fields in _rows(name, 2, 3):
            weight = _number(path, number, "weight", fields[1])
            if weight * sign <= 0:
                raise LexiconError(
                    f"{path}:{number}: field weight: must be {'>' if sign > 0 else '<'} 0"
                )
            flags = _flags(path, number, fields, 2, {"tail", "polite"})
            e = set_weight(path, number, fields[0], weight, "word")
            e.tail, e.polite = "tail" in flags, "polite" in flags
    for name, kind in (("slang.tsv", "slang"), ("emoji.tsv", "emoji")):
        for path, number, fields in _rows(name, 2, 2):
            weight = _number(path, number, "weight", fields[1])
            if weight:
                set_weight(path, number, fields[0], weight, kind)
            else:
                entry(fields[0])
    for path, number, fields in _rows("negators.tsv", 3, 3):
        e = entry(fields[0])
        e.negator = _number(path, number, "strength", fields[1])
        position = _choice(
            path, number, "position", fields[2], ("pre", "post", "imperative", "again")
        )
        e.post_negator, e.imperative = position == "post", position == "imperative"
        e.again = position == "again"
    for path, number, fields in _rows("degree.tsv", 3, 4):
        e = entry(fields[0])
        e.degree = _number(path, number, "multiplier", fields[1])
        e.post_degree = _choice(path, number, "position", fields[2], ("pre", "post")) == "post"
        e.excess = "excess" in _flags(path, number, fields, 3, {"excess"})
    for path, number, fields in _rows("adversatives.tsv", 3, 4):
        e = entry(fields[0])
        e.adv_before = _number(path, number, "before", fields[1])
        e.adv_after = _number(path, number, "after", fields[2])
        flags = _flags(path, number, fields, 3, {"initial", "concessive"})
        e.adv_initial, e.concessive = "initial" in flags, "concessive" in flags
    for path, number, fields in _rows("sarcasm.tsv", 3, 3):
        role = _choice(path, number, "role", fields[1], ("marker", "prefix", "suffix"))
        if role == "marker":
            weight = _number(path, number, "weight", fields[2])
            set_weight(path, number, fields[0], weight, "sarcasm").marker = True
        else:
            setattr(entry(fields[0]), role, True)
    roles = ("block", "question", "rhetorical", "hypo", "request")
    for path, number, fields in _rows("neutral.tsv", 2, 2):
        role = _choice(path, number, "role", fields[1], roles)
        e = entry(fields[0])
        if role != "block":
            setattr(e, role, True)
    for path, number, fields in _rows("aspects.tsv", 2, 3):
        e = entry(fields[0])
        e.aspect = 1 if _number(path, number, "direction", fields[1]) > 0 else -1
        e.body_aspect = "body" in _flags(path, number, fields, 2, {"body"})
    for path, number, fields in _rows("magnitudes.tsv", 2, 3):
        e = entry(fields[0])
        e.magnitude = 1 if _number(path, number, "sign", fields[1]) > 0 else -1
        e.body_magnitude = "body" in _flags(path, number, fields, 2, {"body"})
    for path, number, fields in _rows("functions.tsv", 2, 2):
        entry(fields[0]).function = _number(path, number, "weight", fields[1])
    patterns = []
    for path, number, fields in _rows("patterns.tsv", 4, 4):
        kind = _choice(path, number, "kind", fields[1], ("neutral", "pattern"))
        try:
            regex = re.compile(fields[3])
        except re.error as exc:
            raise LexiconError(f"{path}:{number}: field regex: {exc}") from None
        patterns.append((fields[0], kind, _number(path, number, "weight", fields[2]), regex))

    lengths: dict[str, set[int]] = {}
    for text in entries:
        lengths.setdefault(text[0], set()).add(len(text))
    ordered = {c: tuple(sorted(ls, reverse=True)) for c, ls in lengths.items()}
    return _Lexicon(entries, ordered, tuple(patterns))


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _scan(norm: str, lex: _Lexicon) -> list[tuple[int, int, _Entry]]:
    """Longest-match scan of ``norm`` over all lexicon entries."""
    tokens = []
    entries, lengths = lex.entries, lex.lengths
    n = len(norm)
    i = 0
    while i < n:
        sizes = lengths.get(norm[i])
        if sizes:
            for size in sizes:
                e = entries.get(norm[i : i + size])
                if e is None or (i + size > n):
                    continue
                if e.ascii and (
                    (i and _is_word_char(norm[i - 1]))
                    or (i + size < n and _is_word_char(norm[i + size]))
                ):
                    continue
                tokens.append((i, i + size, e))
                i += size
                break
            else:
                i += 1
        else:
            i += 1
    return tokens


def _tail_ok(norm: str, end: int) -> bool:
    """True when a clause-final word really ends its clause (好 in 挺好的, not in 好大)."""
    if end >= len(norm):
        return True
    ch = norm[end]
    return ch in _TAIL_OK or not ("\u4e00" <= ch <= "\u9fff")


class _Item:
    """A contribution being built: position, weight, kind and what touched it."""

    __slots__ = ("clause", "end", "kind", "negated", "polite", "positive_src", "start", "weight")

    def __init__(
        self, start: int, end: int, weight: float, kind: str, clause: int, polite: bool = False
    ):
        self.start, self.end, self.weight, self.kind = start, end, weight, kind
        self.clause = clause
        self.negated = False
        self.polite = polite
        self.positive_src = weight > 0


def _negate(weight: float, strength: float) -> float:
    if weight > 0:
        return -weight * _FLIP_POS * strength
    return -weight * _FLIP_NEG * strength


class _Pending(NamedTuple):
    """A negator or degree word waiting for the sentiment word it modifies."""

    value: float  # negation strength or degree multiplier
    reach: int  # end of the modifier run: the word must start within a window of it
    start: int
    end: int
    entry: _Entry
    after_negation: bool = False  # 不 + 太 + 好: a degree word right after a negator


class _Clause(NamedTuple):
    start: int
    end: int
    sep: str  # the punctuation/space run that closes the clause (folded)
    sep_start: int


def _patterns(norm: str, lex: _Lexicon) -> list[tuple[int, int, float, str]]:
    """Non-overlapping regex pattern matches (leftmost first)."""
    spans = []
    for _name, kind, weight, regex in lex.patterns:
        spans.extend((m.start(), m.end(), weight, kind) for m in regex.finditer(norm) if m.group())
    spans.sort()
    kept, last_end = [], -1
    for span in spans:
        if span[0] >= last_end:
            kept.append(span)
            last_end = span[1]
    return kept


def _clauses(norm: str) -> list[_Clause]:
    clauses: list[_Clause] = []
    pos = 0
    for m in _SEPARATORS.finditer(norm):
        if m.start() > pos or not clauses:  # a message may open with punctuation (？？)
            clauses.append(_Clause(pos, m.start(), m.group(), m.start()))
        else:  # two separator runs in a row: extend the previous one
            clauses[-1] = clauses[-1]._replace(sep=clauses[-1].sep + m.group())
        pos = m.end()
    if pos < len(norm):
        clauses.append(_Clause(pos, len(norm), "", len(norm)))
    return clauses


class _Scorer:
    """State of one ``sentiment()`` call: contributions, cues and message-level flags."""

    def __init__(self, text: str, norm: str) -> None:
        self.text, self.norm = text, norm
        self.items: list[_Item] = []
        self.cues: list[Cue] = []
        self.adversatives: list[tuple[int, _Entry, int]] = []  # position, entry, sentence
        self.concessive_clauses: dict[int, float] = {}  # clause → weight (虽然)
        self.clause_sentence: list[int] = []
        self.sentence_starts: dict[int, int] = {}  # sentence → position of its first clause
        self.request = self.question = self.marker = False

    def cue(self, start: int, end: int, weight: float, kind: str) -> None:
        self.cues.append(Cue(start, end, self.text[start:end], weight, kind))

    def modify(self, item: _Item, neg: _Pending | None, deg: _Pending | None) -> None:
        """Apply a pending degree word and negator to a new contribution."""
        if deg is not None:
            mult = 1.0 if neg is not None and deg.after_negation else deg.value
            item.weight *= mult  # 不太好: the negation softens, the degree is dropped
            self.cue(deg.start, deg.end, mult, "degree")
        if neg is not None:
            strength = neg.value * (0.6 if deg is not None and deg.after_negation else 1.0)
            if neg.entry.imperative and item.weight < 0:
                item.weight = 0.0  # 别发错 asks; it does not praise
            elif neg.entry.again and item.weight < 0:
                pass  # 别再让我等了: it has happened, the complaint stands
            else:
                item.weight = _negate(item.weight, strength)
            item.negated = True
            self.cue(neg.start, neg.end, -strength, "negator")

    def clause(self, index: int, clause: _Clause, tokens, sentence: int) -> None:
        """Score the tokens of one clause: negation, degree, aspects, damping, punctuation."""
        norm = self.norm
        items = self.items
        first_item = len(items)
        question = "?" in clause.sep
        rhetorical = hypo = False
        neg: _Pending | None = None
        deg: _Pending | None = None
        last_aspect: tuple[int, int, _Entry, _Item | None] | None = None
        last_item: _Item | None = None
        for k, (start, end, e) in enumerate(tokens):
            question = question or e.question
            rhetorical = rhetorical or e.rhetorical
            hypo = hypo or e.hypo
            self.request = self.request or e.request
            if (e.question or e.hypo or e.request) and not e.weight:
                self.cue(start, end, 0.0, "neutral")
            if e.adv_after and (not e.adv_initial or start == clause.start):
                if e.concessive:
                    self.concessive_clauses[index] = e.adv_before
                else:
                    self.adversatives.append((start, e, sentence))
                self.cue(start, end, e.adv_before if e.concessive else e.adv_after, "adversative")
            if neg is not None and start - neg.reach > _NEG_WINDOW:
                neg = None
            if deg is not None and start - deg.reach > _NEG_WINDOW:
                deg = None
            if e.negator and not e.weight:
                if (
                    e.post_negator
                    and last_item is not None
                    and not last_item.negated
                    and start - last_item.end <= _POST_NEG_WINDOW
                    and _tail_ok(norm, end)
                ):  # 线头都没有 (but not 坏了也不维护: there 也不 negates the verb after it)
                    last_item.weight = _negate(last_item.weight, e.negator)
                    last_item.negated = True
                    self.cue(start, end, -e.negator, "negator")
                else:
                    neg = _Pending(e.negator, end, start, end, e)
                continue
            if e.post_degree and last_item is not None and start - last_item.end <= 1:
                last_item.weight *= e.degree  # 好得很
                self.cue(start, end, e.degree, "degree")
                continue
            nxt = tokens[k + 1] if k + 1 < len(tokens) else None
            if (
                e.degree
                and not e.post_degree
                and nxt is not None
                and nxt[0] - end <= 1
                and (nxt[2].bears or nxt[2].negator)
                and not (e.weight and e.tail and _tail_ok(norm, end))
            ):
                mult = e.degree * (deg.value if deg is not None else 1.0)
                deg = _Pending(mult, end, start, end, e, after_negation=neg is not None)
                if neg is not None:
                    neg = neg._replace(reach=end)
                continue
            if (
                e.magnitude
                and last_aspect is not None
                and start - last_aspect[1] <= _ASPECT_WINDOW
                and (not e.tail or _tail_ok(norm, end))
                and (e.body_magnitude or not last_aspect[2].body_aspect)
            ):
                a_start, _a_end, a_entry, a_item = last_aspect  # 价格 … 高
                a_dir = a_entry.aspect
                last_aspect = None
                base = max(_ASPECT_WEIGHT, abs(a_item.weight) if a_item else 0.0)
                if a_item is not None:  # 色差大: the pair replaces the bare aspect word
                    a_item.weight = 0.0
                item = _Item(a_start, end, a_dir * e.magnitude * base, "aspect", index)
            elif e.weight and (not e.tail or _tail_ok(norm, end)):
                item = _Item(start, end, e.weight, e.kind, index, e.polite)
                self.marker = self.marker or e.marker
            elif e.magnitude and deg is not None and deg.entry.excess:
                item = _Item(start, end, _EXCESS_WEIGHT, "aspect", index)  # 太大 / 偏小
            elif e.function and neg is not None:
                item = _Item(start, end, e.function * neg.value, "function", index)  # 不开机
                item.negated, item.positive_src = True, False
                self.cue(neg.start, neg.end, -neg.value, "negator")
                neg = None
            else:
                if e.aspect:
                    last_aspect = (start, end, e, None)
                continue
            self.modify(item, neg, deg)
            neg = deg = None
            items.append(item)
            last_item = item
            if e.aspect and item.kind != "aspect":
                last_aspect = (start, end, e, item)

        if rhetorical or clause.sep.count("?") >= 2:
            question = False  # 为什么这么慢 / 发货了吗？？ complain, they do not ask
        self.question = self.question or question or hypo
        if question or hypo:
            for item in items[first_item:]:
                if item.kind not in ("emoji", "sarcasm"):
                    damp = _HYPO_DAMP if hypo else _Q_DAMP_POS if item.weight > 0 else _Q_DAMP_NEG
                    item.weight *= damp
        qmarks, bangs = clause.sep.count("?"), clause.sep.count("!")
        if qmarks >= 2 or bangs >= 2:
            clause_sum = sum(i.weight for i in items[first_item:])
            if qmarks >= 2 and clause_sum <= 0:
                delta = _IMPATIENCE + clause_sum * _PUNCT_GAIN
            elif bangs >= 2:
                delta = clause_sum * _PUNCT_GAIN
            else:
                delta = 0.0
            if delta:
                sep_end = clause.sep_start + len(clause.sep)
                items.append(_Item(clause.sep_start, sep_end, delta, "punct", index))
        self.clause_sentence.append(sentence)
        self.sentence_starts.setdefault(sentence, clause.start)


def sentiment(text: str) -> SentimentResult:
    """Score one customer message.

    Args:
        text: the message (any Unicode; empty gives a neutral result).

    Returns:
        ``SentimentResult(score, label, cues)``: ``score`` in [-1, 1], ``label`` one of
        ``"neg"``, ``"neu"``, ``"pos"``, ``cues`` sorted by position with
        ``text[cue.start:cue.end] == cue.text``.

    Raises:
        TypeError: if ``text`` is not a ``str``.

    >>> sentiment("不太满意").label, sentiment("没有问题，很满意").label
    ('neg', 'pos')
    >>> r = sentiment("呵呵，发货真快啊，一周了还在仓库")
    >>> r.label, [c.text for c in r.cues if c.kind == "sarcasm"]
    ('neg', ['呵呵', '快'])
    >>> sentiment("好的[微笑]").label
    'neg'
    >>> sentiment("").score
    0.0
    """
    if not isinstance(text, str):
        raise TypeError(f"sentiment() needs a str, got {type(text).__name__}")
    if not text:
        return SentimentResult(0.0, "neu", ())
    lex = _lexicon()
    norm = text.translate(_FOLD)
    tokens = _scan(norm, lex)
    spans = _patterns(norm, lex)
    if spans:  # a pattern wins over the tokens it overlaps (both lists are sorted)
        kept, j = [], 0
        for token in tokens:
            while j < len(spans) and spans[j][1] <= token[0]:
                j += 1
            if j == len(spans) or token[1] <= spans[j][0]:
                kept.append(token)
        tokens = kept

    scorer = _Scorer(text, norm)
    clauses = _clauses(norm)
    sentence = 0
    tok_i, n_tok = 0, len(tokens)
    for index, clause in enumerate(clauses):
        first = tok_i
        while tok_i < n_tok and tokens[tok_i][0] < clause.end:
            tok_i += 1
        scorer.clause(index, clause, tokens[first:tok_i], sentence)
        if any(ch in _SENTENCE_END for ch in clause.sep):
            sentence += 1

    items = scorer.items
    clause_starts = [c.start for c in clauses]
    for start, end, weight, kind in spans:
        if kind == "neutral":
            scorer.cue(start, end, 0.0, "neutral")
        else:
            clause = max(bisect_right(clause_starts, start) - 1, 0)
            items.append(_Item(start, end, weight, kind, clause))
    if items:
        if scorer.adversatives or scorer.concessive_clauses:
            _weigh_adversatives(items, scorer)
        _irony(items, tokens, norm, scorer.marker)
        if scorer.request or scorer.question:
            for item in items:
                if item.polite and item.weight > 0:
                    item.weight *= _POLITE_DAMP  # 帮我查下，谢谢

    total = 0.0
    for item in items:
        if item.weight:
            total += item.weight
            scorer.cue(item.start, item.end, item.weight, item.kind)
    score = math.tanh(total)
    label = "pos" if score >= NEUTRAL_BAND else "neg" if score <= -NEUTRAL_BAND else "neu"
    cues = scorer.cues
    cues.sort(key=lambda c: (c.start, c.end))
    return SentimentResult(score, label, tuple(cues))


def _weigh_adversatives(items: list[_Item], scorer: _Scorer) -> None:
    """Weight contributions around 但是/不过 (the part after weighs more) and 虽然.

    An adversative that opens a sentence (环境不错。但设施陈旧) weighs down the sentence
    before it, when that sentence has no adversative of its own."""
    by_sentence: dict[int, list[tuple[int, _Entry]]] = {}
    for position, e, sentence in scorer.adversatives:  # already in text order
        by_sentence.setdefault(sentence, []).append((position, e))
    positions = {k: [p for p, _ in v] for k, v in by_sentence.items()}
    for item in items:
        item.weight *= scorer.concessive_clauses.get(item.clause, 1.0)
        sentence = scorer.clause_sentence[item.clause]
        found = by_sentence.get(sentence)
        if not found:
            following = by_sentence.get(sentence + 1)
            if following and following[0][0] == scorer.sentence_starts.get(sentence + 1):
                item.weight *= following[0][1].adv_before
            continue
        index = bisect_right(positions[sentence], item.start)
        if index:
            item.weight *= found[index - 1][1].adv_after
        else:
            item.weight *= found[0][1].adv_before


def _irony(items, tokens, norm: str, has_marker: bool) -> None:
    """Turn praise ironic: every praise word after a sarcasm marker (呵呵), or praise framed
    as 真快啊 / 谢谢你啊 in a message that otherwise complains."""
    praise = [i for i in items if i.weight > 0 and i.positive_src and i.kind != "emoji"]
    if not praise:
        return
    if has_marker:
        for item in praise:
            item.weight, item.kind = -item.weight, "sarcasm"
        return
    complaint = sum(i.weight for i in items if i.weight < 0)
    if complaint > _IRONY_EVIDENCE:
        return
    by_end = {t[1]: t[2] for t in tokens}
    suffix_at = {t[0] for t in tokens if t[2].suffix}
    for item in praise:
        before = by_end.get(item.start)
        framed = before is not None and before.prefix
        if not (framed or item.polite):
            continue
        end = item.end
        if end + 1 < len(norm) and norm[end] in "你您" and norm[end + 1] in "们":
            end += 2
        elif end < len(norm) and norm[end] in "你您":
            end += 1
        followed = end in suffix_at or end + 1 in suffix_at or norm[end : end + 1] == "!"
        if followed:
            item.weight, item.kind = -item.weight, "sarcasm"


def sentiment_series(texts: pd.Series) -> pd.DataFrame:
    """Score every message of a Series; missing values score as empty messages.

    Returns a DataFrame with columns ``score`` and ``label`` and the same index.

    >>> import pandas as pd
    >>> sentiment_series(pd.Series(["五星好评！", "在吗", None], index=[3, 5, 8]))
          score label
    3  0.761594   pos
    5  0.000000   neu
    8  0.000000   neu
    """
    import pandas as pd

    scores, labels = [], []
    for index, value in texts.items():
        if value is None or (isinstance(value, float) and math.isnan(value)):
            value = ""
        elif not isinstance(value, str):
            raise ValueError(
                f"sentiment_series: row {index!r} holds {type(value).__name__}, expected str"
            )
        result = sentiment(value)
        scores.append(result.score)
        labels.append(result.label)
    return pd.DataFrame({"score": scores, "label": labels}, index=texts.index)


class _CallableModule(types.ModuleType):
    """Lets ``kit.sentiment(text)`` work even when ``kit.sentiment`` is this module (which
    happens once ``import kit.sentiment`` has run, whatever ``kit/__init__.py`` re-exports)."""

    def __call__(self, text: str) -> SentimentResult:
        return sentiment(text)


sys.modules[__name__].__class__ = _CallableModule

_MESSAGE_COLUMNS = ("dialogue_id", "turn", "ts", "role", "text")
_TRAJECTORY_COLUMNS = [
    "dialogue_id", "turn", "ts", "text", "score", "label", "agent_turn", "agent_text",
]


def _check_messages(messages: pd.DataFrame, caller: str) -> None:
    missing = [c for c in _MESSAGE_COLUMNS if c not in messages.columns]
    if missing:
        raise ValueError(f"{caller}: messages lack column(s) {missing}")


def mood_trajectory(
    messages: pd.DataFrame, *, agent_roles: tuple[str, ...] = ("agent",)
) -> pd.DataFrame:
    """Sentiment of each customer message, dialogue by dialogue, with the agent message
    that preceded it.

    Args:
        messages: a Message DataFrame (columns ``dialogue_id, turn, ts, role, text``; see
            ``kit.dialogues``). Messages are taken in ``turn`` order within each dialogue,
            dialogues in order of first appearance.
        agent_roles: roles counted as "the agent message before" (add ``"bot"`` to include
            auto-replies).

    Returns:
        One row per customer message: ``dialogue_id, turn, ts, text, score, label,
        agent_turn`` (nullable Int64), ``agent_text`` (None when no agent spoke before).

    >>> import pandas as pd
    >>> msgs = pd.DataFrame({
    ...     "dialogue_id": ["d1"] * 3, "turn": [0, 1, 2],
    ...     "ts": pd.to_datetime(["2026-03-02 10:00", "2026-03-02 10:01", "2026-03-02 10:02"]),
    ...     "role": ["customer", "agent", "customer"],
    ...     "text": ["怎么还没发货？？", "亲，已经为您加急了", "好的谢谢"]})
    >>> mood_trajectory(msgs)[["turn", "label", "agent_turn"]]
       turn label  agent_turn
    0     0   neg        <NA>
    1     2   pos           1
    """
    import pandas as pd

    _check_messages(messages, "mood_trajectory")
    rows = []
    ordered = messages.assign(_order=range(len(messages))).sort_values(
        ["turn", "_order"], kind="stable"
    )
    for dialogue_id, group in ordered.groupby("dialogue_id", sort=False):
        agent_turn = agent_text = None
        for turn, ts, role, text in zip(
            group["turn"], group["ts"], group["role"], group["text"], strict=True
        ):
            if role in agent_roles:
                agent_turn, agent_text = turn, text
            elif role == "customer":
                result = sentiment(text if isinstance(text, str) else "")
                rows.append((dialogue_id, turn, ts, text, result.score, result.label,
                             agent_turn, agent_text))
    first_seen = {d: i for i, d in enumerate(pd.unique(messages["dialogue_id"]))}
    rows.sort(key=lambda r: first_seen[r[0]])  # stable: keeps turn order inside a dialogue
    frame = pd.DataFrame(rows, columns=_TRAJECTORY_COLUMNS)
    if not rows:
        frame["ts"] = messages["ts"].iloc[:0].reset_index(drop=True)
    frame["score"] = frame["score"].astype(float)
    frame["agent_turn"] = frame["agent_turn"].astype("Int64")
    frame["agent_text"] = frame["agent_text"].astype(object)
    return frame


def turning_points(
    messages: pd.DataFrame,
    threshold: float = 0.5,
    *,
    agent_roles: tuple[str, ...] = ("agent",),
) -> pd.DataFrame:
    """Where a customer's mood drops or recovers, with the agent message before it.

    A turning point is a customer message whose score differs by at least ``threshold``
    from the same customer's previous message in the dialogue.

    Args:
        messages: a Message DataFrame (see :func:`mood_trajectory`).
        threshold: the smallest score change that counts, in (0, 2].
        agent_roles: as in :func:`mood_trajectory`.

    Returns:
        Columns ``dialogue_id, turn, ts, text, previous_score, score, delta, direction``
        (``"drop"`` or ``"recover"``), ``agent_turn, agent_text`` — the agent message that
        preceded the change, its likely cause.

    Raises:
        ValueError: if ``threshold`` is outside (0, 2] or columns are missing.

    >>> import pandas as pd
    >>> msgs = pd.DataFrame({
    ...     "dialogue_id": ["d1"] * 4, "turn": [0, 1, 2, 3],
    ...     "ts": pd.to_datetime(["2026-03-02 10:00"] * 4),
    ...     "role": ["customer", "agent", "customer", "customer"],
    ...     "text": ["在吗", "不知道，你自己查", "什么态度！！", "算了"]})
    >>> turning_points(msgs)[["turn", "direction", "agent_text"]]
       turn direction agent_text
    0     2      drop   不知道，你自己查
    """
    import pandas as pd

    if not (isinstance(threshold, (int, float)) and 0 < threshold <= 2):
        raise ValueError(f"turning_points: threshold must be in (0, 2], got {threshold!r}")
    trajectory = mood_trajectory(messages, agent_roles=agent_roles)
    previous = trajectory.groupby("dialogue_id", sort=False)["score"].shift(1)
    delta = trajectory["score"] - previous
    mask = delta.abs() >= threshold
    points = trajectory.loc[mask, ["dialogue_id", "turn", "ts", "text"]].copy()
    points["previous_score"] = previous[mask]
    points["score"] = trajectory.loc[mask, "score"]
    points["delta"] = delta[mask]
    points["direction"] = pd.Series("drop", index=points.index).where(
        points["delta"] < 0, "recover"
    )
    points["agent_turn"] = trajectory.loc[mask, "agent_turn"]
    points["agent_text"] = trajectory.loc[mask, "agent_text"]
    return points.reset_index(drop=True)
