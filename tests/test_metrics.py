"""Tests for kit.metrics: response rounds and service summaries (contract §2).

tests/data/dialogues/metrics_cases.jsonl holds one dialogue per edge case; every expected
number below was worked out by hand from that file (times are Asia/Shanghai, 2026-03-03):

    M01 A1 customer 10:00:00, bot 10:00:02, agent 10:00:40                  -> [40]
    M02 A1 customer 10:00:00, 10:00:20, 10:00:50, agent 10:01:30,
           customer 10:05:00, agent 10:05:10                                -> [90, 10]
    M03 A2 customer 11:00:00, agent 11:00:25, customer 11:02:00 (end)       -> [25, unanswered]
    M04 A2 customer 12:00:00, agent 12:00:00 (equal timestamps)             -> [0]
    M05 A1 agent 13:00:00 (proactive), customer 13:01:00, system 13:02:00,
           agent 13:04:30                                                   -> [210]
    M06 A3 customer "2026-03-03 07:59:59" (naive), agent 00:00:00Z (08:00:00),
           customer 00:00:00Z (08:00:00), agent 00:12:00Z (08:12:00)        -> [1, 720]
    M07 A3 customer 22:59:59, agent 23:00:29                                -> [30]
    M08 A3 customer 23:00:00, agent 23:00:10                                -> [10]
    M09 A2 agent 15:00:00 (proactive), bot 15:00:01                         -> no round

With the 08:00-23:00 window the rounds opened at 07:59:59 (M06) and 23:00:00 (M08) drop out;
M06's first counted round is then its 720 s one.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kit.dialogues import NaiveTimestampWarning, load_dialogues
from kit.metrics import (
    PLATFORM_SERVICE_WINDOW,
    ROUND_COLUMNS,
    SUMMARY_COLUMNS,
    response_rounds,
    service_summary,
)

CASES = Path(__file__).parent / "data" / "dialogues" / "metrics_cases.jsonl"
NAN = math.nan


@pytest.fixture(scope="module")
def messages() -> pd.DataFrame:
    with pytest.warns(NaiveTimestampWarning, match="1 of 28 timestamps"):
        return load_dialogues(CASES)


def frame(rows: list[tuple[str, str, str]], agent: str = "A1", naive: bool = False
          ) -> pd.DataFrame:
    """A small message frame from (dialogue_id, 'HH:MM:SS' on 2026-03-03, role) rows."""
    ts = pd.to_datetime([f"2026-03-03 {t}" for _, t, _ in rows])
    return pd.DataFrame({
        "dialogue_id": [d for d, _, _ in rows],
        "ts": ts if naive else ts.tz_localize("Asia/Shanghai"),
        "role": [r for _, _, r in rows],
        "agent_id": agent,
    })


def row(summary: pd.DataFrame, label: str = "all") -> dict:
    return summary.loc[label].to_dict()


def expect(actual: dict, **expected) -> None:
    assert list(actual) == list(SUMMARY_COLUMNS)
    for key, value in expected.items():
        assert actual[key] == pytest.approx(value, nan_ok=True), key


def test_rounds_of_every_edge_case(messages):
    rounds = response_rounds(messages)
    assert list(rounds.columns) == list(ROUND_COLUMNS)
    got = list(zip(rounds["dialogue_id"], rounds["response_s"], strict=True))
    expected = [("M01", 40), ("M02", 90), ("M02", 10), ("M03", 25), ("M03", NAN), ("M04", 0),
                ("M05", 210), ("M06", 1), ("M06", 720), ("M07", 30), ("M08", 10)]
    assert [d for d, _ in got] == [d for d, _ in expected]
    np.testing.assert_array_equal([s for _, s in got], [s for _, s in expected])


def test_round_times_and_dialogue_columns(messages):
    rounds = response_rounds(messages).set_index(["dialogue_id", "opened_at"])
    several = rounds.loc[("M02", pd.Timestamp("2026-03-03 10:00:00", tz="Asia/Shanghai"))]
    assert str(several["closed_at"]) == "2026-03-03 10:01:30+08:00"
    assert (several["agent_id"], several["channel"], several["scenario"]) == (
        "A1", "taobao", "after_sale")
    unanswered = rounds.loc[("M03", pd.Timestamp("2026-03-03 11:02:00", tz="Asia/Shanghai"))]
    assert pd.isna(unanswered["closed_at"]) and math.isnan(unanswered["response_s"])
    assert str(rounds.index.get_level_values("opened_at").tz) == "Asia/Shanghai"


def test_naive_timestamp_is_on_the_platform_clock(messages):
    rounds = response_rounds(messages)
    opened = rounds.loc[rounds["dialogue_id"] == "M06", "opened_at"].astype(str).tolist()
    assert opened == ["2026-03-03 07:59:59+08:00", "2026-03-03 08:00:00+08:00"]


def test_summary_of_all_rounds(messages):
    summary = service_summary(messages)
    assert list(summary.index) == ["all"]
    expect(row(summary), dialogues=9, rounds=11, unanswered=1,
           first_response_median_s=27.5,  # median of 0, 1, 10, 25, 30, 40, 90, 210
           mean_response_s=1136 / 10,
           capped_mean_response_s=1616 / 11,  # 720 counts 600, the unanswered round 600
           within_3min_rate=8 / 11,
           first_answer_30s_rate=5 / 8)  # 8 dialogues have a round; 25, 0, 1, 30, 10 <= 30


def test_summary_in_the_platform_service_window(messages):
    summary = service_summary(messages, service_window=PLATFORM_SERVICE_WINDOW)
    expect(row(summary), dialogues=9, rounds=9, unanswered=1,
           first_response_median_s=40,  # median of 0, 25, 30, 40, 90, 210, 720
           mean_response_s=1125 / 8,
           capped_mean_response_s=1605 / 9,
           within_3min_rate=6 / 9,
           first_answer_30s_rate=3 / 7)


def test_window_bounds_include_the_start_and_exclude_the_end(messages):
    rounds = response_rounds(messages, service_window=("08:00", "23:00"))
    opened = rounds.set_index("dialogue_id")["opened_at"].astype(str)
    assert opened["M06"] == "2026-03-03 08:00:00+08:00"  # 07:59:59 dropped, 08:00:00 kept
    assert opened["M07"] == "2026-03-03 22:59:59+08:00"
    assert "M08" not in opened.index  # opened at 23:00:00 exactly
    later = set(response_rounds(messages, service_window=("08:00:01", "24:00"))["dialogue_id"])
    assert "M08" in later and "M06" not in later


def test_summary_by_agent(messages):
    summary = service_summary(messages, by="agent_id")
    assert summary.index.name == "agent_id" and list(summary.index) == ["A1", "A2", "A3"]
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    assert summary.dtypes[["dialogues", "rounds", "unanswered"]].eq("int64").all()
    expect(row(summary, "A1"), dialogues=3, rounds=4, unanswered=0,
           first_response_median_s=90, mean_response_s=87.5, capped_mean_response_s=87.5,
           within_3min_rate=0.75, first_answer_30s_rate=0)
    expect(row(summary, "A2"), dialogues=3, rounds=3, unanswered=1,
           first_response_median_s=12.5, mean_response_s=12.5,
           capped_mean_response_s=625 / 3, within_3min_rate=2 / 3, first_answer_30s_rate=1)
    expect(row(summary, "A3"), dialogues=3, rounds=4, unanswered=0,
           first_response_median_s=10, mean_response_s=761 / 4,
           capped_mean_response_s=641 / 4, within_3min_rate=0.75, first_answer_30s_rate=1)


def test_a_dialogue_without_rounds_counts_as_a_dialogue_only(messages):
    summary = service_summary(messages, by="dialogue_id")
    expect(row(summary, "M09"), dialogues=1, rounds=0, unanswered=0,
           first_response_median_s=NAN, mean_response_s=NAN, capped_mean_response_s=NAN,
           within_3min_rate=NAN, first_answer_30s_rate=NAN)
    expect(row(summary, "M03"), dialogues=1, rounds=2, unanswered=1,
           first_response_median_s=25, mean_response_s=25,
           capped_mean_response_s=312.5, within_3min_rate=0.5, first_answer_30s_rate=1)


def test_an_unanswered_first_round_counts_against_the_30s_rate_but_not_the_median():
    messages = frame([("X", "10:00:00", "customer"), ("Y", "10:00:00", "customer"),
                      ("Y", "10:00:20", "agent")])
    expect(row(service_summary(messages)), dialogues=2, rounds=2, unanswered=1,
           first_response_median_s=20, first_answer_30s_rate=0.5)


def test_group_by_several_columns_and_missing_values_form_a_group(messages):
    summary = service_summary(messages, by=["channel", "agent_id"])
    assert summary.index.names == ["channel", "agent_id"]
    assert summary["dialogues"].sum() == 9
    anonymous = messages.assign(agent_id=messages["agent_id"].where(
        messages["dialogue_id"] != "M01"))
    by_agent = service_summary(anonymous, by="agent_id")
    assert by_agent["dialogues"].tolist() == [2, 3, 3, 1]
    assert pd.isna(by_agent.index[-1]) and by_agent["rounds"].iloc[-1] == 1


@pytest.mark.parametrize(("by", "message"), [
    ("agent", "cannot group by 'agent': not a dialogue-level column of the messages; choose "
              "from dialogue_id, channel, scenario, agent_id, csat, resolved"),
    ("text", "cannot group by 'text'"),
    (["channel", "ts"], "cannot group by 'ts'"),
])
def test_grouping_by_an_unknown_or_message_level_column_is_refused(messages, by, message):
    with pytest.raises(ValueError, match=message):
        service_summary(messages, by=by)


def test_grouping_by_a_column_that_varies_within_a_dialogue_is_refused(messages):
    tagged = messages.assign(tag=np.arange(len(messages)) % 2)
    with pytest.raises(ValueError, match="'tag': it varies within dialogue 'M01'"):
        service_summary(tagged, by="tag")


def test_row_order_does_not_matter_when_turn_is_present(messages):
    shuffled = messages.sample(frac=1, random_state=3)
    pd.testing.assert_frame_equal(service_summary(shuffled, by="agent_id"),
                                  service_summary(messages, by="agent_id"))
    # dialogues come in order of first appearance; within one, rounds in time order
    first_seen = list(dict.fromkeys(shuffled["dialogue_id"]))
    expected = response_rounds(messages).sort_values(
        "dialogue_id", key=lambda ids: ids.map(first_seen.index), kind="stable")
    pd.testing.assert_frame_equal(response_rounds(shuffled),
                                  expected.reset_index(drop=True))


def test_interleaved_dialogues_without_turn_use_row_order():
    interleaved = frame([("X", "10:00:00", "customer"), ("Y", "10:00:05", "customer"),
                         ("X", "10:00:30", "agent"), ("Y", "10:01:05", "agent")])
    rounds = response_rounds(interleaved)
    assert rounds[["dialogue_id", "response_s"]].values.tolist() == [["X", 30.0], ["Y", 60.0]]


def test_naive_frame_timestamps_are_read_as_shanghai_with_a_warning():
    messages = frame([("X", "07:59:00", "customer"), ("X", "08:00:00", "agent"),
                      ("X", "08:00:00", "customer"), ("X", "08:02:00", "agent")], naive=True)
    with pytest.warns(NaiveTimestampWarning, match="read as Asia/Shanghai"):
        summary = service_summary(messages, service_window=PLATFORM_SERVICE_WINDOW)
    expect(row(summary), rounds=1, mean_response_s=120)


def test_empty_messages_give_an_all_row_of_zeros():
    empty = frame([]).astype({"dialogue_id": "str", "role": "str"})
    expect(row(service_summary(empty)), dialogues=0, rounds=0, unanswered=0,
           mean_response_s=NAN, within_3min_rate=NAN)
    assert list(response_rounds(empty).columns) == list(ROUND_COLUMNS)


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: m.drop(columns="role"), "lacks column"),
    (lambda m: m.assign(role="seller"), r"unknown role\(s\) \['seller'\]"),
    (lambda m: m.assign(ts=m["ts"].iloc[::-1].to_numpy()), "goes back in time"),
    (lambda m: m.assign(ts=m["ts"].where(m.index != 1)), "'ts' has missing values"),
    (lambda m: m.assign(ts="2026-03-03"), "must hold datetimes"),
    (lambda m: m.assign(dialogue_id=m["dialogue_id"].where(m.index != 1)),
     "dialogue_id is missing on row 1"),
])
def test_malformed_message_frames_are_refused(change, message):
    messages = frame([("X", "10:00:00", "customer"), ("X", "10:00:30", "agent")])
    with pytest.raises(ValueError, match=message):
        service_summary(change(messages))


@pytest.mark.parametrize("window", [("23:00", "08:00"), ("8:00", "23:00"), "08:00-23:00",
                                    ("08:00", "23:60"), ("08:00",), ("08:00", "24:01")])
def test_unreadable_service_windows_are_refused(window):
    messages = frame([("X", "10:00:00", "customer")])
    with pytest.raises(ValueError, match="service_window"):
        service_summary(messages, service_window=window)
