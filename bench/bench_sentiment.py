"""Benchmark kit.sentiment against SnowNLP, measured in the same run.

Prints one table: accuracy on the two-class review dev file, per-class recall and precision on
our labelled chat set (the one the engine was tuned on) and on the held-out chat set (written
before the engine was measured on it, not tuned on), throughput and import time, plus the
lexicon-scanner comparison (dict longest match, as used, vs one precompiled regex alternation).

Label mapping (stated, not tuned):
- reviews (two classes): ours → positive when score > 0, and a review with no evidence either
  way (score exactly 0) counts as negative (see datasets/README.md, "zero-cue rule");
  the older mapping (score >= 0) is printed beside it. SnowNLP → positive when p >= 0.5.
- chat (three classes): ours → its own label (|score| < NEUTRAL_BAND is neutral);
  SnowNLP → neg when p < 0.4, pos when p > 0.6, else neu.

Run: ``python bench/bench_sentiment.py`` (``make bench``). SnowNLP is a bench-only dependency;
without it its column says "not installed". The review dev file is read from
``../shared/benchmarks/reviews_dev_3000.csv`` beside the repository and skipped if absent.
"""

from __future__ import annotations

import csv
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from _util import table  # noqa: E402  (bench/ is on sys.path when run as a script)

import kit.sentiment as ks  # noqa: E402

REVIEWS = REPO.parent / "shared" / "benchmarks" / "reviews_dev_3000.csv"
CHAT = REPO / "datasets" / "chat_sentiment.csv"
HOLDOUT = REPO / "datasets" / "chat_sentiment_holdout.csv"
SNOW_NEG, SNOW_POS = 0.4, 0.6
LABELS = ("neg", "neu", "pos")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def import_seconds(statement: str, repeats: int = 5) -> float:
    """Median wall time of ``python -c statement`` minus that of a bare interpreter."""

    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
        return time.perf_counter() - start

    run(statement)  # warm the bytecode cache
    bare = statistics.median(run("pass") for _ in range(repeats))
    loaded = statistics.median(run(statement) for _ in range(repeats))
    return loaded - bare


def snownlp_scorer():
    try:
        from snownlp import SnowNLP
    except ImportError:
        return None
    return lambda text: SnowNLP(text).sentiments if text.strip() else 0.5


def throughput(score, texts: list[str], min_seconds: float = 2.0) -> float:
    """Messages per second over whole passes of ``texts`` lasting at least ``min_seconds``."""
    done, start = 0, time.perf_counter()
    while True:
        for text in texts:
            score(text)
        done += len(texts)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed


def per_class(gold: list[str], pred: list[str]) -> dict[str, tuple[float, float]]:
    out = {}
    for label in LABELS:
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        n_gold = sum(g == label for g in gold)
        n_pred = sum(p == label for p in pred)
        out[label] = (tp / n_gold if n_gold else float("nan"),
                      tp / n_pred if n_pred else float("nan"))
    return out


def chat_rows(name: str, data: list[dict[str, str]], snow) -> list[tuple[str, str, str]]:
    """Accuracy and per-class recall / precision rows for one labelled chat file."""
    gold = [r["label"] for r in data]
    ours_pred = [ks.sentiment(r["text"]).label for r in data]
    ours_pc = per_class(gold, ours_pred)
    ours_acc = sum(g == p for g, p in zip(gold, ours_pred, strict=True)) / len(data)
    snow_pc, snow_acc = None, "not installed"
    if snow:
        snow_pred = [
            "neg" if p < SNOW_NEG else "pos" if p > SNOW_POS else "neu"
            for p in (snow(r["text"]) for r in data)
        ]
        snow_pc = per_class(gold, snow_pred)
        hits = sum(g == p for g, p in zip(gold, snow_pred, strict=True))
        snow_acc = f"{hits / len(data):.3f}"
    rows = [(f"{name} accuracy (n={len(data)})", f"{ours_acc:.3f}", snow_acc)]
    for label in LABELS:
        n = sum(g == label for g in gold)
        rows.append((f"  {name} {label}: recall / precision (n={n})",
                     "{:.3f} / {:.3f}".format(*ours_pc[label]),
                     "{:.3f} / {:.3f}".format(*snow_pc[label]) if snow_pc else "-"))
    return rows


def scanner_comparison(texts: list[str]) -> tuple[float, float]:
    """Microseconds per message: the kit's dict scan vs a regex alternation of all entries."""
    lex = ks._lexicon()
    folded = [t.translate(ks._FOLD) for t in texts]
    alternation = re.compile(
        "|".join(map(re.escape, sorted(lex.entries, key=len, reverse=True)))
    )

    def timed(fn) -> float:
        start = time.perf_counter()
        for text in folded:
            fn(text)
        return (time.perf_counter() - start) / len(folded) * 1e6

    dict_us = timed(lambda t: ks._scan(t, lex))
    regex_us = timed(lambda t: [(m.start(), m.end()) for m in alternation.finditer(t)])
    return dict_us, regex_us


def main() -> None:
    chat = read_csv(CHAT)
    chat_texts = [r["text"] for r in chat]
    reviews = read_csv(REVIEWS) if REVIEWS.exists() else None
    snow = snownlp_scorer()

    rows: list[tuple[str, str, str]] = []

    # reviews: two classes
    if reviews is None:
        print(f"(skipped reviews: {REVIEWS} not found)")
    else:
        gold = [r["label"] == "1" for r in reviews]
        scores = [ks.sentiment(r["text"]).score for r in reviews]
        acc_ours = sum(g == (s > 0) for g, s in zip(gold, scores, strict=True)) / len(gold)
        acc_ties = sum(g == (s >= 0) for g, s in zip(gold, scores, strict=True)) / len(gold)
        zero = sum(s == 0 for s in scores)
        acc_snow = "not installed"
        if snow:
            snow_pred = [snow(r["text"]) >= 0.5 for r in reviews]
            hits = sum(g == p for g, p in zip(gold, snow_pred, strict=True))
            acc_snow = f"{hits / len(gold):.3f}"
        rows.append((f"reviews_dev_3000 accuracy (n={len(gold)})", f"{acc_ours:.3f}", acc_snow))
        rows.append((f"  same, zero-score reviews as positive (n zero={zero})",
                     f"{acc_ties:.3f}", "-"))

    # chat: three classes, on the tuned set and on the held-out set
    for name, path in (("chat_sentiment", CHAT), ("chat_holdout", HOLDOUT)):
        rows.extend(chat_rows(name, read_csv(path), snow))

    # speed
    ours_rate = throughput(ks.sentiment, chat_texts)
    snow_rate = throughput(snow, chat_texts[:150], min_seconds=2.0) if snow else None
    rows.append(("throughput, chat messages/s", f"{ours_rate:,.0f}",
                 f"{snow_rate:,.0f}" if snow_rate else "-"))
    if reviews is not None:
        review_texts = [r["text"] for r in reviews]
        rows.append(("throughput, reviews/s", f"{throughput(ks.sentiment, review_texts):,.0f}",
                     f"{throughput(snow, review_texts[:100]):,.0f}" if snow else "-"))
    ours_import = import_seconds("import kit.sentiment")
    ours_ready = import_seconds("import kit.sentiment; kit.sentiment.sentiment('好')")
    snow_import = import_seconds("import snownlp") if snow else None
    snow_ready = import_seconds("from snownlp import SnowNLP; SnowNLP('好').sentiments") \
        if snow else None
    rows.append(("import time, s (minus bare python)", f"{ours_import:.3f}",
                 f"{snow_import:.3f}" if snow else "-"))
    rows.append(("import + first message, s", f"{ours_ready:.3f}",
                 f"{snow_ready:.3f}" if snow else "-"))

    print(table(["measure", "kit.sentiment", "SnowNLP"], rows))
    if snow_rate:
        print(f"\nspeed ratio (chat): kit.sentiment is {ours_rate / snow_rate:,.0f}x SnowNLP")
    print(f"SnowNLP three-class thresholds: neg < {SNOW_NEG}, pos > {SNOW_POS}, else neu; "
          "reviews: ours positive when score > 0 (zero-score as negative), SnowNLP when p >= 0.5")

    dict_us, regex_us = scanner_comparison(chat_texts * 5)
    print(f"\nlexicon scan ({len(ks._lexicon().entries):,} entries), chat messages: "
          f"dict longest-match {dict_us:.1f} us/msg vs regex alternation {regex_us:.1f} us/msg "
          f"({regex_us / dict_us:.1f}x slower)")


if __name__ == "__main__":
    main()
