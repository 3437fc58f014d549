"""Real-browser tests: the kit's widgets in JupyterLab 4 and Voila, in headless Chromium.

The harness (one JupyterLab server and one Chromium per session, screenshots on failure,
skip-or-fail when Chromium is missing) is ``tests/browser_support.py``; the notebooks the
tests open are ``tests/data/browser/``. What the page shows is compared with what the kit
computes in Python for the same input.
"""

from __future__ import annotations

import re

import browser_support as bs
import pytest

pytest_plugins = ["browser_support"]

REWRITER_SCENARIO = "logistics_delay"  # as in tests/data/browser/rewriter.ipynb
WEAK_REWRITE = "亲，仓库有点忙，您再等等吧，发了会通知的"
GOOD_REWRITE = ("亲，非常抱歉让您久等了！我马上帮您联系仓库加急，明天中午12点前发出，"
                "单号第一时间发您。")
PERSONA = "anxious_late_parcel"  # as in tests/data/browser/roleplay.ipynb
ROLEPLAY_REPLIES = (
    "非常抱歉让您着急了！我查了一下，包裹在转运中心滞留了，我已经联系快递加急处理，"
    "今天18点前给您回复进展。",
    "您放心，如果明天还不动，我直接给您补发一个顺丰次日达，保证后天之前送到。",
)
# Each chat message as the page shows it: role, text, mood tag (customer) or score (agent),
# and the customer's "why" note.
READ_CHAT = """els => els.map(e => {
  const role = [...e.classList].find(c => c.startsWith("kit-msg-")).slice(8);
  const body = e.querySelector(".kit-msg-text").cloneNode(true);
  const why = body.querySelector(".kit-roleplay-why");
  if (why) why.remove();
  const tag = e.querySelector(".kit-mood-tag, .kit-roleplay-total");
  return [role, body.textContent, tag ? tag.textContent : "", why ? why.textContent : ""];
})"""


# --------------------------------------------------------------------------- skip or fail
@pytest.mark.parametrize(("chromium", "playwright", "missing"), [
    (None, True, "Chromium"),
    ("/usr/bin/chromium", False, "playwright"),
    (None, False, "Chromium"),
])
@pytest.mark.parametrize("required", [False, True])
def test_missing_browser_skips_or_fails(monkeypatch, chromium, playwright, missing, required):
    monkeypatch.setattr(bs, "find_chromium", lambda: chromium)
    monkeypatch.setattr(bs, "has_playwright", lambda: playwright)
    if required:
        monkeypatch.setenv(bs.REQUIRE_ENV, "1")
    else:
        monkeypatch.delenv(bs.REQUIRE_ENV, raising=False)
    outcome = pytest.fail.Exception if required else pytest.skip.Exception
    with pytest.raises(outcome) as caught:
        bs.require_browser()
    message = str(caught.value)
    assert message.startswith("real-browser tests need ") and missing in message
    assert ("KIT_REQUIRE_BROWSER=1" in message) == required


def test_browser_found_returns_the_executable(monkeypatch):
    monkeypatch.setattr(bs, "find_chromium", lambda: "/opt/chromium/chrome")
    monkeypatch.setattr(bs, "has_playwright", lambda: True)
    monkeypatch.setenv(bs.REQUIRE_ENV, "1")
    assert bs.unavailable_reason() is None
    assert bs.require_browser() == "/opt/chromium/chrome"


def test_chromium_lookup_falls_back_to_path(monkeypatch, tmp_path):
    monkeypatch.setattr(bs, "CHROMIUM", str(tmp_path / "absent"))
    monkeypatch.setattr(bs.shutil, "which", lambda name: f"/somewhere/bin/{name}")
    assert bs.find_chromium() == "/somewhere/bin/chromium"
    monkeypatch.setattr(bs.shutil, "which", lambda name: None)
    assert bs.find_chromium() is None


# --------------------------------------------------------------------------- JupyterLab
@pytest.mark.browser
def test_plain_widget_round_trip(page, lab):
    """Harness self-check on plain ipywidgets: type Chinese, click, read the kernel's echo."""
    bs.open_notebook(page, lab, "plain_widgets.ipynb")
    box = bs.wait_for(page, ".demo-input textarea", "the text box")
    text = "你好，<b>世界</b>"
    box.fill(text)
    page.locator(".demo-send").click()
    echo = page.locator(".demo-echo")
    echo.filter(has_text="收到").wait_for()
    assert echo.inner_text().strip() == f"收到 {len(text)} 字：{text}"


def _first_item() -> dict:
    from kit.widgets import load_bank

    return next(i for i in load_bank() if i["scenario"] == REWRITER_SCENARIO)


def _expected_feedback(item: dict, text: str) -> dict:
    """What the rewriter should show for ``text``, computed with the rubric in Python."""
    from kit.rubric import default_settings, score_reply

    score = score_reply(text, customer=item["customer"], scenario=item["scenario"])
    assert not score.red_lines, "test texts are chosen without red lines"
    labels = default_settings().labels
    return {
        "total": score.total,
        "verdict": "通过" if score.passed else "未通过",
        "dimensions": {labels[k]: f"{d.score:.2f}" for k, d in score.dimensions.items()},
        "hints": [f"{labels[k]}：{d.hint}" for k, d in score.dimensions.items() if d.hint],
    }


def _shown_feedback(page) -> dict:
    """The rewriter's result as the page shows it."""
    result = page.locator(".kit-rewriter-result")
    total = re.search(r"总分\s*(\d+)\s*/100", result.locator(".kit-total").inner_text())
    assert total, f"no total in {result.inner_text()!r}"
    rows = result.locator("tr.kit-dimension")
    return {
        "total": int(total.group(1)),
        "verdict": result.locator(".kit-verdict").inner_text().strip(),
        "dimensions": {rows.nth(i).locator("td").nth(0).inner_text().strip():
                       rows.nth(i).locator("td").nth(2).inner_text().strip()
                       for i in range(rows.count())},
        "hints": [li.strip() for li in result.locator(".kit-hints li").all_inner_texts()],
    }


def _score(page, text: str, attempt: int) -> None:
    page.locator(".kit-rewriter-input textarea").fill(text)
    page.locator(".kit-rewriter-score").click()
    page.locator(".kit-rewriter-result .kit-attempt",
                 has_text=f"第 {attempt} 次提交").wait_for()


@pytest.mark.browser
def test_rewriter_scores_a_chinese_rewrite(page, lab):
    """Type a rewrite, click 「评分」: total, verdict, dimension scores and hints on the page
    equal kit.rubric.score_reply for the same text; a better second attempt shows the gain."""
    item = _first_item()
    bs.open_notebook(page, lab, "rewriter.ipynb")
    bs.wait_for(page, ".kit-rewriter-input textarea", "the rewriter")
    assert item["customer"] in page.locator(".kit-rewriter-customer").inner_text()
    assert page.locator(".kit-rewriter-reference-toggle").is_disabled()

    _score(page, WEAK_REWRITE, 1)
    weak = _expected_feedback(item, WEAK_REWRITE)
    assert weak["hints"], "the weak rewrite is meant to get hints"
    assert _shown_feedback(page) == weak
    assert WEAK_REWRITE in page.locator(".kit-rewriter-result .kit-reply").inner_text()
    page.locator(".kit-rewriter-result").scroll_into_view_if_needed()
    bs.save_evidence(page, "rewriter-scored")

    _score(page, GOOD_REWRITE, 2)
    good = _expected_feedback(item, GOOD_REWRITE)
    assert _shown_feedback(page) == good
    gain = good["total"] - weak["total"]
    assert (f"上次 {weak['total']} 分，这次{'+' if gain >= 0 else ''}{gain}"
            in page.locator(".kit-rewriter-result .kit-attempt").inner_text())
    assert page.locator(".kit-rewriter-reference-toggle").is_enabled()


# --------------------------------------------------------------------------- Voila
@pytest.mark.browser
def test_voila_renders_the_rewriter(page, lab):
    """The same notebook as a Voila app: the widget renders with its Chinese labels, the
    code does not show, and a rewrite is scored through Voila's kernel."""
    item = _first_item()
    bs.goto(page, lab.url("/voila/render/rewriter.ipynb"),
            "Voila (is voila.server_extension enabled? `jupyter server extension list`)")
    bs.wait_for(page, ".kit-rewriter-input textarea", "the rewriter in Voila",
                timeout_ms=bs.KERNEL_IDLE_MS)
    text = page.locator(".kit-rewriter").inner_text()
    for label in ("差评回复改写练习", "评分", "参考答案", "上一题", "下一题", "导出记录",
                  item["customer"], item["bad_reply"]):
        assert label in text
    assert "import kit.widgets" not in page.locator("body").inner_text()
    _score(page, GOOD_REWRITE, 1)
    assert _shown_feedback(page) == _expected_feedback(item, GOOD_REWRITE)
    bs.save_evidence(page, "voila-rewriter")


# --------------------------------------------------------------------------- role-play
def _expected_chats() -> tuple[list[list[list[str]]], object]:
    """The chat after 0, 1, 2 replies as kit.roleplay plays it in Python, and the result.
    Replies in the browser take about a second, far below every persona's slow-reply limit."""
    from kit.roleplay import Session, load_persona, mood_label

    session = Session(load_persona(PERSONA))

    def rows() -> list[list[str]]:
        t = session.transcript()
        return [[role, text,
                 f"情绪 {mood:+.2f} {mood_label(mood)}" if role == "customer" else f"得分 {total}",
                 f"（顾客为什么这样反应：{note}）" if note else ""]
                for role, text, mood, total, note in zip(
                    t["role"], t["text"], t["mood"], t["total"], t["note"], strict=True)]

    chats = [rows()]
    for reply in ROLEPLAY_REPLIES:
        session.reply(reply, response_s=1.0)
        chats.append(rows())
    return chats, session.result()


@pytest.mark.browser
def test_roleplay_two_turns(page, lab):
    """Two replies sent through the page: after each, the chat grows by the customer's
    reaction exactly as kit.roleplay's deterministic session answers the same replies, and
    the second reply ends the chat with the session's outcome and score."""
    from playwright.sync_api import expect

    chats, result = _expected_chats()
    assert result.outcome == "resolved" and len(chats[-1]) > len(chats[1]) > len(chats[0])
    bs.open_notebook(page, lab, "roleplay.ipynb")
    box = bs.wait_for(page, ".kit-roleplay-input textarea", "the role-play")
    messages = page.locator(".kit-roleplay-chat .kit-msg")
    assert messages.evaluate_all(READ_CHAT) == chats[0]
    for reply, chat in zip(ROLEPLAY_REPLIES, chats[1:], strict=True):
        box.fill(reply)
        page.locator(".kit-roleplay-send").click()
        expect(messages).to_have_count(len(chat))
        assert messages.evaluate_all(READ_CHAT) == chat
    outcome = page.locator(".kit-roleplay-result .kit-roleplay-outcome")
    expect(outcome).to_contain_text(f"对话结束：{result.outcome_label}")
    assert re.search(rf"总分\s*{result.score}\s*/100", outcome.locator(".kit-total").inner_text())
    expect(page.locator(".kit-roleplay-send")).to_be_disabled()
    outcome.scroll_into_view_if_needed()
    bs.save_evidence(page, "roleplay-two-turns")
