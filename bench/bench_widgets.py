"""Benchmark the drills of kit.widgets: how long a learner waits after each click.

Run: ``.venv/bin/python bench/bench_widgets.py`` (``make bench``). Prints, measured in this run:

- 「评分」: for every bad reply and every model rewrite of ``datasets/bad_replies.jsonl``, the
  time from ``score_button.click()`` until the result HTML is updated (wall and CPU time),
  median / p95 / max, against the peer: the bare rubric call ``score_reply`` + its text
  report ``explain()`` on the same replies (what the drill adds is the rendering). The same
  clicks are then timed inside a real IPython kernel (nbclient), where every widget update is
  serialised and sent over the comm, as in JupyterLab;
- 「参考答案」 (scoring and rendering the model rewrites), 「上一题/下一题」;
- DialogueExplorer: building it over ``datasets/dialogues.jsonl`` (with and without charts),
  switching dialogues with and without the mood chart;
- Quiz: building the chapter-00 quiz and submitting an answer;
- building every drill headless (``NBGRADER_EXECUTION=autograde``).

Target from the issue: a 「评分」 click costs under 100 ms of Python time.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import table  # noqa: E402

from kit.datasets import datasets_dir  # noqa: E402

TARGET_MS = 100.0


def stats(samples: list[float]) -> list[str]:
    """Median, p95 and max of samples in seconds, as milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return [f"{1000 * statistics.median(ordered):.2f}", f"{1000 * p95:.2f}",
            f"{1000 * ordered[-1]:.2f}"]


def clock(fn: Callable[[], Any]) -> tuple[float, float]:
    """Wall and CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def replies(bank: list[dict]) -> list[tuple[int, str]]:
    """(item position, reply) for every bad reply and every rewrite of the bank."""
    return [(pos, text) for pos, item in enumerate(bank)
            for text in (item["bad_reply"], *item["rewrites"])]


def bench_score_click() -> None:
    from kit.rubric import score_reply
    from kit.widgets import ReplyRewriter, load_bank

    bank = load_bank()
    drill = ReplyRewriter(bank, trainee="bench")
    cases = replies(bank)
    print(f"\n== 「评分」 click → result HTML updated: {len(cases)} replies "
          f"({len(bank)} bad replies + their rewrites) ==")
    drill.submit(cases[0][1])  # first call loads the rubric data files
    walls, cpus, peer = [], [], []
    for pos, text in cases:
        drill._go(pos)
        drill.input.value = text
        before = drill.result.value
        wall, cpu = clock(drill.score_button.click)
        assert drill.result.value != before  # the attempt number alone changes it
        walls.append(wall)
        cpus.append(cpu)
        item = bank[pos]
        peer.append(clock(lambda t=text, i=item: score_reply(
            t, customer=i["customer"], scenario=i["scenario"]).explain())[0])
    rows = [["click (wall)", *stats(walls)], ["click (CPU)", *stats(cpus)],
            ["peer: score_reply + explain", *stats(peer)]]
    print(table(["what", "median ms", "p95 ms", "max ms"], rows))
    print(f"rendering overhead over the peer (medians): "
          f"{statistics.median(walls) / statistics.median(peer):.1f}×; "
          f"clicks over {TARGET_MS:.0f} ms: {sum(w > TARGET_MS / 1000 for w in walls)}"
          f"/{len(walls)}")
    print(f"attempts recorded: {len(drill.history)}")

    toggles, moves = [], []
    for pos in range(min(60, len(bank))):
        drill._go(pos)
        drill.reference_toggle.value = False
        toggles.append(clock(lambda: setattr(drill.reference_toggle, "value", True))[0])
        moves.append(clock(drill.next)[0])
    print(table(["what", "median ms", "p95 ms", "max ms"],
                [["「参考答案」 shown", *stats(toggles)], ["「下一题」", *stats(moves)]]))


KERNEL_CODE = """
import json, time
from kit.widgets import ReplyRewriter, load_bank
bank = load_bank()
drill = ReplyRewriter(bank, trainee="bench")
drill.submit(bank[0]["bad_reply"])
walls, cpus = [], []
for pos, item in enumerate(bank):
    for text in (item["bad_reply"], *item["rewrites"]):
        drill._go(pos)
        drill.input.value = text
        w, c = time.perf_counter(), time.process_time()
        drill.score_button.click()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
comm = drill.result.comm
print(json.dumps({"walls": walls, "cpus": cpus,
                  "comm": f"{type(comm).__module__}.{type(comm).__name__}"}))
"""


def bench_in_kernel() -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(KERNEL_CODE)])
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    out = json.loads("".join(o.get("text", "") for o in nb.cells[0].outputs
                             if o.get("name") == "stdout"))
    print(f"\n== The same clicks inside an IPython kernel (widget comm: {out['comm']}) ==")
    print(table(["what", "median ms", "p95 ms", "max ms"],
                [["click (wall)", *stats(out["walls"])], ["click (CPU)", *stats(out["cpus"])]]))
    print(f"clicks over {TARGET_MS:.0f} ms: {sum(w > TARGET_MS / 1000 for w in out['walls'])}"
          f"/{len(out['walls'])}")


def bench_explorer() -> None:
    from kit.dialogues import load_dialogues
    from kit.widgets import DialogueExplorer

    path = datasets_dir() / "dialogues.jsonl"
    messages = load_dialogues(path)
    ids = list(dict.fromkeys(messages["dialogue_id"]))
    print(f"\n== DialogueExplorer over {path.name}: {len(ids)} dialogues, "
          f"{len(messages)} messages ==")
    build_plain = clock(lambda: DialogueExplorer(messages, charts=False))[0]
    first_chart = clock(lambda: DialogueExplorer(messages, charts=True))[0]
    explorer = DialogueExplorer(messages, charts=False)
    plain = [clock(lambda d=d: setattr(explorer.dialogue, "value", d))[0] for d in ids[1:81]]
    charted = DialogueExplorer(messages, charts=True)
    drawn = [clock(lambda d=d: setattr(charted.dialogue, "value", d))[0] for d in ids[1:31]]
    filters = [clock(lambda c=c: setattr(explorer.channel_filter, "value", c))[0]
               for c in ("taobao", "jd", "douyin", "pdd", "")]
    print(f"build from a frame: {1000 * build_plain:.0f} ms without charts; "
          f"{1000 * first_chart:.0f} ms with the first chart (includes Chinese font set-up)")
    print(table(["what", "median ms", "p95 ms", "max ms"],
                [["switch dialogue, no chart", *stats(plain)],
                 ["switch dialogue, with chart", *stats(drawn)],
                 ["change a filter", *stats(filters)]]))


def bench_quiz() -> None:
    from kit.widgets import Quiz

    build = [clock(lambda: Quiz(chapter="00"))[0] for _ in range(10)]
    quiz = Quiz(chapter="00")
    submits = []
    for _ in range(20):
        for q in quiz.quiz.questions:
            response = q.answer if q.kind != "short" else "今天18点前给您答复"
            submits.append(clock(lambda q=q, r=response: quiz.answer(q.id, r))[0])
    print("\n== Quiz (chapter 00) ==")
    print(table(["what", "median ms", "p95 ms", "max ms"],
                [["build", *stats(build)], ["「提交」", *stats(submits)]]))


def bench_headless() -> None:
    code = ("import time, os; t = time.perf_counter(); import kit.widgets as w; "
            "a = time.perf_counter() - t; t = time.perf_counter(); w.ReplyRewriter(); "
            "b = time.perf_counter() - t; t = time.perf_counter(); w.DialogueExplorer(); "
            "c = time.perf_counter() - t; t = time.perf_counter(); w.Quiz(chapter='00'); "
            "d = time.perf_counter() - t; print(a, b, c, d)")
    import subprocess

    env = dict(os.environ, NBGRADER_EXECUTION="autograde")
    runs = [list(map(float, subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT,
                                           capture_output=True, text=True,
                                           check=True).stdout.split()))
            for _ in range(3)]
    med = [statistics.median(r[i] for r in runs) for i in range(4)]
    print("\n== Headless (NBGRADER_EXECUTION=autograde), fresh interpreter, median of 3 ==")
    print(table(["import kit.widgets", "ReplyRewriter()", "DialogueExplorer()", "Quiz('00')"],
                [[f"{1000 * m:.0f} ms" for m in med]]))


def main() -> int:
    os.environ.pop("NBGRADER_EXECUTION", None)
    print("kit.widgets benchmark (target: a 「评分」 click < 100 ms of Python time)")
    if not (datasets_dir() / "bad_replies.jsonl").exists():
        print("datasets/bad_replies.jsonl not found")
        return 0
    bench_score_click()
    bench_in_kernel()
    bench_explorer()
    bench_quiz()
    bench_headless()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
