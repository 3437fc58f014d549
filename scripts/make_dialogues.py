#!/usr/bin/env python3
"""Generate the sample dialogue corpus from the project's hand-written chat material.

Reads ``datasets/source/dialogues/*.yaml`` — settings and agents (``corpus.yaml``), shared
lines (``common.yaml``) and one file of storylines per scenario — and writes
``datasets/dialogues.jsonl`` (one dialogue per line) and ``datasets/dialogues.csv`` (one message
per row) in the format of the dialogue contract, section 1. A seeded ``random.Random`` composes
every dialogue, so the same material and seed give byte-identical files.

usage:
    python scripts/make_dialogues.py           # regenerate both files
    python scripts/make_dialogues.py --check   # exit 1 if the committed files differ
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import random
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "datasets" / "source" / "dialogues"
OUT_JSONL = REPO / "datasets" / "dialogues.jsonl"
OUT_CSV = REPO / "datasets" / "dialogues.csv"

CST = timezone(timedelta(hours=8))
SCENARIOS = ("presale", "logistics_delay", "quality_complaint", "refund", "after_sale",
             "bargain", "complaint")
CHANNELS = ("taobao", "jd", "douyin", "pdd", "wechat", "other")
CSV_COLUMNS = ("dialogue_id", "ts", "role", "text", "channel", "scenario", "agent_id", "csat",
               "resolved")
KINDS = ("good", "vague", "curt", "blame", "template", "jargon")
# how a reply kind moves the customer's mood and which customer pool answers it
REACTION = {"vague": (-1, "push"), "curt": (-2, "angry"), "blame": (-2, "angry_blame"),
            "template": (-1, "after_template"), "jargon": (-1, "confused")}
# contribution of each reply kind to the latent satisfaction behind csat
KIND_SCORE = {"good": 0.3, "recover": 0.2, "vague": -0.35, "template": -0.45, "jargon": -0.35,
              "curt": -1.0, "blame": -0.9, "wechat": -0.3}
STYLE_KEYS = ("greet", "sorry_wait", "morning", "ask_order", "ask_photo", "hold", "prefix",
              "suffix", "recover", "close", "more_help", "sorry_end", "extra", "busy",
              "wechat")
# chance that a style apologises for a long wait / greets before its first answer
SORRY_RATE = {"excellent": 0.9, "kind_slow": 1.0, "overloaded": 0.85, "steady": 0.6,
              "concise": 0.5, "template": 0.5, "newbie": 0.4, "salesy": 0.5}
PREFIX_RATE = {"excellent": 0.95, "kind_slow": 0.9, "steady": 0.55, "salesy": 0.7,
               "overloaded": 0.5, "template": 0.5, "newbie": 0.4}
PERSONAS = (("plain", 35), ("casual", 25), ("brisk", 20), ("polite", 12), ("anxious", 8))
CASUAL = (("什么", "啥", 0.7), ("怎么", "咋", 0.5), ("没有", "木有", 0.12), ("一下", "下", 0.3))
TYPOS = (("在吗", "再吗"), ("已经", "以经"), ("因为", "应为"), ("的话", "得话"), ("账", "帐"))
BRACE = re.compile(r"\{([^{}]*)\}")
SLOT_NAME = re.compile(r"[a-z_][a-z0-9_]*$")
DATE_SLOT = re.compile(r"date_(plus|minus)(\d+)$")
CONNECTORS = ("对了，", "还有，", "另外", "那", "再问下，", "哦对，", "还有个事，")
# customer pools by tone (for emoji); every other pool is negative
POSITIVE = frozenset({"calm", "thanks", "soften", "comply_wechat"})
NEUTRAL = frozenset({"leave_neutral", "proactive_reply", "give_order", "give_photo", "ack",
                     "night_extra", "wary_wechat"})
ACKS = ("好", "行", "嗯", "OK", "可以", "那", "哦", "收到")
SOFT_ACKS = ("行吧", "好吧", "那好吧", "嗯", "行")
APOLOGY = re.compile(r"抱歉|对不起|不好意思")
EMOJI = re.compile(r"\[[^\[\]]{1,3}\]")
BUILTIN_SLOTS = {"order", "tracking", "name", "wait", "queue", "wechat_id", "phone_tail",
                 "month_prev", "echo"}
TRACKING = {"中通": ("75", 12), "圆通": ("YT", 13), "韵达": ("43", 13), "申通": ("77", 13),
            "极兔": ("JT", 13), "顺丰": ("SF", 13), "邮政": ("98", 11), "京东快递": ("JDVA", 11)}


class MaterialError(ValueError):
    """The dialogue material is malformed; the message names the file and the field."""


# --------------------------------------------------------------------------- material


@dataclass(frozen=True)
class Agent:
    id: str
    name: str
    style: str
    label: str
    summary: str
    median_s: float
    sigma: float
    peak: float
    cps: float
    quality: dict[str, float]
    peak_quality: dict[str, float]
    recover: float
    close: float
    wechat: float
    channels: dict[str, float]


@dataclass(frozen=True)
class Story:
    scenario: str
    key: str
    title: str
    needs: str
    mood: int
    slots: dict[str, tuple[str, ...]]
    channels: tuple[str, ...]
    proactive: tuple[str, ...]
    open: tuple[str, ...]
    good: tuple[str, ...]
    vague: tuple[str, ...]
    curt: tuple[str, ...]
    blame: tuple[str, ...]
    jargon: tuple[str, ...]
    more: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
    accept: tuple[str, ...]


@dataclass(frozen=True)
class Material:
    settings: dict[str, Any]
    agents: tuple[Agent, ...]
    common: dict[str, Any]
    styles: dict[str, dict[str, tuple[str, ...]]]
    pools: dict[str, dict[str, tuple[str, ...]]]
    stories: dict[str, tuple[Story, ...]]


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MaterialError(f"{path}: material file missing") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise MaterialError(f"{where}: invalid YAML: {exc}") from exc


def _texts(node: Any, where: str, *, required: bool = True) -> tuple[str, ...]:
    if node is None and not required:
        return ()
    if not isinstance(node, list) or not all(isinstance(x, str) for x in node):
        raise MaterialError(f"{where}: expected a list of texts")
    if required and not node:
        raise MaterialError(f"{where}: empty list")
    return tuple(node)


def _mapping(node: Any, where: str) -> dict:
    if not isinstance(node, dict):
        raise MaterialError(f"{where}: expected a mapping")
    return node


def _weights(node: Any, where: str, allowed: Iterable[str]) -> dict[str, float]:
    node = _mapping(node, where)
    allowed = set(allowed)
    for key, value in node.items():
        if key not in allowed:
            raise MaterialError(f"{where}: unknown key {key!r} (allowed: {sorted(allowed)})")
        if not isinstance(value, (int, float)) or value < 0:
            raise MaterialError(f"{where}.{key}: expected a non-negative number")
    return {k: float(v) for k, v in node.items()}


def _agent(node: Any, where: str, styles: dict) -> Agent:
    node = _mapping(node, where)
    try:
        agent = Agent(
            id=str(node["id"]), name=str(node["name"]), style=str(node["style"]),
            label=str(node["label"]), summary=str(node["summary"]),
            median_s=float(node["median_s"]), sigma=float(node["sigma"]),
            peak=float(node["peak"]), cps=float(node["cps"]),
            quality=_weights(node["quality"], f"{where}.quality", KINDS),
            peak_quality=_weights(node.get("peak_quality", node["quality"]),
                                  f"{where}.peak_quality", KINDS),
            recover=float(node["recover"]), close=float(node["close"]),
            wechat=float(node.get("wechat", 0.0)),
            channels=_weights(node["channels"], f"{where}.channels", CHANNELS),
        )
    except KeyError as exc:
        raise MaterialError(f"{where}: missing field {exc.args[0]!r}") from None
    if agent.style not in styles:
        raise MaterialError(f"{where}.style: no style {agent.style!r} in common.yaml styles")
    return agent


def _story(node: Any, where: str, scenario: str) -> Story:
    node = _mapping(node, where)
    for name in ("key", "title", "open", "good"):
        if name not in node:
            raise MaterialError(f"{where}: missing field {name!r}")
    needs = node.get("needs", "none")
    if needs not in ("order", "photo", "none"):
        raise MaterialError(f"{where}.needs: expected order, photo or none, got {needs!r}")
    more = []
    for i, pair in enumerate(node.get("more") or ()):
        pair = _mapping(pair, f"{where}.more[{i}]")
        more.append((_texts(pair.get("q"), f"{where}.more[{i}].q"),
                     _texts(pair.get("a"), f"{where}.more[{i}].a")))
    slots = {str(k): _texts(v, f"{where}.slots.{k}")
             for k, v in _mapping(node.get("slots") or {}, f"{where}.slots").items()}
    channels = _texts(node.get("channels"), f"{where}.channels", required=False)
    for ch in channels:
        if ch not in CHANNELS:
            raise MaterialError(f"{where}.channels: unknown channel {ch!r}")
    return Story(
        scenario=scenario, key=str(node["key"]), title=str(node["title"]), needs=needs,
        mood=int(node.get("mood", 0)), slots=slots, channels=channels,
        proactive=_texts(node.get("proactive"), f"{where}.proactive", required=False),
        open=_texts(node["open"], f"{where}.open"), good=_texts(node["good"], f"{where}.good"),
        vague=_texts(node.get("vague"), f"{where}.vague", required=False),
        curt=_texts(node.get("curt"), f"{where}.curt", required=False),
        blame=_texts(node.get("blame"), f"{where}.blame", required=False),
        jargon=_texts(node.get("jargon"), f"{where}.jargon", required=False),
        more=tuple(more), accept=_texts(node.get("accept"), f"{where}.accept", required=False),
    )


CUSTOMER_POOLS = ("greet", "nudge", "nudge_long", "abandon", "ack", "calm", "push", "angry",
                  "angry_blame", "confused", "after_template", "wary_wechat", "comply_wechat",
                  "soften", "thanks", "leave_angry", "leave_neutral", "give_order", "give_photo",
                  "night_extra", "proactive_reply")


def _settings(node: Any, where: str) -> dict[str, Any]:
    """Check the generator settings of corpus.yaml (types and vocabularies)."""
    settings = _mapping(node, where)
    for key, kind in (("seed", int), ("dialogues", int), ("first_date", str),
                      ("last_date", str), ("service_open", int), ("service_close", int),
                      ("csat_null", float), ("peak_hours", list), ("hour_weights", list)):
        if not isinstance(settings.get(key), kind):
            raise MaterialError(f"{where}: {key}: expected {kind.__name__}")
    for key in ("first_date", "last_date"):
        try:
            date.fromisoformat(settings[key])
        except ValueError:
            raise MaterialError(f"{where}: {key}: not a YYYY-MM-DD date") from None
    if len(settings["hour_weights"]) != 24:
        raise MaterialError(f"{where}: hour_weights: expected 24 numbers")
    _weights(settings.get("scenario_weights"), f"{where}: scenario_weights", SCENARIOS)
    _weights(settings.get("channel_weights"), f"{where}: channel_weights", CHANNELS)
    rates = _weights(settings.get("bot_rate"), f"{where}: bot_rate", CHANNELS)
    if set(rates) != set(CHANNELS):
        raise MaterialError(f"{where}: bot_rate: give a rate for every channel {CHANNELS}")
    settings["busy_days"] = busy = _mapping(settings.get("busy_days") or {}, f"{where}: busy_days")
    for day, factor in busy.items():
        try:
            date.fromisoformat(str(day))
        except ValueError:
            raise MaterialError(f"{where}: busy_days: {day!r} is not a YYYY-MM-DD date") from None
        if not isinstance(factor, (int, float)) or factor <= 0:
            raise MaterialError(f"{where}: busy_days.{day}: expected a positive number")
    return settings


def _common(node: Any, where: str) -> dict[str, Any]:
    """Check the shared lines of common.yaml and return them as tuples of texts."""
    common = _mapping(node, where)
    customer = _mapping(common.get("customer"), f"{where}: customer")
    bot = _mapping(common.get("bot"), f"{where}: bot")
    welcome = _mapping(bot.get("welcome"), f"{where}: bot.welcome")
    return {
        "customer": {k: _texts(customer.get(k), f"{where}: customer.{k}") for k in CUSTOMER_POOLS},
        "emoji": {k: _texts(_mapping(common.get("emoji"), f"{where}: emoji").get(k),
                            f"{where}: emoji.{k}") for k in ("pos", "neg")},
        "bot": {"welcome": {ch: _texts(welcome.get(ch), f"{where}: bot.welcome.{ch}")
                            for ch in CHANNELS},
                "night": _texts(bot.get("night"), f"{where}: bot.night"),
                "queue": _texts(bot.get("queue"), f"{where}: bot.queue")},
        "system": {k: _texts(_mapping(common.get("system"), f"{where}: system").get(k),
                             f"{where}: system.{k}") for k in ("join", "close")},
        "slots": {k: _texts(v, f"{where}: slots.{k}")
                  for k, v in _mapping(common.get("slots"), f"{where}: slots").items()},
        "styles": common.get("styles"),
    }


def load_material(source: Path = SOURCE) -> Material:
    """Read and validate the material; errors name the file and the field."""
    corpus_path, common_path = source / "corpus.yaml", source / "common.yaml"
    settings = _settings(_read_yaml(corpus_path), str(corpus_path))
    common = _common(_read_yaml(common_path), str(common_path))
    raw_styles = _mapping(common.get("styles"), f"{common_path}: styles")
    default = _mapping(raw_styles.get("default"), f"{common_path}: styles.default")
    styles = {}
    for name, pools in raw_styles.items():
        pools = {**default, **_mapping(pools, f"{common_path}: styles.{name}")}
        styles[name] = {k: _texts(pools.get(k), f"{common_path}: styles.{name}.{k}",
                                  required=False) for k in STYLE_KEYS}
    agents = tuple(_agent(a, f"{corpus_path}: agents[{i}]", styles)
                   for i, a in enumerate(settings.get("agents") or ()))
    if not agents:
        raise MaterialError(f"{corpus_path}: agents: no agents")
    pools, stories = {}, {}
    for scenario in SCENARIOS:
        path = source / f"{scenario}.yaml"
        data = _mapping(_read_yaml(path), str(path))
        if data.get("scenario") != scenario:
            raise MaterialError(f"{path}: scenario: expected {scenario!r}")
        raw = _mapping(data.get("pools"), f"{path}: pools")
        pools[scenario] = {k: _texts(raw.get(k), f"{path}: pools.{k}")
                           for k in ("vague", "blame", "template", "jargon", "curt", "bot_faq",
                                     "angry")}
        stories[scenario] = tuple(_story(s, f"{path}: stories[{i}]", scenario)
                                  for i, s in enumerate(data.get("stories") or ()))
        if not stories[scenario]:
            raise MaterialError(f"{path}: stories: no storylines")
    material = Material(settings, agents, common, styles, pools, stories)
    _check_slots(material)
    return material


def _all_texts(node: Any) -> Iterable[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _all_texts(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _all_texts(value)


def _check_slots(material: Material) -> None:
    """Every {name} in the material must be a slot the generator can fill."""
    known = BUILTIN_SLOTS | set(material.common["slots"])

    def check(texts: Iterable[str], names: set[str], where: str) -> None:
        for text in texts:
            if "{" in BRACE.sub("", text) or "}" in BRACE.sub("", text):
                raise MaterialError(f"{where}: unbalanced or nested braces in {text!r}")
            for inner in BRACE.findall(text):
                if "|" in inner:
                    continue
                if not SLOT_NAME.match(inner):
                    raise MaterialError(f"{where}: bad placeholder {{{inner}}} in {text!r}")
                if inner not in names and not DATE_SLOT.match(inner):
                    raise MaterialError(f"{where}: unknown slot {{{inner}}} in {text!r}")

    check(_all_texts(material.common), known, "common.yaml")
    for key in ("courier", "courier_jd"):
        if key not in material.common["slots"]:
            raise MaterialError(f"common.yaml: slots.{key}: missing")
    for scenario in SCENARIOS:
        check(_all_texts(material.pools[scenario]), known, f"{scenario}.yaml: pools")
        for story in material.stories[scenario]:
            texts = [story.proactive, story.open, story.good, story.vague, story.curt,
                     story.blame, story.jargon, story.accept, story.more]
            check(_all_texts(texts), known | set(story.slots),
                  f"{scenario}.yaml: story {story.key}")


# --------------------------------------------------------------------------- helpers


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _lognormal(rng: random.Random, median: float, sigma: float, lo: float, hi: float) -> float:
    return min(max(rng.lognormvariate(math.log(median), sigma), lo), hi)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


class Slots:
    """Slot values of one dialogue, drawn once on first use so they stay consistent."""

    def __init__(self, rng: random.Random, material: Material, story: Story, channel: str,
                 agent: Agent | None, day: date):
        self.rng, self.story, self.channel, self.day = rng, story, channel, day
        self.common = material.common["slots"]
        self.values: dict[str, str] = {"name": agent.name if agent else "客服"}

    def __getitem__(self, name: str) -> str:
        if name not in self.values:
            self.values[name] = self._draw(name)
        return self.values[name]

    def _draw(self, name: str) -> str:
        rng = self.rng
        if name in self.story.slots:
            return rng.choice(self.story.slots[name])
        match = DATE_SLOT.match(name)
        if match:
            days = int(match.group(2)) * (1 if match.group(1) == "plus" else -1)
            when = self.day + timedelta(days=days)
            return f"{when.month}月{when.day}日"
        if name == "courier":
            key = "courier_jd" if self.channel == "jd" and rng.random() < 0.85 else "courier"
            return rng.choice(self.common[key])
        if name in self.common:
            return rng.choice(self.common[name])
        if name == "order":
            return self._order()
        if name == "tracking":
            prefix, n = TRACKING.get(self["courier"], ("YT", 13))
            return prefix + _digits(rng, n)
        if name == "queue":
            return str(rng.randint(3, 28))
        if name == "wechat_id":
            return f"kk{_digits(rng, 6)}"
        if name == "phone_tail":
            return _digits(rng, 4)
        if name == "month_prev":
            return f"{(self.day - timedelta(days=30)).month}月份"
        raise KeyError(name)

    def _order(self) -> str:
        rng = self.rng
        if self.channel == "taobao":
            return str(rng.randint(1, 4)) + _digits(rng, 18)
        if self.channel == "jd":
            return str(rng.randint(2, 3)) + _digits(rng, 11)
        if self.channel == "douyin":
            return "69" + _digits(rng, 17)
        if self.channel == "pdd":
            bought = self.day - timedelta(days=rng.randint(0, 12))
            return f"{bought:%y%m%d}-{_digits(rng, 15)}"
        return "WX" + _digits(rng, 16)


def render(template: str, slots: Slots, rng: random.Random) -> list[str]:
    """Fill ``{a|b}`` choices and ``{slot}`` values; split ``//`` into separate messages."""

    def fill(match: re.Match) -> str:
        inner = match.group(1)
        return rng.choice(inner.split("|")) if "|" in inner else slots[inner]

    return [part.strip() for part in BRACE.sub(fill, template).split("//") if part.strip()]


# --------------------------------------------------------------------------- dialogues


@dataclass
class Plan:
    start: datetime
    scenario: str
    story: Story
    channel: str
    agent: Agent | None


@dataclass
class Outcome:
    kinds: list[str] = field(default_factory=list)
    resolved: bool | None = None
    first_response: float | None = None
    unanswered_end: bool = False


class Conversation:
    """Compose one dialogue turn by turn on a clock that never goes back."""

    def __init__(self, material: Material, plan: Plan, rng: random.Random):
        self.m, self.plan, self.rng = material, plan, rng
        self.settings = material.settings
        self.agent = plan.agent
        self.style = material.styles[plan.agent.style if plan.agent else "default"]
        self.customer = material.common["customer"]
        self.pools = material.pools[plan.scenario]
        self.story = plan.story
        self.slots = Slots(rng, material, plan.story, plan.channel, plan.agent, plan.start.date())
        self.turns: list[tuple[datetime, str, str]] = []
        self.now = plan.start
        self.mood = plan.story.mood
        self.persona = rng.choices([p for p, _ in PERSONAS], [w for _, w in PERSONAS])[0]
        self.out = Outcome()
        self.given = ""          # "order" / "photo" when the customer sent it unasked
        self.next_at: datetime | None = None   # when the next substantive reply is due
        self.sleepy = False      # the customer answers a morning reply to a night message
        self.wechat_done = False

    # -- clock and text ---------------------------------------------------------------

    def emit(self, role: str, text: str, at: datetime | None = None) -> None:
        at = self.now if at is None or at < self.now else at
        self.turns.append((at, role, text))
        self.now = at

    def after(self, seconds: float) -> datetime:
        return self.now + timedelta(seconds=round(seconds))

    def lines(self, pool: tuple[str, ...]) -> list[str]:
        return render(self.rng.choice(pool), self.slots, self.rng)

    def is_night(self, at: datetime) -> bool:
        return is_night(self.settings, at)

    def reply_seconds(self, opened: datetime, factor: float = 1.0) -> float:
        """Seconds the agent takes to answer a round opened at ``opened``."""
        agent = self.agent
        median = agent.median_s * factor
        if opened.hour in self.settings["peak_hours"]:
            median *= agent.peak
        median *= self.settings["busy_days"].get(opened.date().isoformat(), 1.0)
        return _lognormal(self.rng, median, agent.sigma, 4, 3600)

    def typing_gap(self, chars: int, paste: bool = False) -> float:
        """Seconds between an agent's consecutive messages (pasted quick phrases are instant)."""
        if paste or self.agent.style == "template":
            return self.rng.uniform(1, 3)
        return min(max(chars / self.agent.cps * self.rng.uniform(0.7, 1.3), 2), 90)

    def customer_gap(self) -> float:
        """Seconds before the customer answers the agent."""
        rng = self.rng
        if self.sleepy:
            self.sleepy = False
            return _lognormal(rng, 900, 1.0, 30, 4 * 3600)
        if rng.random() < 0.04:  # the customer stepped away
            return _lognormal(rng, 1200, 0.8, 300, 4 * 3600)
        return _lognormal(rng, 25, 0.8, 3, 900)

    # -- customer ---------------------------------------------------------------------

    def voice(self, text: str, tone: str = "") -> str:
        """Give a customer line the persona's habits, a rare typo and an emoji of its tone."""
        rng = self.rng
        if text.startswith("["):
            return text
        if self.persona == "casual":
            for old, new, p in CASUAL:
                if old in text and rng.random() < p:
                    text = text.replace(old, new)
        elif self.persona == "brisk":
            text = text.replace("，", " ").rstrip("。！")
        elif self.persona == "anxious" and self.mood < 1 and rng.random() < 0.6:
            if text.endswith(("？", "吗", "呢", "啊")):
                text = text.rstrip("？") + rng.choice(("？？", "？？？"))
            elif text.endswith(("！", "了")):
                text = text.rstrip("！") + "！！"
        elif self.persona == "polite" and self.mood >= 0:
            text = re.sub("你(?!们)", "您", text)
        if text.endswith("？") and not text.endswith("？？") and rng.random() < 0.15:
            text = text[:-1] + "?"
        for old, new in TYPOS:
            if old in text and rng.random() < 0.04:
                text = text.replace(old, new, 1)
                break
        if tone and not EMOJI.search(text) and rng.random() < (0.18 if tone == "neg" else 0.12):
            text += rng.choice(self.m.common["emoji"][tone])
        return text

    def say(self, messages: list[str], first_at: datetime | None = None,
            bot_replies: list[str] | None = None, tone: str = "") -> None:
        """The customer sends ``messages`` in a burst; a bot may answer the first one."""
        for i, text in enumerate(messages):
            if i == 0:
                self.emit("customer", self.voice(text, tone), first_at)
                for bot_text in bot_replies or ():
                    self.emit("bot", bot_text, self.after(self.rng.randint(1, 3)))
            else:
                gap = _lognormal(self.rng, 6 + 0.5 * len(text), 0.5, 2, 120)
                self.emit("customer", self.voice(text, tone), self.after(gap))

    def react(self, pool: str, *, fuming: bool = False) -> None:
        """The customer answers the last agent message from a shared pool."""
        last_agent = next((text for _, role, text in reversed(self.turns) if role == "agent"), "")
        clause = re.split(r"[，。,？！；]", EMOJI.sub("", last_agent))[0].strip()
        self.slots.values["echo"] = clause or "不知道"
        messages = self.lines(self.customer[pool])
        if fuming and self.rng.random() < 0.3:
            messages += self.lines(self.pools["angry"])
        tone = "pos" if pool in POSITIVE else "" if pool in NEUTRAL else "neg"
        self.say(messages, self.after(self.customer_gap()), tone=tone)

    # -- agent ------------------------------------------------------------------------

    def agent_says(self, messages: list[str], at: datetime, *, paste: bool = False) -> None:
        for i, text in enumerate(messages):
            if self.agent.style == "concise":
                text = re.sub("～(?=.)", "，", EMOJI.sub("", text)).rstrip("～").strip()
            if i:
                at = self.after(self.typing_gap(len(text), paste))
            self.emit("agent", text, at)

    def style_line(self, key: str) -> list[str]:
        pool = self.style[key]
        return self.lines(pool) if pool else []

    def kind_for(self, at: datetime) -> str:
        agent = self.agent
        peak = at.hour in self.settings["peak_hours"]
        return _pick(self.rng, agent.peak_quality if peak else agent.quality)

    def substance(self, kind: str) -> list[str]:
        """Messages of an agent's substantive reply of the given kind."""
        rng, story, pools = self.rng, self.story, self.pools
        if kind == "vague":
            own = story.vague and rng.random() < 0.7
            messages = self.lines(story.vague if own else pools["vague"])
            if rng.random() < PREFIX_RATE.get(self.agent.style, 0.0) / 2:
                messages[0] = "".join(self.style_line("prefix")) + messages[0]
            return messages
        if kind == "curt":
            messages = self.lines(story.curt + pools["curt"])
            if rng.random() < 0.2:
                messages += self.lines(pools["curt"])
            return list(dict.fromkeys(messages))
        if kind in ("blame", "jargon"):
            own = getattr(story, kind)
            return self.lines(own if own and rng.random() < 0.8 else pools[kind])
        if kind == "template":
            return self.lines(pools[kind])
        messages = self.lines(story.good)
        if kind == "recover":
            head = "".join(self.style_line("recover"))
        elif rng.random() < PREFIX_RATE.get(self.agent.style, 0.0):
            head = "".join(self.style_line("prefix"))
        else:
            head = ""
        if len(head) > 4 and rng.random() < 0.35:
            messages.insert(0, head.rstrip("，,："))
        else:
            messages[0] = head + messages[0]
        tail = "".join(self.style_line("suffix")) if rng.random() < 0.45 else ""
        if tail and messages[-1].endswith("。"):
            messages[-1] += tail
        elif tail:
            messages.append(tail)
        return messages

    def fresh_substance(self, kind: str) -> list[str]:
        """A reply that does not repeat the agent's last message (pasters do repeat)."""
        last = next((text for _, role, text in reversed(self.turns) if role == "agent"), None)
        messages = self.substance(kind)
        for _ in range(3):
            if self.agent.style == "template" or messages[0] != last:
                break
            messages = self.substance(kind)
        return messages

    def next_agent_time(self) -> datetime:
        """When the agent's next substantive reply goes out."""
        if self.next_at is not None:
            at, self.next_at = self.next_at, None
            return max(at, self.now)
        return self.after(self.reply_seconds(self.now, 0.6))

    # -- the dialogue -----------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        rng, plan = self.rng, self.plan
        opened, messages = self.opening()
        night = self.is_night(opened)
        bot = self.m.common["bot"]
        if night:
            greet_bot = self.lines(bot["night"])
        elif plan.agent is None or rng.random() < self.settings["bot_rate"][plan.channel]:
            greet_bot = self.lines(bot["welcome"][plan.channel])
        else:
            greet_bot = []
        self.say(messages, opened, greet_bot, tone="neg" if self.mood < 0 else "")
        if plan.agent is None:
            return self.bot_only()
        if not night and rng.random() < 0.1:
            self.emit("bot", self.lines(self.pools["bot_faq"])[0], self.after(rng.randint(1, 3)))
        if not night and opened.hour in self.settings["peak_hours"] and rng.random() < 0.3:
            self.emit("bot", self.lines(bot["queue"])[0], self.after(rng.randint(1, 3)))
        reply_at = self.night_wait(opened) if night else self.day_wait(opened)
        if reply_at is None:
            self.out.unanswered_end = True
            self.out.resolved = rng.choice((False, False, None))
            return self.finish()
        self.out.first_response = (reply_at - opened).total_seconds()
        self.sleepy = night
        self.first_reply(opened, reply_at, night)
        self.conversation()
        return self.finish()

    def opening(self) -> tuple[datetime, list[str]]:
        """An optional shop-first message, then the customer's first burst and its time."""
        rng, story = self.rng, self.story
        messages: list[str] = []
        at = self.plan.start
        if story.proactive and self.agent and not self.is_night(at) and rng.random() < 0.45:
            self.agent_says(self.lines(story.proactive), at)
            at = self.after(_lognormal(rng, 900, 1.0, 60, 5 * 3600))
            if rng.random() < 0.6:
                messages += self.lines(self.customer["proactive_reply"])
        elif rng.random() < 0.35:
            messages += self.lines(self.customer["greet"])
        messages += self.lines(story.open)
        if len(messages) > 1 and not messages[1].startswith("[") and rng.random() < 0.25:
            messages[:2] = [f"{messages[0]} {messages[1]}"]  # greeting and question in one line
        if story.needs != "none" and rng.random() < 0.15:
            self.given = story.needs
            messages += self.lines(self.customer[f"give_{story.needs}"])
        return at, messages

    def bot_only(self) -> dict[str, Any]:
        """The bot answers a common question and the customer leaves before any human."""
        self.emit("bot", self.lines(self.pools["bot_faq"])[0], self.after(self.rng.randint(1, 3)))
        if self.rng.random() < 0.6:
            self.react(self.rng.choice(("calm", "leave_neutral")))
        self.out.unanswered_end = True
        return self.finish()

    def night_wait(self, opened: datetime) -> datetime | None:
        """Outside the service window: maybe one more message, then a reply next morning."""
        rng = self.rng
        if rng.random() < 0.35:
            self.say(self.lines(self.customer["night_extra"]),
                     self.after(_lognormal(rng, 90, 0.8, 10, 1200)))
        if rng.random() < 0.12:
            return None
        morning = opened.replace(hour=self.settings["service_open"], minute=0, second=0)
        if opened.hour >= self.settings["service_open"]:
            morning += timedelta(days=1)
        backlog = _lognormal(rng, 1200 * math.sqrt(self.agent.median_s / 40), 0.7, 60, 3 * 3600)
        return max(morning + timedelta(seconds=round(backlog)), self.after(5))

    def day_wait(self, opened: datetime) -> datetime | None:
        """The agent's first reply time, with the customer's nudges while waiting."""
        rng = self.rng
        reply_at = opened + timedelta(seconds=round(self.reply_seconds(opened)))
        if reply_at <= self.now:
            reply_at = self.after(rng.randint(3, 15))
        waited = (reply_at - opened).total_seconds()
        nudges = 0
        if waited > 75 and rng.random() < min(0.85, waited / 400):
            nudges = 2 if waited > 300 and rng.random() < 0.35 else 1
        for offset in sorted(rng.uniform(40, max(41, waited - 5)) for _ in range(nudges)):
            long_wait = offset > 240
            if long_wait:
                self.slots.values["wait"] = str(int(offset // 60))
            self.say(self.lines(self.customer["nudge_long" if long_wait else "nudge"]),
                     opened + timedelta(seconds=round(offset)), tone="neg" if long_wait else "")
        self.mood -= (waited > 180) + (waited > 600)
        if rng.random() < 0.02 + (0.3 if waited > 900 else 0.15 if waited > 400 else 0.0):
            if rng.random() < 0.6:
                self.say(self.lines(self.customer["abandon"]),
                         self.after(_lognormal(rng, 60, 0.6, 10, 300)), tone="neg")
            return None
        return max(reply_at, self.after(3))

    def first_reply(self, opened: datetime, at: datetime, night: bool) -> None:
        """Greeting or apology, then (if needed) ask for the order number or photos."""
        rng, style = self.rng, self.agent.style
        if self.plan.channel in ("taobao", "jd", "other") and rng.random() < 0.3:
            self.emit("system", self.lines(self.m.common["system"]["join"])[0], at)
        waited = (at - opened).total_seconds()
        nudged = waited > 120 and sum(role == "customer" for _, role, _ in self.turns) > 1
        if night:
            opener = self.style_line("morning")
        elif (waited > 180 or nudged) and rng.random() < SORRY_RATE.get(style, 0.0):
            opener = self.style_line("sorry_wait")
        elif at.hour in self.settings["peak_hours"] and rng.random() < 0.3:
            opener = self.style_line("busy")
        elif rng.random() < 0.5:
            opener = self.style_line("greet")
        else:
            opener = []
        if opener:
            self.agent_says(opener, at, paste=True)
            at = self.after(self.typing_gap(30))
        needs = self.story.needs
        if needs != "none" and self.given != needs and (needs == "photo" or rng.random() < 0.88):
            self.agent_says(self.style_line(f"ask_{needs}"), at, paste=True)
            wait = _lognormal(rng, 90 if needs == "photo" else 30, 0.7, 8, 900)
            if self.sleepy:
                wait, self.sleepy = self.customer_gap(), False
            self.say(self.lines(self.customer[f"give_{needs}"]), self.after(wait))
            opened = self.now
            if rng.random() < 0.5:
                self.agent_says(self.style_line("hold"),
                                self.after(self.reply_seconds(opened, 0.35)), paste=True)
                check = 50 * math.sqrt(self.agent.median_s / 40)
                at = self.after(_lognormal(rng, check, 0.6, 10, 600))
            else:
                at = self.after(self.reply_seconds(opened, 0.8))
        self.next_at = at

    def conversation(self) -> None:
        """Up to three substantive replies; the customer reacts to each."""
        rng, agent = self.rng, self.agent
        upset = False
        for attempt in range(3):
            at = self.next_agent_time()
            if agent.style == "newbie" and attempt == 0 and rng.random() < 0.3:
                self.agent_says(self.style_line("extra"), at)
                at = self.after(_lognormal(rng, 120, 0.6, 30, 600))
            kind = "recover" if upset and rng.random() < agent.recover else self.kind_for(at)
            self.out.kinds.append(kind)
            self.agent_says(self.fresh_substance(kind), at)
            if self.maybe_wechat():
                return self.closing()
            if kind in ("good", "recover"):
                self.accept(upset or self.mood < 0, kind)
                self.follow_up()
                return self.closing()
            drop, pool = REACTION[kind]
            self.mood += drop
            upset = True
            self.react(pool, fuming=self.mood <= -2)
            if self.mood <= -3 and rng.random() < 0.45:
                break
        self.out.resolved = False if self.mood <= -2 else None
        self.react("leave_angry" if self.mood <= -2 else "leave_neutral")
        if rng.random() < agent.close * 0.6:
            self.agent_says(self.style_line("sorry_end"), self.next_agent_time())
        else:
            self.out.unanswered_end = True

    def accept(self, soothed: bool, kind: str) -> None:
        """The customer takes the concrete plan: softened if upset, else calm or specific."""
        self.mood = max(self.mood + (2 if kind == "recover" else 1), -1)
        rng = self.rng
        if self.story.accept and rng.random() < (0.35 if soothed else 0.7):
            messages = self.lines(self.story.accept)
            if not messages[0].startswith(ACKS) and rng.random() < (1.0 if soothed else 0.3):
                ack = rng.choice(SOFT_ACKS) if soothed else self.lines(self.customer["ack"])[0]
                messages[0] = f"{ack} {messages[0]}"
            self.say(messages, self.after(self.customer_gap()), tone="pos")
        elif soothed:
            self.react("soften")
        else:
            self.react("calm")
        self.out.resolved = True

    def maybe_wechat(self) -> bool:
        """A pushy agent now and then asks the customer to add WeChat (a red line)."""
        rng = self.rng
        if self.wechat_done or not self.style["wechat"] or rng.random() >= self.agent.wechat:
            return False
        self.wechat_done = True
        self.out.kinds.append("wechat")
        text = self.style_line("wechat")
        self.agent_says(text, self.after(self.typing_gap(len(text[0]))))
        if rng.random() < 0.3:
            self.react("comply_wechat")
            self.out.resolved = None
            return True
        self.mood -= 1
        self.react("wary_wechat")
        return False

    def follow_up(self) -> None:
        """Now and then the customer asks one more question about the same storyline."""
        rng = self.rng
        if not self.story.more or rng.random() >= 0.45:
            return
        questions, answers = rng.choice(self.story.more)
        messages = self.lines(questions)
        if not messages[0].startswith("那") and rng.random() < 0.4:
            messages[0] = rng.choice(CONNECTORS) + messages[0]
        self.say(messages, self.after(self.customer_gap()))
        at = self.next_agent_time()
        if self.agent.style == "curt" and rng.random() < 0.6:
            self.out.kinds.append("curt")
            self.agent_says(self.substance("curt"), at)
            self.mood -= 2
            self.react("angry")
            return
        self.agent_says(self.lines(answers), at)
        if rng.random() < 0.5:
            self.react("calm")

    def closing(self) -> None:
        """Thanks or a parting shot, and the agent's goodbye (or silence)."""
        rng, agent = self.rng, self.agent
        if self.style["extra"] and agent.style == "salesy" and rng.random() < 0.4:
            text = self.style_line("extra")
            self.agent_says(text, self.after(self.typing_gap(len(text[0]))))
        customer_last = self.turns[-1][1] == "customer"
        thanked = False
        if self.mood >= 0 and rng.random() < 0.6:
            self.react("thanks")
            customer_last = thanked = True
        elif self.mood <= -2 and rng.random() < 0.5:
            self.react("leave_angry")
            self.out.resolved = False
            customer_last = True
        if customer_last and rng.random() < agent.close:
            key = "sorry_end" if self.mood <= -2 else "close" if thanked else "more_help"
            self.agent_says(self.style_line(key), self.next_agent_time(), paste=True)
            customer_last = False
        elif not customer_last and rng.random() < agent.close * 0.3:
            self.agent_says(self.style_line("more_help"), self.after(self.customer_gap()),
                            paste=True)
        self.out.unanswered_end = customer_last

    def finish(self) -> dict[str, Any]:
        rng, out = self.rng, self.out
        if self.turns[-1][1] != "customer" and rng.random() < 0.12:
            self.emit("system", self.lines(self.m.common["system"]["close"])[0],
                      self.after(rng.randint(60, 600)))
        csat = self.csat()
        resolved = out.resolved if rng.random() >= 0.06 else None
        return {
            "channel": self.plan.channel, "scenario": self.plan.scenario,
            "agent_id": self.agent.id if self.agent else None,
            "csat": csat, "resolved": resolved,
            "turns": [{"ts": ts.isoformat(timespec="seconds"), "role": role, "text": text}
                      for ts, role, text in self.turns],
        }

    def csat(self) -> int | None:
        """A noisy rating from speed, reply quality, mood and outcome, or none."""
        rng, out = self.rng, self.out
        score = 3.4
        frt = out.first_response
        if frt is None:
            score -= 1.5
        elif self.is_night(self.turns[0][0]):
            score -= 0.2
        else:
            score += 0.4 if frt <= 30 else 0.1 if frt <= 180 else -0.4 if frt <= 600 else -0.9
        score += max(min(sum(KIND_SCORE[k] for k in out.kinds), 0.6), -2.5)
        score += 0.35 * max(min(self.mood, 2), -3)
        score += {True: 0.5, False: -0.7, None: 0.0}[out.resolved]
        if any(role == "agent" and APOLOGY.search(text) for _, role, text in self.turns):
            score += 0.25
        rating = min(max(round(score + rng.gauss(0, 0.75)), 1), 5)
        null = self.settings["csat_null"] + (0.2 if out.unanswered_end else 0.0)
        null -= 0.08 if rating in (1, 5) else 0.0
        return None if rng.random() < null else rating


def is_night(settings: dict[str, Any], at: datetime) -> bool:
    """True outside the human agents' service window."""
    return not settings["service_open"] <= at.hour < settings["service_close"]


def plan_corpus(material: Material, rng: random.Random) -> list[Plan]:
    """Draw start time, scenario, storyline, channel and agent of every dialogue."""
    s = material.settings
    first = date.fromisoformat(str(s["first_date"]))
    days = (date.fromisoformat(str(s["last_date"])) - first).days + 1
    decks: dict[str, list[Story]] = {k: [] for k in SCENARIOS}
    plans = []
    for _ in range(int(s["dialogues"])):
        day = first + timedelta(days=rng.randrange(days))
        hour = rng.choices(range(24), weights=s["hour_weights"])[0]
        start = datetime(day.year, day.month, day.day, hour, rng.randrange(60),
                         rng.randrange(60), tzinfo=CST)
        scenario = _pick(rng, s["scenario_weights"])
        channel = _pick(rng, s["channel_weights"])
        deck = decks[scenario]
        if not any(not st.channels or channel in st.channels for st in deck):
            fresh = list(material.stories[scenario])
            rng.shuffle(fresh)
            deck.extend(fresh)
        story = next(st for st in deck if not st.channels or channel in st.channels)
        deck.remove(story)
        staff = {a.id: a.channels.get(channel, 0.0) for a in material.agents}
        agent_id = _pick(rng, {k: v for k, v in staff.items() if v > 0})
        agent = next(a for a in material.agents if a.id == agent_id)
        if (scenario in ("presale", "logistics_delay") and not is_night(s, start)
                and rng.random() < 0.04):
            agent = None  # the bot answers and the customer leaves
        plans.append(Plan(start, scenario, story, channel, agent))
    plans.sort(key=lambda p: p.start)
    return plans


def build_corpus(material: Material, seed: int | None = None) -> list[dict[str, Any]]:
    """All dialogues, in order of their first message, with ids D0001, D0002, ..."""
    seed = material.settings["seed"] if seed is None else seed
    plans = plan_corpus(material, random.Random(seed))
    return [{"dialogue_id": f"D{i:04d}",
             **Conversation(material, plan, random.Random(f"{seed}-{i}")).build()}
            for i, plan in enumerate(plans, 1)]


def to_jsonl(corpus: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in corpus)


def to_csv(corpus: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for d in corpus:
        resolved = "" if d["resolved"] is None else str(d["resolved"]).lower()
        csat = "" if d["csat"] is None else d["csat"]
        for turn in d["turns"]:
            writer.writerow((d["dialogue_id"], turn["ts"], turn["role"], turn["text"],
                             d["channel"], d["scenario"], d["agent_id"] or "", csat, resolved))
    return buffer.getvalue()


def generate(source: Path = SOURCE, seed: int | None = None) -> tuple[str, str]:
    """Return the (JSONL, CSV) texts the material and seed produce."""
    corpus = build_corpus(load_material(source), seed)
    return to_jsonl(corpus), to_csv(corpus)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="verify the committed files match the generator; exit 1 if not")
    parser.add_argument("--seed", type=int, default=None, help="override the seed in corpus.yaml")
    args = parser.parse_args(argv)
    jsonl, csv_text = generate(seed=args.seed)
    if args.check:
        stale = [p for p, text in ((OUT_JSONL, jsonl), (OUT_CSV, csv_text))
                 if not p.exists() or p.read_text(encoding="utf-8") != text]
        for path in stale:
            print(f"{path.relative_to(REPO)} differs from the generator's output; "
                  "run python scripts/make_dialogues.py", file=sys.stderr)
        return 1 if stale else 0
    OUT_JSONL.write_text(jsonl, encoding="utf-8")
    OUT_CSV.write_text(csv_text, encoding="utf-8")
    print(f"wrote {OUT_JSONL.relative_to(REPO)} ({jsonl.count(chr(10))} dialogues) and "
          f"{OUT_CSV.relative_to(REPO)} ({csv_text.count(chr(10)) - 1} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
