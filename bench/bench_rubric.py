"""Benchmark of the reply rubric (kit.rubric) against a naive keyword-count peer.

Prints, measured in this run:
- the bad-reply bank: bad replies failing, model rewrites passing, rewrite scoring above its
  bad reply (and the peer's rate for the last, the only one a peer without a pass mark has);
- the labelled reply pairs: how often the better reply scores strictly higher, for clear and
  subtle pairs and per aspect, for the rubric and for the peer;
- speed: replies scored per second (rubric and peer) and the import time of kit.rubric.

Targets from the issue: every bad reply fails, every rewrite passes and beats its bad reply;
clear pairs ≥ 95%, subtle pairs ≥ 85%; ≥ 2,000 replies/s; import < 0.3 s.

Run: .venv/bin/python bench/bench_rubric.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kit.datasets import read_jsonl  # noqa: E402
from kit.rubric import score_reply  # noqa: E402

# The peer: count polite/helpful words minus rude/negative words, a common first attempt.
GOOD_WORDS = ("您", "请", "谢谢", "感谢", "抱歉", "对不起", "不好意思", "亲", "为您", "帮您")
BAD_WORDS = ("你", "不知道", "没办法", "不能", "不行", "自己", "尽快", "稍后", "等等", "规定")


def keyword_score(reply: str, customer: str | None = None, scenario: str | None = None) -> int:
    """The naive peer: polite-word count minus bad-word count."""
    return sum(reply.count(w) for w in GOOD_WORDS) - sum(reply.count(w) for w in BAD_WORDS)


def rubric_total(reply: str, customer: str | None = None, scenario: str | None = None) -> int:
    return score_reply(reply, customer=customer, scenario=scenario).total


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}% ({part}/{whole})" if whole else "  n/a"


def bench_bank(bank: list[dict]) -> None:
    print(f"\n== Bad-reply bank: {len(bank)} items ==")
    if not bank:
        print("datasets/bad_replies.jsonl not found")
        return
    bad_fail = rewrites = rewrite_pass = rubric_beats = peer_beats = 0
    for item in bank:
        ctx = {"customer": item.get("customer"), "scenario": item.get("scenario")}
        bad = score_reply(item["bad_reply"], **ctx)
        bad_fail += not bad.passed
        peer_bad = keyword_score(item["bad_reply"], **ctx)
        for rewrite in item["rewrites"]:
            good = score_reply(rewrite, **ctx)
            rewrites += 1
            rewrite_pass += good.passed
            rubric_beats += good.total > bad.total
            peer_beats += keyword_score(rewrite, **ctx) > peer_bad
    print(f"bad replies failing        rubric {pct(bad_fail, len(bank))}")
    print(f"model rewrites passing     rubric {pct(rewrite_pass, rewrites)}")
    print(f"rewrite > its bad reply    rubric {pct(rubric_beats, rewrites)}   "
          f"keyword peer {pct(peer_beats, rewrites)}")


def bench_pairs(pairs: list[dict]) -> None:
    print(f"\n== Reply pairs: {len(pairs)} ==")
    if not pairs:
        print("datasets/reply_pairs.jsonl not found")
        return
    groups: dict[str, list[dict]] = defaultdict(list)
    for p in pairs:
        groups[f"kind={p['kind']}"].append(p)
    for p in pairs:
        groups[f"  aspect={p.get('aspect', '?')}"].append(p)
    print(f"{'group':<34}{'n':>5}  {'rubric better>worse':>20}  {'keyword peer':>14}")
    for name in sorted(groups, key=lambda g: (g.startswith(" "), g)):
        chosen = groups[name]
        wins = peer = 0
        for p in chosen:
            ctx = {"customer": p.get("customer"), "scenario": p.get("scenario")}
            wins += rubric_total(p["better"], **ctx) > rubric_total(p["worse"], **ctx)
            peer += keyword_score(p["better"], **ctx) > keyword_score(p["worse"], **ctx)
        n = len(chosen)
        print(f"{name:<34}{n:>5}  {100 * wins / n:>19.1f}%  {100 * peer / n:>13.1f}%")


def bench_speed(samples: list[tuple[str, str | None, str | None]]) -> None:
    print(f"\n== Speed (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs) ==")
    if not samples:
        samples = [("亲，非常抱歉让您久等了，我已为您催促快递，今天18点前给您回复。",
                    "快递怎么还没到？？", "logistics_delay")]
    score_reply(*samples[0][:1])  # load the data files outside the timing
    print(f"{len(samples)} distinct replies with their context; median of 3 runs of ≥1 s; "
          f"CPU = replies per second of this process's CPU time (steady on a busy machine)")
    for name, fn in (("rubric", rubric_total), ("keyword peer", keyword_score)):
        wall, cpu = [], []
        for _ in range(3):
            count, start, start_cpu = 0, time.perf_counter(), time.process_time()
            while time.perf_counter() - start < 1.0:
                for reply, customer, scenario in samples:
                    fn(reply, customer, scenario)
                count += len(samples)
            wall.append(count / (time.perf_counter() - start))
            cpu.append(count / max(time.process_time() - start_cpu, 1e-9))
        print(f"{name:<14} {statistics.median(wall):>10,.0f} replies/s wall   "
              f"{statistics.median(cpu):>10,.0f} replies/s CPU")
    for size in (10_000, 100_000):
        text = "".join(s[0] + "\n" for s in samples)
        text = (text * (size // max(1, len(text)) + 1))[:size]
        runs = []
        for _ in range(3):
            start = time.process_time()
            score_reply(text, customer=samples[0][1], scenario=samples[0][2])
            runs.append(time.process_time() - start)
        print(f"one reply of {size:>7,} chars: {min(runs):.3f} s CPU (best of 3)")


def bench_import() -> None:
    print("\n== Import ==")
    code = ("import time; t = time.perf_counter(); import kit.rubric; a = time.perf_counter() - t;"
            " t = time.perf_counter(); kit.rubric.score_reply('您好'); "
            "print(a, time.perf_counter() - t)")
    runs = []
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, cwd=ROOT)
        runs.append(tuple(float(x) for x in out.stdout.split()))
    print(f"import kit.rubric: {statistics.median(r[0] for r in runs):.3f} s "
          f"(median of 5 fresh interpreters; target < 0.3 s)")
    print(f"first score (loads rules, red lines, settings): "
          f"{statistics.median(r[1] for r in runs):.3f} s")


def main() -> int:
    bank = read_jsonl("bad_replies.jsonl")
    pairs = read_jsonl("reply_pairs.jsonl")
    print("Reply rubric benchmark (kit.rubric vs keyword-count peer)")
    bench_bank(bank)
    bench_pairs(pairs)
    samples = [(i["bad_reply"], i.get("customer"), i.get("scenario")) for i in bank]
    samples += [(r, i.get("customer"), i.get("scenario")) for i in bank for r in i["rewrites"]]
    samples += [(p[k], p.get("customer"), p.get("scenario")) for p in pairs
                for k in ("better", "worse")]
    bench_speed(samples)
    bench_import()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
