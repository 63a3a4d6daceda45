"""The theory quiz: the student's answers file checked against the key kept with the rubric.

Runs on the host and only reads files, never student code; the key never enters the container.
A missing or malformed answers file is a result with `error` saying what the file must look like,
not an exception: it is the student's mistake to fix.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from grader.grading.report import QuizResult
from grader.grading.rubric import QuizSpec
from grader.texts import LANGUAGES, texts_for

MAX_ANSWERS_BYTES = 64 * 1024


class QuizKeyError(ValueError):
    """The rubric's quiz key is broken: an instructor's error, one line naming the key."""


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    options: dict[str, str]
    answer: str


def _question(raw: object, where: str) -> Question:
    if not isinstance(raw, dict):
        raise QuizKeyError(f"{where} must be a table")
    options = raw.get("options")
    if not isinstance(options, dict) or len(options) < 2:
        raise QuizKeyError(f"{where}.options must be a table of at least two options")
    for key in ("id", "text", "answer"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise QuizKeyError(f"{where}.{key} must be a non-empty string")
    if raw["answer"] not in options:
        raise QuizKeyError(f"{where}.answer must be one of {sorted(options)}")
    return Question(raw["id"], raw["text"], {str(k): str(v) for k, v in options.items()}, raw["answer"])


@dataclass(frozen=True)
class QuizKey:
    title: str
    language: str  # of the messages a student reads: "ru" or "en"
    questions: list[Question]


def load_quiz(path: Path) -> QuizKey:
    """The quiz key file, validated: a title, the language, questions with unique ids."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise QuizKeyError(f"{path}: cannot be read: {exc}") from None
    raw_questions = data.get("questions", [])
    if not isinstance(raw_questions, list):
        raise QuizKeyError(f"{path}: questions must be a list of tables ([[questions]])")
    questions = [_question(raw, f"{path.name}: questions[{i}]") for i, raw in enumerate(raw_questions)]
    if not questions or len({q.id for q in questions}) != len(questions):
        raise QuizKeyError(f"{path}: questions must be a non-empty list with unique ids")
    language = str(data.get("language", "en"))
    if language not in LANGUAGES:
        raise QuizKeyError(f"{path}: language must be one of {sorted(LANGUAGES)}")
    return QuizKey(str(data.get("title", "Quiz")), language, questions)



def example_line(questions: list[Question]) -> str:
    """An answers-file line for the first question; its letter is never the right one."""
    first = questions[0]
    return f'{first.id} = "{next(key for key in first.options if key != first.answer)}"'


def _read_answers(checkout: Path, answers_file: str) -> dict[str, object] | tuple[str, dict[str, object]]:
    """The parsed answers table, or the message key and fields saying why it cannot be used.

    The file is the student's: it may be a link, huge, nested thousands of levels deep (tomllib
    recurses) or hold integers Python refuses to convert; each is a message, never an exception.
    """
    path = checkout / answers_file
    try:
        if path.is_symlink() or not path.resolve().is_relative_to(checkout.resolve()):
            return "outside", {}
        if not path.is_file():
            return "missing", {}
        if path.stat().st_size > MAX_ANSWERS_BYTES:
            return "large", {"kb": MAX_ANSWERS_BYTES // 1024}
        return tomllib.loads(path.read_bytes()[:MAX_ANSWERS_BYTES].decode("utf-8"))
    except RecursionError:  # before RuntimeError, its base
        return "toml", {"detail": "nested too deeply"}
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symbolic link loop on the way
        return "toml", {"detail": type(exc).__name__}
    except (UnicodeDecodeError, ValueError) as exc:  # TOMLDecodeError, and int() past its digit limit
        return "toml", {"detail": str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}


def _check_answers(answers: dict[str, object], questions: list[Question]) -> tuple[str, dict[str, object]] | None:
    for question in questions:
        value = answers.get(question.id)
        if value is None:
            continue
        if not isinstance(value, str) or value.strip().lower() not in question.options:
            return "option", {"qid": question.id, "options": ", ".join(f'"{key}"' for key in question.options)}
    return None


def _failed(problem: tuple[str, dict[str, object]], key: QuizKey, answers_file: str, language: str) -> QuizResult:
    """A result whose error says what went wrong and what the file must look like, in the rubric's
    language (one comment, one language: the key's own language names only its questions')."""
    texts = texts_for(language)
    name, fields = problem
    what = getattr(texts, f"quiz_{name}").format(file=answers_file, **fields)
    how = texts.quiz_format.format(file=answers_file, example=example_line(key.questions))
    return QuizResult(answered=0, correct=0, total=len(key.questions), error=f"{what}: {how}")


def grade_quiz(checkout: Path, quiz: QuizSpec, language: str) -> QuizResult:
    """Counts the student's correct answers; unanswered questions count as wrong. Messages are in
    `language`, the rubric's."""
    key = load_quiz(quiz.key_path)
    answers = _read_answers(checkout, quiz.answers_file)
    if isinstance(answers, tuple):
        return _failed(answers, key, quiz.answers_file, language)
    problem = _check_answers(answers, key.questions)
    if problem:
        return _failed(problem, key, quiz.answers_file, language)
    given = {q.id: str(answers[q.id]).strip().lower() for q in key.questions if q.id in answers}
    correct = sum(1 for q in key.questions if given.get(q.id) == q.answer)
    return QuizResult(answered=len(given), correct=correct, total=len(key.questions))


def quiz_markdown(title: str, questions: list[Question], answers_file: str, pass_percent: float,
                  language: str) -> str:
    """The student-facing QUIZ.md in the rubric's `language`: questions and options, the answers-file
    format, never the key."""
    texts = texts_for(language)
    lines = [f"# {title}", "", texts.quiz_page_intro.format(file=answers_file), "",
             "```toml", f"{example_line(questions)}  # {texts.quiz_page_example}", texts.quiz_page_more, "```", "",
             texts.quiz_page_threshold.format(percent=f"{pass_percent:g}"), texts.quiz_page_unanswered, ""]
    for question in questions:
        lines += [f"## {question.id}. {question.text}", ""]
        lines += [f"- **{key}**) {text}" for key, text in question.options.items()]
        lines.append("")
    return "\n".join(lines)
