"""Training kit for Chinese e-commerce customer-service chat.

The public API is re-exported here and imported lazily on first use, so that
``import kit`` stays fast (pandas, matplotlib and ipywidgets load only when needed).

>>> import kit
>>> "load_dialogues" in dir(kit)
True
>>> kit.labels.SCENARIO_LABELS["bargain"]
'议价'
"""

from importlib import import_module

_EXPORTS: dict[str, str] = {
    "dataset_path": "kit.datasets",
    "phrases": "kit.datasets",
    "load_dialogues": "kit.dialogues",
    "DialogueFormatError": "kit.dialogues",
    "NaiveTimestampWarning": "kit.dialogues",
    "LoadResult": "kit.dialogues",
    "response_rounds": "kit.metrics",
    "service_summary": "kit.metrics",
    "PLATFORM_SERVICE_WINDOW": "kit.metrics",
    "sentiment": "kit.sentiment",
    "sentiment_series": "kit.sentiment",
    "mood_trajectory": "kit.sentiment",
    "turning_points": "kit.sentiment",
    "SentimentResult": "kit.sentiment",
    "Cue": "kit.sentiment",
    "score_reply": "kit.rubric",
    "ReplyScore": "kit.rubric",
    "load_settings": "kit.rubric",
    "compare_replies": "kit.rubric",
    "load_persona": "kit.roleplay",
    "list_personas": "kit.roleplay",
    "ReplyRewriter": "kit.widgets",
    "DialogueExplorer": "kit.widgets",
    "Quiz": "kit.widgets",
    "RolePlay": "kit.widgets",
    "show_dialogue": "kit.widgets",
    "rank_contest": "kit.widgets",
    "save_case": "kit.widgets",
    "load_history": "kit.widgets",
    "load_quiz": "kit.quiz",
    "check_answer": "kit.quiz",
    "setup_chinese_fonts": "kit.fonts",
    "run_checks": "kit.doctor",
    "load_course": "kit.grading",
    "release": "kit.grading",
    "validate": "kit.grading",
    "autograde": "kit.grading",
    "grade": "kit.grading",
    "feedback": "kit.grading",
    "check": "kit.grading",
    "KernelFailureError": "kit.grading",
    "load_class": "kit.dashboard",
}

# Submodules reachable as ``kit.<name>`` after a plain ``import kit``.
_SUBMODULES = ("charts", "dashboard", "datasets", "dialogues", "grading", "labels", "metrics",
               "quiz", "roleplay", "rubric", "widgets")

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _SUBMODULES:
        return import_module(f"kit.{name}")
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'kit' has no attribute {name!r}") from None
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
