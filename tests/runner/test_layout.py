"""Where a submission's modules import from (pytest's rule), the student's pytest settings, and the
plugin that lets the hidden tests import the lesson's package under the student's own name for it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader.runner.harness import layout


def tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


LESSON_APP = {
    "backend/app/__init__.py": "",
    "backend/app/models.py": "class Base:\n    pass\n",
}


def test_module_location__a_package_rooted_at_the_repository(tmp_path: Path) -> None:
    tree(tmp_path, {**LESSON_APP, "backend/__init__.py": "", "backend/app/database.py": ""})

    found = layout.module_location(str(tmp_path / "backend/app/database.py"))

    assert found == layout.Location(root=str(tmp_path), module="backend.app.database")


def test_module_location__a_package_rooted_at_the_rubric_folder(tmp_path: Path) -> None:
    tree(tmp_path, {**LESSON_APP, "backend/app/database.py": ""})

    assert layout.module_location(str(tmp_path / "backend/app/database.py")) == layout.Location(
        root=str(tmp_path / "backend"), module="app.database")
    assert layout.module_location(str(tmp_path / "backend/app")) == layout.Location(
        root=str(tmp_path / "backend"), module="app")


def test_module_location__a_namespace_package_is_named_from_its_parent(tmp_path: Path) -> None:
    tree(tmp_path, {"app/models/__init__.py": "", "database.py": ""})

    assert layout.module_location(str(tmp_path / "app")) == layout.Location(root=str(tmp_path), module="app")
    assert layout.package_location(str(tmp_path), [], "app") == layout.Location(root=str(tmp_path), module="app")


def test_package_location__the_rubric_folders_first_then_the_root(tmp_path: Path) -> None:
    tree(tmp_path, {"app/__init__.py": "", "app/database.py": ""})
    root = str(tmp_path)
    assert layout.package_location(root, [f"{root}/backend"], "app") == layout.Location(root=root, module="app")
    tree(tmp_path, LESSON_APP)
    assert layout.package_location(root, [f"{root}/backend"], "app") == layout.Location(root=f"{root}/backend",
                                                                                        module="app")
    assert layout.package_location(root, [], "missing") is None


def test_source_roots__a_package_folder_brings_its_import_root(tmp_path: Path) -> None:
    tree(tmp_path, {**LESSON_APP, "backend/__init__.py": ""})
    root = str(tmp_path)

    assert layout.source_roots(root, [f"{root}/backend"]) == [f"{root}/backend", root]
    (tmp_path / "backend/__init__.py").unlink()
    assert layout.source_roots(root, [f"{root}/backend"]) == [f"{root}/backend"]


@pytest.mark.parametrize(("files", "addopts"), [
    ({"pytest.ini": "[pytest]\naddopts = -v --cov=app --cov-report term-missing --strict-markers\n"},
     ["-v", "--strict-markers"]),
    ({"pyproject.toml": '[tool.pytest.ini_options]\naddopts = ["--tb=long", "--cov", "src", "--cov-fail-under=75"]\n'},
     ["--tb=long"]),
    ({"pyproject.toml": '[tool.pytest]\naddopts = ["--cov=.", "-p", "no:randomly"]\n'}, ["-p", "no:randomly"]),
    ({"setup.cfg": "[tool:pytest]\naddopts = --no-cov -q\n"}, ["-q"]),
    ({"tox.ini": "[pytest]\naddopts = --cov=app --cov-branch\n"}, []),
])
def test_student_addopts__coverage_options_are_taken_out(tmp_path: Path, files: dict[str, str],
                                                         addopts: list[str]) -> None:
    tree(tmp_path, files)
    tokens = layout.student_addopts(str(tmp_path))
    assert tokens is not None
    assert layout.without_coverage_options(tokens) == addopts


def test_student_addopts__pytest_ini_wins_even_when_empty(tmp_path: Path) -> None:
    tree(tmp_path, {"pytest.ini": "", "pyproject.toml": '[tool.pytest.ini_options]\naddopts = "--cov"\n'})
    assert layout.student_addopts(str(tmp_path)) is None


def test_ini_pythonpath__the_students_folders_inside_the_repository(tmp_path: Path) -> None:
    tree(tmp_path, {"src/config.py": "", "pyproject.toml": '[tool.pytest.ini_options]\npythonpath = [".", "src", '
                                                           '"../outside", "missing"]\n'})
    root = str(tmp_path)
    assert layout.ini_pythonpath(root) == [root, f"{root}/src"]


def test_roots_for_imports__folders_that_hold_the_submissions_own_modules(tmp_path: Path) -> None:
    tree(tmp_path, {
        "src/__init__.py": "", "src/config.py": "DB_URI = ''\n", "src/db/__init__.py": "", "src/db/models.py": "",
        "src/db/migrations/env.py": "import os\nimport sqlalchemy\nfrom config import DB_URI\nfrom db.models import x\n"
                                    "from . import sibling\nfrom app.main import app\n",
        "app/main.py": "",
    })
    root = str(tmp_path)

    roots = layout.roots_for_imports(root, [f"{root}/src/db/migrations/env.py"], [root], installed={"sqlalchemy"})

    assert roots == [f"{root}/src"]


def test_top_level_imports__never_imports_and_survives_bad_syntax(tmp_path: Path) -> None:
    tree(tmp_path, {"bad.py": "import (\n", "ok.py": "raise SystemExit(1)\nimport a.b\nfrom c import d\n",
                    "deep.py": "x = " + "-" * 200_000 + "1\n", "toml/pyproject.toml": "a = " + "[" * 50_000 + "\n"})
    assert layout.top_level_imports(str(tmp_path / "bad.py")) == []
    assert layout.top_level_imports(str(tmp_path / "deep.py")) == []
    assert layout.student_addopts(str(tmp_path / "toml")) is None
    assert layout.top_level_imports(str(tmp_path / "ok.py")) == ["a", "c"]


DRIVER = Path(layout.__file__).with_name("driver.py")
LAYOUT = Path(layout.__file__)


def _run_driver_paths(paths: list[str], aliases: dict[str, str], code: str) -> str:
    """The driver's view of the student's modules: its folders appended, the lesson's package aliased."""
    script = textwrap.dedent(f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("_driver", {str(DRIVER)!r})
        driver = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(driver)
        sys.path.extend({paths!r})
        if {aliases!r}:
            sys.meta_path.insert(0, driver.PackageAlias({aliases!r}))
    """) + code
    done = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_package_alias__the_lessons_name_is_the_students_module(tmp_path: Path) -> None:
    tree(tmp_path, {"backend/__init__.py": "", "backend/app/__init__.py": "",
                    "backend/app/models.py": "class Base:\n    pass\n",
                    "backend/app/database.py": "from backend.app.models import Base\n"})
    location = layout.package_location(str(tmp_path), [str(tmp_path / "backend")], "app")
    assert location is not None

    out = _run_driver_paths([location.root], layout.aliases("app", location.module), textwrap.dedent("""
        import app.database, app.models, backend.app.models
        print(app.database.Base is app.models.Base is backend.app.models.Base, app.models.__name__)
    """))

    assert out == "True backend.app.models"


def test_package_alias__without_aliases_only_appends_paths(tmp_path: Path) -> None:
    tree(tmp_path, {"backend/app/__init__.py": "", "backend/json.py": "SHADOW = True\n"})
    out = _run_driver_paths([str(tmp_path / "backend")], {}, textwrap.dedent("""
        import sys, json, app
        print(hasattr(json, 'SHADOW'), sys.path[-1].endswith('backend'))
    """))
    assert out == "False True"


def _scan(*args: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-I", "-B", str(LAYOUT), *args], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_layout_script__tests_paths_and_addopts_without_coverage(tmp_path: Path) -> None:
    tree(tmp_path, {"src/config.py": "", "tests/conftest.py": "from config import x\n",
                    "pytest.ini": "[pytest]\naddopts = -v --cov=src\n"})
    root = str(tmp_path)

    assert _scan("tests", root, json.dumps([root])) == {"paths": [root, f"{root}/src"], "addopts": ["-v"]}


def test_layout_script__migrations_paths_from_env_py(tmp_path: Path) -> None:
    tree(tmp_path, {"server/alembic.ini": "[alembic]\nscript_location = %(here)s/migrations\n",
                    "server/migrations/env.py": "from settings import url\n", "server/migrations/versions/x.py": "",
                    "server/src/settings.py": ""})
    root, ini = str(tmp_path), str(tmp_path / "server/alembic.ini")

    assert _scan("migrations", root, json.dumps([f"{root}/server"]), ini) == {
        "paths": [f"{root}/server", f"{root}/server/src"]}
