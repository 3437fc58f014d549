"""Chapter quizzes: load and validate the question files, check answers.

Questions are data: one YAML file per chapter, ``datasets/quizzes/chNN.yaml`` (the format is
documented in ``datasets/README.md``). This module is the pure logic — reading,
validating and checking; :class:`kit.widgets.Quiz` is the interface on top of it.

Three kinds of question:

* ``single`` — one correct option; ``answer`` is its 0-based index.
* ``multiple`` — several correct options; ``answer`` is the list of their 0-based indices;
  a response is correct only when it picks exactly those.
* ``short`` — a free-text answer checked by keyword groups: ``accept`` lists groups, every
  group must match and a group matches when any one of its keywords occurs in the answer;
  an optional ``reject`` lists groups of which none may match. Matching ignores letter case
  and full-width/half-width forms.

Every problem in a file raises :class:`QuizError` naming the file, the line, the question
id and the field.

>>> quiz = load_quiz(chapter="00")
>>> quiz.chapter, len(quiz) > 3
('00', True)
>>> q = quiz.questions[0]
>>> quiz.check(q.id, q.answer).correct
True
>>> short = Question(id="s1", kind="short", prompt="给出一个具体时间的承诺",
...                  explanation="具体时间让客户安心。",
...                  accept=(Group(("点前", "小时内"), "写出具体时间"),),
...                  reject=(Group(("尽快",), "“尽快”不是具体时间"),))
>>> r = check_answer(short, "我们尽快处理")
>>> r.correct, r.feedback
(False, '还不对：“尽快”不是具体时间；还缺少：写出具体时间。')
>>> r = check_answer(short, "今天18点前给您答复")
>>> r.correct, [(m.text, m.kind) for m in r.matches]
(True, [('点前', 'accept')])
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

__all__ = [
    "KINDS",
    "AnswerResult",
    "Group",
    "KeywordMatch",
    "Question",
    "QuizError",
    "QuizSet",
    "check_answer",
    "list_quizzes",
    "load_quiz",
    "quiz_path",
]

KINDS = ("single", "multiple", "short")
QUIZ_FOLDER = "quizzes"
_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")
_FILE = re.compile(r"ch(\d{2})\.ya?ml")
_TOP_KEYS = {"chapter", "title", "questions"}
_KEYS = {
    "single": {"id", "kind", "prompt", "options", "answer", "explanation"},
    "multiple": {"id", "kind", "prompt", "options", "answer", "explanation"},
    "short": {"id", "kind", "prompt", "accept", "reject", "explanation"},
}
_REQUIRED = {
    "single": ("prompt", "options", "answer", "explanation"),
    "multiple": ("prompt", "options", "answer", "explanation"),
    "short": ("prompt", "accept", "explanation"),
}
_GROUP_KEYS = {"any", "hint"}
# YAML folds a line break into a space; between two Chinese characters that space is noise.
_CJK_GAP = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u9fff\uff00-\uffef])")

# One character for one character, so match positions are positions in the original text.
_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FOLD.update({c: c + 32 for c in range(ord("A"), ord("Z") + 1)})
_FOLD.update({c: c - 0xFEE0 + 32 for c in range(0xFF21, 0xFF3B)})
_FOLD[0x3000] = 0x20


class QuizError(ValueError):
    """A quiz file is invalid, or a response has the wrong type.

    The message reads ``FILE:LINE: question 'ID' field 'FIELD': reason`` (parts that do not
    apply are left out); the parts are also attributes.
    """

    def __init__(self, reason: str, *, path: str | None = None, line: int | None = None,
                 question: str | None = None, field: str | None = None) -> None:
        self.reason, self.path, self.line = reason, path, line
        self.question, self.field = question, field
        where = [f"{path}:{line}" if path and line else path or ""]
        where += [f"question {question!r}" for _ in [0] if question]
        where += [f"field {field!r}" for _ in [0] if field]
        prefix = " ".join(w for w in where if w)
        super().__init__(f"{prefix}: {reason}" if prefix else reason)


# --------------------------------------------------------------------------- data types
@dataclass(frozen=True)
class Group:
    """A keyword group of a short-answer question: it matches when any keyword occurs.

    ``hint`` (Chinese) names the point the group stands for; feedback shows it when the
    group is missing (``accept``) or present (``reject``).
    """

    keywords: tuple[str, ...]
    hint: str = ""


@dataclass(frozen=True)
class Question:
    """One question. ``answer`` is an index (single), a tuple of indices (multiple) or
    None (short, which uses ``accept``/``reject``)."""

    id: str
    kind: str
    prompt: str
    explanation: str
    options: tuple[str, ...] = ()
    answer: int | tuple[int, ...] | None = None
    accept: tuple[Group, ...] = ()
    reject: tuple[Group, ...] = ()


class KeywordMatch(NamedTuple):
    """A keyword found in a short answer: ``answer[start:end] == text``."""

    start: int
    end: int
    text: str
    kind: str  # "accept" or "reject"


@dataclass(frozen=True)
class AnswerResult:
    """The verdict on one response.

    Attributes:
        question_id: the question answered.
        answered: False when the response was empty (nothing chosen, blank text).
        correct: True only for a right answer.
        feedback: one line in Chinese saying what was right or wrong.
        explanation: the question's explanation (shown after every attempt).
        missing: indices of correct options not chosen (multiple) or of ``accept`` groups
            not matched (short).
        wrong: indices of chosen options that are wrong (single, multiple) or of ``reject``
            groups matched (short).
        matches: keywords found in a short answer, for highlighting.
    """

    question_id: str
    answered: bool
    correct: bool
    feedback: str
    explanation: str
    missing: tuple[int, ...] = ()
    wrong: tuple[int, ...] = ()
    matches: tuple[KeywordMatch, ...] = ()


@dataclass(frozen=True)
class QuizSet:
    """The questions of one chapter's quiz."""

    chapter: str
    title: str
    questions: tuple[Question, ...]
    path: str = ""

    def __len__(self) -> int:
        return len(self.questions)

    def question(self, question_id: str) -> Question:
        """The question with this id (``KeyError`` naming the known ids otherwise)."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(f"{self.path or 'quiz'} has no question {question_id!r}; "
                       f"ids: {[q.id for q in self.questions]}")

    def check(self, question_id: str, response: Any) -> AnswerResult:
        """Check ``response`` to question ``question_id`` (see :func:`check_answer`)."""
        return check_answer(self.question(question_id), response)


# --------------------------------------------------------------------------- checking
def _fold(text: str) -> str:
    return text.translate(_FOLD)


def _find(keywords: Iterable[str], folded: str, original: str, kind: str) -> list[KeywordMatch]:
    found = []
    for keyword in keywords:
        needle = _fold(keyword)
        start = folded.find(needle)
        while start >= 0:
            end = start + len(needle)
            found.append(KeywordMatch(start, end, original[start:end], kind))
            start = folded.find(needle, end)
    return found


def _indices(question: Question, response: Any) -> tuple[int, ...]:
    if question.kind == "single":
        values = () if response is None else (response,)
    elif response is None:
        values = ()
    elif isinstance(response, (str, bytes)) or not isinstance(response, Iterable):
        raise QuizError(f"a multiple-choice response is a list of option indices, "
                        f"got {response!r}", question=question.id)
    else:
        values = tuple(response)
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) \
                or not 0 <= value < len(question.options):
            raise QuizError(f"response {value!r} is not an option index 0–"
                            f"{len(question.options) - 1}", question=question.id)
    return tuple(sorted(set(values)))


def _option_list(question: Question, indices: Sequence[int]) -> str:
    return "、".join(f"“{question.options[i]}”" for i in indices)


def _check_choice(question: Question, response: Any) -> AnswerResult:
    chosen = _indices(question, response)
    if not chosen:
        return AnswerResult(question.id, False, False, "请先选择一个选项。", question.explanation)
    right = (question.answer,) if isinstance(question.answer, int) else question.answer
    assert right is not None  # validated on load
    missing = tuple(i for i in right if i not in chosen)
    wrong = tuple(i for i in chosen if i not in right)
    if not missing and not wrong:
        feedback = "回答正确！"
    elif question.kind == "single":
        feedback = f"还不对：{_option_list(question, wrong)}不是最佳答案。"
    else:
        parts = [f"不该选{_option_list(question, wrong)}" for _ in [0] if wrong]
        parts += [f"还漏了{len(missing)}个正确选项" for _ in [0] if missing]
        feedback = f"还不对：{'；'.join(parts)}。"
    return AnswerResult(question.id, True, not missing and not wrong, feedback,
                        question.explanation, missing, wrong)


def _check_short(question: Question, response: Any) -> AnswerResult:
    if response is None:
        response = ""
    if not isinstance(response, str):
        raise QuizError(f"a short answer is text, got {type(response).__name__}",
                        question=question.id)
    if not response.strip():
        return AnswerResult(question.id, False, False, "请先写下你的回答。", question.explanation)
    folded = _fold(response)
    matches: list[KeywordMatch] = []
    missing, wrong = [], []
    for index, group in enumerate(question.accept):
        found = _find(group.keywords, folded, response, "accept")
        matches += found
        if not found:
            missing.append(index)
    for index, group in enumerate(question.reject):
        found = _find(group.keywords, folded, response, "reject")
        matches += found
        if found:
            wrong.append(index)
    correct = not missing and not wrong
    if correct:
        feedback = "回答正确！要点都写到了。"
    else:
        parts = ["；".join(h for h in (question.reject[i].hint for i in wrong) if h)
                 or f"用了不该用的说法（{len(wrong)}处）" for _ in [0] if wrong]
        if missing:
            hints = [question.accept[i].hint for i in missing]
            named = "、".join(h for h in hints if h)
            unnamed = sum(1 for h in hints if not h)
            parts.append("还缺少：" + "、".join(p for p in (named, f"{unnamed}个要点"
                                                          if unnamed else "") if p))
        feedback = f"还不对：{'；'.join(parts)}。"
    matches.sort(key=lambda m: (m.start, -m.end))
    return AnswerResult(question.id, True, correct, feedback, question.explanation,
                        tuple(missing), tuple(wrong), tuple(matches))


def check_answer(question: Question, response: Any) -> AnswerResult:
    """Check a response to ``question``.

    Args:
        question: a validated :class:`Question`.
        response: an option index (``single``; None when nothing is chosen), an iterable of
            option indices (``multiple``) or a string (``short``).

    Raises:
        QuizError: the response has the wrong type or names an option that does not exist.

    >>> q = Question(id="m1", kind="multiple", prompt="哪些是具体承诺？",
    ...              options=("今天18点前", "尽快", "2小时内"), answer=(0, 2),
    ...              explanation="“尽快”没有时间。")
    >>> r = check_answer(q, [0, 1])
    >>> r.correct, r.missing, r.wrong, r.feedback
    (False, (2,), (1,), '还不对：不该选“尽快”；还漏了1个正确选项。')
    >>> check_answer(q, []).answered
    False
    """
    if question.kind == "short":
        return _check_short(question, response)
    return _check_choice(question, response)


# --------------------------------------------------------------------------- loading
def quiz_path(chapter: str | int) -> Path:
    """The data file of a chapter's quiz (``"1"``, ``1``, ``"01"`` and ``"ch01"`` all name
    ``datasets/quizzes/ch01.yaml``).

    Raises:
        FileNotFoundError: no quiz file for that chapter (the message lists those there are).
    """
    from kit.datasets import datasets_dir

    key = _chapter_key(chapter)
    folder = datasets_dir() / QUIZ_FOLDER
    for suffix in (".yaml", ".yml"):
        path = folder / f"ch{key}{suffix}"
        if path.exists():
            return path
    raise FileNotFoundError(f"no quiz for chapter {key} in {folder}; "
                            f"chapters with a quiz: {list_quizzes()}")


def list_quizzes() -> list[str]:
    """The chapters (``"00"``, ``"01"``, …) that have a quiz file."""
    from kit.datasets import datasets_dir

    folder = datasets_dir() / QUIZ_FOLDER
    if not folder.is_dir():
        return []
    return sorted({m.group(1) for p in folder.iterdir() if (m := _FILE.fullmatch(p.name))})


def _chapter_key(chapter: str | int) -> str:
    text = str(chapter).strip().lower().removeprefix("ch")
    if isinstance(chapter, bool) or not text.isdigit() or int(text) > 99:
        raise ValueError(f"a chapter is a number 0–99 such as '01', got {chapter!r}")
    return f"{int(text):02d}"


def load_quiz(source: str | os.PathLike[str] | None = None, *,
              chapter: str | int | None = None) -> QuizSet:
    """Read and validate a quiz file.

    Args:
        source: a quiz YAML file.
        chapter: instead of ``source``, a chapter number; reads :func:`quiz_path`.

    Raises:
        QuizError: the file breaks the format (the message names file, line, question,
            field).
        FileNotFoundError: the file does not exist.
    """
    if (source is None) == (chapter is None):
        raise ValueError("give either a quiz file or chapter=, not both or neither")
    path = quiz_path(chapter) if chapter is not None else Path(source)  # type: ignore[arg-type]
    return _Reader(path).read()


class _Reader:
    """Builds a :class:`QuizSet` from a file, keeping YAML line numbers for the errors."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)

    def error(self, reason: str, node: Any = None, question: str | None = None,
              field: str | None = None) -> QuizError:
        line = node.start_mark.line + 1 if node is not None else None
        return QuizError(reason, path=self.name, line=line, question=question, field=field)

    def read(self) -> QuizSet:
        import yaml

        text = self.path.read_text(encoding="utf-8-sig")
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                raise self.error("the file is empty")
            self.no_repeated_keys(root)
            data = loader.construct_document(root)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise QuizError(f"invalid YAML: {exc}", path=self.name,
                            line=mark.line + 1 if mark else None) from exc
        finally:
            loader.dispose()
        return self.quiz(data, root)

    def no_repeated_keys(self, node: Any) -> None:
        import yaml

        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key, value in node.value:
                if key.value in seen:
                    raise self.error(f"key {key.value!r} appears twice in one mapping", key)
                seen.add(key.value)
                self.no_repeated_keys(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                self.no_repeated_keys(item)

    @staticmethod
    def child(node: Any, key: str | int) -> Any:
        """The node of a mapping's value or a sequence's item (for line numbers)."""
        if isinstance(key, int):
            return node.value[key]
        return next((v for k, v in node.value if k.value == key), node)

    def quiz(self, data: Any, root: Any) -> QuizSet:
        if not isinstance(data, dict):
            raise self.error("the file must be a mapping with chapter, title and questions",
                             root)
        for key in data:
            if key not in _TOP_KEYS:
                raise self.error(f"unknown key {key!r}; allowed: {sorted(_TOP_KEYS)}",
                                 self.child(root, key), field=str(key))
        missing = sorted(_TOP_KEYS - set(data))
        if missing:
            raise self.error("is missing", root, field=missing[0])
        chapter_node = self.child(root, "chapter")
        try:
            chapter = _chapter_key(data["chapter"])
        except ValueError as exc:
            raise self.error(str(exc), chapter_node, field="chapter") from None
        named = _FILE.fullmatch(self.path.name)
        if named and named.group(1) != chapter:
            raise self.error(f"chapter {chapter} does not match the file name "
                             f"{self.path.name}", chapter_node, field="chapter")
        title = self.text(data["title"], self.child(root, "title"), None, "title")
        items = data["questions"]
        items_node = self.child(root, "questions")
        if not isinstance(items, list) or not items:
            raise self.error("must be a non-empty list of questions", items_node,
                             field="questions")
        questions: list[Question] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            node = self.child(items_node, index)
            question = self.question(item, node, index)
            if question.id in seen:
                raise self.error(f"id repeats question {seen[question.id] + 1}", node,
                                 question.id, "id")
            seen[question.id] = index
            questions.append(question)
        return QuizSet(chapter, title, tuple(questions), self.name)

    def text(self, value: Any, node: Any, qid: str | None, field: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"must be non-empty text, got {value!r}", node, qid, field)
        return _CJK_GAP.sub("", value.strip())

    def question(self, item: Any, node: Any, index: int) -> Question:
        label = f"#{index + 1}"
        if not isinstance(item, dict):
            raise self.error(f"question {label} must be a mapping, got {item!r}", node)
        qid = item.get("id")
        if not isinstance(qid, str) or not _ID.fullmatch(qid):
            raise self.error(f"question {label}: id must be 1–40 letters, digits, '_' or '-', "
                             f"got {qid!r}", self.child(node, "id"), field="id")
        kind = item.get("kind")
        if kind not in KINDS:
            raise self.error(f"must be one of {list(KINDS)}, got {kind!r}",
                             self.child(node, "kind"), qid, "kind")
        for key in item:
            if key not in _KEYS[kind]:
                raise self.error(f"not allowed in a {kind} question; allowed: "
                                 f"{sorted(_KEYS[kind])}", self.child(node, key), qid, str(key))
        for key in _REQUIRED[kind]:
            if key not in item:
                raise self.error("is missing", node, qid, key)
        prompt = self.text(item["prompt"], self.child(node, "prompt"), qid, "prompt")
        explanation = self.text(item["explanation"], self.child(node, "explanation"), qid,
                                "explanation")
        if kind == "short":
            accept = self.groups(item["accept"], self.child(node, "accept"), qid, "accept")
            reject = self.groups(item.get("reject", []), self.child(node, "reject"), qid,
                                 "reject", allow_empty=True)
            return Question(qid, kind, prompt, explanation, accept=accept, reject=reject)
        options = self.options(item["options"], self.child(node, "options"), qid)
        answer = self.answer(kind, item["answer"], self.child(node, "answer"), qid, len(options))
        return Question(qid, kind, prompt, explanation, options=options, answer=answer)

    def options(self, value: Any, node: Any, qid: str) -> tuple[str, ...]:
        if not isinstance(value, list) or len(value) < 2:
            raise self.error("must be a list of at least 2 options", node, qid, "options")
        options = tuple(self.text(v, self.child(node, i), qid, f"options[{i}]")
                        for i, v in enumerate(value))
        if len(set(options)) != len(options):
            raise self.error("two options have the same text", node, qid, "options")
        return options

    def answer(self, kind: str, value: Any, node: Any, qid: str,
               count: int) -> int | tuple[int, ...]:
        values = value if kind == "multiple" and isinstance(value, list) else [value]
        if kind == "multiple" and (not isinstance(value, list) or not value):
            raise self.error(f"a multiple question's answer is a non-empty list of option "
                             f"indices, got {value!r}", node, qid, "answer")
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < count:
                raise self.error(f"{v!r} is not an option index: options are numbered from 0 "
                                 f"to {count - 1}", node, qid, "answer")
        if len(set(values)) != len(values):
            raise self.error("an index is listed twice", node, qid, "answer")
        return tuple(sorted(values)) if kind == "multiple" else values[0]

    def groups(self, value: Any, node: Any, qid: str, field: str,
               allow_empty: bool = False) -> tuple[Group, ...]:
        if not isinstance(value, list) or (not value and not allow_empty):
            raise self.error("must be a non-empty list of keyword groups", node, qid, field)
        groups = []
        for i, group in enumerate(value):
            where, gnode = f"{field}[{i}]", self.child(node, i)
            hint = ""
            if isinstance(group, dict):
                extra = set(group) - _GROUP_KEYS
                if extra or "any" not in group:
                    raise self.error("a group is a list of keywords or a mapping with 'any' "
                                     "(keywords) and an optional 'hint'", gnode, qid, where)
                if "hint" in group:
                    hint = self.text(group["hint"], self.child(gnode, "hint"), qid,
                                     f"{where}.hint")
                gnode, group = self.child(gnode, "any"), group["any"]
            if isinstance(group, str):
                group = [group]
            if not isinstance(group, list) or not group:
                raise self.error("a group needs at least one keyword", gnode, qid, where)
            # YAML reads a bare 18 or 2.5 as a number; as a keyword it means the text
            keywords = tuple(self.text(str(k) if type(k) in (int, float) else k, gnode, qid,
                                       where) for k in group)
            groups.append(Group(keywords, hint))
        return tuple(groups)
