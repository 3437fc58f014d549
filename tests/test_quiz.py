"""kit.quiz: the quiz files, their validation, and answer checking for each kind."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kit.datasets import datasets_dir
from kit.quiz import (
    Group,
    Question,
    QuizError,
    check_answer,
    list_quizzes,
    load_quiz,
    quiz_path,
)

QUIZ_FILES = sorted((datasets_dir() / "quizzes").glob("ch*.yaml"))

SINGLE = Question(id="s", kind="single", prompt="哪句更好？", explanation="具体时间更好。",
                  options=("稍后回复您", "今天18点前回复您", "等等"), answer=1)
MULTIPLE = Question(id="m", kind="multiple", prompt="哪些是安抚？", explanation="前两句在安抚。",
                    options=("理解您的心情", "这事交给我", "这是规定"), answer=(0, 1))
SHORT = Question(id="t", kind="short", prompt="写一句道歉并给出时间的回复",
                 explanation="道歉加时间。",
                 accept=(Group(("抱歉", "对不起", "不好意思"), "先道歉"),
                         Group(("点前", "小时内", "OK"))),
                 reject=(Group(("尽快",), "不要用“尽快”"),))


# --------------------------------------------------------------------------- the data files
def test_chapter_zero_quiz_exists():
    assert "00" in list_quizzes()
    quiz = load_quiz(chapter="00")
    assert quiz.title and len(quiz) >= 5
    assert {q.kind for q in quiz.questions} == {"single", "multiple", "short"}


@pytest.mark.parametrize("path", QUIZ_FILES, ids=lambda p: p.name)
def test_every_quiz_file_is_valid_and_its_answers_check_correct(path: Path):
    quiz = load_quiz(path)
    assert quiz.chapter == path.stem.removeprefix("ch")
    for q in quiz.questions:
        if q.kind != "short":
            result = quiz.check(q.id, q.answer)
            assert result.correct and result.explanation == q.explanation
        else:  # every accept keyword is reachable and no reject keyword is also accepted
            accepted = {k for g in q.accept for k in g.keywords}
            assert not accepted & {k for g in q.reject for k in g.keywords}
            answer = "".join(g.keywords[0] for g in q.accept)
            assert quiz.check(q.id, answer).correct, f"{q.id}: first keywords do not pass"


def test_folded_yaml_text_has_no_space_between_chinese_lines():
    quiz = load_quiz(chapter="00")
    assert not any("） 比" in q.explanation or "。 " in q.explanation for q in quiz.questions)


@pytest.mark.parametrize("chapter", ["0", 0, "00", "ch00", "CH00"])
def test_chapter_is_found_however_it_is_written(chapter):
    assert quiz_path(chapter).name == "ch00.yaml"


def test_missing_chapter_lists_the_chapters_there_are():
    with pytest.raises(FileNotFoundError, match=r"chapters with a quiz: .*'00'"):
        quiz_path("42")
    with pytest.raises(ValueError, match="chapter is a number"):
        quiz_path("one")
    with pytest.raises(ValueError, match="either a quiz file or chapter"):
        load_quiz()


# --------------------------------------------------------------------------- checking
def test_single_choice():
    assert check_answer(SINGLE, 1).correct
    wrong = check_answer(SINGLE, 0)
    assert not wrong.correct and wrong.answered and wrong.wrong == (0,)
    assert "稍后回复您" in wrong.feedback
    assert not check_answer(SINGLE, None).answered
    with pytest.raises(QuizError, match="not an option index"):
        check_answer(SINGLE, 3)
    with pytest.raises(QuizError, match="not an option index"):
        check_answer(SINGLE, True)


def test_multiple_choice_needs_exactly_the_right_options():
    assert check_answer(MULTIPLE, [1, 0]).correct
    assert check_answer(MULTIPLE, (0, 1, 1)).correct
    subset = check_answer(MULTIPLE, [0])
    assert not subset.correct and subset.missing == (1,) and "漏了1个" in subset.feedback
    superset = check_answer(MULTIPLE, [0, 1, 2])
    assert not superset.correct and superset.wrong == (2,) and "这是规定" in superset.feedback
    assert not check_answer(MULTIPLE, []).answered
    with pytest.raises(QuizError, match="list of option indices"):
        check_answer(MULTIPLE, "0,1")


def test_short_answer_every_group_must_match_any_keyword_within():
    ok = check_answer(SHORT, "实在不好意思，今天18点前给您回复")
    assert ok.correct and ok.feedback.startswith("回答正确")
    assert [(m.text, m.kind) for m in ok.matches] == [("不好意思", "accept"), ("点前", "accept")]
    half = check_answer(SHORT, "今天18点前给您回复")
    assert not half.correct and half.missing == (0,) and "先道歉" in half.feedback
    unnamed = check_answer(SHORT, "抱歉")
    assert unnamed.missing == (1,) and "1个要点" in unnamed.feedback
    rejected = check_answer(SHORT, "抱歉，2小时内尽快处理")
    assert not rejected.correct and rejected.wrong == (0,) and "不要用“尽快”" in rejected.feedback
    assert ("尽快", "reject") in [(m.text, m.kind) for m in rejected.matches]


def test_short_answer_ignores_case_and_full_width_and_keeps_offsets():
    result = check_answer(SHORT, "抱歉，ｏｋ的")
    assert result.correct
    match = [m for m in result.matches if m.kind == "accept"][-1]
    assert "抱歉，ｏｋ的"[match.start:match.end] == match.text == "ｏｋ"


def test_short_answer_blank_or_wrong_type():
    assert not check_answer(SHORT, "   ").answered
    assert not check_answer(SHORT, None).answered
    with pytest.raises(QuizError, match="a short answer is text"):
        check_answer(SHORT, 5)


# --------------------------------------------------------------------------- invalid files
GOOD = """\
chapter: "07"
title: 测验
questions:
  - id: a1
    kind: single
    prompt: 选哪个？
    options: [甲, 乙]
    answer: 0
    explanation: 甲对。
  - id: a2
    kind: short
    prompt: 写一句
    accept:
      - [抱歉]
      - any: [点前]
        hint: 时间
    explanation: 要道歉。
"""


def _write(tmp_path: Path, text: str, name: str = "ch07.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_template_file_is_valid(tmp_path: Path):
    quiz = load_quiz(_write(tmp_path, GOOD))
    assert [q.id for q in quiz.questions] == ["a1", "a2"]
    assert quiz.questions[1].accept[1] == Group(("点前",), "时间")


@pytest.mark.parametrize(("old", "new", "line", "question", "field", "reason"), [
    ("kind: single", "kind: essay", 5, "a1", "kind", "must be one of"),
    ("answer: 0", "answer: 2", 8, "a1", "answer", "numbered from 0 to 1"),
    ("answer: 0", "answer: [0]", 8, "a1", "answer", "not an option index"),
    ("answer: 0", "answer: true", 8, "a1", "answer", "not an option index"),
    ("    explanation: 甲对。\n", "", 4, "a1", "explanation", "is missing"),
    ("id: a2", "id: a1", 10, "a1", "id", "repeats question 1"),
    ("id: a2", "id: 'a 2'", 10, None, "id", "letters, digits"),
    ("options: [甲, 乙]", "options: [甲]", 7, "a1", "options", "at least 2"),
    ("options: [甲, 乙]", "options: [甲, 甲]", 7, "a1", "options", "same text"),
    ("options: [甲, 乙]", "options: [甲, '']", 7, "a1", "options[1]", "non-empty text"),
    ("      - [抱歉]\n", "      - []\n", 14, "a2", "accept[0]", "at least one keyword"),
    ("      - any: [点前]", "      - anyof: [点前]", 15, "a2", "accept[1]", "'any'"),
    ("    prompt: 写一句", "    prompt: 写一句\n    options: [x, y]", 13, "a2", "options",
     "not allowed in a short question"),
    ("chapter: \"07\"", "chapter: \"08\"", 1, None, "chapter", "does not match the file name"),
    ("chapter: \"07\"", "chapter: seven", 1, None, "chapter", "chapter is a number"),
    ("title: 测验", "title: 测验\nauthor: 我", 3, None, "author", "unknown key"),
    ("title: 测验", "title: ''", 2, None, "title", "non-empty text"),
    ("    kind: single\n", "    kind: single\n    kind: short\n", 6, None, None,
     "appears twice"),
    ("prompt: 选哪个？", "prompt: [选哪个", 7, None, None, "invalid YAML"),
])
def test_invalid_file_errors_name_file_line_question_and_field(
        tmp_path: Path, old, new, line, question, field, reason):
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(QuizError) as info:
        load_quiz(path)
    error = info.value
    message = str(error)
    assert message.startswith(str(path)), message
    assert reason in message
    assert error.line == line, message
    assert error.question == question and error.field == field, message
    if question:
        assert f"question {question!r}" in message
    if field:
        assert f"field {field!r}" in message


@pytest.mark.parametrize(("text", "reason"), [
    ("", "the file is empty"),
    ("- a\n- b\n", "must be a mapping"),
    ("chapter: '07'\ntitle: t\n", "is missing"),
    ("chapter: '07'\ntitle: t\nquestions: []\n", "non-empty list"),
    ("chapter: '07'\ntitle: t\nquestions: [3]\n", "must be a mapping"),
])
def test_invalid_structure(tmp_path: Path, text, reason):
    with pytest.raises(QuizError, match=reason):
        load_quiz(_write(tmp_path, text))


def test_quiz_error_is_a_value_error():
    assert issubclass(QuizError, ValueError)


def test_question_lookup_names_the_known_ids(tmp_path: Path):
    quiz = load_quiz(_write(tmp_path, GOOD))
    with pytest.raises(KeyError, match="ids: \\['a1', 'a2'\\]"):
        quiz.question("zz")
