"""Platform service metrics: human-agent response rounds and their summaries.

Definitions follow the dialogue contract (``dialogues-and-metrics.md`` §2). A **round**
opens at a ``customer`` message that arrives while no round is open and closes at the next
``agent`` message of the same dialogue; ``bot`` and ``system`` messages neither open nor
close one; further customer messages inside an open round do not open new ones; an agent
message with no round open (a proactive message) makes no round; a round still open when
the dialogue ends is unanswered (``response_s`` NaN).

Decisions made here, where the contract leaves room:

* "within 180 s" means ``response_s <= 180``; "within 30 s" means ``<= 30``.
* Service window ``(start, end)``: a round counts when the clock time at which it *opened*,
  in Asia/Shanghai, is ``>= start`` and ``< end``. With :data:`PLATFORM_SERVICE_WINDOW`
  ``("08:00", "23:00")`` a round opened at 08:00:00 or 22:59:59.9 counts, one opened at
  07:59:59 or 23:00:00 does not. Rounds that do not count are as if absent, so a
  dialogue's first round is its first *counted* round.
* ``dialogues`` counts every dialogue of the group, with or without rounds.
  ``first_answer_30s_rate`` divides by the dialogues with at least one (counted) round;
  ``first_response_median_s`` is the median over those dialogues whose first round was
  answered. Means and rates over no rounds are NaN.
* Messages are taken per dialogue in ``turn`` order when that column exists, else in row
  order; dialogues in order of first appearance. A ``ts`` that goes back in time within a
  dialogue is a ``ValueError``. Timestamps without a time zone are read as Asia/Shanghai
  (with a :class:`~kit.dialogues.NaiveTimestampWarning`), as the loader does.

Everything is vectorised (numpy/pandas); no Python loop runs over messages or dialogues.

>>> import pandas as pd
>>> ts = pd.to_datetime(["2026-03-02 10:00:00", "2026-03-02 10:00:05", "2026-03-02 10:00:20",
...                      "2026-03-02 10:01:00", "2026-03-02 22:59:00", "2026-03-02 23:30:00",
...                      "2026-03-02 23:31:00"]).tz_localize("Asia/Shanghai")
>>> messages = pd.DataFrame({"dialogue_id": ["D1"] * 4 + ["D2"] * 3, "ts": ts,
...     "role": ["customer", "bot", "customer", "agent", "customer", "agent", "customer"],
...     "agent_id": ["A1"] * 4 + ["A2"] * 3})
>>> response_rounds(messages)[["dialogue_id", "agent_id", "response_s"]]
  dialogue_id agent_id  response_s
0          D1       A1        60.0
1          D2       A2      1860.0
2          D2       A2         NaN
>>> summary = service_summary(messages, by="agent_id")
>>> summary[["rounds", "unanswered", "capped_mean_response_s"]]  # doctest: +NORMALIZE_WHITESPACE
          rounds  unanswered  capped_mean_response_s
agent_id
A1             1           0                    60.0
A2             2           1                   600.0
>>> service_summary(messages, service_window=PLATFORM_SERVICE_WINDOW)["rounds"].tolist()
[2]
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from kit.dialogues import ROLES, TIMEZONE, NaiveTimestampWarning

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "CAP_S",
    "FIRST_ANSWER_S",
    "PLATFORM_SERVICE_WINDOW",
    "ROUND_COLUMNS",
    "SUMMARY_COLUMNS",
    "WITHIN_S",
    "response_rounds",
    "service_summary",
]

CAP_S = 600.0
WITHIN_S = 180.0
FIRST_ANSWER_S = 30.0
PLATFORM_SERVICE_WINDOW = ("08:00", "23:00")
ROUND_COLUMNS = ("dialogue_id", "agent_id", "channel", "scenario", "opened_at", "closed_at",
                 "response_s")
SUMMARY_COLUMNS = ("dialogues", "rounds", "unanswered", "first_response_median_s",
                   "mean_response_s", "capped_mean_response_s", "within_3min_rate",
                   "first_answer_30s_rate")

_MESSAGE_LEVEL = ("turn", "ts", "role", "text")
_CUSTOMER = ROLES.index("customer")
_AGENT = ROLES.index("agent")
_DAY_NS = 86_400 * 10**9
_CLOCK = re.compile(r"([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?")


class _Messages(NamedTuple):
    codes: np.ndarray  # dialogue code of each message, messages in processing order
    ns: np.ndarray  # UTC nanoseconds, same order
    role: np.ndarray  # index into ROLES, same order
    first_rows: np.ndarray  # row position (in the frame) of each dialogue's first message
    ids: pd.Index  # dialogue_id of each code
    row_codes: np.ndarray  # dialogue code of each message, in frame row order


class _Rounds(NamedTuple):
    dialogue: np.ndarray  # dialogue code of each round, rounds in dialogue then time order
    opened: np.ndarray  # UTC nanoseconds
    closed: np.ndarray  # UTC nanoseconds, NaT value when unanswered
    response: np.ndarray  # seconds, NaN when unanswered


def _prepare(messages: pd.DataFrame) -> _Messages:
    import numpy as np
    import pandas as pd

    missing = [c for c in ("dialogue_id", "ts", "role") if c not in messages.columns]
    if missing:
        raise ValueError(f"messages lacks column(s) {', '.join(missing)}; expected a frame "
                         "like kit.load_dialogues returns")
    row_codes, ids = pd.factorize(messages["dialogue_id"], sort=False)
    if (row_codes < 0).any():
        raise ValueError(f"dialogue_id is missing on row {int(np.argmax(row_codes < 0))}")
    roles, found = pd.factorize(messages["role"], sort=False)
    unknown = [r for r in found if r not in ROLES]
    if unknown or (roles < 0).any():
        raise ValueError(f"unknown role(s) {unknown or ['<missing>']}; expected one of "
                         f"{', '.join(ROLES)}")
    role = np.array([ROLES.index(r) for r in found], dtype=np.int8)[roles]
    ns = _utc_ns(messages["ts"])
    if np.any(ns == np.iinfo(np.int64).min):
        raise ValueError("column 'ts' has missing values")

    codes = row_codes
    within = (np.asarray(messages["turn"], dtype=np.int64) if "turn" in messages.columns
              else np.arange(len(codes)))
    new = np.ones(len(codes), dtype=bool)
    new[1:] = codes[1:] != codes[:-1]
    if np.any(np.diff(codes) < 0) or np.any(~new[1:] & (np.diff(within) <= 0)):
        order = np.lexsort((within, codes))
        codes, ns, role = codes[order], ns[order], role[order]
        new[1:] = codes[1:] != codes[:-1]
        first_rows = order[new]
    else:
        first_rows = np.flatnonzero(new)
    back = np.flatnonzero(~new[1:] & (np.diff(ns) < 0))
    if back.size:
        raise ValueError(f"ts goes back in time within dialogue {ids[codes[back[0]]]!r}; "
                         "turns must not go back in time")
    return _Messages(codes, ns, role, first_rows, ids, row_codes)


def _utc_ns(ts: pd.Series) -> np.ndarray:
    import pandas as pd

    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        if not pd.api.types.is_datetime64_dtype(ts.dtype):
            raise ValueError(f"column 'ts' must hold datetimes, not {ts.dtype}")
        warnings.warn(NaiveTimestampWarning(
            f"messages: 'ts' has no time zone; read as {TIMEZONE} time (+08:00)"), stacklevel=4)
        ts = ts.dt.tz_localize(TIMEZONE)
    return ts.dt.as_unit("ns").array.asi8


def _clock(value: Any, window: Any) -> int:
    match = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    seconds = (int(match[1]) * 3600 + int(match[2]) * 60 + int(match[3] or 0)) if match else -1
    if not match or int(match[2]) > 59 or int(match[3] or 0) > 59 or not 0 <= seconds <= 86400:
        raise ValueError(f"service_window must be two clock times like ('08:00', '23:00'); "
                         f"cannot read {value!r} in {window!r}")
    return seconds * 10**9


def _window(window: Sequence[str] | None) -> tuple[int, int] | None:
    if window is None:
        return None
    if isinstance(window, str) or len(window) != 2:
        raise ValueError(f"service_window must be (start, end) like ('08:00', '23:00'), "
                         f"got {window!r}")
    start, end = (_clock(value, window) for value in window)
    if start >= end:
        raise ValueError(f"service_window start must be before its end, got {window!r}")
    return start, end


def _rounds(m: _Messages, window: tuple[int, int] | None) -> _Rounds:
    import numpy as np
    import pandas as pd

    keep = np.flatnonzero((m.role == _CUSTOMER) | (m.role == _AGENT))
    dialogue, t = m.codes[keep], m.ns[keep]
    customer = m.role[keep] == _CUSTOMER
    size = len(keep)
    # A round opens at a customer message that starts its dialogue's customer/agent
    # sequence or follows an agent message; it closes at the next agent message.
    fresh = np.ones(size, dtype=bool)
    fresh[1:] = (dialogue[1:] != dialogue[:-1]) | ~customer[:-1]
    opens = np.flatnonzero(customer & fresh)
    next_agent = np.minimum.accumulate(np.where(customer, size, np.arange(size))[::-1])[::-1]
    close = next_agent[opens]
    answered = close < size
    answered[answered] = dialogue[close[answered]] == dialogue[opens[answered]]
    opened = t[opens]
    closed = np.where(answered, t[np.minimum(close, size - 1)], np.iinfo(np.int64).min)
    response = np.where(answered, (closed - opened) / 1e9, np.nan)
    rounds = _Rounds(dialogue[opens], opened, closed, response)
    if window is not None:
        local = pd.DatetimeIndex(opened.view("M8[ns]")).tz_localize("UTC").tz_convert(TIMEZONE)
        clock = local.tz_localize(None).asi8 % _DAY_NS
        counted = (clock >= window[0]) & (clock < window[1])
        rounds = _Rounds(*(field[counted] for field in rounds))
    return rounds


def _timestamps(ns: np.ndarray) -> pd.DatetimeIndex:
    import pandas as pd

    return pd.DatetimeIndex(ns.view("M8[ns]")).tz_localize("UTC").tz_convert(TIMEZONE)


def _per_dialogue(messages: pd.DataFrame, column: str, m: _Messages) -> Any:
    import pandas as pd

    if column not in messages.columns:
        return pd.array([None] * len(m.ids), dtype="str")
    return messages[column].array.take(m.first_rows)


def response_rounds(
    messages: pd.DataFrame,
    *,
    service_window: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return one row per response round.

    Args:
        messages: a message frame as returned by :func:`kit.load_dialogues` (at least
            ``dialogue_id, ts, role``; missing ``agent_id/channel/scenario`` come out NaN).
        service_window: ``(start, end)`` clock times, e.g. :data:`PLATFORM_SERVICE_WINDOW`;
            only rounds opened in ``[start, end)`` Asia/Shanghai time are returned.

    Returns:
        Columns :data:`ROUND_COLUMNS`: ``dialogue_id, agent_id, channel, scenario,
        opened_at, closed_at`` (NaT when unanswered, times in Asia/Shanghai) and
        ``response_s`` (float seconds, NaN when unanswered); dialogues in order of first
        appearance, rounds in time order.

    Raises:
        ValueError: a required column is missing, a role is unknown, ``ts`` is missing or
            goes back in time within a dialogue, or the window cannot be read.
    """
    import pandas as pd

    m = _prepare(messages)
    r = _rounds(m, _window(service_window))
    columns: dict[str, Any] = {"dialogue_id": m.ids.take(r.dialogue).array}
    for name in ("agent_id", "channel", "scenario"):
        columns[name] = _per_dialogue(messages, name, m).take(r.dialogue)
    columns["opened_at"] = _timestamps(r.opened)
    columns["closed_at"] = _timestamps(r.closed)
    columns["response_s"] = r.response
    return pd.DataFrame(columns)


def _group_keys(messages: pd.DataFrame, by: str | Sequence[str] | None,
                m: _Messages) -> list[str]:
    if by is None:
        return []
    keys = [by] if isinstance(by, str) else list(by)
    valid = [str(c) for c in messages.columns if c not in _MESSAGE_LEVEL]
    for key in keys:
        if key not in valid:
            raise ValueError(f"cannot group by {key!r}: not a dialogue-level column of the "
                             f"messages; choose from {', '.join(valid)}")
        varies = messages[key].groupby(m.row_codes).nunique(dropna=False) > 1
        if varies.any():
            raise ValueError(f"cannot group by {key!r}: it varies within dialogue "
                             f"{m.ids[varies.idxmax()]!r}")
    return keys


def service_summary(
    messages: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    service_window: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Summarise the service metrics, overall or per dialogue-level group.

    Args:
        messages: a message frame as returned by :func:`kit.load_dialogues`.
        by: None for one row labelled ``"all"``; or a dialogue-level column (``agent_id``,
            ``channel``, ``scenario``, ``csat``, ``resolved``, ``dialogue_id``, an extra
            column constant within each dialogue), or a list of them. Missing values form
            their own group.
        service_window: ``(start, end)`` clock times, e.g. :data:`PLATFORM_SERVICE_WINDOW`;
            only rounds opened in ``[start, end)`` Asia/Shanghai time count.

    Returns:
        Columns :data:`SUMMARY_COLUMNS`, one row per group (sorted), indexed by the group.

    Raises:
        ValueError: ``by`` names a column that is missing or not dialogue-level (the
            message lists the valid ones), plus the cases of :func:`response_rounds`.
    """
    import numpy as np
    import pandas as pd

    m = _prepare(messages)
    keys = _group_keys(messages, by, m)
    r = _rounds(m, _window(service_window))
    count = len(m.ids)
    answered = ~np.isnan(r.response)
    rounds = np.bincount(r.dialogue, minlength=count)
    first = np.full(count, np.nan)
    leads = np.ones(len(r.dialogue), dtype=bool)
    leads[1:] = r.dialogue[1:] != r.dialogue[:-1]
    first[r.dialogue[leads]] = r.response[leads]

    def total(weights: np.ndarray) -> np.ndarray:
        return np.bincount(r.dialogue, weights=weights.astype(float), minlength=count)

    per = pd.DataFrame({
        "rounds": rounds,
        "unanswered": total(~answered),
        "answered": total(answered),
        "answered_s": total(np.where(answered, r.response, 0.0)),
        "capped_s": total(np.where(answered, np.minimum(r.response, CAP_S), CAP_S)),
        "within": total(r.response <= WITHIN_S),
        "with_round": rounds > 0,
        "first_s": first,
        "first_fast": first <= FIRST_ANSWER_S,
    })
    for key in keys:
        per[key] = messages[key].array.take(m.first_rows)
    if not keys:
        per["group"] = "all"
    grouped = per.groupby(keys or ["group"], dropna=False, sort=True, observed=True)
    s = grouped.agg(
        dialogues=("rounds", "size"), rounds=("rounds", "sum"),
        unanswered=("unanswered", "sum"), answered=("answered", "sum"),
        answered_s=("answered_s", "sum"), capped_s=("capped_s", "sum"),
        within=("within", "sum"), with_round=("with_round", "sum"),
        first_fast=("first_fast", "sum"), first_median=("first_s", "median"))
    if not keys:
        s = s.reindex(pd.Index(["all"])).fillna({c: 0 for c in s.columns if c != "first_median"})
    summary = pd.DataFrame({
        "dialogues": s["dialogues"].astype("int64"),
        "rounds": s["rounds"].astype("int64"),
        "unanswered": s["unanswered"].astype("int64"),
        "first_response_median_s": s["first_median"].astype(float),
        "mean_response_s": s["answered_s"] / s["answered"],
        "capped_mean_response_s": s["capped_s"] / s["rounds"],
        "within_3min_rate": s["within"] / s["rounds"],
        "first_answer_30s_rate": s["first_fast"] / s["with_round"],
    })
    return summary
