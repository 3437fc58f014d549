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
