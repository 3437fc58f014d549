"""Where the course data lives, and readers for its data files.

All data the kit reads (dialogue corpora, lexicons, rubric rules, phrases, personas,
quizzes) sits in the repository's ``datasets/`` folder. Set the environment variable
``KIT_DATASETS`` to use another folder.

>>> dataset_path("README.md").name
'README.md'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def datasets_dir() -> Path:
    """Return the folder holding the course data (``$KIT_DATASETS`` or ``datasets/``)."""
    override = os.environ.get("KIT_DATASETS")
    return Path(override) if override else REPO_ROOT / "datasets"


def dataset_path(name: str) -> Path:
    """Return the path of data file ``name`` inside the datasets folder.

    Raises:
        FileNotFoundError: if the file does not exist, naming the folder searched.
    """
    path = datasets_dir() / name
    if not path.exists():
        raise FileNotFoundError(f"data file {name!r} not found in {datasets_dir()}")
    return path


def read_yaml(name: str) -> Any:
    """Parse the YAML data file ``name`` from the datasets folder.

    Errors name the file and the line where parsing failed.
    """
    import yaml

    path = dataset_path(name)
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ValueError(f"{where}: invalid YAML: {exc}") from exc


def read_jsonl(name: str) -> list[Any]:
    """Parse the JSON Lines data file ``name`` (one JSON value per non-blank line).

    Errors name the file and the line.

    >>> read_jsonl("bad_replies.jsonl")[0]["id"]
    'BR001'
    """
    import json

    path = dataset_path(name)
    rows = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: invalid JSON: {exc.msg}") from exc
    return rows


def phrases(function: str | None = None, scenario: str | None = None) -> Any:
    """The phrase library (``phrases/library.yaml``) as a table, optionally filtered.

    Args:
        function: a function key (``greeting``, ``apology``, ``relay_information``,
            ``soothing``, ``commitment``, ``decline_with_alternative``, ``closing``,
            ``follow_up``); None for all.
        scenario: keep phrases tagged with this scenario key or with ``all``.

    Returns:
        A pandas DataFrame with columns ``function, label, text, scenarios, note``.

    Raises:
        ValueError: ``function`` is not a key of the library (the message lists them).

    >>> table = phrases("apology", scenario="logistics_delay")
    >>> list(table.columns), set(table["label"])
    (['function', 'label', 'text', 'scenarios', 'note'], {'恰当道歉'})
    """
    import pandas as pd

    library = read_yaml("phrases/library.yaml")["functions"]
    if function is not None and function not in library:
        raise ValueError(f"unknown phrase function {function!r}; choose from {sorted(library)}")
    rows = [
        {"function": key, "label": entry["label"], "text": p["text"],
         "scenarios": list(p["scenarios"]), "note": p.get("note", "")}
        for key, entry in library.items() if function in (None, key)
        for p in entry["phrases"]
        if scenario is None or "all" in p["scenarios"] or scenario in p["scenarios"]
    ]
    return pd.DataFrame(rows, columns=["function", "label", "text", "scenarios", "note"])


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: Any) -> Any:
    """A copy of a DataFrame whose text cells and labels cannot run as spreadsheet formulas.

    Text that starts like a formula (``= + - @``, tab or carriage return) gets a leading
    apostrophe, which Excel and LibreOffice show as plain text. :func:`from_spreadsheet_safe`
    undoes it when the file is read back.

    >>> import pandas as pd
    >>> spreadsheet_safe(pd.DataFrame({"text": ["=1+1", "您好"]}))["text"].tolist()
    ["'=1+1", '您好']
    """
    def safe(value: Any) -> Any:
        return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) \
            else value

    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) in ("str", "string"):
            out[column] = out[column].map(safe)
    if out.index.nlevels == 1:
        out.index = out.index.map(safe)
    return out


def from_spreadsheet_safe(frame: Any) -> Any:
    """Undo :func:`spreadsheet_safe` on a frame read back from a file.

    >>> import pandas as pd
    >>> from_spreadsheet_safe(pd.DataFrame({"text": ["'=1+1", "'ok"]}))["text"].tolist()
    ['=1+1', "'ok"]
    """
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) in ("str", "string"):
            out[column] = out[column].map(
                lambda v: v[1:] if isinstance(v, str) and v.startswith("'")
                and v[1:].startswith(_FORMULA_START) else v)
    return out
