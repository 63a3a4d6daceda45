"""Quiz grading from the student's answers file, and the student-facing QUIZ.md kept in step with the key."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.grading.quiz import QuizKeyError, grade_quiz, load_quiz, quiz_markdown
from tests.support.golden import assert_matches_golden

RUBRIC_DIR = Path(__file__).resolve().parents[2] / "rubric" / "sqlalchemy-async"
KEY = RUBRIC_DIR / "quiz_key.toml"
QUIZ_MD = RUBRIC_DIR / "QUIZ.md"


@dataclass(frozen=True)
class Quiz:
    key_path: Path = KEY
    answers_file: str = "quiz/answers.toml"
    pass_percent: float = 80


def _answers(checkout: Path, text: str) -> Path:
    (checkout / "quiz").mkdir(parents=True, exist_ok=True)
    (checkout / "quiz" / "answers.toml").write_text(text, encoding="utf-8")
    return checkout


def _key_answers() -> dict[str, str]:
    return {q.id: q.answer for q in load_quiz(KEY).questions}


def test_key__has_ten_to_twenty_questions_with_varied_answers() -> None:
    answers = _key_answers()

    assert 10 <= len(answers) <= 20
    assert len(set(answers.values())) >= 3


def test_grade_quiz__all_correct(tmp_path: Path) -> None:
    lines = "\n".join(f'{qid} = "{answer.upper()}"' for qid, answer in _key_answers().items())

    result = grade_quiz(_answers(tmp_path, lines), Quiz(), "ru")

    assert (result.correct, result.answered, result.total, result.error) == (16, 16, 16, "")


def test_grade_quiz__unanswered_questions_count_as_wrong(tmp_path: Path) -> None:
    key = list(_key_answers().items())
    wrong = "a" if key[10][1] != "a" else "b"
    lines = [f'{qid} = "{answer}"' for qid, answer in key[:10]] + [f'{key[10][0]} = "{wrong}"']

    result = grade_quiz(_answers(tmp_path, "\n".join(lines)), Quiz(), "ru")

    assert (result.correct, result.answered, result.total) == (10, 11, 16)


@pytest.mark.parametrize(("content", "says"), [
    (None, "файл quiz/answers.toml не найден"),
    ("q01 = b", "quiz/answers.toml не разбирается как TOML"),
    ('q01 = "z"', 'ответ на q01 должен быть одним из "a", "b", "c", "d"'),
    ("q01 = 2", "ответ на q01 должен быть одним из"),
])
def test_grade_quiz__a_broken_answers_file_says_what_it_must_look_like(
        tmp_path: Path, content: str | None, says: str) -> None:
    checkout = tmp_path if content is None else _answers(tmp_path, content)

    result = grade_quiz(checkout, Quiz(), "ru")

    assert says in result.error
    assert 'буква выбранного варианта в кавычках, например q01 = "a"' in result.error
    assert (result.correct, result.total) == (0, 16)


@pytest.mark.parametrize(("content", "detail"), [
    ("q01 = " + "[" * 30_000 + "]" * 30_000, "nested too deeply"),  # 60 KB, under the size cap
    ("a = " + "{ b = " * 5_000 + "1" + " }" * 5_000, "nested too deeply"),
    ("q01 = " + "9" * 5000, "Exceeds the limit"),
    ("q01 = \"\x01\"", "не разбирается как TOML"),
])
def test_grade_quiz__a_hostile_answers_file_is_a_message_never_an_exception(tmp_path: Path, content: str,
                                                                              detail: str) -> None:
    result = grade_quiz(_answers(tmp_path, content), Quiz(), "ru")

    assert detail in result.error
    assert (result.correct, result.total) == (0, 16)


def test_grade_quiz__a_symlink_loop_is_refused(tmp_path: Path) -> None:
    (tmp_path / "quiz").mkdir()
    (tmp_path / "quiz" / "answers.toml").symlink_to(tmp_path / "quiz" / "answers.toml")

    assert "должен быть обычным файлом внутри репозитория" in grade_quiz(tmp_path, Quiz(), "ru").error


def test_grade_quiz__a_symlinked_answers_file_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.toml"
    secret.write_text('q01 = "b"')
    (tmp_path / "repo" / "quiz").mkdir(parents=True)
    (tmp_path / "repo" / "quiz" / "answers.toml").symlink_to(secret)

    result = grade_quiz(tmp_path / "repo", Quiz(), "ru")

    assert "должен быть обычным файлом внутри репозитория" in result.error


def test_load_key__a_wrong_answer_letter_names_the_key(tmp_path: Path) -> None:
    broken = tmp_path / "key.toml"
    broken.write_text('[[questions]]\nid = "q1"\ntext = "?"\noptions = {a = "x", b = "y"}\nanswer = "c"\n')

    with pytest.raises(QuizKeyError, match=r"key.toml: questions\[0\].answer must be one of \['a', 'b'\]"):
        load_quiz(broken)


def golden_outputs() -> Iterator[tuple[Path, str]]:
    title = tomllib.loads(KEY.read_text(encoding="utf-8"))["title"]
    yield QUIZ_MD, quiz_markdown(title, load_quiz(KEY).questions, "quiz/answers.toml", 80, "ru")


def test_quiz_md__lists_every_question_and_no_answers() -> None:
    [(path, expected)] = golden_outputs()
    assert_matches_golden(path, expected)
    text = path.read_text(encoding="utf-8")

    assert "answer =" not in text
    assert all(f"## {qid}." in text for qid in _key_answers())


def test_grade_quiz__messages_follow_the_rubric_language_not_the_key(tmp_path: Path) -> None:
    key = tmp_path / "key.toml"
    key.write_text('language = "en"\n[[questions]]\nid = "q1"\ntext = "?"\noptions = {a = "x", b = "y"}\n'
                   'answer = "b"\n')

    english = grade_quiz(tmp_path, Quiz(key_path=key), "en")
    russian = grade_quiz(tmp_path, Quiz(key_path=key), "ru")

    assert english.error == ('quiz/answers.toml was not found: quiz/answers.toml must hold one line per question: '
                             'its id and the letter of the chosen option in quotes, e.g. q1 = "a" '
                             "(the questions are in QUIZ.md)")
    assert russian.error.startswith("файл quiz/answers.toml не найден: в quiz/answers.toml нужна строка")


def test_quiz_page__is_in_the_rubric_language() -> None:
    questions = load_quiz(KEY).questions

    english = quiz_markdown("Quiz", questions, "quiz/answers.toml", 80, "en")

    assert "Put your answers in the file `quiz/answers.toml`" in english
    assert "The quiz passes with at least 80 % right answers." in english
    assert "Ответы" not in english
