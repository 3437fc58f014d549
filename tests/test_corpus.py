"""Tests for the sample dialogue corpus and its generator (scripts/make_dialogues.py).

The committed files must be exactly what the seeded generator writes, follow the dialogue
contract, and carry the signals the course analyses: agents that differ in speed and wording,
peak-hour slow-downs, night messages, unanswered endings, noisy but real CSAT links.
"""

from __future__ import annotations

import importlib.util
import random
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from kit.dialogues import load_dialogues
from kit.metrics import response_rounds

REPO = Path(__file__).resolve().parent.parent
JSONL = REPO / "datasets" / "dialogues.jsonl"
CSV = REPO / "datasets" / "dialogues.csv"
SCENARIOS = {"presale", "logistics_delay", "quality_complaint", "refund", "after_sale",
             "bargain", "complaint"}
MAIN_CHANNELS = {"taobao", "jd", "douyin", "pdd"}
PEAK = {10, 11, 14, 15, 20, 21}
MEDIA = {"[图片]", "[视频]"}


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_dialogues",
                                                  REPO / "scripts" / "make_dialogues.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_dialogues"] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def first_rounds(rounds: pd.DataFrame) -> pd.DataFrame:
    """The first round of each dialogue (groupby().first() would skip NaN values)."""
    return rounds.groupby("dialogue_id").head(1).set_index("dialogue_id")


@pytest.fixture(scope="module")
def messages() -> pd.DataFrame:
    return load_dialogues(JSONL)


@pytest.fixture(scope="module")
def rounds(messages) -> pd.DataFrame:
    return response_rounds(messages)


@pytest.fixture(scope="module")
def dialogues(messages) -> pd.DataFrame:
    """One row per dialogue (its first message, carrying the dialogue-level columns)."""
    return messages.groupby("dialogue_id", sort=False).head(1).set_index("dialogue_id")


# --------------------------------------------------------------------- reproducibility


def test_committed_files_are_the_generators_output():
    jsonl, csv_text = gen.generate()
    assert JSONL.read_text(encoding="utf-8") == jsonl
    assert CSV.read_text(encoding="utf-8") == csv_text


def test_check_flag_passes_on_committed_files_and_fails_on_an_edit(tmp_path, monkeypatch,
                                                                     capsys):
    assert gen.main(["--check"]) == 0
    edited = tmp_path / "dialogues.jsonl"
    edited.write_text(JSONL.read_text(encoding="utf-8").replace("在吗", "在么", 1),
                      encoding="utf-8")
    monkeypatch.setattr(gen, "OUT_JSONL", edited)
    monkeypatch.setattr(gen, "REPO", tmp_path)
    assert gen.main(["--check"]) == 1
    assert "dialogues.jsonl differs" in capsys.readouterr().err


def test_same_seed_same_corpus_other_seed_other_corpus():
    material = gen.load_material()
    assert gen.build_corpus(material, 7) == gen.build_corpus(material, 7)
    assert gen.build_corpus(material, 7) != gen.build_corpus(material, 8)


# --------------------------------------------------------------------- format


def test_jsonl_and_csv_hold_the_same_messages(messages):
    from_csv = load_dialogues(CSV)
    pd.testing.assert_frame_equal(messages, from_csv)


def test_csv_has_the_contract_columns():
    header = CSV.read_text(encoding="utf-8").splitlines()[0]
    assert header == "dialogue_id,ts,role,text,channel,scenario,agent_id,csat,resolved"


def test_timestamps_carry_the_platform_offset_and_stay_in_range():
    stamps = re.findall(r'"ts": "([^"]+)"', JSONL.read_text(encoding="utf-8"))
    assert stamps and all(s.endswith("+08:00") for s in stamps)
    assert min(stamps) >= "2026-03-01" and max(stamps) < "2026-06-02"


# --------------------------------------------------------------------- coverage


def test_size_scenarios_channels_and_agents(dialogues):
    assert len(dialogues) >= 400
    assert set(dialogues.scenario) == SCENARIOS
    counts = dialogues.channel.value_counts()
    assert set(counts.index) >= MAIN_CHANNELS
    assert all(counts[c] >= 40 for c in MAIN_CHANNELS)
    agents = dialogues.agent_id.dropna().value_counts()
    assert len(agents) >= 8 and agents.min() >= 20


def test_bot_system_and_shop_first_messages(messages):
    roles = messages.role.value_counts()
    assert roles["bot"] >= 200 and roles["system"] >= 20
    first = messages[messages.turn == 0]
    assert (first.role == "agent").sum() >= 5  # proactive notices open some dialogues


def test_bot_answers_within_three_seconds(messages):
    gaps = messages.groupby("dialogue_id").ts.diff().dt.total_seconds()
    bot = gaps[messages.role == "bot"]
    assert bot.between(1, 3).all()


def test_several_customer_messages_before_a_reply(messages):
    """Rounds (contract §2) in which the customer sent 2–4+ messages before any agent reply."""
    bursts = []
    for _, group in messages.groupby("dialogue_id", sort=False):
        count = 0
        for role in group.role:
            if role == "customer":
                count += 1
            elif role == "agent" and count:
                bursts.append(count)
                count = 0
    sizes = Counter(min(b, 4) for b in bursts)
    assert sizes[2] >= 200 and sizes[3] >= 50 and sizes[4] >= 20


def test_unanswered_endings(rounds, dialogues):
    last = rounds.groupby("dialogue_id").tail(1).response_s  # .last() would skip NaN
    share = last.isna().mean()
    assert 0.15 <= share <= 0.40, share
    assert dialogues.agent_id.isna().sum() >= 1  # the bot alone handled a few


def test_night_messages_get_a_bot_reply_and_a_morning_answer(messages, rounds):
    local = messages.ts.dt.hour
    night_first = messages[(messages.turn == 0) & (messages.role == "customer")
                           & ((local < 8) | (local >= 23))]
    assert len(night_first) >= 30
    after = messages.set_index(["dialogue_id", "turn"])
    bot_replies = sum(after.loc[(d, 1), "role"] == "bot" for d in night_first.dialogue_id)
    assert bot_replies == len(night_first)
    firsts = first_rounds(rounds).loc[night_first.dialogue_id]
    answered = firsts.closed_at.dropna()
    assert len(answered) >= 0.7 * len(firsts)
    assert (answered.dt.hour >= 8).all() and (answered.dt.hour < 23).all()


def test_ratings_and_outcomes_are_often_missing(dialogues):
    csat_null = dialogues.csat.isna().mean()
    assert 0.25 <= csat_null <= 0.45, csat_null
    rated = dialogues.csat.dropna()
    assert set(rated.unique()) == {1, 2, 3, 4, 5}
    assert dialogues.resolved.isna().sum() >= 20
    assert dialogues.resolved.eq(False).sum() >= 50


# --------------------------------------------------------------------- realism


def test_texts_are_varied(messages):
    customer = messages.text[(messages.role == "customer") & ~messages.text.isin(MEDIA)]
    distinct = customer.nunique() / len(customer)
    assert distinct >= 0.70, distinct
    agent = messages.text[messages.role == "agent"]
    top = agent.value_counts().iloc[0] / len(agent)
    assert top <= 0.03, top


def test_chat_style_markers_are_present(messages):
    customer = " ".join(messages.text[messages.role == "customer"])
    for marker in ("在吗", "？？", "啥", "咋", "单号", "[图片]", "[怒]", "[玫瑰]"):
        assert marker in customer, marker


def test_agents_differ_in_speed(rounds):
    first = first_rounds(rounds)
    medians = first.groupby("agent_id").response_s.median()
    assert medians.max() >= 5 * medians.min(), medians.to_dict()


def test_peak_hours_are_slower(rounds):
    day = rounds[rounds.opened_at.dt.hour.between(8, 22)].dropna(subset=["response_s"])
    peak = day.opened_at.dt.hour.isin(PEAK)
    overall = day[peak].response_s.median() / day[~peak].response_s.median()
    assert overall >= 1.3, overall
    by_agent = day.groupby([day.agent_id, peak]).response_s.median().unstack()
    ratio = by_agent[True] / by_agent[False]
    assert (ratio > 1).sum() >= 8 and ratio.max() >= 2.2, ratio.to_dict()


def test_agents_differ_in_wording(messages):
    agent = messages[messages.role == "agent"]
    curt = agent.text.str.fullmatch(r"(不知道|等着吧|这是规定|不行|没有|嗯|在|说|拍照|单号)")
    by_agent = curt.groupby(agent.agent_id).mean()
    assert by_agent.idxmax() == "A04" and by_agent.max() >= 5 * by_agent.drop("A04").max()
    polite = agent.text.str.contains("您") & agent.text.str.contains("抱歉|不好意思|对不起")
    assert polite.groupby(agent.agent_id).mean().idxmax() in {"A01", "A03"}


def test_wechat_red_line_is_rare(messages, dialogues):
    agent = messages[messages.role == "agent"]
    moved = agent[agent.text.str.contains("微信|VX")].dialogue_id.nunique()
    assert 1 <= moved <= 0.03 * len(dialogues)


def test_csat_follows_speed_and_quality_noisily(rounds, dialogues):
    first = first_rounds(rounds)
    table = dialogues.join(first.response_s.rename("first_s"))
    table = table[table.csat.notna() & table.first_s.notna()]
    fast = table[table.first_s <= 180].csat.astype(float)
    slow = table[table.first_s > 180].csat.astype(float)
    assert fast.mean() - slow.mean() >= 0.4
    assert fast.std() >= 0.8  # noisy: fast replies still get low ratings sometimes
    by_agent = dialogues.csat.astype(float).groupby(dialogues.agent_id).mean()
    assert by_agent["A01"] - by_agent["A04"] >= 1.5


# --------------------------------------------------------------------- generator details


def test_render_fills_choices_slots_and_splits_messages():
    material = gen.load_material()
    story = material.stories["presale"][0]
    slots = gen.Slots(random.Random(1), material, story, "pdd", material.agents[0],
                      gen.date(2026, 3, 5))
    rng = random.Random(3)
    parts = gen.render("{好的|行}，单号{order} // {date_plus2}前到", slots, rng)
    assert len(parts) == 2
    assert re.fullmatch(r"(好的|行)，单号\d{6}-\d{15}", parts[0])
    assert parts[1] == "3月7日前到"


def _material_copy(tmp_path: Path) -> Path:
    target = tmp_path / "material"
    shutil.copytree(gen.SOURCE, target)
    return target


@pytest.mark.parametrize("bad, message", [
    ("{no_such_slot}", "unknown slot {no_such_slot}"),
    ("{外{product}}", "nested braces"),
])
def test_bad_placeholders_name_file_and_storyline(tmp_path, bad, message):
    source = _material_copy(tmp_path)
    path = source / "refund.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("      - 还没发货能取消吗\n", f'      - "{bad}"\n', 1),
                    encoding="utf-8")
    with pytest.raises(gen.MaterialError, match=re.escape(message)) as info:
        gen.load_material(source)
    assert "refund.yaml: story cancel_unshipped" in str(info.value)


def test_broken_yaml_names_file_and_line(tmp_path):
    source = _material_copy(tmp_path)
    (source / "bargain.yaml").write_text("scenario: bargain\npools: [\n", encoding="utf-8")
    with pytest.raises(gen.MaterialError, match=r"bargain\.yaml:\d+: invalid YAML"):
        gen.load_material(source)


def test_unknown_agent_style_is_reported(tmp_path):
    source = _material_copy(tmp_path)
    path = source / "corpus.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("style: curt", "style: grumpy"),
                    encoding="utf-8")
    with pytest.raises(gen.MaterialError, match=r"agents\[3\]\.style: no style 'grumpy'"):
        gen.load_material(source)


@pytest.mark.parametrize("file, old, new, message", [
    ("corpus.yaml", "csat_null: 0.3", "csat_null: lots", "csat_null: expected float"),
    ("corpus.yaml", '"2026-05-20": 1.4', '"May 20": 1.4', "'May 20' is not a YYYY-MM-DD date"),
    ("common.yaml", "  abandon:\n", "  given_up:\n", "customer.abandon: expected a list"),
])
def test_bad_settings_and_missing_pools_are_reported(tmp_path, file, old, new, message):
    source = _material_copy(tmp_path)
    path = source / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(gen.MaterialError, match=re.escape(message)) as info:
        gen.load_material(source)
    assert file in str(info.value)
