"""Tests for kit.rubric: every rule's examples, the bad-reply bank, the reply pairs,
scenario and customer awareness, settings overrides, red lines, robustness."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kit import rubric
from kit.datasets import REPO_ROOT, datasets_dir, read_jsonl
from kit.rubric import DIMENSIONS, RubricError, load_settings, rules, score_reply

SCENARIOS = sorted(rubric.default_settings().scenarios)

# Rates the rules reach on datasets/reply_pairs.jsonl, a little under the measured 1.000 and
# 0.953 (the targets are 0.95 for clear pairs and 0.85 for subtle ones).
CLEAR_PAIR_RATE = 0.98
SUBTLE_PAIR_RATE = 0.93


BANK = read_jsonl("bad_replies.jsonl")
PAIRS = read_jsonl("reply_pairs.jsonl")


# ----------------------------------------------------------------------------- rules as data
def _example_cases():
    for rule in rules():
        for kind in ("match", "no_match"):
            for i, example in enumerate(rule.examples.get(kind, ())):
                yield pytest.param(rule, kind, example, id=f"{rule.id}-{kind}-{i}")


def _fired(rule, example) -> bool:
    if isinstance(example, str):
        example = {"reply": example}
    result = score_reply(example["reply"], customer=example.get("customer"),
                         scenario=example.get("scenario"))
    return any(h.rule_id == rule.id for h in result.hits)


@pytest.mark.parametrize(("rule", "kind", "example"), list(_example_cases()))
def test_rule_examples(rule, kind, example):
    assert _fired(rule, example) == (kind == "match")


def test_every_rule_has_both_kinds_of_example():
    for rule in rules():
        assert rule.examples.get("match"), rule.id
        assert rule.examples.get("no_match"), rule.id


def test_rules_are_well_formed():
    ids = [r.id for r in rules()]
    assert len(ids) == len(set(ids))
    for rule in rules():
        assert rule.dimension in (*DIMENSIONS, rubric.RED_LINE)
        assert rule.sign in "+-" and 0 <= rule.weight <= 1
        assert rule.description and rule.hint
    assert {r.dimension for r in rules()} == {*DIMENSIONS, rubric.RED_LINE}


def test_docs_table_is_generated_from_the_rules():
    committed = (REPO_ROOT / "docs" / "rubric-rules.md").read_text(encoding="utf-8")
    assert committed == rubric.rules_table_markdown(), (
        "docs/rubric-rules.md is stale: run python -m kit.rubric --table > docs/rubric-rules.md")


def test_table_lists_every_rule():
    table = rubric.rules_table_markdown()
    for rule in rules():
        assert rule.id.removeprefix("redline.") in table


# ----------------------------------------------------------------------------- the result
def test_result_shape():
    r = score_reply("您好，已为您补发，今天18点前发出。")
    assert isinstance(r.total, int) and 0 <= r.total <= 100
    assert r.pass_mark == 80 and r.passed == (r.total >= 80)
    assert list(r.dimensions) == list(DIMENSIONS)
    for dim in r.dimensions.values():
        assert 0 <= dim.score <= 1
        assert isinstance(dim.hint, str)
        for span in dim.evidence:
            assert "您好，已为您补发，今天18点前发出。"[span.start:span.end] == span.text
    assert r.red_lines == []


def test_hint_is_tied_to_the_evidence():
    r = score_reply("亲，我们尽快处理")
    commitment = r.dimensions["commitment"]
    assert [s.text for s in commitment.evidence] == ["尽快"]
    assert "尽快" in commitment.hint and "18点" in commitment.hint


def test_refusal_hint_asks_for_an_alternative():
    r = score_reply("亲，这个价格不能再便宜了。")
    assert "不能" in r.dimensions["solution"].hint
    assert "替代" in r.dimensions["solution"].hint


def test_vague_promise_scores_below_dated_promise():
    vague = score_reply("您好，您的退款我们会尽快处理。")
    dated = score_reply("您好，您的退款今天18点前处理好。")
    assert dated.total > vague.total
    assert not vague.passed


@pytest.mark.parametrize(("reply", "category"), [
    ("您加我微信，私下给您便宜", "off_platform"),
    ("亲，这款是全网最低价", "superlative"),
    ("爱买不买", "brush_off"),
    ("你是不是瞎了，详情页写着呢", "insult"),
])
def test_red_lines_zero_the_total(reply, category):
    r = score_reply(reply)
    assert r.total == 0 and not r.passed
    assert category in {red.category for red in r.red_lines}
    for red in r.red_lines:
        assert reply[red.span.start:red.span.end] == red.span.text


def test_red_line_zeroes_an_otherwise_good_reply():
    good = "非常抱歉给您添麻烦了，我已为您申请补发，今天18点前发出。"
    assert score_reply(good).passed
    assert score_reply(good + "有问题加我微信。").total == 0


# ----------------------------------------------------------------------------- context
COMPLAINT = "收到的杯子是碎的！！什么破包装"


def test_complaint_requires_apology_plan_and_time():
    full = score_reply("非常抱歉让您收到碎的杯子，我马上为您补发一个新的，今天18点前发出。",
                       customer=COMPLAINT, scenario="quality_complaint")
    assert full.passed
    no_apology = score_reply("我马上为您补发一个新的，今天18点前发出。",
                             customer=COMPLAINT, scenario="quality_complaint")
    assert not no_apology.passed
    assert "require.apology" in {h.rule_id for h in no_apology.hits}
    assert "道歉" in no_apology.dimensions["empathy"].hint
    no_time = score_reply("非常抱歉让您收到碎的杯子，我们会为您补发。",
                          customer=COMPLAINT, scenario="quality_complaint")
    assert not no_time.passed
    assert "require.time" in {h.rule_id for h in no_time.hits}


def test_angry_customer_raises_the_weight_of_empathy():
    reply = "已为您申请补发，今天18点前发出。"
    calm = score_reply(reply, customer="我的杯子碎了")
    angry = score_reply(reply, customer="杯子碎了！！你们搞什么？？我要差评")
    assert angry.total < calm.total
    assert "require.soothe" in {h.rule_id for h in angry.hits}


def test_question_must_be_answered():
    customer = "这件衣服是什么面料的？"
    answered = score_reply("您好，这件是纯棉的，很透气。", customer=customer)
    dodged = score_reply("您好，感谢您的关注，欢迎选购。", customer=customer)
    assert answered.total > dodged.total
    assert "require.answer" in {h.rule_id for h in dodged.hits}


def test_bargain_needs_a_polite_decline_with_an_alternative():
    customer = "能便宜点吗"
    bare = score_reply("不议价。", customer=customer, scenario="bargain")
    alternative = score_reply("亲，这已经是活动价了，不能再低啦。不过可以送您一张5元店铺券，"
                              "您看可以吗？", customer=customer, scenario="bargain")
    assert alternative.passed and not bare.passed


def test_presale_needs_information_and_a_next_question():
    customer = "这款有M码吗"
    good = score_reply("您好，M码有现货，适合身高160-165cm。您平时穿什么码呢？",
                       customer=customer, scenario="presale")
    no_question = score_reply("您好，M码有现货，适合身高160-165cm。",
                              customer=customer, scenario="presale")
    assert good.passed and good.total > no_question.total


def test_wall_of_text_scores_below_short_sentences():
    wall = ("您好关于您的订单我们这边查询到因为最近仓库活动单量比较大所以发货会比平时慢一些我们已经"
            "在加急安排了请您耐心等待一下如果有任何问题都可以随时联系我们我们一定会尽力为您处理好"
            "给您带来不便非常抱歉感谢您的理解和支持祝您生活愉快")
    short = "非常抱歉让您久等了。您的订单已加急，今天18点前发出。发货后我把单号发给您。"
    assert score_reply(short).total > score_reply(wall).total


def test_unknown_scenario_and_bad_types():
    with pytest.raises(ValueError, match="unknown scenario"):
        score_reply("您好", scenario="nope")
    with pytest.raises(TypeError):
        score_reply(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        score_reply("您好", customer=3)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- settings
GOOD_ENOUGH = "您好，已为您申请退款，1-3个工作日到账。"


def test_settings_override_changes_the_pass_mark(tmp_path):
    path = tmp_path / "class.toml"
    path.write_text("pass_mark = 99\n", encoding="utf-8")
    strict = load_settings(path)
    assert strict.pass_mark == 99
    assert strict.weights == rubric.default_settings().weights
    default = score_reply(GOOD_ENOUGH)
    r = score_reply(GOOD_ENOUGH, settings=strict)
    assert r.total == default.total and r.pass_mark == 99 and not r.passed


def test_settings_override_in_yaml_changes_weights(tmp_path):
    path = tmp_path / "class.yaml"
    path.write_text("dimensions:\n  empathy:\n    weight: 5\n", encoding="utf-8")
    heavy = load_settings(path)
    assert heavy.weights["empathy"] == 5 and heavy.bases["empathy"] == 0.6
    reply = "已为您申请退款，1-3个工作日到账。"
    assert score_reply(reply, settings=heavy).total < score_reply(reply).total


@pytest.mark.parametrize(("text", "field"), [
    ("pass_mark = 180\n", "pass_mark"),
    ("passmark = 70\n", "passmark"),
    ("[dimensions.empathy]\nweight = \"x\"\n", "dimensions.empathy"),
    ("[scenarios.presale]\nrequires = [\"nothing\"]\n", "nothing"),
    ("pass_mark = \n", "invalid TOML"),
])
def test_bad_settings_name_file_and_field(tmp_path, text, field):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RubricError) as info:
        load_settings(path)
    assert "bad.toml" in str(info.value) and field in str(info.value)


def test_bad_rules_file_names_file_line_and_field(tmp_path, monkeypatch):
    shutil.copytree(datasets_dir() / "rubric", tmp_path / "rubric")
    shutil.copytree(datasets_dir() / "phrases", tmp_path / "phrases")
    path = tmp_path / "rubric" / "rules.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("dimension: politeness", "dimension: politness", 1),
                    encoding="utf-8")
    monkeypatch.setenv("KIT_DATASETS", str(tmp_path))
    with pytest.raises(RubricError) as info:
        rules()
    message = str(info.value)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "- id: polite.nin" in s)
    assert f"rules.yaml:{line}" in message and "dimension" in message


# ----------------------------------------------------------------------------- the bank
def test_bank_is_large_enough():
    assert len(BANK) >= 200


@pytest.mark.parametrize("item", BANK, ids=[i["id"] for i in BANK])
def test_bank_bad_reply_fails_and_rewrites_pass(item):
    context = {"customer": item.get("customer"), "scenario": item.get("scenario")}
    bad = score_reply(item["bad_reply"], **context)
    assert not bad.passed, bad.explain()
    for rewrite in item["rewrites"]:
        good = score_reply(rewrite, **context)
        assert good.passed, f"{rewrite}\n{good.explain()}"
        assert good.total > bad.total


def _pair_rate(kind: str) -> tuple[float, int]:
    chosen = [p for p in PAIRS if p["kind"] == kind]
    wins = 0
    for p in chosen:
        context = {"customer": p.get("customer"), "scenario": p.get("scenario")}
        wins += score_reply(p["better"], **context).total > score_reply(p["worse"], **context).total
    return (wins / len(chosen) if chosen else 0.0), len(chosen)


@pytest.mark.parametrize(("kind", "target"), [("clear", CLEAR_PAIR_RATE),
                                              ("subtle", SUBTLE_PAIR_RATE)])
def test_better_reply_of_a_pair_scores_higher(kind, target):
    rate, n = _pair_rate(kind)
    assert n > 0
    assert rate >= target, f"{kind}: {rate:.3f} over {n} pairs"


# ----------------------------------------------------------------------------- robustness
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
MIXED = st.text(alphabet="您好亲抱歉尽快稍后不能但可以为您补发今天18点前。！？!? \n\t，,"
                         "aZ😊[微笑]加微信全网最低你自己", max_size=400)


def _check(reply: str, result) -> None:
    assert 0 <= result.total <= 100
    assert result.passed == (result.total >= result.pass_mark)
    assert set(result.dimensions) == set(DIMENSIONS)
    for dim in result.dimensions.values():
        assert 0.0 <= dim.score <= 1.0
        for span in dim.evidence:
            assert 0 <= span.start <= span.end <= len(reply)
            assert reply[span.start:span.end] == span.text
    for red in result.red_lines:
        assert reply[red.span.start:red.span.end] == red.span.text
    if result.red_lines:
        assert result.total == 0
    for hit in result.hits:
        for span in hit.spans:
            assert reply[span.start:span.end] == span.text


@settings(max_examples=200, deadline=None)
@given(reply=st.one_of(TEXT, MIXED), customer=st.one_of(st.none(), TEXT, MIXED),
       scenario=st.one_of(st.none(), st.sampled_from(SCENARIOS)))
def test_any_text_gives_a_result_in_range(reply, customer, scenario):
    _check(reply, score_reply(reply, customer=customer, scenario=scenario))


@pytest.mark.parametrize("reply", ["", " ", "\n\n", "😊😊😊", "Hello, sorry for the delay!",
                                   "亲～ok的，today就发", "\u200b\u3000", "。。。！！！"])
def test_edge_strings(reply):
    _check(reply, score_reply(reply, customer=reply or None))


def _seconds(reply: str) -> float:
    start = time.perf_counter()
    score_reply(reply, customer=reply[:2000])
    return time.perf_counter() - start


def test_long_text_in_roughly_linear_time():
    unit = "亲，非常抱歉，我们会尽快为您处理，不能退款但可以补发。你自己看详情页吧！！\n"
    short, long = (unit * (10_000 // len(unit)))[:10_000], (unit * (100_000 // len(unit)))[:100_000]
    _check(long, score_reply(long))
    ratio = min(_seconds(long) for _ in range(2)) / min(_seconds(short) for _ in range(2))
    assert ratio < 40, f"100k chars took {ratio:.1f}× the time of 10k chars"


def test_import_is_light():
    code = ("import sys, kit.rubric; "
            "print(sorted(m for m in ('yaml', 'pandas', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(REPO_ROOT))
    assert out.stdout.strip() == "[]"


def test_cli_prints_table_and_scores(capsys):
    assert rubric.main(["--table"]) == 0
    assert capsys.readouterr().out == rubric.rules_table_markdown()
    assert rubric.main(["亲，稍后回复"]) == 0
    assert "总分" in capsys.readouterr().out
