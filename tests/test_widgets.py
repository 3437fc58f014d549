"""kit.widgets driven through their Python API: set values, click buttons, read the HTML."""

from __future__ import annotations

import csv
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import ipywidgets
import pandas as pd
import pytest

from kit.datasets import datasets_dir
from kit.dialogues import load_dialogues
from kit.quiz import load_quiz
from kit.rubric import load_settings, score_reply
from kit.widgets import (
    HISTORY_COLUMNS,
    DialogueExplorer,
    Mark,
    Quiz,
    ReplyRewriter,
    RolePlay,
    headless,
    highlight,
    load_bank,
    load_history,
    rank_contest,
    save_case,
    show_dialogue,
)

ATTACKS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
BANK = [
    {"id": "t-log-1", "scenario": "logistics_delay", "difficulty": 1,
     "customer": "下单五天了还显示没揽收？？", "bad_reply": "物流的事我们也管不了",
     "problems": ["positivity", "empathy", "commitment"],
     "patterns": ["blame_courier", "vague_promise", "no_apology"],
     "rewrites": ["非常抱歉让您久等了！我已为您联系仓库加急发出，今天18点前把单号发给您。"],
     "note": "先安抚，再给动作和时间。"},
    {"id": "t-bar-1", "scenario": "bargain", "difficulty": 2,
     "customer": "再便宜二十块我就拍", "bad_reply": "不讲价",
     "problems": ["solution", "red_line"], "patterns": ["bare_refusal", "new_pattern"],
     "rewrites": ["亲，这款已经是活动价了，价格上没法再让，不过可以送您一张10元无门槛券，"
                  "您看可以吗？"]},
    {"id": "t-bar-2", "scenario": "bargain", "difficulty": 1,
     "customer": "能包邮吗", "bad_reply": "不包",
     "rewrites": ["亲，满99元就包邮哦，您再加一件小样就够啦，需要我帮您推荐吗？"]},
]
BAD_REPLY_BANK = datasets_dir() / "bad_replies.jsonl"


class _Marks(HTMLParser):
    """Collects the text of an HTML fragment and which characters sit inside <mark>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""
        self.kinds: list[str | None] = []
        self._stack: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        if tag == "mark":
            classes = dict(attrs).get("class", "").split()
            self._stack.append(next(c.removeprefix("kit-mark-") for c in classes
                                    if c.startswith("kit-mark-")))

    def handle_endtag(self, tag):
        if tag == "mark":
            self._stack.pop()

    def handle_data(self, data):
        self.text += data
        self.kinds += [self._stack[-1] if self._stack else None] * len(data)


def _marked(fragment: str) -> _Marks:
    parser = _Marks()
    parser.feed(fragment)
    return parser


def _inner(html_text: str, cls: str) -> str:
    """The inner HTML of the first element with class ``cls`` (no nested divs inside)."""
    match = re.search(rf'<div class="{cls}"[^>]*>(.*?)</div>', html_text, re.S)
    assert match, f"no {cls} in the HTML"
    return match.group(1)


def _classes(widget) -> set[str]:
    found = set(getattr(widget, "_dom_classes", ()))
    for child in getattr(widget, "children", ()):
        found |= _classes(child)
    return found


def _no_live_markup(html_text: str) -> None:
    for attack in ATTACKS:
        assert attack not in html_text
    assert "<script" not in html_text and "<img" not in html_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html_text


@pytest.fixture
def rewriter() -> ReplyRewriter:
    return ReplyRewriter(BANK, trainee="学员甲")


@pytest.fixture(autouse=True)
def _not_headless_and_loud_callbacks(monkeypatch):
    """Run as a learner would, and let an error inside a click handler fail the test
    (ipywidgets only logs it)."""
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)

    def call_all(dispatcher, *args, **kwargs):
        for callback in dispatcher.callbacks:
            callback(*args, **kwargs)

    monkeypatch.setattr(ipywidgets.widgets.widget.CallbackDispatcher, "__call__", call_all)


# --------------------------------------------------------------------------- highlight
def test_highlight_slices_the_original_text_and_escapes_every_piece():
    text = "<b>亲</b>，稍后回复&"
    out = highlight(text, [Mark(3, 4, "plus", "礼貌"), Mark(9, 11, "minus", '"x"'),
                           Mark(50, 60, "plus"), Mark(5, 5, "minus")])
    parsed = _marked(out)
    assert parsed.text == text
    assert [i for i, k in enumerate(parsed.kinds) if k == "plus"] == [3]
    assert [i for i, k in enumerate(parsed.kinds) if k == "minus"] == [9, 10]
    assert "<b>" not in out and 'title="&quot;x&quot;"' in out


def test_highlight_overlaps_take_the_strongest_kind_and_merge_neighbours():
    out = highlight("abcdef", [Mark(0, 4, "plus", "p"), Mark(2, 6, "red_line", "r")])
    assert _marked(out).kinds == ["plus", "plus", "red_line", "red_line", "red_line", "red_line"]
    assert out.count("<mark") == 2
    assert 'title="p；r"' in out


# --------------------------------------------------------------------------- ReplyRewriter
def test_rewriter_shows_the_first_item_and_its_css_classes(rewriter: ReplyRewriter):
    assert rewriter.current["id"] == "t-log-1"
    assert "下单五天了还显示没揽收？？" in rewriter.item_view.value
    assert "物流的事我们也管不了" in rewriter.item_view.value
    assert "第 1 / 3 题" in rewriter.position_label.value
    for name in ("scenario", "difficulty", "position", "item", "input", "score",
                 "reference-toggle", "prev", "next", "result", "reference", "progress",
                 "export", "status"):
        assert f"kit-rewriter-{name}" in _classes(rewriter), name
    assert "kit-rewriter" in rewriter._dom_classes


def test_rewriter_scores_on_click_with_bars_evidence_and_hints(rewriter: ReplyRewriter):
    reply = "亲，稍后给你回复"
    rewriter.input.value = reply
    rewriter.score_button.click()
    expected = score_reply(reply, customer=BANK[0]["customer"], scenario="logistics_delay")
    html_text = rewriter.result.value
    assert rewriter.last_score == expected
    assert f"总分 <b style=\"font-size:1.3em\">{expected.total}</b>/100" in html_text
    assert "kit-verdict-fail" in html_text and "未通过" in html_text
    assert html_text.count('class="kit-dimension ') == 6
    for key, dim in expected.dimensions.items():
        assert f"kit-dimension-{key}" in html_text and f"{dim.score:.2f}" in html_text
        if dim.hint:
            assert dim.hint.replace("“", "&ldquo;")[:0] + dim.hint[:8] in html_text
    parsed = _marked(_inner(html_text, "kit-reply"))
    assert parsed.text == reply
    signs = {h.rule_id: h.sign for h in expected.hits}
    plus = {i for d in expected.dimensions.values() for s in d.evidence
            if signs[s.rule_id] == "+" for i in range(s.start, s.end)}
    minus = {i for d in expected.dimensions.values() for s in d.evidence
             if signs[s.rule_id] == "-" for i in range(s.start, s.end)}
    assert minus and {i for i, k in enumerate(parsed.kinds) if k == "minus"} == minus
    assert {i for i, k in enumerate(parsed.kinds) if k == "plus"} == plus - minus
    assert "稍后" in {reply[s.start:s.end] for s in expected.dimensions["commitment"].evidence}


def test_rewriter_passing_rewrite_and_red_line(rewriter: ReplyRewriter):
    score = rewriter.submit(BANK[0]["rewrites"][0])
    assert score.passed and "kit-verdict-pass" in rewriter.result.value
    score = rewriter.submit("加我微信，给您便宜点")
    assert score.total == 0 and "红线" in rewriter.result.value
    parsed = _marked(_inner(rewriter.result.value, "kit-reply"))
    assert "red_line" in parsed.kinds
    assert rewriter.history["red_lines"].tolist() == ["", "off_platform"]


@pytest.mark.parametrize("attack", ATTACKS)
def test_rewriter_escapes_the_trainees_text(rewriter: ReplyRewriter, attack: str):
    rewriter.submit(f"{ATTACKS[0]}亲，{ATTACKS[1]}稍后给你回复")
    _no_live_markup(rewriter.result.value)
    assert attack in rewriter.history["text"].iloc[0]  # the history keeps the raw text


def test_rewriter_escapes_bank_texts():
    bank = [dict(BANK[0], customer=ATTACKS[0] + ATTACKS[1], bad_reply=ATTACKS[1] + ATTACKS[0],
                 rewrites=[ATTACKS[0] + ATTACKS[1]], problems=[ATTACKS[0] + ATTACKS[1]])]
    drill = ReplyRewriter(bank, trainee="x")
    _no_live_markup(drill.item_view.value)
    drill.submit("亲，稍后回复")
    drill.reference_toggle.value = True
    _no_live_markup(drill.reference.value)


def test_rewriter_blank_text_is_not_an_attempt(rewriter: ReplyRewriter):
    rewriter.submit("亲，稍后给你回复")
    rewriter.next()
    rewriter.input.value = "   \n"
    rewriter.score_button.click()
    assert "请先" in rewriter.result.value
    assert len(rewriter.history) == 1 and rewriter.reference_toggle.disabled
    assert rewriter.submit() is None


def test_reference_answers_only_after_an_attempt(rewriter: ReplyRewriter):
    rewrite = BANK[0]["rewrites"][0]
    assert rewriter.reference_toggle.disabled
    rewriter.reference_toggle.value = True  # forced from code: still nothing shown
    assert rewriter.reference.value == "" and rewrite not in rewriter.result.value
    rewriter.reference_toggle.value = False
    rewriter.submit("亲，稍后给你回复")
    assert not rewriter.reference_toggle.disabled and rewriter.reference.value == ""
    rewriter.reference_toggle.value = True
    html_text = rewriter.reference.value
    total = score_reply(rewrite, customer=BANK[0]["customer"], scenario="logistics_delay").total
    assert rewrite in html_text and f"（{total} 分）" in html_text
    assert "积极措辞、共情安抚、具体承诺" in html_text and "推给快递或第三方" in html_text
    assert "先安抚，再给动作和时间。" in html_text
    rewriter.reference_toggle.value = False
    assert rewriter.reference.value == ""
    rewriter.next()  # a new item: hidden and locked again
    assert rewriter.reference_toggle.disabled and not rewriter.reference_toggle.value
    assert BANK[1]["rewrites"][0] not in rewriter.reference.value


def test_reference_names_problems_and_patterns_in_chinese(rewriter: ReplyRewriter):
    rewriter.next()
    rewriter.submit("不行")
    rewriter.reference_toggle.value = True
    assert "解决方案、红线" in rewriter.reference.value
    assert "生硬拒绝、new_pattern" in rewriter.reference.value  # unknown keys shown as they are


def test_next_and_previous_stop_at_the_ends(rewriter: ReplyRewriter):
    assert rewriter.prev_button.disabled and not rewriter.next_button.disabled
    rewriter.prev_button.click()
    assert rewriter.position == 0
    rewriter.next_button.click()
    rewriter.next_button.click()
    assert rewriter.current["id"] == "t-bar-2" and rewriter.next_button.disabled
    rewriter.next()
    assert rewriter.current["id"] == "t-bar-2" and "第 3 / 3 题" in rewriter.position_label.value
    rewriter.previous()
    assert rewriter.current["id"] == "t-bar-1"


def test_drafts_and_results_stay_with_their_item(rewriter: ReplyRewriter):
    rewriter.submit("亲，稍后给你回复")
    first_result = rewriter.result.value
    rewriter.next()
    assert rewriter.input.value == "" and rewriter.result.value == ""
    rewriter.input.value = "草稿"
    rewriter.previous()
    assert rewriter.input.value == "亲，稍后给你回复" and rewriter.result.value == first_result
    rewriter.next()
    assert rewriter.input.value == "草稿"


def test_filters_change_the_item_set(rewriter: ReplyRewriter):
    rewriter.scenario_filter.value = "bargain"
    assert [i["id"] for i in rewriter.items] == ["t-bar-1", "t-bar-2"]
    rewriter.difficulty_filter.value = "1"
    assert [i["id"] for i in rewriter.items] == ["t-bar-2"]
    assert rewriter.prev_button.disabled and rewriter.next_button.disabled
    rewriter.scenario_filter.value = "logistics_delay"
    rewriter.difficulty_filter.value = "2"
    assert rewriter.items == [] and rewriter.current is None
    assert "没有符合条件" in rewriter.item_view.value and rewriter.score_button.disabled
    rewriter.score_button.click()  # nothing to score: no error, no attempt
    assert rewriter.history.empty
    rewriter.difficulty_filter.value = ""
    assert [i["id"] for i in rewriter.items] == ["t-log-1"]
    labels = dict(rewriter.scenario_filter.options)
    assert labels["议价"] == "bargain" and labels["全部"] == ""


def test_constructor_filters_and_bad_filter():
    drill = ReplyRewriter(BANK, scenario="bargain", difficulty=2, trainee="x")
    assert [i["id"] for i in drill.items] == ["t-bar-1"]
    with pytest.raises(ValueError, match="scenario 'refund' is not in the data"):
        ReplyRewriter(BANK, scenario="refund")


def test_history_records_every_attempt_and_round_trips(rewriter: ReplyRewriter, tmp_path: Path):
    rewriter.submit("亲，稍后给你回复")
    rewriter.submit("非常抱歉让您久等了，我马上联系仓库，今天18点前给您答复，\n好吗？")
    rewriter.next()
    rewriter.submit("不讲价，谢谢")
    history = rewriter.history
    assert list(history.columns) == list(HISTORY_COLUMNS)
    assert history["item_id"].tolist() == ["t-log-1", "t-log-1", "t-bar-1"]
    assert history["attempt"].tolist() == [1, 2, 1]
    assert (history["trainee"] == "学员甲").all()
    assert history["difficulty"].tolist() == ["1", "1", "2"]
    assert history["timestamp"].is_monotonic_increasing
    assert str(history["timestamp"].dt.tz) == "Asia/Shanghai"
    assert "第 2 次提交（上次" in rewriter._results["t-log-1"]
    assert "已练 2 题" in rewriter.progress.value and "共提交 3 次" in rewriter.progress.value
    path = rewriter.export_csv(tmp_path / "mine.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets read the Chinese
    pd.testing.assert_frame_equal(load_history(path), history)


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\",\"点我\")", "+1+1", "-2", "@SUM(A1)"])
def test_export_keeps_formula_like_text_from_running_in_a_spreadsheet(
        rewriter: ReplyRewriter, tmp_path: Path, text: str):
    rewriter.submit(text)
    path = rewriter.export_csv(tmp_path / "mine.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert rows[0]["text"] == "'" + text  # shown as text by Excel / LibreOffice
    assert load_history(path)["text"].tolist() == [text]


def test_export_button_writes_to_the_working_folder(rewriter, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rewriter.submit("亲，稍后给你回复")
    rewriter.export_button.click()
    assert (tmp_path / "my_rewrites.csv").exists()
    assert "已保存 1 条记录" in rewriter.status.value
    assert len(load_history(tmp_path / "my_rewrites.csv")) == 1


def test_export_refuses_the_course_data_folder(rewriter: ReplyRewriter):
    with pytest.raises(ValueError, match="course data folder"):
        rewriter.export_csv(datasets_dir() / "mine.csv")
    assert not (datasets_dir() / "mine.csv").exists()


def test_load_history_errors_name_file_row_and_field(tmp_path: Path, rewriter):
    rewriter.submit("亲，稍后给你回复")
    path = rewriter.export_csv(tmp_path / "h.csv")
    text = path.read_text(encoding="utf-8-sig")
    (tmp_path / "bad.csv").write_text(text.replace(",False,80,", ",maybe,80,"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.csv: row 2 field 'passed'"):
        load_history(tmp_path / "bad.csv")
    (tmp_path / "cols.csv").write_text("trainee,total\nx,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"cols\.csv: not a rewriter history: missing"):
        load_history(tmp_path / "cols.csv")


def test_instructor_settings_change_the_pass_mark(tmp_path: Path):
    override = tmp_path / "class.toml"
    override.write_text("pass_mark = 1\n", encoding="utf-8")
    for settings in (override, load_settings(override)):
        drill = ReplyRewriter(BANK, trainee="x", settings=settings)
        assert drill.submit("亲，稍后给你回复").passed
        assert "及格线 1）" in drill.result.value


def test_bank_errors_name_the_line_and_field(tmp_path: Path):
    path = tmp_path / "bank.jsonl"
    good = json.dumps(BANK[0], ensure_ascii=False)
    path.write_text(good + "\n\n" + json.dumps(dict(BANK[1], rewrites=[])) + "\n",
                    encoding="utf-8")
    with pytest.raises(ValueError, match=r"bank\.jsonl:3 field 'rewrites'"):
        load_bank(path)
    path.write_text(good + "\n{oops\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bank\.jsonl:2: invalid JSON"):
        load_bank(path)
    path.write_text(good + "\n" + good + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'t-log-1' appears twice"):
        load_bank(path)
    with pytest.raises(ValueError, match="item 1 field 'customer'"):
        load_bank([dict(BANK[0], customer="")])
    assert [i["id"] for i in load_bank(pd.DataFrame(BANK))] == [b["id"] for b in BANK]


@pytest.mark.skipif(not BAD_REPLY_BANK.exists(), reason="datasets/bad_replies.jsonl not written")
def test_the_course_bank_loads_and_every_scenario_filters():
    drill = ReplyRewriter(trainee="x")
    bank = load_bank()
    assert len(drill.items) == len(bank)
    for _, key in drill.scenario_filter.options[1:]:
        drill.scenario_filter.value = key
        assert drill.items and all(i["scenario"] == key for i in drill.items)


# --------------------------------------------------------------------------- DialogueExplorer
def _frame(rows, **dialogue) -> pd.DataFrame:
    base = pd.Timestamp("2026-03-02 10:00:00", tz="Asia/Shanghai")
    frame = pd.DataFrame({
        "dialogue_id": [r[0] for r in rows], "turn": 0,
        "ts": [base + pd.Timedelta(seconds=r[1]) for r in rows],
        "role": [r[2] for r in rows], "text": [r[3] for r in rows]})
    frame["turn"] = frame.groupby("dialogue_id").cumcount()
    defaults = {"channel": "jd", "scenario": "logistics_delay", "agent_id": "A1", "csat": 3,
                "resolved": True}
    for name, value in {**defaults, **dialogue}.items():
        frame[name] = frame["dialogue_id"].map(value) if isinstance(value, dict) else value
    frame["csat"] = frame["csat"].astype("Int64")
    frame["resolved"] = frame["resolved"].astype("boolean")
    return frame


@pytest.fixture
def messages() -> pd.DataFrame:
    return _frame([
        ("d1", 0, "customer", "在吗？快递怎么还没到，太慢了！！"),
        ("d1", 2, "bot", "您好，客服马上为您服务"),
        ("d1", 20, "agent", "亲，非常抱歉，我马上帮您查"),
        ("d1", 30, "customer", "好的"),
        ("d1", 400, "agent", "查到了，包裹今天下午送达"),
        ("d1", 410, "customer", "谢谢，服务不错"),
        ("d2", 0, "customer", "能便宜点吗"),
        ("d2", 50, "agent", "亲，已经是最低活动价啦"),
        ("d3", 0, "customer", "退款怎么还没到"),
    ], channel={"d1": "jd", "d2": "taobao", "d3": "taobao"},
        scenario={"d1": "logistics_delay", "d2": "bargain", "d3": "refund"},
        agent_id={"d1": "A1", "d2": "A2", "d3": "A1"}, csat={"d1": 4, "d2": None, "d3": 1})


def test_explorer_renders_a_chat_with_response_times(messages):
    explorer = DialogueExplorer(messages, charts=False)
    assert explorer.dialogue.value == "d1" and explorer.matching == ["d1", "d2", "d3"]
    chat = explorer.chat.value
    assert chat.count("kit-msg kit-msg-customer") == 3
    assert chat.count("kit-msg kit-msg-agent") == 2 and chat.count("kit-msg kit-msg-bot") == 1
    assert "justify-content:flex-start" in chat and "justify-content:flex-end" in chat
    assert "justify-content:center" in chat
    rts = re.findall(r'<span class="(kit-rt[^"]*)"[^>]*>([^<]*)</span>', chat)
    assert rts == [("kit-rt", "回复用时 20秒"),
                   ("kit-rt kit-slow", "回复用时 6分10秒（慢：超过3分钟）")]
    assert "过了 6分10秒" in chat and "2026-03-02 10:00" in chat
    metrics = explorer.metrics.value
    assert "首次响应" in metrics and "20秒" in metrics and "3分钟回复率" in metrics
    assert "33%" in metrics and "★★★★" in metrics and "京东" in metrics
    assert "没有等到人工回复" in chat  # the last 谢谢 opened a round nobody closed


def test_explorer_marks_sentiment_cues_and_mood(messages):
    from kit.sentiment import CONTRIBUTING, sentiment

    explorer = DialogueExplorer(messages, charts=False)
    text = messages["text"].iloc[0]
    first = re.search(r'kit-msg-customer".*?<div class="kit-msg-text"[^>]*>(.*?)</div>',
                      explorer.chat.value, re.S).group(1)
    parsed = _marked(first)
    assert parsed.text == text
    for cue in sentiment(text).cues:
        if cue.kind in CONTRIBUTING and cue.weight < 0:
            assert set(parsed.kinds[cue.start:cue.end]) == {"neg"}, cue
    assert "情绪" in explorer.chat.value and "负面" in explorer.chat.value
    assert explorer.mood.value.count("kit-mood-chip") == 3  # one per customer message
    assert "kit-turning" in explorer.chat.value  # the mood recovers at 谢谢，服务不错


def test_explorer_unanswered_round_is_flagged(messages):
    explorer = DialogueExplorer(messages, charts=False, dialogue_id="d3")
    assert "没有等到人工回复" in explorer.chat.value
    assert "未回复 1" in explorer.metrics.value


def test_explorer_filters(messages):
    explorer = DialogueExplorer(messages, charts=False)
    explorer.channel_filter.value = "taobao"
    assert explorer.matching == ["d2", "d3"] and explorer.dialogue.value == "d2"
    assert "共 2 段对话" in explorer.count.value
    explorer.csat_filter.value = "none"
    assert explorer.matching == ["d2"]
    explorer.csat_filter.value = ""
    explorer.agent_filter.value = "A1"
    assert explorer.matching == ["d3"] and "退款怎么还没到" in _marked(explorer.chat.value).text
    explorer.scenario_filter.value = "bargain"
    assert explorer.matching == [] and "没有符合条件的对话" in explorer.chat.value
    assert explorer.save_button.disabled
    explorer.scenario_filter.value = ""
    assert explorer.matching == ["d3"] and not explorer.save_button.disabled
    assert dict(explorer.csat_filter.options)["未评价"] == "none"
    with pytest.raises(ValueError, match="channel 'pdd' is not in the data"):
        DialogueExplorer(messages, channel="pdd")


def test_explorer_starts_on_a_dialogue_outside_the_filters(messages):
    explorer = DialogueExplorer(messages, charts=False, channel="jd", dialogue_id="d2")
    assert explorer.dialogue.value == "d2" and explorer.channel_filter.value == ""
    with pytest.raises(ValueError, match="'zz' is not in the messages"):
        DialogueExplorer(messages, dialogue_id="zz")


def test_explorer_escapes_dialogue_texts():
    frame = _frame([("<b>x</b>", 0, "customer", ATTACKS[0] + "太差了" + ATTACKS[1]),
                    ("<b>x</b>", 30, "agent", ATTACKS[1] + ATTACKS[0]),
                    ("<b>x</b>", 40, "bot", ATTACKS[0] + ATTACKS[1])],
                   agent_id="<i>A</i>", channel="other")
    explorer = DialogueExplorer(frame, charts=False)
    chat = explorer.chat.value
    assert chat.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 3
    _no_live_markup(chat)
    assert "<i>" not in explorer.metrics.value and "&lt;i&gt;A&lt;/i&gt;" in explorer.metrics.value


def test_show_dialogue_is_the_explorers_chat_as_static_html(messages):
    explorer = DialogueExplorer(messages, dialogue_id="d1", charts=False)
    assert show_dialogue(messages, "d1").data == explorer.chat.value
    frame = _frame([("x", 0, "customer", ATTACKS[0]), ("x", 9, "agent", ATTACKS[1])])
    _no_live_markup(show_dialogue(frame, "x").data)
    with pytest.raises(ValueError, match="nope"):
        show_dialogue(messages, "nope")


def test_explorer_draws_the_mood_chart(messages):
    explorer = DialogueExplorer(messages, charts=True)
    assert bytes(explorer.chart.value).startswith(b"\x89PNG")
    assert explorer.chart.layout.display != "none"


def test_explorer_css_classes(messages):
    classes = _classes(DialogueExplorer(messages, charts=False))
    for name in ("scenario", "channel", "agent", "csat", "dialogue", "count", "chat", "mood",
                 "chart", "metrics", "note", "save", "save-status"):
        assert f"kit-explorer-{name}" in classes, name


def test_explorer_reads_a_file_and_the_default_corpus(tmp_path, messages):
    if not (datasets_dir() / "dialogues.jsonl").exists():
        pytest.skip("datasets/dialogues.jsonl not written")
    explorer = DialogueExplorer(charts=False)
    corpus = load_dialogues(datasets_dir() / "dialogues.jsonl")
    assert explorer.matching == list(pd.unique(corpus["dialogue_id"]))
    assert explorer.source == "dialogues.jsonl"


# --------------------------------------------------------------------------- case library
def test_case_library_saves_appends_and_updates(messages, tmp_path: Path):
    library = tmp_path / "cases.jsonl"
    explorer = DialogueExplorer(messages, charts=False, case_library=library)
    explorer.note.value = "客服先道歉再查单，值得学习"
    explorer.save_button.click()
    assert "已存入案例库 cases.jsonl：d1" in explorer.save_status.value
    explorer.dialogue.value = "d2"
    assert explorer.note.value == "" and explorer.save_status.value == ""
    saved = explorer.save("议价时只说最低价，没给替代")
    assert not saved.updated and saved.path == library
    explorer.dialogue.value = "d1"
    explorer.note.value = "改一下笔记"
    explorer.save_button.click()
    assert "已更新" in explorer.save_status.value
    lines = library.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["dialogue_id"] for line in lines] == ["d1", "d2"]
    cases = load_dialogues(library)  # the library is a dialogue file of the course format
    notes = cases.groupby("dialogue_id")["note"].first().to_dict()
    assert notes == {"d1": "改一下笔记", "d2": "议价时只说最低价，没给替代"}
    original = messages[messages["dialogue_id"] == "d1"].reset_index(drop=True)
    again = cases[cases["dialogue_id"] == "d1"].reset_index(drop=True)
    pd.testing.assert_frame_equal(again[list(original.columns)], original, check_dtype=False)
    assert pd.isna(cases.loc[cases["dialogue_id"] == "d2", "csat"]).all()
    reopened = DialogueExplorer(library, charts=False)  # and the explorer opens it
    assert reopened.note.value == "改一下笔记" and "我的笔记" in reopened.metrics.value


def test_case_library_default_file_is_in_the_working_folder(messages, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    saved = save_case(messages, "d3", "没人回复")
    assert saved.path == tmp_path / "my_cases.jsonl"
    assert json.loads(saved.path.read_text(encoding="utf-8"))["note"] == "没人回复"


def test_case_library_refuses_datasets_and_keeps_a_damaged_file(messages, tmp_path):
    with pytest.raises(ValueError, match="course data folder"):
        save_case(messages, "d1", "x", datasets_dir() / "my_cases.jsonl")
    assert not (datasets_dir() / "my_cases.jsonl").exists()
    library = tmp_path / "cases.jsonl"
    library.write_text('{"dialogue_id": "d9"}\nnot json\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"cases\.jsonl:2: not a JSON object"):
        save_case(messages, "d1", "x", library)
    assert library.read_text(encoding="utf-8") == '{"dialogue_id": "d9"}\nnot json\n'
    explorer = DialogueExplorer(messages, charts=False, case_library=library)
    explorer.save_button.click()
    assert "没有保存" in explorer.save_status.value


def test_case_library_note_is_escaped(messages, tmp_path):
    explorer = DialogueExplorer(messages, charts=False, case_library=tmp_path / "c.jsonl")
    explorer.note.value = ATTACKS[0] + ATTACKS[1]
    explorer.save_button.click()
    _no_live_markup(explorer.save_status.value)
    reopened = DialogueExplorer(tmp_path / "c.jsonl", charts=False)
    _no_live_markup(reopened.metrics.value)


# --------------------------------------------------------------------------- Quiz
def test_quiz_each_kind_gives_immediate_feedback():
    quiz = Quiz(chapter="00")
    data = load_quiz(chapter="00")
    single = next(q for q in data.questions if q.kind == "single")
    multiple = next(q for q in data.questions if q.kind == "multiple")
    short = next(q for q in data.questions if q.kind == "short")
    assert quiz.score == (0, len(data)) and "得分：0 /" in quiz.score_view.value

    wrong = (single.answer + 1) % len(single.options)
    quiz.inputs[single.id].value = wrong
    quiz.buttons[single.id].click()
    feedback = quiz.feedback[single.id].value
    assert "kit-wrong" in feedback and "解析" in feedback
    assert quiz.answer(single.id, single.answer).correct
    assert "kit-correct" in quiz.feedback[single.id].value

    boxes = quiz.inputs[multiple.id]
    boxes[multiple.answer[0]].value = True
    quiz.buttons[multiple.id].click()
    assert not quiz.results[multiple.id].correct and "漏了" in quiz.feedback[multiple.id].value
    assert quiz.answer(multiple.id, multiple.answer).correct
    assert [b.value for b in boxes] == [i in multiple.answer for i in range(len(boxes))]

    result = quiz.answer(short.id, "我们会尽快处理")
    assert not result.correct and "kit-mark-reject" in quiz.feedback[short.id].value
    assert quiz.answer(short.id, "退款1-3个工作日内原路退回").correct
    assert "kit-mark-accept" in quiz.feedback[short.id].value
    assert quiz.score == (3, len(data))
    assert f"得分：3 / {len(data)}（已作答 3 题）" in quiz.score_view.value


def test_quiz_unanswered_submit_asks_for_an_answer():
    quiz = Quiz(chapter="00")
    first = quiz.quiz.questions[0]
    quiz.buttons[first.id].click()
    assert "请先选择" in quiz.feedback[first.id].value and first.id not in quiz.results


@pytest.mark.parametrize("attack", ATTACKS)
def test_quiz_short_answers_are_escaped(attack):
    quiz = Quiz(chapter="00")
    short = next(q for q in quiz.quiz.questions if q.kind == "short")
    quiz.answer(short.id, f"{ATTACKS[0]}今天{ATTACKS[1]}")
    _no_live_markup(quiz.feedback[short.id].value)
    assert attack in quiz.response(short.id)


def test_quiz_data_texts_are_escaped(tmp_path: Path):
    path = tmp_path / "ch05.yaml"
    path.write_text(
        "chapter: '05'\ntitle: '<script>alert(1)</script>'\nquestions:\n"
        "  - {id: q, kind: single, prompt: '<img src=x onerror=alert(1)>',"
        " options: ['<b>a</b>', b], answer: 1, explanation: '<script>alert(1)</script>'}\n",
        encoding="utf-8")
    quiz = Quiz(path)
    assert "<script" not in quiz.children[0].value
    assert "<img" not in quiz.children[1].children[0].value
    quiz.answer("q", 0)
    feedback = quiz.feedback["q"].value
    assert "<script" not in feedback and "<b>a</b>" not in feedback
    assert "&lt;b&gt;a&lt;/b&gt;" in feedback
    assert quiz.inputs["q"].options[0][0] == "A. <b>a</b>"  # a label: shown as plain text


def test_quiz_css_classes():
    classes = _classes(Quiz(chapter="00"))
    for name in ("kit-quiz-title", "kit-quiz-question", "kit-quiz-q-run-cell", "kit-quiz-choice",
                 "kit-quiz-option", "kit-quiz-answer", "kit-quiz-submit", "kit-quiz-feedback",
                 "kit-quiz-score"):
        assert name in classes, name


# --------------------------------------------------------------------------- contest
def _export(tmp_path: Path, trainee: str, attempts: list[tuple[str, str]],
            name: str | None = None) -> Path:
    drill = ReplyRewriter(BANK, trainee=trainee)
    for item_id, text in attempts:
        while drill.current["id"] != item_id:
            drill.next()
        drill.submit(text)
    return drill.export_csv(tmp_path / f"{name or trainee}.csv")


GOOD_LOG = BANK[0]["rewrites"][0]
GOOD_BAR = BANK[1]["rewrites"][0]


def test_rank_contest_ranks_and_explains_ties(tmp_path: Path):
    _export(tmp_path, "甲", [("t-log-1", "稍后回复"), ("t-log-1", GOOD_LOG), ("t-bar-1", GOOD_BAR)])
    _export(tmp_path, "乙", [("t-log-1", GOOD_LOG), ("t-bar-1", GOOD_BAR)])
    _export(tmp_path, "丙", [("t-log-1", GOOD_LOG), ("t-bar-1", GOOD_BAR)])
    _export(tmp_path, "丁", [("t-log-1", GOOD_LOG), ("t-bar-1", "不讲价")])
    _export(tmp_path, "戊", [("t-log-1", GOOD_LOG), ("t-bar-1", "亲，价格没法再低了")])
    table = rank_contest(tmp_path)
    assert list(table.columns) == ["rank", "trainee", "attempts", "items", "passes",
                                   "mean_best", "note"]
    by = table.set_index("trainee")
    assert by.loc["甲", "attempts"] == 3 and by.loc["甲", "items"] == 2
    assert by.loc["甲", "passes"] == 2 and by.loc["丁", "passes"] == 1
    log = score_reply(GOOD_LOG, customer=BANK[0]["customer"], scenario="logistics_delay").total
    bar = score_reply(GOOD_BAR, customer=BANK[1]["customer"], scenario="bargain").total
    assert by.loc["乙", "mean_best"] == pytest.approx((log + bar) / 2)
    assert table["trainee"].tolist()[:3] == ["丙", "乙", "甲"]  # ties sorted by name
    assert table["rank"].tolist()[:3] == [1, 1, 3]
    assert "并列" in by.loc["乙", "note"]
    assert "提交次数更多（3 > 2）" in by.loc["甲", "note"]
    assert table["trainee"].tolist()[3:] == ["戊", "丁"]
    assert "同为通过 1 题，平均最佳分较低" in by.loc["丁", "note"]
    assert by.loc["戊", "note"] == "" and by.loc["丙", "note"] == ""


def test_rank_contest_counts_repeated_rows_once_and_names_anonymous_files(tmp_path: Path):
    first = _export(tmp_path, "", [("t-log-1", GOOD_LOG)], name="小王")
    copy = tmp_path / "copy" / "小王.csv"
    copy.parent.mkdir()
    copy.write_bytes(first.read_bytes())
    table = rank_contest([first, copy])
    assert table["trainee"].tolist() == ["小王"] and table["attempts"].tolist() == [1]


def test_rank_contest_month_filter_and_errors(tmp_path: Path):
    path = _export(tmp_path, "甲", [("t-log-1", GOOD_LOG)])
    month = load_history(path)["timestamp"].iloc[0].strftime("%Y-%m")
    assert rank_contest(path, month=month)["attempts"].tolist() == [1]
    assert rank_contest(path, month="1999-01").empty
    with pytest.raises(ValueError, match="month must look like"):
        rank_contest(path, month="March")
    with pytest.raises(ValueError, match="no export files"):
        rank_contest([])
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.csv: not a rewriter history"):
        rank_contest(tmp_path)


# --------------------------------------------------------------------------- RolePlay
class FakeClock:
    """Seconds that advance only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


GOOD_PARCEL_REPLY = "非常抱歉让您着急了！我已经联系快递加急，今天18点前给您回复进展。"


def test_roleplay_shows_the_briefing_and_the_opening():
    from kit.roleplay import list_personas, load_persona

    play = RolePlay("anxious_late_parcel", clock=FakeClock())
    persona = load_persona("anxious_late_parcel")
    assert [v for _, v in play.persona_choice.options] == [p.id for p in list_personas()]
    assert persona.name in play.briefing.value and persona.goal in play.briefing.value
    parsed = _marked(play.chat.value).text
    assert all(line in parsed for line in persona.opening)
    assert play.chat.value.count("kit-msg kit-msg-customer") == len(persona.opening)
    assert "顾客此刻的情绪" in play.mood.value and f"{persona.mood:+.2f}" in play.mood.value
    assert play.result.value == "" and not play.send_button.disabled


def test_roleplay_measures_the_trainees_response_time():
    clock = FakeClock()
    play = RolePlay("anxious_late_parcel", clock=clock)
    clock.now += 42.5
    play.input.value = GOOD_PARCEL_REPLY
    play.send_button.click()
    turn = play.session.turns[-1]
    assert turn.response_s == 42.5 and turn.mood_after > turn.mood_before
    assert play.input.value == ""
    assert "回复用时 42秒" in play.chat.value and f"得分 {turn.score.total}" in play.chat.value
    assert all(line in _marked(play.chat.value).text for line in turn.customer)
    assert turn.reason in _marked(play.chat.value).text  # why the customer reacted so
    clock.now += 200
    slow = play.reply("好的，您放心，我已经加急催了，明天中午12点前一定给您准确消息。")
    assert slow.response_s == 200 and "kit-rt kit-slow" in play.chat.value
    assert play.transcript["response_s"].dropna().tolist() == [42.5, 200.0]


def test_roleplay_blank_reply_is_not_sent():
    play = RolePlay("bargain_hunter", clock=FakeClock())
    assert play.reply("   ") is None
    assert play.session.turns == () and "请先输入" in play.result.value


def test_roleplay_ends_with_the_result_and_locks_the_input():
    play = RolePlay("bargain_hunter", clock=FakeClock())
    turn = play.reply("加我微信，我私下给你便宜")
    assert turn.ended and play.session.outcome == "red_line"
    assert play.send_button.disabled and play.input.disabled
    result = play.result.value
    result_obj = play.session.result()
    assert "对话结束：触碰红线" in result and "kit-verdict-fail" in result
    assert f"<b style=\"font-size:1.3em\">{result_obj.score}</b>/100" in result
    assert f"及格线 {result_obj.pass_mark}" in result
    assert result_obj.summary.splitlines()[0] in _marked(result).text
    assert result.count("kit-mood-chip") == len(result_obj.moods)
    assert bytes(play.chart.value).startswith(b"\x89PNG")
    assert play.reply("还在吗") is None  # nothing more is sent once the chat has ended
    play.restart_button.click()
    assert play.session.turns == () and play.result.value == "" and not play.send_button.disabled
    assert bytes(play.chart.value) == b""


def test_roleplay_switching_persona_restarts():
    play = RolePlay(clock=FakeClock())
    play.reply("您好，在的")
    play.persona_choice.value = "refund_regular"
    assert play.session.persona.id == "refund_regular" and play.session.turns == ()
    assert "黄先生" in play.briefing.value
    with pytest.raises(ValueError, match="persona 'nobody' is not in the data"):
        RolePlay("nobody")


@pytest.mark.parametrize("attack", ATTACKS)
def test_roleplay_escapes_the_trainees_text(attack):
    play = RolePlay("hesitant_presale", clock=FakeClock())
    play.reply(f"{ATTACKS[0]}您好{ATTACKS[1]}")
    _no_live_markup(play.chat.value)
    assert attack in play.transcript["text"].tolist()[-len(play.session.turns[-1].customer) - 1]


def test_roleplay_css_classes():
    classes = _classes(RolePlay(clock=FakeClock()))
    for name in ("persona", "briefing", "chat", "mood", "input", "send", "restart", "result"):
        assert f"kit-roleplay-{name}" in classes, name


# --------------------------------------------------------------------------- headless
def test_headless_construction_under_nbgrader(monkeypatch, messages, tmp_path):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert headless()
    built = [ReplyRewriter(BANK, trainee="x"), DialogueExplorer(messages), Quiz(chapter="00"),
             RolePlay()]
    assert all(isinstance(w, ipywidgets.VBox) for w in built)
    explorer = built[1]
    assert not explorer.charts and explorer.chart.value == b""
    assert explorer.chart.layout.display == "none"


def test_widgets_run_headless_in_a_kernel(tmp_path: Path):
    """A notebook using every widget executes under nbclient without blocking."""
    import nbformat
    from nbclient import NotebookClient

    bank = tmp_path / "bank.jsonl"
    bank.write_text("\n".join(json.dumps(b, ensure_ascii=False) for b in BANK) + "\n",
                    encoding="utf-8")
    cells = [
        "import kit.widgets",
        f"drill = kit.widgets.ReplyRewriter({str(bank)!r}, scenario='bargain')\ndrill",
        "drill.submit('亲，这款已经是活动价了，不过可以送您一张优惠券').total",
        "quiz = kit.widgets.Quiz(chapter='00')\nquiz",
        "play = kit.widgets.RolePlay('bargain_hunter')\n"
        "play.reply('您好，这款已经是活动价啦').index",
        "kit.widgets.DialogueExplorer() if __import__('pathlib').Path("
        f"{str(datasets_dir() / 'dialogues.jsonl')!r}).exists() else None",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.km_kwargs = {"env": {**__import__("os").environ, "NBGRADER_EXECUTION": "autograde"}}
    client.execute()
    outputs = [c["outputs"] for c in nb.cells]
    assert "application/vnd.jupyter.widget-view+json" in outputs[1][0]["data"]
    assert int(outputs[2][0]["data"]["text/plain"]) > 0
    assert "application/vnd.jupyter.widget-view+json" in outputs[3][0]["data"]
    assert outputs[4][0]["data"]["text/plain"] == "0"  # the role-play took one reply
