"""The fixed wording of the feedback, in Russian and in English; the rubric's language picks one.

Named fields rather than inline strings, so tests assert on the same text the student reads.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Texts:
    grade_heading: str  # {grade} {score}
    check: str
    points: str
    result: str
    failures: str
    reread: str
    to_next_grade: str  # {grade} {checks}
    top_grade: str
    lint_findings: str  # {count}
    failed_tests: str  # {count}
    failed_hidden_tests: str  # {count}
    least_covered: str
    file: str
    coverage: str
    migration_failed: str  # {step}
    footer: str  # {duration} {sha} {rubric} {version}
    truncated: str  # {count}
    comment_truncated: str
    output_truncated: str  # {what}
    check_title: str  # {grade} {score}
    passed: str
    failed: str
    no_message: str
    not_graded_title: str
    not_graded_summary: str  # {reason}
    late_notice: str  # {days} {deadline} {percent} {before} {score}
    override_notice: str  # {grade} {score} {before}
    override_note: str  # {note}
    quotes: tuple[str, str]


RUSSIAN = Texts(
    grade_heading="## Оценка {grade}: {score} из 100",
    check="Проверка",
    points="Баллы",
    result="Итог",
    failures="Что не прошло",
    reread="перечитай",
    to_next_grade="**Чтобы получить {grade}:** исправь {checks}.",
    top_grade="**Высшая оценка — так держать!**",
    lint_findings="Замечания линтера ({count})",
    failed_tests="Упавшие тесты ({count})",
    failed_hidden_tests="Упавшие скрытые проверки ({count})",
    least_covered="Файлы с наименьшим покрытием",
    file="Файл",
    coverage="Покрытие",
    migration_failed="Миграции: шаг «{step}» не прошёл",
    footer="Время проверки {duration} с · коммит {sha} · рубрика {rubric} v{version}",
    truncated="…и ещё {count} (не показано)",
    comment_truncated="_Комментарий сокращён: он не помещается в лимит GitHub._",
    output_truncated="_Часть вывода проверок обрезана: {what}._",
    check_title="Оценка {grade}: {score} из 100",
    passed="пройдено",
    failed="не пройдено",
    no_message="без сообщения",
    not_graded_title="Не удалось проверить",
    not_graded_summary="Этот коммит не проверен: {reason}",
    late_notice="⏰ **Сдано после срока** ({deadline}) на {days} дн.: штраф {percent} %, {before} → {score}.",
    override_notice="✍️ **Оценку выставил преподаватель:** {grade}, {score} из 100 (по проверкам: {before}).",
    override_note="Комментарий преподавателя: {note}",
    quotes=("«", "»"),
)

ENGLISH = Texts(
    grade_heading="## Grade {grade}: {score} out of 100",
    check="Check",
    points="Points",
    result="Result",
    failures="What failed",
    reread="reread",
    to_next_grade="**To reach {grade}:** fix {checks}.",
    top_grade="**Top grade — well done!**",
    lint_findings="Lint findings ({count})",
    failed_tests="Failed tests ({count})",
    failed_hidden_tests="Failed hidden checks ({count})",
    least_covered="Least-covered files",
    file="File",
    coverage="Coverage",
    migration_failed="Migrations: step “{step}” failed",
    footer="Graded in {duration} s · commit {sha} · rubric {rubric} v{version}",
    truncated="…and {count} more (not shown)",
    comment_truncated="_This comment was shortened to fit GitHub's limit._",
    output_truncated="_Some output of the checks was cut: {what}._",
    check_title="Grade {grade}: {score} out of 100",
    passed="passed",
    failed="failed",
    no_message="no message",
    not_graded_title="Could not grade",
    not_graded_summary="This commit was not graded: {reason}",
    late_notice="⏰ **Received {days} day(s) after the deadline** ({deadline}): {percent} % off, {before} → {score}.",
    override_notice="✍️ **The grade was set by the instructor:** {grade}, {score} out of 100 "
                    "(the checks gave {before}).",
    override_note="Instructor's note: {note}",
    quotes=("“", "”"),
)


def texts_for(language: str) -> Texts:
    return RUSSIAN if language.lower().startswith("ru") else ENGLISH
