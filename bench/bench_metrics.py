"""Benchmark kit.metrics (and kit.load_dialogues) on synthetic, seeded message frames.

Run: ``.venv/bin/python bench/bench_metrics.py`` (``make bench``). Prints, for 10k, 100k
and 1M messages, the time of ``response_rounds`` + ``service_summary`` (by agent, with
the platforms' service window), how it grows, the peak memory the call allocates, and the
same metrics computed by a naive pure-Python per-dialogue loop (10k and 100k only), after
checking that both give the same numbers. Then it times ``load_dialogues`` on a
100k-message JSONL and CSV written to a temporary folder and checks the round trip.
Targets: 1M messages summarised in under 5 s with a peak under 2 GB.
"""

from __future__ import annotations

import itertools
import json
import math
import statistics
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _util import max_rss_mb, table, timed, traced_peak_mb

from kit.dialogues import ROLES, TIMEZONE, load_dialogues
from kit.metrics import (
    CAP_S,
    FIRST_ANSWER_S,
    PLATFORM_SERVICE_WINDOW,
    WITHIN_S,
    response_rounds,
    service_summary,
)

SIZES = (10_000, 100_000, 1_000_000)
NAIVE_SIZES = (10_000, 100_000)
PHRASES = ("在吗", "好的，请稍等", "亲，已经帮您查询", "什么时候发货呀", "可以便宜点吗",
           "收到了，谢谢", "颜色和图片不一样", "麻烦再催一下快递", "您好，很高兴为您服务",
           "这边给您登记补发", "能开发票吗", "尺码偏小怎么办", "")
CHANNELS = ("taobao", "jd", "douyin", "pdd", "wechat", "other")
SCENARIOS = ("presale", "logistics_delay", "quality_complaint", "refund", "after_sale",
             "bargain", "complaint")


def synth_messages(n: int, seed: int = 7) -> pd.DataFrame:
    """A message frame shaped like load_dialogues' output: ~10 messages per dialogue."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, 19, size=n // 4 + 10)
    lengths = lengths[: int(np.searchsorted(np.cumsum(lengths), n)) + 1]
    lengths[-1] -= int(lengths.sum()) - n
    dialogue = np.repeat(np.arange(len(lengths)), lengths)
    first = np.cumsum(lengths) - lengths
    turn = np.arange(n) - np.repeat(first, lengths)
    role = rng.choice(4, size=n, p=[0.45, 0.38, 0.12, 0.05])
    role[first] = np.where(rng.random(len(first)) < 0.9, 0, role[first])
    gaps = np.round(rng.exponential(50.0, size=n))
    gaps[first] = 0
    elapsed = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[first], lengths)
    start = pd.Timestamp("2026-03-01", tz=TIMEZONE).value // 10**9
    opened = start + rng.integers(0, 30 * 86400, size=len(lengths))
    seconds = opened[dialogue] + elapsed.astype(np.int64)
    ids = np.array([f"D{i:07d}" for i in range(len(lengths))], dtype=object)
    agents = np.array([f"A{i:02d}" for i in range(30)], dtype=object)
    phrases = np.array(PHRASES, dtype=object)
    text = phrases[rng.integers(0, len(PHRASES) - 1, size=n)]
    text[role == 3] = phrases[-1]
    csat = pd.array(rng.integers(1, 6, size=len(lengths)), dtype="Int64")
    csat[rng.random(len(lengths)) < 0.3] = pd.NA
    return pd.DataFrame({
        "dialogue_id": pd.array(ids[dialogue], dtype="str"),
        "turn": turn.astype(np.int64),
        "ts": pd.to_datetime(seconds * 10**9, utc=True).tz_convert(TIMEZONE).as_unit("ns"),
        "role": pd.array(np.array(ROLES, dtype=object)[role], dtype="str"),
        "text": pd.array(text, dtype="str"),
        "channel": pd.array(np.array(CHANNELS, dtype=object)[
            rng.integers(0, len(CHANNELS), size=len(lengths))][dialogue], dtype="str"),
        "scenario": pd.array(np.array(SCENARIOS, dtype=object)[
            rng.integers(0, len(SCENARIOS), size=len(lengths))][dialogue], dtype="str"),
        "agent_id": pd.array(agents[rng.integers(0, 30, size=len(lengths))][dialogue],
                             dtype="str"),
        "csat": csat.take(dialogue),
        "resolved": pd.array(rng.random(len(lengths)) < 0.7, dtype="boolean").take(dialogue),
    })


def vectorised(messages: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    rounds = response_rounds(messages)
    summary = service_summary(messages, by="agent_id", service_window=PLATFORM_SERVICE_WINDOW)
    return rounds, summary


def naive(messages: pd.DataFrame) -> tuple[list[float], pd.DataFrame]:
    """The same metrics with a plain per-dialogue Python loop (reference and peer)."""
    zone = ZoneInfo(TIMEZONE)
    start, end = (int(t[:2]) * 60 + int(t[3:]) for t in PLATFORM_SERVICE_WINDOW)
    dialogues: dict[str, list[tuple[int, str]]] = {}
    agent_of: dict[str, str] = {}
    for did, ns, role, agent in zip(messages["dialogue_id"].tolist(),
                                    messages["ts"].array.asi8.tolist(),
                                    messages["role"].tolist(), messages["agent_id"].tolist(),
                                    strict=True):
        dialogues.setdefault(did, []).append((ns, role))
        agent_of[did] = agent
    all_responses: list[float] = []
    groups: dict[str, dict[str, list]] = {}
    for did, msgs in dialogues.items():
        group = groups.setdefault(agent_of[did], {"dialogues": [], "rounds": [], "first": []})
        group["dialogues"].append(did)
        opened = None
        counted: list[float] = []
        for ns, role in [*msgs, (None, "end")]:
            if role == "customer" and opened is None:
                opened = ns
            elif role in ("agent", "end") and opened is not None:
                response = (ns - opened) / 1e9 if role == "agent" else math.nan
                all_responses.append(response)
                local = datetime.fromtimestamp(opened / 1e9, zone)
                if start <= local.hour * 60 + local.minute < end:
                    counted.append(response)
                opened = None
        group["rounds"].extend(counted)
        if counted:
            group["first"].append(counted[0])
    rows = {}
    for agent, group in sorted(groups.items()):
        rounds, first = group["rounds"], group["first"]
        answered = [r for r in rounds if not math.isnan(r)]
        first_answered = [r for r in first if not math.isnan(r)]
        rows[agent] = {
            "dialogues": len(group["dialogues"]),
            "rounds": len(rounds),
            "unanswered": len(rounds) - len(answered),
            "first_response_median_s": (statistics.median(first_answered)
                                        if first_answered else math.nan),
            "mean_response_s": sum(answered) / len(answered) if answered else math.nan,
            "capped_mean_response_s": (sum(CAP_S if math.isnan(r) else min(r, CAP_S)
                                           for r in rounds) / len(rounds)
                                       if rounds else math.nan),
            "within_3min_rate": (sum(r <= WITHIN_S for r in answered) / len(rounds)
                                 if rounds else math.nan),
            "first_answer_30s_rate": (sum(r <= FIRST_ANSWER_S for r in first_answered)
                                      / len(first) if first else math.nan),
        }
    summary = pd.DataFrame.from_dict(rows, orient="index")
    summary.index.name = "agent_id"
    return all_responses, summary


def check_same(fast: tuple[pd.DataFrame, pd.DataFrame], slow: tuple[list[float], pd.DataFrame]
               ) -> float:
    """Assert both implementations agree; return the largest relative difference."""
    np.testing.assert_array_equal(fast[0]["response_s"].to_numpy(), np.array(slow[0]))
    pd.testing.assert_frame_equal(fast[1], slow[1], check_exact=False, rtol=1e-9,
                                  check_index_type=False, check_dtype=False)
    a, b = fast[1].to_numpy(dtype=float), slow[1].to_numpy(dtype=float)
    both = ~np.isnan(a) & (b != 0)
    return float(np.max(np.abs(a[both] - b[both]) / np.abs(b[both]), initial=0.0))


def bench_metrics() -> None:
    rows = []
    previous = None
    for n in SIZES:
        messages = synth_messages(n)
        fast, seconds = timed(vectorised, messages, repeat=3 if n < 1_000_000 else 2)
        peak = traced_peak_mb(vectorised, messages)[1]
        growth = f"x{seconds / previous:.1f}" if previous else "-"
        previous = seconds
        naive_s = speedup = agree = "-"
        if n in NAIVE_SIZES:
            slow, slow_seconds = timed(naive, messages)
            agree = f"yes ({check_same(fast, slow):.0e})"
            naive_s, speedup = f"{slow_seconds:.3f}", f"x{slow_seconds / seconds:.1f}"
        rows.append([f"{n:,}", f"{len(fast[0]):,}", f"{seconds:.3f}", growth, f"{peak:.0f}",
                     naive_s, speedup, agree])
    print("response_rounds + service_summary(by='agent_id', service_window=08:00-23:00)")
    print(table(["messages", "rounds", "kit s", "growth", "peak MiB", "naive s", "speed-up",
                 "same result (max rel diff)"], rows))


def write_jsonl(messages: pd.DataFrame, path: Path) -> None:
    stamps = messages["ts"].dt.strftime("%Y-%m-%dT%H:%M:%S%z").str.replace(
        r"(\d\d)$", r":\1", regex=True).tolist()
    ids = messages["dialogue_id"].tolist()
    roles, texts = messages["role"].tolist(), messages["text"].tolist()
    meta = messages.drop_duplicates("dialogue_id").set_index("dialogue_id")
    bounds = np.flatnonzero(np.r_[True, np.array(ids[1:]) != np.array(ids[:-1]), True])
    with path.open("w", encoding="utf-8") as fh:
        for lo, hi in itertools.pairwise(bounds):
            info = meta.loc[ids[lo]]
            fh.write(json.dumps({
                "dialogue_id": ids[lo], "channel": info["channel"],
                "scenario": info["scenario"], "agent_id": info["agent_id"],
                "csat": None if pd.isna(info["csat"]) else int(info["csat"]),
                "resolved": bool(info["resolved"]),
                "turns": [{"ts": stamps[i], "role": roles[i], "text": texts[i]}
                          for i in range(lo, hi)]}, ensure_ascii=False) + "\n")


def bench_loader(n: int = 100_000) -> None:
    messages = synth_messages(n, seed=11)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        jsonl, csv_path = Path(folder) / "messages.jsonl", Path(folder) / "messages.csv"
        write_jsonl(messages, jsonl)
        messages.drop(columns="turn").to_csv(csv_path, index=False)
        for path in (jsonl, csv_path):
            loaded, seconds = timed(load_dialogues, path, repeat=2)
            pd.testing.assert_frame_equal(loaded, messages)
            peak = traced_peak_mb(load_dialogues, path)[1]
            rows.append([path.suffix, f"{n:,}", f"{path.stat().st_size / 2**20:.1f}",
                         f"{seconds:.2f}", f"{n / seconds:,.0f}", f"{peak:.0f}", "yes"])
    print(f"\nload_dialogues on {n:,} synthetic messages")
    print(table(["file", "messages", "MiB", "s", "messages/s", "peak MiB", "round trip equal"],
                rows))


if __name__ == "__main__":
    bench_metrics()
    bench_loader()
    rss = max_rss_mb()
    print(f"\nprocess peak RSS (everything above, incl. the 1M-message frame): "
          f"{rss:.0f} MiB" if rss is not None else "")
