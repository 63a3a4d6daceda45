"""Every fixed student-facing text, in Russian and in English: the one catalogue. The rubric's language
picks one, so one comment never mixes languages.

Named fields rather than inline strings, so tests assert on the same text the student reads. The
check summaries (`summary_*`) and the quiz's messages (`quiz_*`) are format strings; their fields are
named in the comment beside each.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    tests_not_started: str
    deps_installed: str  # {count} {source} {seconds} {cached}
    deps_cached: str
    deps_in_image: str  # {source}
    deps_none: str
    deps_failed: str  # {reason}
    deps_rest_installed: str  # {count}
    deps_left_out: str  # {count}
    # Why the dependencies were not installed ({detail}: the package or limit; {python}: the image's Python).
    deps_no_wheel: str
    deps_not_found: str
    deps_conflict: str
    deps_over_count: str
    deps_over_size: str
    deps_over_time: str
    deps_denied: str
    deps_error: str
    deps_notes: dict[str, str]  # DependencyNote kind -> why, with {subject}
    deps_image_versions: str  # {count}
    deps_image_version: str  # {name} {version} {declared}
    footer: str  # {duration} {sha} {rubric} {version}
    truncated: str  # {count}
    comment_truncated: str
    output_truncated: str  # {what}
    check_title: str  # {grade} {score}
    passed: str
    failed: str
    no_message: str
    not_graded_title: str
    graded_by_service: str  # {checks}
    not_graded_summary: str  # {reason}
    late_notice: str  # {days} {deadline} {percent} {before} {score}
    override_notice: str  # {grade} {score} {before}
    override_note: str  # {note}
    rejected: str  # {reason}: a push that could not be graded at all, as the comment's first line
    needs_review: str  # the mark of a check withheld for review, in the table
    review_findings: str  # {count}: the collapsed list of the tamper scan's findings
    review_note: str  # why the marked checks are not credited
    quotes: tuple[str, str]
    # One-line summaries of the checks (grader.grading.scoring).
    summary_not_finished: str  # {step} {summary}
    summary_findings: str  # {count} {top}
    summary_clean: str
    summary_tests: str  # {passed} {total}
    summary_no_tests: str
    summary_tests_not_started: str  # {error}
    summary_coverage: str  # {percent} {target}
    summary_no_coverage: str
    summary_migrations: str  # {ok} {total} {failed}
    summary_quiz: str  # {correct} {total} {target}
    summary_no_quiz: str
    summary_needs_review: str  # {detail} {where} {more}
    summary_command_ok: str  # {code}
    summary_command_failed: str  # {code}
    summary_command_missing: str  # {file}
    summary_command_malformed: str  # {file} {format}
    summary_command_not_run: str
    # What is wrong with a quiz answers file, then what it must look like (grader.grading.quiz).
    quiz_outside: str  # {file}
    quiz_missing: str  # {file}
    quiz_large: str  # {file} {kb}
    quiz_toml: str  # {file} {detail}
    quiz_option: str  # {file} {qid} {options}
    quiz_format: str  # {file} {example}
    # What the tamper scan found, by kind (grader.grading.tamper); {name} is the construct.
    tamper_kinds: Mapping[str, str]
    # A band's requirement that did not hold (grader.grading.scoring): what the band asks of a check, by
    # the check's kind, and the line saying so.
    requirement: str  # {band} {need} {summary}
    requirement_kinds: Mapping[str, str]
    held_back: str  # {band}: the score reaches it, the requirements below do not
    failed_hidden_hint: str  # {hint} {name}
    error_details: str  # {count}: the collapsed raw errors of failed tests
    # Against the previous graded push of the pull request.
    since_last: str  # {sha} {before} {score} {delta} {grades}
    since_last_grades: str  # {before} {grade}
    since_last_column: str
    change_kinds: Mapping[str, str]  # fixed, regressed, still_failing, still_passing, new
    # The students' quiz page (grader.grading.quiz.quiz_markdown).
    quiz_page_intro: str  # {file}
    quiz_page_example: str
    quiz_page_more: str
    quiz_page_threshold: str  # {percent}
    quiz_page_unanswered: str


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
    tests_not_started="Тесты не запустились: последние строки вывода pytest",
    deps_installed="**Зависимости:** установлено пакетов: {count} (из {source}), {seconds} с{cached}",
    deps_cached=", из кэша",
    deps_in_image="**Зависимости:** всё, что объявлено в {source}, уже есть в образе проверки",
    deps_none="**Зависимости:** в репозитории не объявлены (в uv.lock, poetry.lock, requirements*.txt, "
              "pyproject.toml)",
    deps_failed="**Зависимости не установлены:** {reason}",
    deps_rest_installed=" (остальные установлены: {count})",
    deps_left_out="Зависимости: не установлено из манифестов ({count})",
    deps_no_wheel="у {detail} нет готового wheel-пакета для Python {python} (из исходников ничего не собирается) "
                  "— выбери версию, для которой он есть",
    deps_not_found="пакет {detail} не найден в индексе пакетов — проверь название",
    deps_conflict="требования несовместимы: {detail}",
    deps_over_count="слишком много пакетов ({detail}) — больше лимита задания",
    deps_over_size="слишком большой объём ({detail} МБ) — больше лимита задания",
    deps_over_time="установка не уложилась в {detail} с",
    deps_denied="запрещено правилами задания: {detail}",
    deps_error="установка не удалась: {detail}",
    deps_image_versions="Зависимости: версии из образа проверки вместо объявленных ({count})",
    deps_image_version="{name} {version} (объявлено {declared}): в образе проверки своя версия, и работает она",
    deps_notes={
        "editable": "{subject}: редактируемая установка не выполняется (код проверяется из репозитория)",
        "option": "{subject}: параметры индекса и установки не учитываются",
        "path": "{subject}: локальный путь не устанавливается (код проверяется из репозитория)",
        "url": "{subject}: зависимости из git и по URL не устанавливаются (только wheel из индекса пакетов)",
        "invalid": "{subject}: это не требование к пакету",
        "link": "{subject}: это ссылка, а не файл — не прочитан",
        "unreadable": "{subject}: не удалось прочитать",
        "not_regular": "{subject}: это не обычный файл — не прочитан",
        "too_large": "{subject}: файл слишком большой — не прочитан",
        "not_toml": "{subject}: не разбирается как TOML",
        "outside": "{subject}: ссылается на файл вне репозитория — не прочитан",
    },
    footer="Время проверки {duration} с · коммит {sha} · рубрика {rubric} v{version}",
    truncated="…и ещё {count} (не показано)",
    comment_truncated="_Комментарий сокращён: он не помещается в лимит GitHub._",
    output_truncated="_Часть вывода проверок обрезана: {what}._",
    check_title="Оценка {grade}: {score} из 100",
    passed="пройдено",
    failed="не пройдено",
    no_message="без сообщения",
    not_graded_title="Не удалось проверить",
    graded_by_service="_Здесь проверено только открытое: {checks} проверяет сервис курса, и его оценка — "
                      "итоговая._",
    not_graded_summary="Этот коммит не проверен: {reason}",
    late_notice="⏰ **Сдано после срока** ({deadline}) на {days} дн.: штраф {percent} %, {before} → {score}.",
    override_notice="✍️ **Оценку выставил преподаватель:** {grade}, {score} из 100 (по проверкам: {before}).",
    override_note="Комментарий преподавателя: {note}",
    rejected="**Этот коммит нельзя проверить:** {reason}. Оценка — за непроверенную работу; исправь и запушь снова.",
    needs_review="⚠️ нужна проверка",
    review_findings="Нужна проверка преподавателем ({count})",
    review_note="Отмеченные проверки не засчитаны, пока их не посмотрит преподаватель: код в репозитории может "
                "влиять на то, что они измеряют. Убери такой код из решения или спроси преподавателя.",
    quotes=("«", "»"),
    summary_not_finished="{step}: {summary}",
    summary_findings="замечаний ruff: {count}{top}",
    summary_clean="замечаний ruff нет",
    summary_tests="пройдено тестов: {passed} из {total}",
    summary_no_tests="тесты не найдены",
    summary_tests_not_started="тесты не запустились: {error}",
    summary_coverage="покрытие {percent:.1f} % (цель {target:.0f} %)",
    summary_no_coverage="нет данных о покрытии",
    summary_migrations="шагов миграций пройдено: {ok} из {total}{failed}",
    summary_quiz="верных ответов: {correct} из {total} (зачёт от {target:.0f} %)",
    summary_no_quiz="проверка квиза недоступна",
    summary_needs_review="нужна проверка преподавателем: {where} {detail}{more}",
    summary_command_ok="команда завершилась успешно",
    summary_command_failed="команда завершилась с ошибкой (код {code})",
    summary_command_missing="команда не записала {file}",
    summary_command_malformed="{file} не в формате {format}",
    summary_command_not_run="команда не запускалась",
    quiz_outside="{file} должен быть обычным файлом внутри репозитория",
    quiz_missing="файл {file} не найден",
    quiz_large="{file} больше {kb} КБ",
    quiz_toml="{file} не разбирается как TOML ({detail})",
    quiz_option="{file}: ответ на {qid} должен быть одним из {options}",
    quiz_format="в {file} нужна строка на каждый вопрос: его идентификатор и буква выбранного варианта "
                "в кавычках, например {example} (вопросы — в QUIZ.md)",
    tamper_kinds={
        "coverage_api": "импортирует coverage.py",
        "pytest_internals": "импортирует внутренности pytest (_pytest)",
        "pytest_hook": "определяет хук pytest {name}, который может менять или отбрасывать результаты тестов",
        "junit_writer": "пишет JUnit XML",
        "process_exit": "завершает процесс в обход конца сессии pytest ({name})",
        "module_surgery": "меняет sys.modules",
        "builtins_surgery": "лезет в builtins",
        "dynamic_code": "выполняет код, собранный на лету ({name})",
        "native_code": "загружает нативный код ({name})",
        "startup_hook": "хук запуска интерпретатора ({name})",
        "grader_paths": "обращается к путям или переменным проверяющей системы ({name})",
        "unscannable": "не удалось просканировать ({name})",
        "coverage_hint": "исключает код из подсчёта покрытия комментарием ({name} ignore)",
    },
    requirement="Для {band} нужно: {need} — {summary}",
    requirement_kinds={
        "lint": "чистый стиль (ни одного замечания ruff)",
        "tests": "все тесты зелёные",
        "coverage": "покрытие на уровне цели",
        "migrations": "все шаги миграций",
        "hidden_tests": "весь чек-лист урока",
        "quiz": "зачёт по квизу",
    },
    held_back="**Баллов хватает на {band}, но:**",
    failed_hidden_hint="{hint} ({name})",
    error_details="Ошибки упавших проверок ({count})",
    since_last="**С прошлого пуша** ({sha}): {before} → {score} ({delta}){grades}",
    since_last_grades=", оценка {before} → {grade}",
    since_last_column="С прошлого пуша",
    change_kinds={"fixed": "исправлено", "regressed": "сломалось", "still_failing": "всё ещё не проходит",
                  "still_passing": "", "new": "новая проверка"},
    quiz_page_intro="Ответы положи в файл `{file}` своего репозитория: одна строка на вопрос,\n"
                    "идентификатор вопроса и буква выбранного варианта в кавычках (формат TOML):",
    quiz_page_example="пример формата, не подсказка",
    quiz_page_more="# … и так далее, по строке на каждый вопрос",
    quiz_page_threshold="Квиз засчитан, если верно не меньше {percent} % ответов.",
    quiz_page_unanswered="Вопрос без ответа считается неверным.",
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
    tests_not_started="Tests could not start: the last lines of pytest's output",
    deps_installed="**Dependencies:** {count} packages from {source}, {seconds} s{cached}",
    deps_cached=" (cached)",
    deps_in_image="**Dependencies:** everything {source} declares is in the grading image already",
    deps_none="**Dependencies:** none declared (in uv.lock, poetry.lock, requirements*.txt or pyproject.toml)",
    deps_failed="**Dependencies not installed:** {reason}",
    deps_rest_installed=" (the others are installed: {count})",
    deps_left_out="Dependencies: not installed from the manifests ({count})",
    deps_no_wheel="{detail} has no wheel for Python {python} (nothing is built from source): "
                  "pick a version that has one",
    deps_not_found="{detail} is not on the package index: check the name",
    deps_conflict="the requirements conflict: {detail}",
    deps_over_count="too many packages ({detail}), over the assignment's cap",
    deps_over_size="too large ({detail} MB), over the assignment's cap",
    deps_over_time="installing took longer than {detail} s",
    deps_denied="not allowed by the assignment: {detail}",
    deps_error="installation failed: {detail}",
    deps_image_versions="Dependencies: the grading image's versions instead of the declared ones ({count})",
    deps_image_version="{name} {version} (declared {declared}): the grading image has its own version, and it runs",
    deps_notes={
        "editable": "{subject}: editable installs are not run (the code is graded from the repository)",
        "option": "{subject}: index and install options are ignored",
        "path": "{subject}: a local path is not installed (the code is graded from the repository)",
        "url": "{subject}: git and URL requirements are not installed (wheels from the package index only)",
        "invalid": "{subject}: not a package requirement",
        "link": "{subject}: a link, not a file; not read",
        "unreadable": "{subject}: could not be read",
        "not_regular": "{subject}: not a regular file; not read",
        "too_large": "{subject}: too large; not read",
        "not_toml": "{subject}: not valid TOML",
        "outside": "{subject}: names a file outside the repository; not read",
    },
    footer="Graded in {duration} s · commit {sha} · rubric {rubric} v{version}",
    truncated="…and {count} more (not shown)",
    comment_truncated="_This comment was shortened to fit GitHub's limit._",
    output_truncated="_Some output of the checks was cut: {what}._",
    check_title="Grade {grade}: {score} out of 100",
    passed="passed",
    failed="failed",
    no_message="no message",
    not_graded_title="Could not grade",
    graded_by_service="_Only the public checks were graded here: {checks} are graded by the course's service, "
                      "whose grade is the one that counts._",
    not_graded_summary="This commit was not graded: {reason}",
    late_notice="⏰ **Received {days} day(s) after the deadline** ({deadline}): {percent} % off, {before} → {score}.",
    override_notice="✍️ **The grade was set by the instructor:** {grade}, {score} out of 100 "
                    "(the checks gave {before}).",
    override_note="Instructor's note: {note}",
    rejected="**This commit cannot be graded:** {reason}. It is graded as not done; fix it and push again.",
    needs_review="⚠️ needs review",
    review_findings="Needs review by the instructor ({count})",
    review_note="The marked checks are not credited until an instructor has looked: code in the repository can "
                "change what they measure. Remove such code from the solution or ask your instructor.",
    quotes=("“", "”"),
    summary_not_finished="{step}: {summary}",
    summary_findings="{count} ruff findings{top}",
    summary_clean="no ruff findings",
    summary_tests="{passed} of {total} tests passed",
    summary_no_tests="no tests were found",
    summary_tests_not_started="tests could not start: {error}",
    summary_coverage="coverage {percent:.1f} % (target {target:.0f} %)",
    summary_no_coverage="no coverage data",
    summary_migrations="{ok} of {total} migration steps passed{failed}",
    summary_quiz="{correct} of {total} answers right (pass at {target:.0f} %)",
    summary_no_quiz="quiz grading not available",
    summary_needs_review="needs review by the instructor: {where} {detail}{more}",
    summary_command_ok="the command succeeded",
    summary_command_failed="the command failed (exit status {code})",
    summary_command_missing="the command did not write {file}",
    summary_command_malformed="{file} is not {format}",
    summary_command_not_run="the command did not run",
    quiz_outside="{file} must be a regular file inside the repository",
    quiz_missing="{file} was not found",
    quiz_large="{file} is larger than {kb} KB",
    quiz_toml="{file} is not valid TOML ({detail})",
    quiz_option="{file}: {qid} must be one of {options}",
    quiz_format="{file} must hold one line per question: its id and the letter of the chosen option in quotes, "
                "e.g. {example} (the questions are in QUIZ.md)",
    tamper_kinds={
        "coverage_api": "imports coverage.py",
        "pytest_internals": "imports pytest's internals (_pytest)",
        "pytest_hook": "defines the pytest hook {name}, which can change or drop test outcomes",
        "junit_writer": "writes JUnit XML",
        "process_exit": "ends the process without pytest's session end ({name})",
        "module_surgery": "changes sys.modules",
        "builtins_surgery": "reaches into builtins",
        "dynamic_code": "runs code built at run time ({name})",
        "native_code": "loads native code ({name})",
        "startup_hook": "is an interpreter start-up hook ({name})",
        "grader_paths": "names the grader's own paths or variables ({name})",
        "unscannable": "could not be scanned ({name})",
        "coverage_hint": "excludes code from coverage with a comment ({name} ignore)",
    },
    requirement="{band} needs {need}: {summary}",
    requirement_kinds={
        "lint": "clean style (no ruff findings)",
        "tests": "every test green",
        "coverage": "coverage at the target",
        "migrations": "every migration step",
        "hidden_tests": "the whole lesson checklist",
        "quiz": "the quiz passed",
    },
    held_back="**The points reach {band}, but:**",
    failed_hidden_hint="{hint} ({name})",
    error_details="Errors of the failed checks ({count})",
    since_last="**Since the last push** ({sha}): {before} → {score} ({delta}){grades}",
    since_last_grades=", grade {before} → {grade}",
    since_last_column="Since the last push",
    change_kinds={"fixed": "fixed", "regressed": "newly failing", "still_failing": "still failing",
                  "still_passing": "", "new": "new check"},
    quiz_page_intro="Put your answers in the file `{file}` of your repository: one line per question,\n"
                    "the question's id and the letter of the chosen option in quotes (TOML):",
    quiz_page_example="an example of the format, not a hint",
    quiz_page_more="# … and so on, one line per question",
    quiz_page_threshold="The quiz passes with at least {percent} % right answers.",
    quiz_page_unanswered="A question left unanswered counts as wrong.",
)


LANGUAGES = {"ru": RUSSIAN, "en": ENGLISH}


def texts_for(language: str) -> Texts:
    return RUSSIAN if language.lower().startswith("ru") else ENGLISH
