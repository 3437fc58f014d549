"""Tests for kit.dialogues: the dialogue file loader (contract §1)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kit.dialogues import (
    COLUMNS,
    DialogueFormatError,
    LoadResult,
    NaiveTimestampWarning,
    load_dialogues,
)

DATA = Path(__file__).parent / "data" / "dialogues"
DTYPES = {"dialogue_id": "str", "turn": "int64", "ts": "datetime64[ns, Asia/Shanghai]",
          "role": "str", "text": "str", "channel": "str", "scenario": "str",
          "agent_id": "str", "csat": "Int64", "resolved": "boolean"}
CSV_HEADER = ["dialogue_id", "ts", "role", "text", "channel", "scenario", "agent_id", "csat",
              "resolved"]


def write_jsonl(path: Path, *dialogues: dict) -> Path:
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in dialogues),
                    encoding="utf-8")
    return path


def dialogue(dialogue_id: str = "X1", **fields) -> dict:
    base = {"dialogue_id": dialogue_id, "turns": [
        {"ts": "2026-03-02T10:00:00+08:00", "role": "customer", "text": "还有货吗"},
        {"ts": "2026-03-02T10:00:20+08:00", "role": "agent", "text": "有的，今天就能发"}]}
    return {**base, **fields}


def ids(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame["dialogue_id"]))


# ---- valid files -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["valid.jsonl", "valid.csv"])
def test_valid_file_gives_the_message_frame(name):
    frame = load_dialogues(DATA / name)
    assert list(frame.columns) == list(COLUMNS)
    assert {c: str(t) for c, t in frame.dtypes.items()} == DTYPES
    assert isinstance(frame.index, pd.RangeIndex)
    assert frame["dialogue_id"].tolist() == ["V1"] * 5 + ["V2"] * 2 + ["V3"]
    assert frame["turn"].tolist() == [0, 1, 2, 3, 4, 0, 1, 0]
    assert frame["role"].tolist() == ["customer", "bot", "agent", "system", "customer",
                                      "customer", "agent", "customer"]
    assert frame.loc[2, "text"] == ("亲，让您久等了。\n我查到包裹在中转站滞留，已提交加急，\n"
                                    "今天18点前给您回复进展")
    assert frame.loc[0, "text"] == '在吗？下单五天了，物流还停在"已揽收"'
    assert frame.loc[3, "text"] == ""  # system messages may be empty
    assert frame.loc[0, "csat"] == 4 and bool(frame.loc[0, "resolved"])
    assert frame.loc[5, ["agent_id", "csat", "resolved"]].isna().all()


def test_jsonl_and_csv_of_the_same_dialogues_load_identically():
    # valid.csv has a BOM, CRLF line ends and quoted multi-line text
    assert (DATA / "valid.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    pd.testing.assert_frame_equal(load_dialogues(DATA / "valid.jsonl"),
                                  load_dialogues(DATA / "valid.csv"))


def test_timestamps_keep_their_offset_and_are_shown_in_shanghai_time():
    frame = load_dialogues(DATA / "valid.jsonl")
    assert str(frame.loc[5, "ts"]) == "2026-03-02 10:00:00+08:00"  # written 02:00:00Z
    assert str(frame.loc[6, "ts"]) == "2026-03-02 10:00:20+08:00"  # written +00:00
    # written 2026-03-01T23:59:58.250-02:00
    assert str(frame.loc[7, "ts"]) == "2026-03-02 09:59:58.250000+08:00"


def test_equal_timestamps_keep_file_order():
    frame = load_dialogues(DATA / "valid.jsonl")
    assert frame.loc[2, "ts"] == frame.loc[3, "ts"]
    assert frame.loc[[2, 3], "role"].tolist() == ["agent", "system"]


def test_naive_timestamps_are_read_as_shanghai_and_reported_once():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = load_dialogues(DATA / "naive.jsonl")
    naive = [w for w in caught if issubclass(w.category, NaiveTimestampWarning)]
    assert len(naive) == 1 and len(caught) == 1
    assert "naive.jsonl" in str(naive[0].message) and "2 of 3" in str(naive[0].message)
    assert naive[0].filename == __file__  # points at the caller
    assert [str(t) for t in frame["ts"]] == ["2026-03-02 09:00:00+08:00",
                                             "2026-03-02 09:00:30+08:00",
                                             "2026-03-02 09:01:00+08:00"]


def test_no_warning_when_every_timestamp_has_an_offset():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_dialogues(DATA / "valid.jsonl")


@pytest.mark.parametrize(("written", "shown"), [
    ("2026-03-02T10:00:00Z", "2026-03-02 18:00:00+08:00"),
    ("2026-03-02t10:00:00z", "2026-03-02 18:00:00+08:00"),
    ("2026-03-02T10:00:00+0530", "2026-03-02 12:30:00+08:00"),
    ("2026-03-02T10:00:00-07", "2026-03-03 01:00:00+08:00"),
    ("2026-03-02 10:00+08:00", "2026-03-02 10:00:00+08:00"),
    ("2026-03-02T10:00:00,5+08:00", "2026-03-02 10:00:00.500000+08:00"),
    ("2026-03-02T10:00:00.123456789+08:00", "2026-03-02 10:00:00.123456789+08:00"),
    ("2024-02-29T23:59:59+08:00", "2024-02-29 23:59:59+08:00"),
])
def test_iso_8601_forms_that_parse(tmp_path, written, shown):
    path = write_jsonl(tmp_path / "t.jsonl", dialogue(turns=[
        {"ts": written, "role": "customer", "text": "hi"}]))
    assert str(load_dialogues(path).loc[0, "ts"]) == shown


@pytest.mark.parametrize("written", [
    "2026-03-02", "2026-03-02T24:00:00+08:00", "2026-02-30T10:00:00+08:00",
    "2026-3-2T10:00:00+08:00", "2026-03-02T10:00:00+24:00", "2026-03-02T10:00:60+08:00",
    "0000-03-02T10:00:00+08:00", "2026-03-02T10:00:00+08:00 ", "2026-03-02T10:00:00.+08:00",
    "٢٠٢٦-03-02T10:00:00+08:00", "1600-03-02T10:00:00+08:00", "yesterday", "",
])
def test_timestamps_that_do_not_parse(tmp_path, written):
    path = write_jsonl(tmp_path / "t.jsonl", dialogue(turns=[
        {"ts": written, "role": "customer", "text": "hi"}]))
    with pytest.raises(DialogueFormatError) as info:
        load_dialogues(path)
    assert (info.value.line, info.value.field, info.value.turn) == (1, "ts", 0)


def test_nanoseconds_are_kept(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", dialogue(turns=[
        {"ts": "2026-03-02T10:00:00.123456789+08:00", "role": "customer", "text": "hi"}]))
    assert load_dialogues(path).loc[0, "ts"].value % 10**9 == 123456789


def test_extra_jsonl_fields_are_kept_as_columns():
    frame = load_dialogues(DATA / "extras.jsonl")
    assert list(frame.columns) == [*COLUMNS, "shop", "msg_id", "tags"]
    assert frame["shop"].dtype == object
    assert frame["shop"].tolist() == ["北岸家居旗舰店", "北岸家居旗舰店", None]
    assert frame["msg_id"].tolist() == [101, 102, 201]
    assert frame["tags"].tolist() == [None, None, ["invoice"]]


def test_extra_csv_columns_are_kept_as_written():
    frame = load_dialogues(DATA / "extras.csv")
    assert list(frame.columns) == [*COLUMNS, "msg_id"]
    assert frame["msg_id"].tolist() == ["101", ""]
    assert frame[["channel", "scenario", "agent_id", "csat", "resolved"]].isna().all().all()


def test_csv_resolved_and_csat_spellings(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("dialogue_id,ts,role,text,csat,resolved\n"
                    "A,2026-03-02T10:00:00+08:00,customer,hi,5,TRUE\n"
                    "B,2026-03-02T10:00:00+08:00,customer,hi,1,False\n"
                    "C,2026-03-02T10:00:00+08:00,customer,hi,4.0,\n", encoding="utf-8")
    result = load_dialogues(path, errors="collect")
    assert result.messages["resolved"].tolist() == [True, False]
    assert result.messages["csat"].tolist() == [5, 1]
    assert [(e.line, e.dialogue_id, e.field) for e in result.errors] == [(4, "C", "csat")]


def test_empty_jsonl_gives_an_empty_frame_with_the_contract_dtypes(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    frame = load_dialogues(path)
    assert frame.empty and {c: str(t) for c, t in frame.dtypes.items()} == DTYPES


def test_header_only_csv_gives_an_empty_frame(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("dialogue_id,ts,role,text\n", encoding="utf-8")
    assert list(load_dialogues(path).columns) == list(COLUMNS)


def test_blank_jsonl_lines_are_skipped_but_counted(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps(dialogue("A")) + "\n\n  \n" + json.dumps(dialogue("A")) + "\n",
                    encoding="utf-8")
    with pytest.raises(DialogueFormatError, match="already used on line 1") as info:
        load_dialogues(path)
    assert info.value.line == 4


def test_suffix_is_case_insensitive_and_str_paths_work(tmp_path):
    path = write_jsonl(tmp_path / "UPPER.JSONL", dialogue())
    assert len(load_dialogues(str(path))) == 2


def test_other_suffixes_and_bad_options_are_refused(tmp_path):
    with pytest.raises(DialogueFormatError, match=r"unsupported file type '\.json'"):
        load_dialogues(tmp_path / "x.json")
    with pytest.raises(ValueError, match="errors must be 'raise' or 'collect'"):
        load_dialogues(DATA / "valid.jsonl", errors="ignore")


# ---- bad input: every error case of the contract, in both formats ----------------------

# file, (line, dialogue_id, field, turn), words of the reason, dialogues kept when collecting
BROKEN = [
    ("bad_json.jsonl", (2, None, None, None), "not valid JSON", ["G1", "G3"]),
    ("not_utf8.jsonl", (2, None, None, None), "not valid UTF-8", ["G1", "G3"]),
    ("not_object.jsonl", (2, None, None, None), "expected a JSON object", ["G1", "G3"]),
    ("repeated_key.jsonl", (2, None, "dialogue_id", None), "key repeated", ["G1", "G3"]),
    ("missing_dialogue_id.jsonl", (2, None, "dialogue_id", None), "missing required field",
     ["G1", "G3"]),
    ("missing_turns.jsonl", (2, "B2", "turns", None), "missing required field", ["G1", "G3"]),
    ("empty_turns.jsonl", (2, "B2", "turns", None), "no turns", ["G1", "G3"]),
    ("missing_role.jsonl", (2, "B2", "role", 1), "missing required field 'role'", ["G1", "G3"]),
    ("missing_ts.jsonl", (2, "B2", "ts", 2), "missing required field 'ts'", ["G1", "G3"]),
    ("unknown_role.jsonl", (2, "B2", "role", 1), "unknown role 'seller'", ["G1", "G3"]),
    ("bad_ts.jsonl", (2, "B2", "ts", 1), "cannot parse '2026-13-02T10:00:30+08:00' as ISO 8601",
     ["G1", "G3"]),
    ("backwards.jsonl", (2, "B2", "ts", 2), "earlier than the turn before it", ["G1", "G3"]),
    ("duplicate_id.jsonl", (3, "B2", "dialogue_id", None), "duplicate dialogue_id: already "
     "used on line 2", ["G1", "G3"]),
    ("csat_range.jsonl", (2, "B2", "csat", None), "csat 6 is out of range", ["G1", "G3"]),
    ("csat_not_int.jsonl", (2, "B2", "csat", None), "expected an integer 1–5 or null",
     ["G1", "G3"]),
    ("empty_text.jsonl", (2, "B2", "text", 1), "empty text for role 'agent'", ["G1", "G3"]),
    ("bad_channel.jsonl", (2, "B2", "channel", None), "unknown channel 'tmall'", ["G1", "G3"]),
    ("resolved_not_bool.jsonl", (2, "B2", "resolved", None), "expected true, false or null",
     ["G1", "G3"]),
    ("turn_field.jsonl", (2, "B2", "turn", 0), "computed by the loader", ["G1", "G3"]),
    ("bad_quote.csv", (4, None, None, None), "cannot parse the CSV", []),
    ("not_utf8.csv", (5, "B2", "text", None), r"not valid UTF-8: b'\xe8\x80'", ["G1", "G3"]),
    ("field_count.csv", (5, "B2", None, None), "row has 5 fields, the header has 9",
     ["G1", "G3"]),
    ("missing_column.csv", (1, None, "text", None), "missing required column", []),
    ("turn_column.csv", (1, None, "turn", None), "computed by the loader", []),
    ("missing_dialogue_id.csv", (5, None, "dialogue_id", None), "missing required field",
     ["G1", "G3"]),
    ("missing_role.csv", (5, "B2", "role", 1), "missing required field 'role'", ["G1", "G3"]),
    ("unknown_role.csv", (5, "B2", "role", 1), "unknown role 'seller'", ["G1", "G3"]),
    ("bad_ts.csv", (5, "B2", "ts", 1), "cannot parse '2026-03-02T10:00:30+08:00:00'",
     ["G1", "G3"]),
    ("backwards.csv", (6, "B2", "ts", 2), "earlier than the turn before it", ["G1", "G3"]),
    ("non_contiguous.csv", (9, "B2", "dialogue_id", None), "not contiguous: it already had "
     "rows 4–5", ["G1", "G3"]),
    ("disagreeing_rows.csv", (6, "B2", "agent_id", None), "'A06' differs from 'A05' on row 4",
     ["G1", "G3"]),
    ("csat_range.csv", (4, "B2", "csat", None), "csat 0 is out of range", ["G1", "G3"]),
    ("empty_text.csv", (6, "B2", "text", 2), "empty text for role 'customer'", ["G1", "G3"]),
    ("bad_channel.csv", (4, "B2", "channel", None), "unknown channel 'tmall'", ["G1", "G3"]),
    ("resolved_not_bool.csv", (4, "B2", "resolved", None), "expected true, false or an empty "
     "cell", ["G1", "G3"]),
]

broken_files = pytest.mark.parametrize(("name", "where", "reason", "kept"), BROKEN,
                                       ids=[case[0] for case in BROKEN])


@broken_files
def test_bad_file_raises_an_error_naming_file_line_dialogue_and_field(name, where, reason,
                                                                      kept):
    path = DATA / name
    with pytest.raises(DialogueFormatError) as info:
        load_dialogues(path)
    error = info.value
    assert isinstance(error, ValueError)
    assert (error.line, error.dialogue_id, error.field, error.turn) == where
    assert error.path == str(path)
    assert reason in error.reason
    marker = f" row {where[0]}" if name.endswith(".csv") else f":{where[0]}"
    assert str(error).startswith(str(path) + marker)
    if where[1] is not None:
        assert f"dialogue {where[1]}" in str(error)
    if where[2] is not None:
        assert f"field {where[2]!r}" in str(error)


@broken_files
def test_collect_keeps_every_clean_dialogue_and_accounts_for_the_rest(name, where, reason,
                                                                      kept):
    result = load_dialogues(DATA / name, errors="collect")
    assert isinstance(result, LoadResult)
    first = result.errors[0]
    assert (first.line, first.dialogue_id, first.field, first.turn) == where
    assert ids(result.messages) == kept
    named = {e.dialogue_id for e in result.errors}
    assert not named & set(result.messages["dialogue_id"])
    # every other error only says which neighbouring dialogue was left out with the line
    assert all(e.line == first.line and e.field is None for e in result.errors[1:])


def test_a_row_without_a_dialogue_id_leaves_out_the_dialogue_it_sits_in():
    result = load_dialogues(DATA / "missing_dialogue_id.csv", errors="collect")
    assert [(e.line, e.dialogue_id) for e in result.errors] == [(5, None), (5, "B2")]
    assert "may belong to this one" in result.errors[1].reason


def test_message_format_matches_the_documented_example():
    with pytest.raises(DialogueFormatError) as info:
        load_dialogues(DATA / "bad_ts.jsonl")
    assert str(info.value) == (
        f"{DATA / 'bad_ts.jsonl'}:2 (dialogue B2, turn 1) field 'ts': cannot parse "
        "'2026-13-02T10:00:30+08:00' as ISO 8601 (e.g. 2026-03-02T10:15:03+08:00)")


def test_one_bad_line_among_thousands_is_reported_by_its_line(tmp_path):
    lines = [dialogue(f"D{i:05d}") for i in range(3000)]
    lines[2344]["turns"][1]["ts"] = "2026-03-02T10:00:99+08:00"
    path = write_jsonl(tmp_path / "big.jsonl", *lines)
    with pytest.raises(DialogueFormatError) as info:
        load_dialogues(path)
    assert (info.value.line, info.value.dialogue_id, info.value.field) == (2345, "D02344", "ts")
    messages, errors = load_dialogues(path, errors="collect")
    assert len(errors) == 1 and messages["dialogue_id"].nunique() == 2999


def test_collect_reports_every_problem_of_a_line_and_of_the_file(tmp_path):
    bad = dialogue("B", channel="Taobao", csat=0, turns=[
        {"ts": "2026-03-02T10:00:00+08:00", "role": "buyer", "text": "x"},
        {"ts": "soon", "role": "agent", "text": ""}])
    path = write_jsonl(tmp_path / "many.jsonl", dialogue("A"), bad, dialogue("C"),
                       dialogue("A"))
    with path.open("a", encoding="utf-8") as fh:
        fh.write("not json\n")
    messages, errors = load_dialogues(path, errors="collect")
    assert [(e.line, e.dialogue_id, e.field, e.turn) for e in errors] == [
        (2, "B", "channel", None), (2, "B", "csat", None), (2, "B", "role", 0),
        (2, "B", "ts", 1), (2, "B", "text", 1), (4, "A", "dialogue_id", None),
        (5, None, None, None)]
    # a duplicated id leaves out both dialogues: neither can be told apart from the other
    assert ids(messages) == ["C"]


@pytest.mark.parametrize(("fields", "field", "reason"), [
    ({"ts": "2026-03-02T10:00:00+08:00"}, "ts", "message field; set it on each turn"),
    ({"shop": "x", "turns": [{"ts": "2026-03-02T10:00:00+08:00", "role": "customer",
                              "text": "hi", "shop": "y"}]}, "shop", "both on the dialogue"),
    ({"turns": [{"ts": "2026-03-02T10:00:00+08:00", "role": "customer", "text": "hi",
                 "channel": "jd"}]}, "channel", "dialogue-level field"),
    ({"turns": ["hello"]}, "turns", "expected a JSON object, got a string"),
    ({"turns": {"ts": "x"}}, "turns", "expected an array of turns, got an object"),
    ({"dialogue_id": 42}, "dialogue_id", "expected a non-empty string, got 42"),
    ({"dialogue_id": "  "}, "dialogue_id", "expected a non-empty string"),
    ({"agent_id": ""}, "agent_id", "empty string; write null"),
    ({"scenario": 3}, "scenario", "expected a string or null"),
    ({"csat": True}, "csat", "expected an integer 1–5 or null, got true"),
    ({"csat": 4.0}, "csat", "expected an integer 1–5 or null, got 4.0"),
    ({"resolved": 1}, "resolved", "expected true, false or null, got 1"),
    ({"turns": [{"ts": "2026-03-02T10:00:00+08:00", "role": "agent", "text": None}]}, "text",
     "missing required field"),
    ({"turns": [{"ts": "2026-03-02T10:00:00+08:00", "role": "agent", "text": 5}]}, "text",
     "expected a string, got 5"),
])
def test_jsonl_field_rules(tmp_path, fields, field, reason):
    path = write_jsonl(tmp_path / "f.jsonl", {**dialogue("F"), **fields})
    with pytest.raises(DialogueFormatError) as info:
        load_dialogues(path)
    assert info.value.field == field and reason in info.value.reason


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "empty file: no header row"),
    (b"dialogue_id,ts,role,text,text\n", "column named twice"),
    (b"dialogue_id,ts,role,text,\n", "column 5 has no name"),
    (b'dialogue_id,ts,role,"te"xt\n', "cannot parse the header"),
    (b"dialogue_id,ts,role,text,\xff\n", "name is not valid UTF-8"),
])
def test_csv_header_rules(tmp_path, content, reason):
    path = tmp_path / "h.csv"
    path.write_bytes(content)
    with pytest.raises(DialogueFormatError, match="row 1") as info:
        load_dialogues(path)
    assert reason in info.value.reason


# ---- properties ------------------------------------------------------------------------

ids_text = st.text(min_size=1, max_size=20).filter(str.strip)


def _roles(texts: list[str]) -> list[str]:
    return ["system" if not t else "customer" for t in texts]


def _stamp(i: int) -> str:
    return f"2026-03-02T10:{i // 60:02d}:{i % 60:02d}+08:00"


@settings(deadline=None, max_examples=150)
@given(did=ids_text, agent=ids_text, texts=st.lists(st.text(max_size=40), min_size=1,
                                                     max_size=5), bom=st.booleans())
def test_any_unicode_text_round_trips_through_jsonl(tmp_path_factory, did, agent, texts, bom):
    turns = [{"ts": _stamp(i), "role": r, "text": t}
             for i, (t, r) in enumerate(zip(texts, _roles(texts), strict=True))]
    line = json.dumps({"dialogue_id": did, "agent_id": agent, "turns": turns},
                      ensure_ascii=False)
    path = tmp_path_factory.mktemp("rt") / "d.jsonl"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + line.encode("utf-8") + b"\n")
    frame = load_dialogues(path)
    assert frame["text"].tolist() == texts
    assert set(frame["dialogue_id"]) == {did} and set(frame["agent_id"]) == {agent}


@settings(deadline=None, max_examples=150)
@given(did=ids_text, agent=ids_text, texts=st.lists(st.text(max_size=40), min_size=1,
                                                     max_size=5), bom=st.booleans())
def test_any_unicode_text_round_trips_through_csv(tmp_path_factory, did, agent, texts, bom):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["dialogue_id", "ts", "role", "text", "agent_id"])
    writer.writerows([did, _stamp(i), r, t, agent]
                     for i, (t, r) in enumerate(zip(texts, _roles(texts), strict=True)))
    path = tmp_path_factory.mktemp("rt") / "d.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8"))
    frame = load_dialogues(path)
    assert frame["text"].tolist() == texts
    assert set(frame["dialogue_id"]) == {did} and set(frame["agent_id"]) == {agent}


def _load_only_format_errors(path: Path) -> None:
    """Load in both modes: only DialogueFormatError may escape; collect mode is consistent."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NaiveTimestampWarning)
        with contextlib.suppress(DialogueFormatError):
            load_dialogues(path)
        messages, errors = load_dialogues(path, errors="collect")
    assert not {e.dialogue_id for e in errors} & set(messages["dialogue_id"])
    starts = np.flatnonzero(messages["turn"].to_numpy() == 0)
    assert messages["dialogue_id"].iloc[starts].is_unique
    assert len(starts) == messages["dialogue_id"].nunique()


@settings(deadline=None, max_examples=200)
@given(content=st.binary(max_size=300), suffix=st.sampled_from([".jsonl", ".csv"]))
def test_arbitrary_bytes_only_ever_raise_format_errors(tmp_path_factory, content, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"f{suffix}"
    path.write_bytes(content)
    _load_only_format_errors(path)


_scalars = (st.none() | st.booleans() | st.integers(-3, 9) | st.floats() | st.text(max_size=8)
            | st.sampled_from(["customer", "agent", "bot", "system", "jd", "D1", "",
                               "2026-03-02T10:00:00+08:00", "2026-03-02 09:00:00"]))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=6)
_turn = st.dictionaries(st.sampled_from(["ts", "role", "text", "turn", "channel", "msg"]),
                        _values) | _values
_dialogue = st.dictionaries(
    st.sampled_from(["dialogue_id", "channel", "scenario", "agent_id", "csat", "resolved",
                     "turns", "ts", "shop"]),
    _values | st.lists(_turn, max_size=4))


@settings(deadline=None, max_examples=200)
@given(lines=st.lists(_dialogue | _values, max_size=5))
def test_arbitrary_json_lines_only_ever_raise_format_errors(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("fuzz") / "f.jsonl"
    path.write_text("".join(json.dumps(v, ensure_ascii=False) + "\n" for v in lines),
                    encoding="utf-8")
    _load_only_format_errors(path)


_cells = st.text(max_size=8) | st.sampled_from(
    ["customer", "agent", "system", "jd", "D1", "D2", "3", "true", "",
     "2026-03-02T10:00:00+08:00", "2026-03-02 09:00:00"])


@settings(deadline=None, max_examples=200)
@given(header=st.lists(st.sampled_from([*CSV_HEADER, "turn", "note"]), max_size=10),
       rows=st.lists(st.lists(_cells, max_size=10), max_size=6))
def test_arbitrary_csv_tables_only_ever_raise_format_errors(tmp_path_factory, header, rows):
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([header, *rows])
    path = tmp_path_factory.mktemp("fuzz") / "f.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    _load_only_format_errors(path)
