"""The dashboard's wording in the course's languages (`[course] language`), as named fields, so templates
and tests say the same words."""
# ruff: noqa: S106 - "token" labels are words on a page, not credentials

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Labels:
    lang: str
    app: str
    gradebook: str
    log_out: str
    log_in: str
    token: str
    token_hint: str
    assignment: str
    show: str
    deadline: str
    no_deadline: str
    late_policy: str  # {percent} {days}
    no_late_limit: str
    grade_policy_best: str
    grade_policy_last: str
    distribution: str
    distribution_hint: str  # {students}
    most_failed: str
    check: str
    students_failing: str
    nobody_fails: str
    sections: str
    section: str
    students_sent: str
    nobody_sent: str
    students: str
    search: str
    search_placeholder: str
    status: str
    grade: str
    late: str
    any: str
    late_only: str
    on_time_only: str
    filter: str
    export: str
    page_of: str  # {page} {pages} {count}
    previous: str
    next: str
    nothing_found: str
    column_student: str
    column_name: str
    column_student_id: str
    column_score: str
    column_late_days: str
    column_at_deadline: str
    column_latest: str
    column_attempts: str
    column_last_activity: str
    not_on_roster: str
    overridden: str
    status_graded: str
    status_late: str
    status_pending: str
    status_missing: str
    regrade_assignment: str
    regrade_student: str
    regrade_submission: str
    regrade_queued: str  # {queued} {already}
    override_saved: str
    needs_write: str
    latest_grade: str
    best: str
    pushes: str  # {count} {when}
    submissions: str
    received: str
    repository: str
    commit: str
    job: str
    not_graded_yet: str
    advisory_flag: str
    advisory_short: str
    advisory_title: str
    what_student_saw: str
    score: str
    to_reach: str  # {grade} {checks}
    points: str
    result: str
    read_again: str
    comment_as_posted: str
    all_results: str
    when: str
    late_notice: str  # {days} {percent} {deadline}
    override_title: str
    override_score: str
    override_note: str
    override_submit: str
    audit_trail: str
    by: str
    note: str
    no_overrides: str
    open_on_github: str
    not_found: str
    back: str
    invalid_form: str


ENGLISH = Labels(
    lang="en", app="grader", gradebook="Gradebook", log_out="Log out", log_in="Log in", token="API token",
    token_hint="Paste an instructor API token (made with grader token create NAME).",
    assignment="Assignment", show="Show", deadline="Deadline", no_deadline="no deadline",
    late_policy="late: −{percent} % a day, at most {days} days", no_late_limit="no limit",
    grade_policy_best="the best push counts", grade_policy_last="the last push counts",
    distribution="Grade distribution",
    distribution_hint="The grade that counts, of each of {students} graded students.",
    most_failed="Most-failed checks", check="Check", students_failing="Students failing",
    nobody_fails="No student fails a check.", sections="Sections to re-teach", section="Lesson section",
    students_sent="Students sent there", nobody_sent="No student is sent to a section.", students="Students",
    search="Search", search_placeholder="name, login or student id", status="Status", grade="Grade", late="Late",
    any="any", late_only="late", on_time_only="on time", filter="Filter", export="Export",
    page_of="Page {page} of {pages} · {count} students", previous="← Previous", next="Next →",
    nothing_found="No student matches.", column_student="student", column_name="name",
    column_student_id="student id", column_score="score", column_late_days="late days",
    column_at_deadline="at deadline", column_latest="latest", column_attempts="attempts",
    column_last_activity="last activity", not_on_roster="not on roster", overridden="set by instructor",
    status_graded="graded", status_late="late", status_pending="pending", status_missing="missing",
    regrade_assignment="Regrade the assignment", regrade_student="Regrade this student",
    regrade_submission="Regrade", regrade_queued="Regrade queued: {queued} new jobs, {already} already queued.",
    override_saved="Override saved; the student's comment is being updated.",
    needs_write="Changes need a token with the write scope.", latest_grade="Latest grade", best="best",
    pushes="{count} pushes, last on {when} UTC", submissions="Submissions", received="Received",
    repository="Repository", commit="Commit", job="Job", not_graded_yet="Not graded yet",
    advisory_flag="Advisory result. It was sent by a workflow the student controls; it is shown as the student "
                  "saw it, and it is not the service's grade.",
    advisory_short="advisory", advisory_title="From the student's own workflow, not the service's grade",
    what_student_saw="What the student saw", score="score", to_reach="To reach {grade}: fix {checks}.",
    points="Points", result="Result", read_again="Read again", comment_as_posted="The pull-request comment, as posted",
    all_results="All results", when="When",
    late_notice="Received {days} day(s) after the deadline ({deadline}): −{percent} %.",
    override_title="Override the grade", override_score="Score (0–100; the grade follows)",
    override_note="Note (kept in the audit trail)", override_submit="Save",
    audit_trail="Overrides (audit trail)", by="By", note="Note", no_overrides="No override.",
    open_on_github="Open on GitHub", not_found="Not found", back="Back to the gradebook",
    invalid_form="The form was not valid (or it expired); reload the page and try again.",
)

RUSSIAN = Labels(
    lang="ru", app="grader", gradebook="Журнал", log_out="Выйти", log_in="Войти", token="API-токен",
    token_hint="Вставьте токен преподавателя (создаётся командой grader token create NAME).",
    assignment="Задание", show="Показать", deadline="Срок", no_deadline="без срока",
    late_policy="опоздание: −{percent} % в день, не более {days} дн.", no_late_limit="без ограничения",
    grade_policy_best="засчитывается лучшая попытка", grade_policy_last="засчитывается последняя попытка",
    distribution="Распределение оценок", distribution_hint="Итоговая оценка каждого из {students} студентов.",
    most_failed="Чаще всего не проходят", check="Проверка", students_failing="Студентов",
    nobody_fails="Все проверки пройдены.", sections="Разделы, которые стоит повторить", section="Раздел урока",
    students_sent="Студентов", nobody_sent="Никого не отправили к разделам.", students="Студенты",
    search="Поиск", search_placeholder="имя, логин или номер", status="Статус", grade="Оценка", late="Опоздание",
    any="все", late_only="с опозданием", on_time_only="в срок", filter="Применить", export="Выгрузка",
    page_of="Страница {page} из {pages} · студентов: {count}", previous="← Назад", next="Вперёд →",
    nothing_found="Никого не найдено.", column_student="студент", column_name="имя",
    column_student_id="номер", column_score="баллы", column_late_days="дней опоздания",
    column_at_deadline="к сроку", column_latest="последняя", column_attempts="попыток",
    column_last_activity="последняя активность", not_on_roster="нет в списке", overridden="выставлено вручную",
    status_graded="проверено", status_late="опоздание", status_pending="в очереди", status_missing="не сдано",
    regrade_assignment="Перепроверить задание", regrade_student="Перепроверить студента",
    regrade_submission="Перепроверить", regrade_queued="Перепроверка: новых задач {queued}, уже в очереди {already}.",
    override_saved="Оценка сохранена; комментарий студента обновляется.",
    needs_write="Для изменений нужен токен с правом записи (write).", latest_grade="Последняя оценка",
    best="лучшая", pushes="попыток: {count}, последняя {when} UTC", submissions="Попытки", received="Получено",
    repository="Репозиторий", commit="Коммит", job="Задача", not_graded_yet="Ещё не проверено",
    advisory_flag="Рекомендательный результат. Его прислал workflow, которым управляет студент; он показан так, "
                  "как его видел студент, и это не оценка сервиса.",
    advisory_short="рекомендательно", advisory_title="Из workflow студента, не оценка сервиса",
    what_student_saw="Что увидел студент", score="баллы", to_reach="Чтобы получить {grade}: исправить {checks}.",
    points="Баллы", result="Итог", read_again="Перечитать", comment_as_posted="Комментарий в пул-реквесте",
    all_results="Все результаты", when="Когда",
    late_notice="Получено через {days} дн. после срока ({deadline}): −{percent} %.",
    override_title="Выставить оценку вручную", override_score="Баллы (0–100; оценка по ним)",
    override_note="Причина (сохраняется в журнале изменений)",
    override_submit="Сохранить", audit_trail="Ручные оценки (журнал)", by="Кто", note="Причина",
    no_overrides="Оценку вручную не меняли.", open_on_github="Открыть на GitHub", not_found="Не найдено",
    back="К журналу", invalid_form="Форма устарела или заполнена неверно; обновите страницу и попробуйте снова.",
)


def labels_for(language: str) -> Labels:
    return RUSSIAN if language.lower().startswith("ru") else ENGLISH


def column_labels(labels: Labels) -> dict[str, str]:
    """The gradebook table's column headers."""
    return {"student": labels.column_student, "name": labels.column_name, "student_id": labels.column_student_id,
            "status": labels.status.lower(), "grade": labels.grade.lower(), "score": labels.column_score,
            "late_days": labels.column_late_days, "score_at_deadline": labels.column_at_deadline,
            "latest_score": labels.column_latest, "attempts": labels.column_attempts,
            "last_activity": labels.column_last_activity}
