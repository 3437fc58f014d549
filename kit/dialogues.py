"""Read dialogue files (JSON Lines or CSV) into a message DataFrame.

The two formats are the project's dialogue contract (``dialogues-and-metrics.md`` §1):
``*.jsonl`` holds one dialogue per line with its ``turns``; ``*.csv`` holds one message per
row, with the dialogue-level columns repeated on each row of a dialogue. Both may be UTF-8
with or without a byte-order mark.

:func:`load_dialogues` returns one row per message, in file order, with the columns
``dialogue_id, turn, ts, role, text, channel, scenario, agent_id, csat, resolved`` (then
any extra fields of the file, see below). Timestamps keep the offset they were written
with and are converted to Asia/Shanghai; a timestamp without an offset is read as
Asia/Shanghai time (+08:00), the platforms' clock, and one :class:`NaiveTimestampWarning`
per call says how many there were.

Bad input raises :class:`DialogueFormatError` (a ``ValueError``) naming the file, the line
(JSONL: the file line, 1-based) or row (CSV: the row number a spreadsheet shows, header =
row 1, so the first data row is row 2 — the file line too unless a quoted text spans
lines), the dialogue and the field. With ``errors="collect"`` every problem is returned
instead; see :func:`load_dialogues`.

Rules beyond the contract, decided here:

* Unknown JSONL keys are kept as extra columns (object dtype, values as parsed): a
  dialogue-level key fills every row of its dialogue, a turn-level key fills its row; the
  same key on a dialogue and on one of its turns is an error. Unknown CSV columns are kept
  as message-level text columns, exactly as written (empty cells stay ``""``).
* A field named like a column the loader computes (``turn``; in JSONL also ``ts``, ``role``
  or ``text`` on the dialogue, or a dialogue-level name on a turn) is an error.
* CSV: the rows of a dialogue must be contiguous, and its dialogue-level cells must be the
  same on each of its rows; otherwise it is an error. Empty dialogue-level cells mean null;
  ``csat`` is written ``1``..``5``, ``resolved`` ``true``/``false`` (any letter case).
* JSONL: blank lines are skipped (they carry nothing); a dialogue needs at least one turn;
  optional string fields are a non-empty string or null; a key repeated inside one JSON
  object is an error (JSON parsers would silently keep the last one).
* ``scenario`` may be any non-empty string (the contract lists the kit's keys as examples).

>>> import pathlib, shutil, tempfile, warnings
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "demo.csv").write_text(
...     "dialogue_id,ts,role,text,channel,csat\\n"
...     "D1,2026-03-02T10:15:03+08:00,customer,where is my parcel?,jd,4\\n"
...     "D1,2026-03-02T02:15:30Z,agent,checking now,jd,4\\n", encoding="utf-8")
>>> messages = load_dialogues(folder / "demo.csv")
>>> messages[["dialogue_id", "turn", "role", "channel", "csat"]]
  dialogue_id  turn      role channel  csat
0          D1     0  customer      jd     4
1          D1     1     agent      jd     4
>>> messages["ts"].dt.strftime("%H:%M:%S%z").tolist()
['10:15:03+0800', '10:15:30+0800']
>>> _ = (folder / "bad.jsonl").write_text('{"dialogue_id": "D9", "turns": []}\\n')
>>> load_dialogues(folder / "bad.jsonl")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
kit.dialogues.DialogueFormatError: ...bad.jsonl:1 (dialogue D9) field 'turns': no turns; ...
>>> shutil.rmtree(folder)
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import warnings
from datetime import date
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

__all__ = [
    "CHANNELS",
    "COLUMNS",
    "ROLES",
    "TIMEZONE",
    "DialogueFormatError",
    "LoadResult",
    "NaiveTimestampWarning",
    "load_dialogues",
]

TIMEZONE = "Asia/Shanghai"
ROLES = ("customer", "agent", "bot", "system")
CHANNELS = ("taobao", "jd", "douyin", "pdd", "wechat", "other")
DIALOGUE_FIELDS = ("channel", "scenario", "agent_id", "csat", "resolved")
MESSAGE_FIELDS = ("ts", "role", "text")
COLUMNS = ("dialogue_id", "turn", *MESSAGE_FIELDS, *DIALOGUE_FIELDS)
CSV_REQUIRED = ("dialogue_id", *MESSAGE_FIELDS)

_BOM = b"\xef\xbb\xbf"
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes kept by the surrogateescape handler
_NAIVE_OFFSET_MIN = 8 * 60
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_NS_LIMIT = 2**63 - 1
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?",
    re.ASCII,
)


class DialogueFormatError(ValueError):
    """A dialogue file breaks the format; the message says where and why.

    Attributes:
        path: the file, as given to the loader.
        line: JSONL file line, or CSV spreadsheet row (header = 1); None for the whole file.
        dialogue_id: the dialogue concerned, or None when it is not known.
        field: the field (or CSV column) concerned, or None.
        turn: 0-based index of the message within its dialogue, or None.
        reason: the explanation alone, without the location.

    >>> str(DialogueFormatError("cannot parse '2026-13-01' as ISO 8601",
    ...     path="dialogues.jsonl", line=17, dialogue_id="D0042", field="ts"))
    "dialogues.jsonl:17 (dialogue D0042) field 'ts': cannot parse '2026-13-01' as ISO 8601"
    """

    def __init__(
        self,
        reason: str,
        *,
        path: str,
        line: int | None = None,
        dialogue_id: str | None = None,
        field: str | None = None,
        turn: int | None = None,
    ) -> None:
        self.reason = reason
        self.path = path
        self.line = line
        self.dialogue_id = dialogue_id
        self.field = field
        self.turn = turn
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = str(self.path)
        if self.line is not None:
            csv_file = Path(self.path).suffix.lower() == ".csv"
            where += f" row {self.line}" if csv_file else f":{self.line}"
        about = []
        if self.dialogue_id is not None:
            about.append(f"dialogue {self.dialogue_id}")
        if self.turn is not None:
            about.append(f"turn {self.turn}")
        if about:
            where += f" ({', '.join(about)})"
        if self.field is not None:
            where += f" field {self.field!r}"
        return f"{where}: {self.reason}"


class NaiveTimestampWarning(UserWarning):
    """Some timestamps had no UTC offset and were read as Asia/Shanghai time (+08:00)."""


class LoadResult(NamedTuple):
    """What ``load_dialogues(..., errors="collect")`` returns.

    ``messages`` holds every dialogue that no error names; ``errors`` lists every problem
    in the order found. A dialogue named by an error is left out whole (all its lines or rows);
    an error naming no dialogue (bad JSON, a missing id, an unreadable CSV row) concerns a
    line or row whose content could not be attached to any dialogue.
    """

    messages: pd.DataFrame
    errors: list[DialogueFormatError]


class _Invalid(Exception):
    """A value breaks a field rule; the text is the reason."""


class _Dialogue:
    __slots__ = ("extra", "id", "last_ns", "last_raw", "last_row", "line", "meta", "raw_meta",
                 "roles", "texts", "ts", "turn_extra")

    def __init__(self, dialogue_id: str | None, line: int) -> None:
        self.id = dialogue_id
        self.line = line
        self.last_row = line
        self.meta: dict[str, Any] = {}
        self.raw_meta: tuple[str, ...] = ()
        self.extra: dict[str, Any] = {}
        self.ts: list[int] = []
        self.roles: list[Any] = []
        self.texts: list[Any] = []
        self.turn_extra: list[dict[str, Any] | None] | None = None
        self.last_ns: int | None = None
        self.last_raw: str | None = None


def _show(value: Any) -> str:
    if isinstance(value, str):
        text = repr(value if len(value) <= 40 else value[:40] + "…")
    else:
        text = json.dumps(value, ensure_ascii=False, default=repr)
        text = text if len(text) <= 40 else text[:40] + "…"
    return text


def _choice(value: Any, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise _Invalid(f"unknown {what} {_show(value)} (expected one of {', '.join(allowed)})")
    return value


def _role(value: Any) -> str:
    return _choice(value, ROLES, "role")


def _channel(value: Any) -> str | None:
    return None if value is None else _choice(value, CHANNELS, "channel")


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid(f"expected a string or null, got {_show(value)}")
    if not value:
        raise _Invalid("empty string; write null when the value is unknown")
    return value


def _csat(value: int) -> int:
    if not 1 <= value <= 5:
        raise _Invalid(f"csat {value} is out of range (an integer 1–5, or null)")
    return value


def _json_csat(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"expected an integer 1–5 or null, got {_show(value)}")
    return _csat(value)


def _json_resolved(value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise _Invalid(f"expected true, false or null, got {_show(value)}")
    return value


def _csv_text(value: str) -> str | None:
    return value or None


def _csv_channel(value: str) -> str | None:
    return _channel(value or None)


def _csv_csat(value: str) -> int | None:
    if not value:
        return None
    if not re.fullmatch(r"[0-9]{1,9}", value, re.ASCII):
        raise _Invalid(f"expected an integer 1–5 or an empty cell, got {_show(value)}")
    return _csat(int(value))


def _csv_resolved(value: str) -> bool | None:
    if not value:
        return None
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise _Invalid(f"expected true, false or an empty cell, got {_show(value)}")
    return lowered == "true"


_JSON_META: dict[str, Callable[[Any], Any]] = {
    "channel": _channel,
    "scenario": _json_text,
    "agent_id": _json_text,
    "csat": _json_csat,
    "resolved": _json_resolved,
}
_CSV_META: dict[str, Callable[[str], Any]] = {
    "channel": _csv_channel,
    "scenario": _csv_text,
    "agent_id": _csv_text,
    "csat": _csv_csat,
    "resolved": _csv_resolved,
}


def _parse_timestamp(value: Any) -> tuple[int, bool]:
    """Return (nanoseconds since the epoch in UTC, whether the value had no offset)."""
    if not isinstance(value, str):
        raise _Invalid(f"expected an ISO 8601 string, got {_show(value)}")
    match = _TIMESTAMP.fullmatch(value)
    bad = _Invalid(f"cannot parse {_show(value)} as ISO 8601 (e.g. 2026-03-02T10:15:03+08:00)")
    if match is None:
        raise bad
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    try:
        ordinal = date(int(year), int(month), int(day)).toordinal()
    except ValueError:
        raise bad from None
    hour_, minute_, second_ = int(hour), int(minute), int(second or 0)
    off_h_, off_m_ = int(off_h or 0), int(off_m or 0)
    if hour_ > 23 or minute_ > 59 or second_ > 59 or off_h_ > 23 or off_m_ > 59:
        raise bad
    naive = sign is None and zulu is None
    offset_min = _NAIVE_OFFSET_MIN if naive else (off_h_ * 60 + off_m_) * (-1 if sign == "-" else 1)
    seconds = ((ordinal - _EPOCH_DAY) * 86400 + hour_ * 3600 + minute_ * 60 + second_
               - offset_min * 60)
    ns = seconds * 1_000_000_000 + int((fraction or "0").ljust(9, "0"))
    if not -_NS_LIMIT <= ns <= _NS_LIMIT:
        raise _Invalid(f"{_show(value)} is outside the supported years 1678–2261")
    return ns, naive


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _object_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


def _kind(value: Any) -> str:
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    return kinds.get(type(value), "null" if value is None else "a number")


def _misplaced(key: str, on_turn: bool) -> str:
    if key == "turn":
        return "'turn' is computed by the loader (the message's position); rename the field"
    if on_turn:
        return f"{key!r} is a dialogue-level field; set it on the dialogue, not on a turn"
    return f"{key!r} is a message field; set it on each turn, not on the dialogue"


class _Reader:
    """Reads one file, recording dialogues and problems (raising at the first in raise mode)."""

    def __init__(self, path: str, collect: bool) -> None:
        self.path = path
        self.collect = collect
        self.problems: list[DialogueFormatError] = []
        self.dialogues: list[_Dialogue] = []
        self.naive = 0
        self.stamps = 0

    def problem(self, reason: str, line: int | None, dialogue_id: str | None = None,
                field: str | None = None, turn: int | None = None) -> None:
        error = DialogueFormatError(reason, path=self.path, line=line,
                                    dialogue_id=dialogue_id, field=field, turn=turn)
        if not self.collect:
            raise error
        self.problems.append(error)

    def convert(self, rule: Callable[[Any], Any], value: Any, line: int, dlg: _Dialogue,
                field: str, turn: int | None = None) -> tuple[Any, bool]:
        try:
            return rule(value), True
        except _Invalid as exc:
            self.problem(str(exc), line, dlg.id, field, turn)
            return None, False

    def timestamp(self, value: Any) -> int:
        ns, naive = _parse_timestamp(value)
        self.stamps += 1
        self.naive += naive
        return ns

    def message(self, dlg: _Dialogue, ts: Any, role: Any, text: Any,
                extra: dict[str, Any] | None, line: int, turn: int) -> None:
        """Validate message ``turn`` (None = missing field) and append it to ``dlg``."""
        for name, value in (("ts", ts), ("role", role), ("text", text)):
            if value is None:
                self.problem(f"missing required field {name!r}", line, dlg.id, name, turn)
        ns, ts_ok = (None, False) if ts is None else self.convert(
            self.timestamp, ts, line, dlg, "ts", turn)
        role_ok = role is not None and self.convert(_role, role, line, dlg, "role", turn)[1]
        if text is not None and not isinstance(text, str):
            self.problem(f"expected a string, got {_show(text)}", line, dlg.id, "text", turn)
        elif text == "" and role_ok and role != "system":
            self.problem(f"empty text for role {role!r} (only system messages may be empty)",
                         line, dlg.id, "text", turn)
        if ts_ok:
            if dlg.last_ns is not None and ns < dlg.last_ns:
                self.problem(f"{_show(ts)} is earlier than the turn before it "
                             f"({_show(dlg.last_raw)}); turns must not go back in time",
                             line, dlg.id, "ts", turn)
            else:
                dlg.last_ns, dlg.last_raw = ns, ts
        dlg.ts.append(ns if ts_ok else 0)
        dlg.roles.append(role)
        dlg.texts.append(text)
        if extra:
            if dlg.turn_extra is None:
                dlg.turn_extra = [None] * (len(dlg.roles) - 1)
            dlg.turn_extra.append(extra)
        elif dlg.turn_extra is not None:
            dlg.turn_extra.append(None)

    # ---- JSON Lines -------------------------------------------------------------------

    def read_jsonl(self) -> None:
        seen: dict[str, int] = {}
        with open(self.path, "rb") as fh:
            for line, raw in enumerate(fh, 1):
                if line == 1 and raw.startswith(_BOM):
                    raw = raw[len(_BOM):]
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    self.problem(f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at byte "
                                 f"{exc.start + 1} of the line)", line)
                    continue
                if not text.strip(" \t\r\n"):
                    continue
                try:
                    obj = json.loads(text, object_pairs_hook=_object_without_repeats)
                except _DuplicateKey as exc:
                    self.problem("key repeated in one JSON object", line, field=exc.key)
                    continue
                except json.JSONDecodeError as exc:
                    self.problem(f"not valid JSON ({exc.msg} at column {exc.colno})", line)
                    continue
                except (ValueError, RecursionError) as exc:
                    self.problem(f"not valid JSON ({exc})", line)
                    continue
                self.jsonl_dialogue(obj, line, seen)

    def jsonl_dialogue(self, obj: Any, line: int, seen: dict[str, int]) -> None:
        if not isinstance(obj, dict):
            self.problem(f"expected a JSON object (one dialogue per line), got {_kind(obj)}",
                         line)
            return
        did = obj.get("dialogue_id")
        if did is None:
            self.problem("missing required field 'dialogue_id'", line, field="dialogue_id")
        elif not isinstance(did, str) or not did.strip():
            self.problem(f"expected a non-empty string, got {_show(did)}", line,
                         field="dialogue_id")
            did = None
        elif did in seen:
            self.problem(f"duplicate dialogue_id: already used on line {seen[did]}", line, did,
                         "dialogue_id")
        else:
            seen[did] = line
        dlg = _Dialogue(did, line)
        for name in DIALOGUE_FIELDS:
            dlg.meta[name] = self.convert(_JSON_META[name], obj.get(name), line, dlg, name)[0]
        for key, value in obj.items():
            if key in COLUMNS and key not in DIALOGUE_FIELDS and key != "dialogue_id":
                self.problem(_misplaced(key, on_turn=False), line, did, key)
            elif key not in DIALOGUE_FIELDS and key not in ("dialogue_id", "turns"):
                dlg.extra[key] = value
        turns = obj.get("turns")
        if turns is None:
            self.problem("missing required field 'turns'", line, did, "turns")
        elif not isinstance(turns, list):
            self.problem(f"expected an array of turns, got {_kind(turns)}", line, did, "turns")
        elif not turns:
            self.problem("no turns; a dialogue needs at least one message", line, did, "turns")
        else:
            for index, turn in enumerate(turns):
                self.jsonl_turn(dlg, turn, index, line)
        if did is not None:
            self.dialogues.append(dlg)

    def jsonl_turn(self, dlg: _Dialogue, turn: Any, index: int, line: int) -> None:
        if not isinstance(turn, dict):
            self.problem(f"expected a JSON object, got {_kind(turn)}", line, dlg.id, "turns",
                         index)
            return
        extra = {}
        for key, value in turn.items():
            if key in MESSAGE_FIELDS:
                continue
            if key in COLUMNS:
                self.problem(_misplaced(key, on_turn=True), line, dlg.id, key, index)
            elif key in dlg.extra:
                self.problem(f"{key!r} is set both on the dialogue and on this turn", line,
                             dlg.id, key, index)
            else:
                extra[key] = value
        self.message(dlg, turn.get("ts"), turn.get("role"), turn.get("text"), extra, line,
                     index)

    # ---- CSV --------------------------------------------------------------------------

    def read_csv(self) -> None:
        text = Path(self.path).read_bytes().decode("utf-8-sig", "surrogateescape")
        undecodable = _UNDECODABLE.search(text) is not None
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            self.problem(f"cannot parse the header as CSV ({exc}); nothing was read", 1)
            return
        if header is None:
            self.problem("empty file: no header row (need dialogue_id, ts, role, text); "
                         "nothing was read", 1)
            return
        if not self.csv_header(header):
            return
        self.csv_rows(reader, header, undecodable)

    def csv_header(self, header: list[str]) -> bool:
        count = len(self.problems)
        unread = "; no row was read"
        for position, name in enumerate(header, 1):
            if _UNDECODABLE.search(name):
                self.problem(f"column {position}: name is not valid UTF-8{unread}", 1)
            elif not name:
                self.problem(f"column {position} has no name{unread}", 1)
            elif header.index(name) != position - 1:
                self.problem(f"column named twice{unread}", 1, field=name)
            elif name == "turn":
                self.problem("'turn' is computed by the loader (the message's position in "
                             f"its dialogue); rename the column{unread}", 1, field=name)
        for name in CSV_REQUIRED:
            if name not in header:
                self.problem(f"missing required column (columns: {', '.join(header)}){unread}",
                             1, field=name)
        return len(self.problems) == count

    def csv_rows(self, reader: Any, header: list[str], undecodable: bool) -> None:
        where = {name: header.index(name) for name in header}
        i_id, i_ts, i_role, i_text = (where[name] for name in CSV_REQUIRED)
        meta = [(name, where[name]) for name in DIALOGUE_FIELDS if name in where]
        extras = [(name, i) for name, i in where.items() if name not in COLUMNS]
        spans: dict[str, tuple[int, int]] = {}
        dlg: _Dialogue | None = None
        orphan: int | None = None  # a skipped row whose dialogue is unknown
        row = 1
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                self.problem(f"cannot parse the CSV ({exc}); this row and the rest of the "
                             "file were not read", row + 1)
                self.suspect(row + 1, dlg, None)
                return
            row += 1
            if not fields:
                continue
            did = fields[i_id] if len(fields) > i_id else ""
            known = did if did.strip() and not _UNDECODABLE.search(did) else None
            if self.csv_unusable(fields, header, row, known, undecodable):
                if known is None and orphan is None:
                    orphan = row
                continue
            if orphan is not None:
                self.suspect(orphan, dlg, did)
                orphan = None
            if dlg is None or did != dlg.id:
                if dlg is not None:
                    spans[dlg.id] = (dlg.line, dlg.last_row)
                dlg = self.csv_dialogue(fields, row, did, meta, spans.get(did))
            else:
                for (name, i), first in zip(meta, dlg.raw_meta, strict=True):
                    if fields[i] != first:
                        self.problem(f"{_show(fields[i])} differs from {_show(first)} on row "
                                     f"{dlg.line} (the dialogue's first row); dialogue-level "
                                     "columns must agree on every row", row, did, name)
            dlg.last_row = row
            extra = {name: fields[i] for name, i in extras}
            self.message(dlg, fields[i_ts] or None, fields[i_role] or None, fields[i_text],
                         extra, row, len(dlg.roles))
        if orphan is not None:
            self.suspect(orphan, dlg, None)

    def csv_unusable(self, fields: list[str], header: list[str], row: int, known: str | None,
                     undecodable: bool) -> bool:
        """Report a row that cannot be read as a message; return True to skip it."""
        if undecodable:
            pairs = zip(header, fields, strict=False)
            bad = [(name, value) for name, value in pairs if _UNDECODABLE.search(value)]
            for name, value in bad:
                raw = value.encode("utf-8", "surrogateescape")
                self.problem(f"not valid UTF-8: {raw[:40]!r}", row, known, name)
            if bad:
                return True
        if len(fields) != len(header):
            self.problem(f"row has {len(fields)} fields, the header has {len(header)}", row,
                         known)
            return True
        if known is None:
            self.problem("missing required field 'dialogue_id'", row, field="dialogue_id")
            return True
        return False

    def suspect(self, row: int, before: _Dialogue | None, after: str | None) -> None:
        """Leave out the dialogues that unattributable ``row`` may belong to, saying so."""
        names = [before.id] if before is not None else []
        if after is not None and after not in names:
            names.append(after)
        for name in names:
            self.problem("this row cannot be attached to a dialogue and may belong to this "
                         "one, which is left out", row, name)

    def csv_dialogue(self, fields: list[str], row: int, did: str,
                     meta: list[tuple[str, int]], span: tuple[int, int] | None) -> _Dialogue:
        dlg = _Dialogue(did, row)
        self.dialogues.append(dlg)
        if span is not None:
            self.problem(f"rows of this dialogue are not contiguous: it already had rows "
                         f"{span[0]}–{span[1]}; keep a dialogue's rows together", row, did,
                         "dialogue_id")
        dlg.raw_meta = tuple(fields[i] for _, i in meta)
        for name, i in meta:
            dlg.meta[name] = self.convert(_CSV_META[name], fields[i], row, dlg, name)[0]
        return dlg


def _objects(values: Any, count: int) -> Any:
    import numpy as np

    return np.fromiter(values, dtype=object, count=count)


def _frame(dialogues: list[_Dialogue]) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    counts = np.fromiter((len(d.roles) for d in dialogues), dtype=np.int64,
                         count=len(dialogues))
    total = int(counts.sum())

    def per_dialogue(values: Any) -> Any:
        return np.repeat(_objects(values, len(dialogues)), counts)

    def per_message(attribute: str) -> Any:
        return _objects(chain.from_iterable(getattr(d, attribute) for d in dialogues), total)

    ts_ns = np.fromiter(chain.from_iterable(d.ts for d in dialogues), dtype=np.int64,
                        count=total)
    columns: dict[str, Any] = {
        "dialogue_id": pd.array(per_dialogue(d.id for d in dialogues), dtype="str"),
        "turn": np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts),
        "ts": pd.DatetimeIndex(ts_ns.view("M8[ns]")).tz_localize("UTC").tz_convert(TIMEZONE),
        "role": pd.array(per_message("roles"), dtype="str"),
        "text": pd.array(per_message("texts"), dtype="str"),
    }
    for name, dtype in (("channel", "str"), ("scenario", "str"), ("agent_id", "str"),
                        ("csat", "Int64"), ("resolved", "boolean")):
        columns[name] = pd.array(per_dialogue(d.meta.get(name) for d in dialogues), dtype=dtype)
    for name in _extra_names(dialogues):
        columns[name] = pd.Series(_objects(_extra_values(dialogues, name), total), dtype=object)
    return pd.DataFrame(columns)


def _extra_names(dialogues: list[_Dialogue]) -> list[str]:
    names: dict[str, None] = {}
    for d in dialogues:
        names.update(dict.fromkeys(d.extra))
        for extra in d.turn_extra or ():
            names.update(dict.fromkeys(extra or ()))
    return list(names)


def _extra_values(dialogues: list[_Dialogue], name: str) -> Any:
    for d in dialogues:
        if name in d.extra:
            yield from [d.extra[name]] * len(d.roles)
        elif d.turn_extra is not None:
            yield from (None if extra is None else extra.get(name) for extra in d.turn_extra)
        else:
            yield from [None] * len(d.roles)


def load_dialogues(
    path: str | os.PathLike[str],
    *,
    errors: Literal["raise", "collect"] = "raise",
) -> pd.DataFrame | LoadResult:
    """Read a ``.jsonl`` or ``.csv`` dialogue file into a message DataFrame.

    Args:
        path: the file; its suffix (``.jsonl`` or ``.csv``, any letter case) picks the format.
        errors: ``"raise"`` (default) raises :class:`DialogueFormatError` at the first
            problem. ``"collect"`` reads the whole file and returns a :class:`LoadResult`
            ``(messages, errors)``: the frame of every dialogue that no error names, and the
            list of all problems. Nothing is left out without an error accounting for it.

    Returns:
        One row per message in file order, columns :data:`COLUMNS` then any extra fields
        (see the module docs); ``ts`` is tz-aware Asia/Shanghai, ``csat`` Int64,
        ``resolved`` boolean, the rest str (missing optional values are NaN).

    Raises:
        DialogueFormatError: bad content, or a suffix other than .jsonl/.csv.
        ValueError: ``errors`` is neither "raise" nor "collect".
        OSError: the file cannot be opened.

    Warns:
        NaiveTimestampWarning: once per call, when timestamps without an offset were read
        as Asia/Shanghai time.
    """
    if errors not in ("raise", "collect"):
        raise ValueError(f"errors must be 'raise' or 'collect', not {errors!r}")
    name = os.fspath(path)
    suffix = Path(name).suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise DialogueFormatError(
            f"unsupported file type {suffix or '(no suffix)'!r}: expected .jsonl or .csv",
            path=name)
    reader = _Reader(name, collect=errors == "collect")
    if suffix == ".jsonl":
        reader.read_jsonl()
    else:
        reader.read_csv()
    if reader.naive:
        warnings.warn(NaiveTimestampWarning(
            f"{name}: {reader.naive} of {reader.stamps} timestamps have no UTC offset; "
            f"read them as {TIMEZONE} time (+08:00)"), stacklevel=2)
    named = {p.dialogue_id for p in reader.problems}
    messages = _frame([d for d in reader.dialogues if d.id not in named])
    return LoadResult(messages, reader.problems) if reader.collect else messages
