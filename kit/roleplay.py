"""Role-play with scripted customers: deterministic state machines driven by the rubric.

A *persona* (one YAML file in ``datasets/personas/``) is a customer with a problem, a
starting mood, opening messages and a set of states. In every state, ordered *reactions*
map features of the trainee's reply — the rubric's verdict (:func:`kit.rubric.score_reply`),
rules that fired, words it mentions, how long the trainee took — to a change of mood, the
next state and what the customer says next. The first reaction whose conditions all hold
decides; nothing is random, so replaying the same replies gives the same chat.

A :class:`Session` plays one chat. It is plain Python (tests and graders drive it with
scripted replies); ``kit.widgets.RolePlay`` puts a chat window on top of it and passes in
the trainee's measured response time.

>>> s = Session(load_persona("anxious_late_parcel"))
>>> s.opening()[0]
'在吗？'
>>> turn = s.reply("非常抱歉让您着急了！我刚查了，包裹在杭州转运中心停了三天，"
...                "我已经联系快递加急，今天18点前给您回复进展。", response_s=40)
>>> turn.mood_after > turn.mood_before, turn.state, turn.ended
(True, 'waiting', False)
>>> s.reply("加我微信，我私下补偿您").outcome
'red_line'
>>> s.result().score
0
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit import rubric

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

PERSONAS_DIR = "personas"
CHANNELS: tuple[str, ...] = ("taobao", "jd", "douyin", "pdd", "wechat", "other")
TERMINAL_OUTCOMES: tuple[str, ...] = ("resolved", "escalated", "customer_left", "red_line")
"""Outcomes a terminal state of a persona can declare."""
OUTCOMES: tuple[str, ...] = (*TERMINAL_OUTCOMES, "out_of_turns")
OUTCOME_LABELS: dict[str, str] = {
    "resolved": "问题解决",
    "escalated": "客户升级投诉",
    "customer_left": "客户离开",
    "red_line": "触碰红线",
    "out_of_turns": "轮数用尽，未能解决",
}

# How Session.result() scores a chat (documented in datasets/README.md).
REPLY_WEIGHT = 0.7
"""Share of the score that is the mean rubric total of the trainee's replies."""
OUTCOME_WEIGHT = 0.3
"""Share of the score that is the outcome's points (:data:`OUTCOME_POINTS`)."""
OUTCOME_POINTS: dict[str, int] = {
    "resolved": 100,
    "out_of_turns": 40,
    "escalated": 0,
    "customer_left": 0,
    "red_line": 0,
}
SLOW_REPLY_S = 180.0
"""A reply slower than this (the platforms' 3-minute reply rule) costs :data:`SLOW_PENALTY`."""
SLOW_PENALTY = 5

MEASURES: tuple[str, ...] = ("total", "mood", *rubric.DIMENSIONS)
"""What ``when: {min: {...}, max: {...}}`` can bound: the rubric total (0–100), the
customer's mood before the reply (−1…1) and each rubric dimension (0–1)."""

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_KEYS = {"id", "name", "summary", "scenario", "channel", "mood", "background", "facts",
             "goal", "opening", "give_up", "every_state", "states"}
_REQUIRED_TOP = _TOP_KEYS - {"every_state"}
_STATE_KEYS = {"label", "scenario", "reactions", "outcome"}
_REACTION_KEYS = {"when", "mood", "next", "say", "why", "continue"}
_WHEN_KEYS = {"red_line", "passed", "rule", "not_rule", "mentions_any", "mentions_none",
              "slow_reply_s", "min", "max"}


class PersonaError(ValueError):
    """A persona file is invalid; the message names the file, the line and the field."""


class ChatEnded(RuntimeError):
    """:meth:`Session.reply` was called after the chat ended."""


# --------------------------------------------------------------------------- persona model
@dataclass(frozen=True)
class Condition:
    """The ``when`` of a reaction: every key given must hold (an empty one always holds)."""

    red_line: bool | None = None
    passed: bool | None = None
    rule: tuple[str, ...] = ()
    not_rule: tuple[str, ...] = ()
    mentions_any: tuple[str, ...] = ()
    mentions_none: tuple[str, ...] = ()
    slow_reply_s: float | None = None
    min: Mapping[str, float] = field(default_factory=dict)
    max: Mapping[str, float] = field(default_factory=dict)

    @property
    def is_default(self) -> bool:
        """True when the condition has no keys (the fallback reaction)."""
        return self == Condition()

    def holds(self, facts: _Facts) -> bool:
        """Whether the reply described by ``facts`` meets every key."""
        score = facts.score
        checks = (
            self.red_line is None or bool(score.red_lines) == self.red_line,
            self.passed is None or score.passed == self.passed,
            not self.rule or any(r in facts.fired for r in self.rule),
            not any(r in facts.fired for r in self.not_rule),
            not self.mentions_any or any(w.casefold() in facts.text for w in self.mentions_any),
            not any(w.casefold() in facts.text for w in self.mentions_none),
            self.slow_reply_s is None
            or (facts.response_s is not None and facts.response_s >= self.slow_reply_s),
            all(facts.measure(k) >= v for k, v in self.min.items()),
            all(facts.measure(k) <= v for k, v in self.max.items()),
        )
        return all(checks)


@dataclass(frozen=True)
class Reaction:
    """One rule of a state: if ``when`` holds, move the mood by ``mood``, go to ``next``
    (``None``: stay) and say one of the ``say`` variants (each a tuple of messages).

    A ``cont`` reaction (``continue: true``) applies its mood and words, then matching goes
    on to the next reactions (used for "you took long" irritation on top of the answer).
    """

    when: Condition
    mood: float
    next: str | None
    say: tuple[tuple[str, ...], ...]
    why: str
    cont: bool = False
    key: str = ""


@dataclass(frozen=True)
class State:
    """A state of the customer. Terminal states have an ``outcome`` and no reactions;
    ``scenario`` is the rubric scenario replies are scored against in this state."""

    name: str
    label: str
    scenario: str | None
    reactions: tuple[Reaction, ...] = ()
    outcome: str | None = None

    @property
    def terminal(self) -> bool:
        return self.outcome is not None


@dataclass(frozen=True)
class Persona:
    """A scripted customer, read from ``datasets/personas/<id>.yaml``.

    What the trainee may see before the chat: ``name``, ``summary``, ``background``,
    ``facts`` (order, product and the policy the agent may offer) and ``goal``.
    """

    id: str
    name: str
    summary: str
    scenario: str
    channel: str
    mood: float
    background: str
    facts: tuple[str, ...]
    goal: str
    opening: tuple[str, ...]
    give_up: tuple[tuple[str, ...], ...]
    every_state: tuple[Reaction, ...]
    states: Mapping[str, State]
    start: str
    path: str = ""

    def reactions(self, state: str) -> tuple[Reaction, ...]:
        """The reactions tried in ``state``: ``every_state`` first, then the state's own."""
        return self.every_state + self.states[state].reactions

    def briefing(self) -> str:
        """What the trainee reads before the chat (Chinese, plain text).

        >>> print(load_persona("bargain_hunter").briefing().splitlines()[0])
        顾客：赵姐（抖音小店）
        """
        lines = [f"顾客：{self.name}（{_CHANNEL_LABELS[self.channel]}）", self.background,
                 "你能看到、能做的："]
        lines += [f"· {fact}" for fact in self.facts]
        lines.append(f"目标：{self.goal}")
        return "\n".join(lines)


_CHANNEL_LABELS = {"taobao": "淘宝", "jd": "京东", "douyin": "抖音小店", "pdd": "拼多多",
                   "wechat": "微信小程序", "other": "其他渠道"}


# --------------------------------------------------------------------------- reading files
class _Source:
    """A persona file's path and YAML node tree, to name the line of a field in errors."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.text = text

    def error(self, where: Sequence[str | int], message: str) -> PersonaError:
        dotted = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in where)
        line = self._line(where)
        loc = f"{self.path}:{line}" if line else str(self.path)
        return PersonaError(f"{loc}: field {dotted.lstrip('.') or '(top level)'}: {message}")

    def _line(self, where: Sequence[str | int]) -> int | None:
        """Parsed again only when there is an error to report (loading stays fast)."""
        import yaml

        node = yaml.compose(self.text, Loader=_loader())
        found = node
        for key in where:
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if k.value == key), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
                node = node.value[key] if key < len(node.value) else None
            else:
                node = None
            if node is None:
                break
            found = node
        return found.start_mark.line + 1 if found is not None else None


class _Parser:
    def __init__(self, src: _Source):
        self.src = src
        settings = rubric.default_settings()
        self.scenarios = set(settings.scenarios)
        self.rule_ids = {r.id for r in rubric.rules()}
        self.rule_ids |= {f"require.{name}" for name in settings.elements}

    def fail(self, where: Sequence[str | int], message: str) -> PersonaError:
        return self.src.error(where, message)

    def mapping(self, value: Any, where: list, keys: set[str]) -> dict:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a mapping, got {type(value).__name__}")
        unknown = sorted(set(value) - keys, key=str)
        if unknown:
            raise self.fail([*where, unknown[0]],
                            f"unknown key {unknown[0]!r}; known keys: {sorted(keys)}")
        return value

    def text(self, value: Any, where: list) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"expected a non-empty string, got {value!r}")
        return value.strip()

    def texts(self, value: Any, where: list) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.fail(where, f"expected a non-empty list of strings, got {value!r}")
        return tuple(self.text(v, [*where, i]) for i, v in enumerate(value))

    def number(self, value: Any, where: list, low: float, high: float) -> float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or not (low <= value <= high):
            raise self.fail(where, f"expected a number between {low:g} and {high:g}, "
                                   f"got {value!r}")
        return float(value)

    def flag(self, value: Any, where: list) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, f"expected true or false, got {value!r}")
        return value

    def variants(self, value: Any, where: list) -> tuple[tuple[str, ...], ...]:
        """``say``: a list of variants; a variant is one message or a list of messages."""
        if not isinstance(value, list) or not value:
            raise self.fail(where, "expected a non-empty list of message variants")
        return tuple(self.texts(v, [*where, i]) for i, v in enumerate(value))

    def rule_list(self, value: Any, where: list) -> tuple[str, ...]:
        ids = self.texts(value, where)
        for i, rule_id in enumerate(ids):
            if rule_id not in self.rule_ids:
                raise self.fail([*where, i] if isinstance(value, list) else where,
                                f"unknown rubric rule id {rule_id!r} (see docs/rubric-rules.md)")
        return ids

    def bounds(self, value: Any, where: list) -> dict[str, float]:
        spec = self.mapping(value, where, set(MEASURES))
        ranges = {"total": (0, 100), "mood": (-1, 1)}
        return {k: self.number(v, [*where, k], *ranges.get(k, (0, 1))) for k, v in spec.items()}

    def condition(self, value: Any, where: list) -> Condition:
        if value is None:
            return Condition()
        spec = self.mapping(value, where, _WHEN_KEYS)
        out: dict[str, Any] = {}
        for key in ("red_line", "passed"):
            if key in spec:
                out[key] = self.flag(spec[key], [*where, key])
        for key in ("rule", "not_rule"):
            if key in spec:
                out[key] = self.rule_list(spec[key], [*where, key])
        for key in ("mentions_any", "mentions_none"):
            if key in spec:
                out[key] = self.texts(spec[key], [*where, key])
        if "slow_reply_s" in spec:
            out["slow_reply_s"] = self.number(spec["slow_reply_s"], [*where, "slow_reply_s"],
                                              1, 3600)
        for key in ("min", "max"):
            if key in spec:
                out[key] = self.bounds(spec[key], [*where, key])
        return Condition(**out)

    def reaction(self, value: Any, where: list, key: str) -> Reaction:
        spec = self.mapping(value, where, _REACTION_KEYS)
        for required in ("mood", "why"):
            if required not in spec:
                raise self.fail(where, f"missing key {required!r}")
        cont = self.flag(spec.get("continue", False), [*where, "continue"])
        if cont and "next" in spec:
            raise self.fail([*where, "next"], "a 'continue: true' reaction cannot change state")
        if not cont and "say" not in spec:
            raise self.fail(where, "missing key 'say' (the customer always answers)")
        nxt = spec.get("next")
        if nxt is not None and not isinstance(nxt, str):
            raise self.fail([*where, "next"], f"expected a state name, got {nxt!r}")
        return Reaction(
            when=self.condition(spec.get("when"), [*where, "when"]),
            mood=self.number(spec["mood"], [*where, "mood"], -2, 2),
            next=nxt,
            say=self.variants(spec["say"], [*where, "say"]) if "say" in spec else (),
            why=self.text(spec["why"], [*where, "why"]),
            cont=cont,
            key=key,
        )

    def reactions(self, value: Any, where: list, prefix: str) -> tuple[Reaction, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(where, "expected a non-empty list of reactions")
        return tuple(self.reaction(v, [*where, i], f"{prefix}:{i}") for i, v in enumerate(value))

    def state(self, name: Any, value: Any, scenario: str) -> State:
        where = ["states", name]
        if not isinstance(name, str) or not _ID.match(name):
            raise self.fail(where, f"state names are lower_snake_case, got {name!r}")
        spec = self.mapping(value, where, _STATE_KEYS)
        label = self.text(spec.get("label"), [*where, "label"])
        state_scenario = spec.get("scenario", scenario)
        if state_scenario is not None and state_scenario not in self.scenarios:
            raise self.fail([*where, "scenario"], f"unknown scenario {state_scenario!r}; "
                                                  f"known: {sorted(self.scenarios)} or null")
        if ("outcome" in spec) == ("reactions" in spec):
            raise self.fail(where, "a state has either 'reactions' or an 'outcome' (terminal)")
        if "outcome" in spec:
            if spec["outcome"] not in TERMINAL_OUTCOMES:
                raise self.fail([*where, "outcome"],
                                f"expected one of {TERMINAL_OUTCOMES}, got {spec['outcome']!r}")
            return State(name, label, state_scenario, outcome=spec["outcome"])
        reactions = self.reactions(spec["reactions"], [*where, "reactions"], name)
        last = len(reactions) - 1
        if not reactions[last].when.is_default or reactions[last].cont:
            raise self.fail([*where, "reactions", last],
                            "the last reaction of a state must be the fallback: no 'when', "
                            "no 'continue'")
        return State(name, label, state_scenario, reactions)

    def persona(self, data: Any) -> Persona:
        spec = self.mapping(data, [], _TOP_KEYS)
        missing = sorted(_REQUIRED_TOP - set(spec))
        if missing:
            raise self.fail([], f"missing key {missing[0]!r}")
        pid = self.text(spec["id"], ["id"])
        if not _ID.match(pid):
            raise self.fail(["id"], f"ids are lower_snake_case, got {pid!r}")
        if pid != self.src.path.stem:
            raise self.fail(["id"], f"id {pid!r} must equal the file name "
                                    f"{self.src.path.stem!r}")
        scenario = spec["scenario"]
        if scenario not in self.scenarios:
            raise self.fail(["scenario"], f"unknown scenario {scenario!r}; known: "
                                          f"{sorted(self.scenarios)}")
        if spec["channel"] not in CHANNELS:
            raise self.fail(["channel"], f"expected one of {CHANNELS}, got {spec['channel']!r}")
        every = ()
        if spec.get("every_state") is not None:
            every = self.reactions(spec["every_state"], ["every_state"], "*")
            for i, reaction in enumerate(every):
                if reaction.when.is_default:
                    raise self.fail(["every_state", i, "when"], "an every_state reaction needs "
                                    "a 'when' (it would hide every state's own reactions)")
        raw_states = spec["states"]
        if not isinstance(raw_states, dict) or not raw_states:
            raise self.fail(["states"], "expected a mapping of state name → state")
        states = {name: self.state(name, value, scenario) for name, value in raw_states.items()}
        persona = Persona(
            id=pid,
            name=self.text(spec["name"], ["name"]),
            summary=self.text(spec["summary"], ["summary"]),
            scenario=scenario,
            channel=spec["channel"],
            mood=self.number(spec["mood"], ["mood"], -1, 1),
            background=self.text(spec["background"], ["background"]),
            facts=self.texts(spec["facts"], ["facts"]),
            goal=self.text(spec["goal"], ["goal"]),
            opening=self.texts(spec["opening"], ["opening"]),
            give_up=self.variants(spec["give_up"], ["give_up"]),
            every_state=every,
            states=states,
            start=next(iter(states)),
            path=str(self.src.path),
        )
        self.check_graph(persona)
        return persona

    def check_graph(self, persona: Persona) -> None:
        """Every ``next`` names a state; the start is not terminal; every state reacts to a
        red line by ending the chat with outcome ``red_line``; ``resolved`` can be reached."""
        states = persona.states
        if states[persona.start].terminal:
            raise self.fail(["states", persona.start], "the first state listed is where the "
                            "chat starts; it cannot be terminal")
        for i, r in enumerate(persona.every_state):
            if r.next is not None and r.next not in states:
                raise self.fail(["every_state", i, "next"], f"unknown state {r.next!r}")
        for state in states.values():
            for i, r in enumerate(state.reactions):
                if r.next is not None and r.next not in states:
                    raise self.fail(["states", state.name, "reactions", i, "next"],
                                    f"unknown state {r.next!r}; states: {sorted(states)}")
        for state in states.values():
            if state.terminal:
                continue
            ends = [r for r in persona.reactions(state.name) if r.when.red_line and r.next
                    and states[r.next].outcome == "red_line"]
            if not ends:
                raise self.fail(["states", state.name], "no reaction to a red line: add one "
                                "(here or in every_state) with when: {red_line: true} and "
                                "next: a state whose outcome is red_line")
        seen, todo = {persona.start}, [persona.start]
        while todo:
            for r in persona.reactions(todo.pop()):
                if r.next and r.next not in seen and r.next in states:
                    seen.add(r.next)
                    if not states[r.next].terminal:
                        todo.append(r.next)
        if not any(states[s].outcome == "resolved" for s in seen):
            raise self.fail(["states"], "no state with outcome 'resolved' can be reached from "
                            f"the start state {persona.start!r}")


def _loader() -> type:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_persona(path: str | Path) -> Persona:
    """Read and validate a persona file (an instructor's own file, anywhere).

    Raises:
        PersonaError: naming the file, line and field of the first problem.

    >>> read_persona(dataset_dir() / "refund_regular.yaml").scenario
    'refund'
    """
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PersonaError(f"{path}: persona file not found") from None
    try:
        data = yaml.load(text, Loader=_loader())  # a SafeLoader (C version if built)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise PersonaError(f"{where}: invalid YAML: {exc}") from None
    return _Parser(_Source(path, text)).persona(data)


def dataset_dir() -> Path:
    """The folder of the course's persona files (``datasets/personas``)."""
    from kit.datasets import dataset_path

    return dataset_path(PERSONAS_DIR)


def list_personas() -> list[Persona]:
    """Every persona of the course, in file-name order.

    >>> [p.scenario for p in list_personas()][:3]
    ['quality_complaint', 'logistics_delay', 'bargain']
    """
    return [read_persona(p) for p in sorted(dataset_dir().glob("*.yaml"))]


def load_persona(persona_id: str) -> Persona:
    """The course persona ``persona_id`` (a file name in ``datasets/personas`` without .yaml).

    Raises:
        ValueError: for an unknown id, listing the known ones.
    """
    path = dataset_dir() / f"{persona_id}.yaml"
    if not _ID.match(str(persona_id)) or not path.exists():
        known = sorted(p.stem for p in dataset_dir().glob("*.yaml"))
        raise ValueError(f"unknown persona {persona_id!r}; known: {known}")
    return read_persona(path)


# --------------------------------------------------------------------------- playing
@dataclass(frozen=True)
class _Facts:
    """What reactions look at: the rubric result, the reply, the response time, the mood."""

    score: rubric.ReplyScore
    fired: frozenset[str]
    text: str
    response_s: float | None
    mood: float

    def measure(self, key: str) -> float:
        if key == "total":
            return self.score.total
        if key == "mood":
            return self.mood
        return self.score.dimensions[key].score


@dataclass(frozen=True)
class Turn:
    """One reply of the trainee and what it caused."""

    index: int
    """0-based number of the reply in the chat."""
    reply: str
    score: rubric.ReplyScore
    response_s: float | None
    mood_before: float
    mood_after: float
    state_before: str
    state: str
    customer: tuple[str, ...]
    """What the customer says next (their closing words when the chat ended)."""
    reason: str
    """Why the customer reacted so (Chinese, from the persona's ``why`` notes)."""
    ended: bool
    outcome: str | None


@dataclass(frozen=True)
class _Message:
    """One line of the chat, as kept for the transcript."""

    role: str
    text: str
    round: int
    mood: float
    state: str
    total: int | None = None
    response_s: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Result:
    """The verdict on a whole chat (see :meth:`Session.result` for how it is computed)."""

    persona_id: str
    outcome: str | None
    outcome_label: str
    replies: int
    score: int
    passed: bool
    pass_mark: int
    reply_mean: float
    outcome_points: int
    slow_replies: int
    moods: tuple[float, ...]
    """The customer's mood at the start and after each reply."""
    response_s: tuple[float | None, ...]
    dimension_means: dict[str, float]
    weakest: str | None
    tip: str
    summary: str


def mood_label(mood: float) -> str:
    """A Chinese word for a mood in −1…1.

    >>> mood_label(-0.8), mood_label(0.0), mood_label(0.7)
    ('非常不满', '平静', '非常满意')
    """
    for bound, label in ((-0.6, "非常不满"), (-0.2, "有些不满"), (0.2, "平静"), (0.6, "比较满意")):
        if mood < bound:
            return label
    return "非常满意"


def _clamp(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


class Session:
    """One role-play chat with a persona.

    Args:
        persona: a :class:`Persona` or a persona id.
        pass_mark: the chat score needed to pass (0–100); the rubric's pass mark by default.
        max_turns: replies allowed before the chat ends with outcome ``out_of_turns``.
        settings: rubric settings (:func:`kit.rubric.load_settings`) for scoring replies.

    The customer has spoken first: :meth:`opening` (and :attr:`customer_messages`) is what
    the trainee answers with :meth:`reply`.
    """

    def __init__(self, persona: Persona | str, *, pass_mark: int | None = None,
                 max_turns: int = 8, settings: rubric.Settings | None = None):
        self.persona = load_persona(persona) if isinstance(persona, str) else persona
        if not isinstance(self.persona, Persona):
            raise TypeError(f"persona must be a Persona or an id, got {type(persona).__name__}")
        if isinstance(max_turns, bool) or not isinstance(max_turns, int) or max_turns < 1:
            raise ValueError(f"max_turns must be an int ≥ 1, got {max_turns!r}")
        self.settings = settings or rubric.default_settings()
        mark = self.settings.pass_mark if pass_mark is None else pass_mark
        if isinstance(mark, bool) or not isinstance(mark, (int, float)) or not 0 <= mark <= 100:
            raise ValueError(f"pass_mark must be a number between 0 and 100, got {mark!r}")
        self.pass_mark = round(mark)
        self.max_turns = max_turns
        self.state = self.persona.start
        self.mood = self.persona.mood
        self.outcome: str | None = None
        self._turns: list[Turn] = []
        self._fired: Counter[str] = Counter()
        self._messages = [_Message("customer", text, 1, self.mood, self.state)
                          for text in self.persona.opening]
        self._pending = self.persona.opening

    @property
    def ended(self) -> bool:
        """True once the chat is over (see :attr:`outcome`)."""
        return self.outcome is not None

    @property
    def turns(self) -> tuple[Turn, ...]:
        """The trainee's replies so far, with what each caused."""
        return tuple(self._turns)

    @property
    def customer_messages(self) -> tuple[str, ...]:
        """The customer's latest messages: the ones the next reply answers (or their last
        words once the chat has ended)."""
        return self._pending

    def opening(self) -> tuple[str, ...]:
        """The customer's opening messages."""
        return self.persona.opening

    def reply(self, text: str, response_s: float | None = None) -> Turn:
        """Send the trainee's reply; the customer reacts.

        Args:
            text: the reply (any string).
            response_s: seconds the trainee took to answer (measured by the UI), if known.

        Raises:
            ChatEnded: if the chat is over.
            TypeError: if ``text`` is not a string.
            ValueError: if ``response_s`` is negative or not a finite number.
        """
        if self.ended:
            raise ChatEnded(f"the chat with {self.persona.id} has ended "
                            f"(outcome {self.outcome}); start a new Session")
        if not isinstance(text, str):
            raise TypeError(f"reply must be a str, got {type(text).__name__}")
        if response_s is not None:
            ok = isinstance(response_s, (int, float)) and not isinstance(response_s, bool)
            if not ok or not math.isfinite(response_s) or response_s < 0:
                raise ValueError(f"response_s must be a finite number ≥ 0 or None, "
                                 f"got {response_s!r}")
            response_s = float(response_s)
        state = self.persona.states[self.state]
        score = rubric.score_reply(text, customer="\n".join(self._pending),
                                   scenario=state.scenario, settings=self.settings)
        facts = _Facts(score, frozenset(h.rule_id for h in score.hits), text.casefold(),
                       response_s, self.mood)
        delta, said, why, nxt = 0.0, [], [], None
        for reaction in self.persona.reactions(self.state):
            if not reaction.when.holds(facts):
                continue
            delta += reaction.mood
            if reaction.say:
                said += self._pick(reaction.key, reaction.say)
            why.append(reaction.why)
            if not reaction.cont:
                nxt = reaction.next
                break
        index = len(self._turns)
        mood_before, state_before = self.mood, self.state
        self.mood = round(_clamp(self.mood + delta, -1.0, 1.0), 3)
        self.state = nxt or self.state
        rnd = index + 1
        self._messages.append(_Message("agent", text, rnd, mood_before, state_before,
                                      score.total, response_s))
        new_state = self.persona.states[self.state]
        if new_state.terminal:
            self.outcome = new_state.outcome
        elif index + 1 >= self.max_turns:
            self.outcome = "out_of_turns"
            said += self._pick("give_up", self.persona.give_up)
            why.append(f"已经回复了 {self.max_turns} 轮还没解决，客户不想再聊了")
        reason = "；".join(why)
        self._messages += [_Message("customer", line, rnd + 1, self.mood, self.state,
                                   note=reason if i == 0 else "")
                           for i, line in enumerate(said)]
        self._pending = tuple(said)
        turn = Turn(index, text, score, response_s, mood_before, self.mood, state_before,
                    self.state, tuple(said), reason, self.ended, self.outcome)
        self._turns.append(turn)
        return turn

    def _pick(self, key: str, variants: tuple[tuple[str, ...], ...]) -> list[str]:
        """A variant chosen by cycling from a start fixed by persona id and reaction."""
        seed = zlib.crc32(f"{self.persona.id}|{key}".encode())
        count = self._fired[key]
        self._fired[key] += 1
        return list(variants[(seed + count) % len(variants)])

    def transcript(self) -> pd.DataFrame:
        """The chat, one row per message.

        Columns: ``turn`` (0-based message index), ``round`` (1-based: a round is the
        customer's messages and the reply to them), ``role`` (customer | agent), ``text``,
        ``t_s`` (seconds since the chat opened, from the response times; NaN once one is
        unknown; the scripted customer answers at once), ``mood`` (the customer's mood:
        when saying the message, or faced by the agent's reply), ``state``, ``total``
        (rubric total of agent replies, nullable Int64), ``response_s`` and ``note`` (why
        the customer reacted so, on the first message of a reaction).
        """
        import pandas as pd

        rows, clock = [], 0.0
        for i, m in enumerate(self._messages):
            if m.role == "agent":
                clock = clock + m.response_s if m.response_s is not None else math.nan
            rows.append({"turn": i, "round": m.round, "role": m.role, "text": m.text,
                         "t_s": clock, "mood": m.mood, "state": m.state, "total": m.total,
                         "response_s": m.response_s, "note": m.note})
        df = pd.DataFrame(rows, columns=["turn", "round", "role", "text", "t_s", "mood",
                                         "state", "total", "response_s", "note"])
        df["total"] = df["total"].astype("Int64")
        df["response_s"] = df["response_s"].astype(float)
        return df

    def result(self) -> Result:
        """Score the chat (it may still be going on: its outcome is then ``None``).

        ``score = 0.7 × mean rubric total of the replies + 0.3 × outcome points``
        (resolved 100, out of turns 40, escalated or customer left 0), minus 5 for each
        reply slower than 180 s, clamped to 0–100; a red line makes it 0. ``passed`` is
        ``score ≥ pass_mark``.
        """
        turns = self._turns
        totals = [t.score.total for t in turns]
        reply_mean = sum(totals) / len(totals) if totals else 0.0
        points = OUTCOME_POINTS.get(self.outcome, 0) if self.outcome else 0
        slow = sum(1 for t in turns if t.response_s is not None and t.response_s > SLOW_REPLY_S)
        raw = REPLY_WEIGHT * reply_mean + OUTCOME_WEIGHT * points - SLOW_PENALTY * slow
        score = 0 if self.outcome == "red_line" else round(_clamp(raw, 0, 100))
        means = {d: round(sum(t.score.dimensions[d].score for t in turns) / len(turns), 3)
                 for d in rubric.DIMENSIONS} if turns else {}
        weakest = min(means, key=means.__getitem__) if means else None
        tip = self._tip(weakest)
        moods = (self.persona.mood, *(t.mood_after for t in turns))
        passed = bool(turns) and score >= self.pass_mark
        label = OUTCOME_LABELS[self.outcome] if self.outcome else "对话进行中"
        result = Result(self.persona.id, self.outcome, label, len(turns), score, passed,
                        self.pass_mark, round(reply_mean, 1), points, slow, moods,
                        tuple(t.response_s for t in turns), means, weakest, tip, "")
        return _with_summary(result, self.settings)

    def _tip(self, weakest: str | None) -> str:
        """The red line's hint if one was crossed; else the commonest hint on the weakest
        dimension."""
        for turn in self._turns:
            for hit in turn.score.hits:
                if hit.dimension == rubric.RED_LINE and hit.hint:
                    return hit.hint
        if weakest is None:
            return ""
        hints = Counter(t.score.dimensions[weakest].hint for t in self._turns
                        if t.score.dimensions[weakest].hint)
        return hints.most_common(1)[0][0] if hints else ""


def _with_summary(r: Result, settings: rubric.Settings) -> Result:
    if not r.replies:
        summary = f"还没有回复。客户情绪：{r.moods[0]:+.2f}（{mood_label(r.moods[0])}）。"
        return replace(r, summary=summary)
    verdict = "通过" if r.passed else "未通过"
    lines = [f"结果：{r.outcome_label}（共 {r.replies} 轮回复）。",
             f"得分：{r.score}/100，{verdict}（及格线 {r.pass_mark}）。",
             f"客户情绪：{r.moods[0]:+.2f}（{mood_label(r.moods[0])}）→ "
             f"{r.moods[-1]:+.2f}（{mood_label(r.moods[-1])}）。"]
    timed = [s for s in r.response_s if s is not None]
    if timed:
        lines.append(f"回复用时：平均 {sum(timed) / len(timed):.0f} 秒，最慢 {max(timed):.0f} 秒，"
                     f"超过3分钟 {r.slow_replies} 次。")
    if r.outcome == "red_line":
        lines.append(f"本次触碰红线，得分为 0。{r.tip}")
    elif r.weakest is not None:
        label = settings.labels.get(r.weakest, r.weakest)
        mean = r.dimension_means[r.weakest]
        if r.tip:
            lines.append(f"最弱维度：{label}（平均 {mean:.2f}）。建议：{r.tip}")
        else:
            lines.append(f"各维度都不错，相对最弱的是{label}（平均 {mean:.2f}），继续保持。")
    return replace(r, summary="\n".join(lines))


def play(persona: Persona | str, replies: Iterable[str], *,
         response_s: Iterable[float | None] | None = None, **session_args: Any) -> Session:
    """Play scripted ``replies`` (optionally with their response times) until the chat ends.

    Replies left over once the chat has ended are not used (``len(session.turns)`` tells how
    many were). ``session_args`` go to :class:`Session` (``pass_mark``, ``max_turns``,
    ``settings``).

    >>> s = play("bargain_hunter", ["爱买不买"])
    >>> s.outcome, s.result().passed
    ('red_line', False)
    """
    session = Session(persona, **session_args)
    replies = list(replies)
    times = list(response_s) if response_s is not None else [None] * len(replies)
    if len(times) != len(replies):
        raise ValueError(f"got {len(replies)} replies but {len(times)} response times")
    for text, seconds in zip(replies, times, strict=True):
        if session.ended:
            break
        session.reply(text, seconds)
    return session
