"""Rubric files: the shipped one loads; every mistake is one line naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.grading.rubric import Band
from grader.grading.rubric_loader import RubricError, load_checked_rubric, load_rubric
from grader.settings import SHIPPED_RUBRIC, GradingSettings

VALID = """
[rubric]
id = "x"
title = "X"
language = "en"
remediation_base_url = "https://book.example.org/x/"

[grades]
S = 90
A = 80
B = 70
C = 0

[sections]
SA1 = { title = "Engine", anchor = "#sa1" }

[[checks]]
id = "lint"
kind = "lint"
title = "Style"
points = 40
sections = ["SA1"]

[[checks]]
id = "tests"
kind = "tests"
title = "Tests"
points = 60
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "r.toml"
    path.write_text(text)
    return path


def test_shipped_rubric__loads_with_lesson_sections_and_bands() -> None:
    rubric = load_rubric(SHIPPED_RUBRIC)
    assert rubric.id == "sqlalchemy-async"
    assert rubric.language == "ru"
    assert rubric.max_points == 100
    assert [(band.name, band.min) for band in rubric.grades] == [("S", 90), ("A", 80), ("B", 70), ("C", 0)]
    # The lesson: S — tests green, coverage at the target, clean style; A, B, C — shortcomings, coverage,
    # failing checks, in that order.
    assert [set(band.requires) for band in rubric.grades] == [
        {"tests", "hidden_tests", "migrations", "coverage", "lint"},
        {"tests", "hidden_tests", "migrations", "coverage"}, {"tests", "hidden_tests", "migrations"}, set()]
    assert set(rubric.sections) == {"SA1", "SA2", "SA3", "SA4", "SA5", "SA6", "THEORY"}
    assert {check.kind for check in rubric.checks} == {"lint", "tests", "coverage", "migrations", "hidden_tests",
                                                      "quiz"}
    assert rubric.quiz is not None
    assert rubric.quiz.answers_file == "quiz/answers.toml"
    assert rubric.python_paths == ("backend",)
    assert any(package.startswith("pytest==") for package in rubric.packages)
    assert len(rubric.sha256) == 64


def test_shipped_rubric__installs_what_students_declare_and_treats_di_calls_as_immutable() -> None:
    rubric = load_rubric(SHIPPED_RUBRIC)

    assert rubric.dependencies.policy == "declared"
    assert "torch" in rubric.dependencies.deny
    assert dict(rubric.environment.env)["DATABASE_URL"] == "{database_url}"
    assert rubric.environment.tests_database == "sqlite"
    assert rubric.hidden_package == "app"
    settings = dict(rubric.lint.settings)
    assert "fastapi.Depends" in settings["lint.flake8-bugbear.extend-immutable-calls"]
    assert "litestar.di.Provide" in settings["lint.flake8-bugbear.extend-immutable-calls"]
    assert rubric.lint.comment_max_findings == 20


def test_rubric__defaults_install_nothing_and_set_no_environment(tmp_path: Path) -> None:
    rubric = load_rubric(_write(tmp_path, VALID))

    assert rubric.dependencies.policy == "image"
    assert rubric.environment.env == ()
    assert rubric.lint.settings == ()
    assert rubric.hidden_package == ""


def test_rubric__lint_settings_pass_through_as_toml_values(tmp_path: Path) -> None:
    text = VALID.replace('[[checks]]\nid = "lint"', '[lint.settings]\n"target-version" = "py311"\n'
                         '"lint.per-file-ignores" = { "tests/**" = ["E501"] }\n'
                         '"lint.flake8-bugbear.extend-immutable-calls" = ["fastapi.Depends"]\n\n'
                         '[[checks]]\nid = "lint"', 1)

    settings = load_rubric(_write(tmp_path, text)).lint.settings

    assert settings == (("lint.flake8-bugbear.extend-immutable-calls", ["fastapi.Depends"]),
                        ("lint.per-file-ignores", {"tests/**": ["E501"]}), ("target-version", "py311"))


def test_section_links__join_base_url_and_anchor(tmp_path: Path) -> None:
    rubric = load_rubric(_write(tmp_path, VALID))
    links = rubric.section_links(["SA1", "UNKNOWN"])
    assert [(link.title, link.url) for link in links] == [("Engine", "https://book.example.org/x#sa1")]


def test_remediation_base_url__the_setting_wins(tmp_path: Path) -> None:
    rubric = load_rubric(_write(tmp_path, VALID), "https://mirror.example")
    assert rubric.section_links(["SA1"])[0].url == "https://mirror.example#sa1"


def test_grade_for__bands_and_lowest(tmp_path: Path) -> None:
    rubric = load_rubric(_write(tmp_path, VALID))
    assert [rubric.grade_for(score) for score in (100, 90, 89.9, 80, 70, 69.9, 0)] == ["S", "S", "A", "A", "B", "C",
                                                                                      "C"]
    assert rubric.next_band("C") == Band("B", 70)
    assert rubric.next_band("S") is None


def test_grades__any_band_names_and_count(tmp_path: Path) -> None:
    pass_fail = VALID.replace("S = 90\nA = 80\nB = 70\nC = 0\n", "pass = 60\nfail = 0\n")
    rubric = load_rubric(_write(tmp_path, pass_fail))
    assert [rubric.grade_for(score) for score in (100, 60, 59.9, 0)] == ["pass", "pass", "fail", "fail"]
    assert rubric.band_names == ["pass", "fail"]
    assert rubric.next_band("fail") == Band("pass", 60)


def test_load_checked_rubric__the_shipped_one_with_its_quiz_and_hidden_tests() -> None:
    rubric = load_checked_rubric(GradingSettings())
    assert rubric.path == SHIPPED_RUBRIC
    assert rubric.quiz is not None


def test_load_checked_rubric__a_broken_quiz_key_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "key.toml").write_text("questions = 3\n")
    path = _write(tmp_path, VALID + '\n[quiz]\nkey = "key.toml"\nanswers_file = "quiz/answers.toml"\n')
    with pytest.raises(RubricError, match=r"r.toml: quiz.key is broken: .*key.toml"):
        load_checked_rubric(GradingSettings(rubric_path=path))


def test_load_checked_rubric__a_missing_hidden_tests_folder_is_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID + '\n[hidden_tests]\npath = "nowhere"\n')
    with pytest.raises(RubricError, match=r"hidden_tests.path points to .*nowhere, which is not a folder"):
        load_checked_rubric(GradingSettings(rubric_path=path))


def test_load_checked_rubric__a_missing_probe_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "hidden").mkdir()
    path = _write(tmp_path, VALID + '\n[hidden_tests]\npath = "hidden"\nprobe = "probe.py"\n')
    with pytest.raises(RubricError, match=r"hidden_tests.probe points to .*probe.py, which is not a file"):
        load_checked_rubric(GradingSettings(rubric_path=path))


def test_shipped_rubric__lints_everything_counts_no_pragmas_and_ships_its_probe() -> None:
    rubric = load_checked_rubric(GradingSettings())
    assert (rubric.lint.exclude, rubric.coverage_pragmas) == ((), "ignored")
    assert rubric.probe_path is not None
    assert rubric.probe_path.name == "probe.py"


@pytest.mark.parametrize(("edit", "message"), [
    (("points = 60", "points = -1"), r"r.toml: checks\[1\].points must be a positive number"),
    (('kind = "tests"', 'kind = "essay"'), r"checks\[1\].kind must be one of lint, tests"),
    (('sections = ["SA1"]', 'sections = ["SA9"]'), r"checks\[0\].sections names unknown sections: SA9"),
    (('id = "tests"', 'id = "lint"'), r"checks has the id 'lint' more than once"),
    (("A = 80", "A = 95"), r"grades must be distinct lower bounds from 100 down to 0, highest first"),
    (("C = 0", "C = 10"), r"grades must be distinct lower bounds from 100 down to 0, highest first, the lowest at 0"),
    (('language = "en"', 'language = "de"'), r"rubric.language must be one of ru, en"),
    (('title = "X"\n', ""), r"rubric.title must be a non-empty string"),
    (("S = 90\nA = 80\nB = 70\nC = 0", "S = 0"), r"grades must list at least two bands"),
    (('[[checks]]\nid = "lint"', '[lint]\nnoqa = "sometimes"\n\n[[checks]]\nid = "lint"'),
     r"lint.noqa must be one of ignored, honoured"),
    (('[[checks]]\nid = "lint"', '[runner]\npython_paths = ["../outside"]\n\n[[checks]]\nid = "lint"'),
     r"runner.python_paths must be folders inside the student's repository"),
    (('[[checks]]\nid = "lint"', '[coverage]\npragmas = "sometimes"\n\n[[checks]]\nid = "lint"'),
     r"coverage.pragmas must be one of ignored, honoured"),
    (('[[checks]]\nid = "lint"', '[lint]\nexclude = "dist"\n\n[[checks]]\nid = "lint"'),
     r"lint.exclude must be a list of strings"),
    (('title = "Style"', 'title = "Style"\nmax_findings = 5\nzero_at = 5'),
     r"checks\[0\] thresholds must leave a range"),
    (('[[checks]]\nid = "lint"', '[dependencies]\npolicy = "anything"\n\n[[checks]]\nid = "lint"'),
     r"dependencies.policy must be one of image, allowlist, declared"),
    (('[[checks]]\nid = "lint"', '[dependencies]\nmax_packages = 0\n\n[[checks]]\nid = "lint"'),
     r"dependencies.max_packages must be a positive number"),
    (('[[checks]]\nid = "lint"', '[runner.env]\nPYTHONPATH = "/x"\n\n[[checks]]\nid = "lint"'),
     r"runner.env.PYTHONPATH is not a variable a rubric may set"),
    (('[[checks]]\nid = "lint"', '[runner.env]\nDEBUG = 1\n\n[[checks]]\nid = "lint"'),
     r"runner.env.DEBUG must be a string"),
    (('[[checks]]\nid = "lint"', '[runner]\ntests_database = "mysql"\n\n[[checks]]\nid = "lint"'),
     r"runner.tests_database must be one of sqlite, postgres"),
    (('[[checks]]\nid = "lint"', '[lint.settings]\n"line-length" = 200\n\n[[checks]]\nid = "lint"'),
     r"lint.settings.line-length is not a ruff setting a rubric may set"),
    (('[[checks]]\nid = "lint"', '[hidden_tests]\npath = "h"\npackage = "app/x"\n\n[[checks]]\nid = "lint"'),
     r"hidden_tests.package must be a dotted module name"),
    (("S = 90\n", '[grades.S]\nmin = 90\nrequires = ["essay"]\n[grades.rest]\n'),
     r"grades.S.requires names unknown checks: essay \(checks: lint, tests\)"),
    (("S = 90\n", "[grades.S]\nmin = 90\nneeds = []\n[grades.rest]\n"),
     r"grades.S.needs is not a key of a band \(min, requires\)"),
    (("S = 90\nA = 80\nB = 70\nC = 0\n",
      '[grades.S]\nmin = 90\nrequires = ["lint"]\n[grades.A]\nmin = 80\nrequires = ["tests"]\n[grades.C]\nmin = 0\n'),
     r"grades.S.requires must include what A requires: tests"),
    (("[sections]", '[hidden_tests]\npath = "h"\n[hidden_tests.tests.test_x]\nsections = ["SA9"]\n\n[sections]'),
     r"hidden_tests.tests.test_x.sections names unknown sections: SA9"),
    (("[sections]", '[hidden_tests]\npath = "h"\n[hidden_tests.tests.test_x]\nweight = 0\n\n[sections]'),
     r"hidden_tests.tests.test_x.weight must be a positive number"),
    (("[sections]", '[hidden_tests]\npath = "h"\n[hidden_tests.tests.test_x]\npoints = 3\n\n[sections]'),
     r"hidden_tests.tests.test_x.points is not a key of a hidden test \(sections, hint, weight\)"),
    (("[sections]", '[hidden_tests]\npath = "h"\n[hidden_tests.tests.test_x]\nhint = "a\\nb"\n\n[sections]'),
     r"hidden_tests.tests.test_x.hint must be one line"),
])
def test_invalid_rubric__one_line_naming_the_key(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    old, new = edit
    assert old in VALID
    with pytest.raises(RubricError, match=message) as raised:
        load_rubric(_write(tmp_path, VALID.replace(old, new, 1)))
    assert "\n" not in str(raised.value)


def test_invalid_rubric__not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RubricError, match="is not valid TOML"):
        load_rubric(_write(tmp_path, "[rubric"))
    with pytest.raises(RubricError, match="cannot be read"):
        load_rubric(tmp_path / "missing.toml")


def test_invalid_rubric__no_checks(tmp_path: Path) -> None:
    with pytest.raises(RubricError, match=r"checks must be a non-empty array of tables"):
        load_rubric(_write(tmp_path, VALID.split("[[checks]]")[0]))


REQUIRED = VALID.replace("S = 90\nA = 80\nB = 70\nC = 0\n", """\
[grades.S]
min = 90
requires = ["tests", "lint"]

[grades.A]
min = 80
requires = ["tests"]

[grades.B]
min = 70

[grades.C]
min = 0
""")


@pytest.mark.parametrize(("score", "passed", "grade"), [
    (95, {"tests", "lint"}, "S"),
    (95, {"tests"}, "A"),  # style not clean: S is out of reach, A is not
    (95, {"lint"}, "B"),  # a failing test: neither S nor A
    (95, set(), "B"),
    (85, {"tests", "lint"}, "A"),
    (72, set(), "B"),
    (50, {"tests", "lint"}, "C"),
])
def test_grade_for__bands_with_requirements(tmp_path: Path, score: float, passed: set[str], grade: str) -> None:
    rubric = load_rubric(_write(tmp_path, REQUIRED))
    assert rubric.grade_for(score, passed) == grade
    assert rubric.grade_for(score) == rubric.grade_for(score, {"tests", "lint"})  # no checks given: the score alone


def test_grades__a_number_and_a_table_mix(tmp_path: Path) -> None:
    rubric = load_rubric(_write(tmp_path, VALID.replace("S = 90\nA = 80\nB = 70\nC = 0\n",
                                                        'pass = 60\n[grades.fail]\nmin = 0\n')))
    assert rubric.grades == (Band("pass", 60), Band("fail", 0))


def test_public__drops_requirements_on_private_checks() -> None:
    rubric = load_rubric(SHIPPED_RUBRIC).public()
    assert rubric.grades[0].requires == ("tests", "migrations", "coverage", "lint")
    assert rubric.hidden_tests == {}


def test_shipped_rubric__every_hidden_test_has_sections_and_a_russian_hint() -> None:
    rubric = load_checked_rubric(GradingSettings())
    assert len(rubric.hidden_tests) == 9
    for spec in rubric.hidden_tests.values():
        assert spec.sections
        assert set(spec.sections) <= set(rubric.sections)
        assert any("а" <= letter <= "я" for letter in spec.hint.lower()), spec.name


def _hidden(tmp_path: Path, declared: str) -> Path:
    (tmp_path / "hidden").mkdir()
    (tmp_path / "hidden" / "test_h.py").write_text("def test_one():\n    pass\n\n\nclass TestB:\n"
                                                    "    def test_two(self):\n        pass\n")
    return _write(tmp_path, VALID + '\n[hidden_tests]\npath = "hidden"\n' + declared)


@pytest.mark.parametrize(("declared", "message"), [
    ('[hidden_tests.tests.test_tree]\nhint = "x"\n', r"hidden_tests.tests.test_tree names no test in .*hidden"),
    ('[hidden_tests.tests.test_one]\nhint = "x"\n',
     r"hidden_tests.tests has no entry for test_two \(give every hidden test its sections and hint\)"),
])
def test_load_checked_rubric__hidden_test_names_match_the_tests(tmp_path: Path, declared: str, message: str) -> None:
    with pytest.raises(RubricError, match=message):
        load_checked_rubric(GradingSettings(rubric_path=_hidden(tmp_path, declared)))


def test_load_checked_rubric__hidden_tests_declared_by_name(tmp_path: Path) -> None:
    path = _hidden(tmp_path, '[hidden_tests.tests.test_one]\nsections = ["SA1"]\nhint = "do it"\nweight = 3\n'
                             '[hidden_tests.tests.test_two]\n')
    rubric = load_checked_rubric(GradingSettings(rubric_path=path))
    assert (rubric.hidden_tests["test_one"].weight, rubric.hidden_tests["test_two"].hint) == (3.0, "")
