"""The dependency policy: what is left out of a declaration and why, what the rubric allows, cache keys."""

from __future__ import annotations

import pytest
from packaging.requirements import Requirement

from grader.grading.report import InfrastructureError
from grader.grading.rubric import DependencyRules
from grader.runner.dependencies.install import DependencyFailure, explain_uv_error, without_requirement
from grader.runner.dependencies.manifests import Declared
from grader.runner.dependencies.policy import (
    ImageInfo,
    cache_key,
    normalize_name,
    parse_line,
    parse_resolution,
    plan_for,
    platform_tag,
    shadowing,
    split_resolved,
)

IMAGE = ImageInfo(digest="sha256:image", python_version="3.11.2", platform="x86_64-manylinux_2_36",
                  distributions={"fastapi": "0.165.0", "sqlalchemy": "2.1.9", "pytest": "9.2.0"},
                  top_level=frozenset({"pytest", "_pytest", "sqlalchemy", "json"}),
                  namespaces=frozenset({"opentelemetry"}))
DECLARED = DependencyRules(policy="declared", deny=("torch", "nvidia-*"), ignore=("black", "types-*"))


@pytest.mark.parametrize(("name", "normal"), [("Pydantic_Settings", "pydantic-settings"), ("a.b__c", "a-b-c")])
def test_normalize_name(name: str, normal: str) -> None:
    assert normalize_name(name) == normal


@pytest.mark.parametrize(("line", "why"), [
    ("-e .", "editable"),
    ("--editable ./lib", "editable"),
    ("--index-url https://mirror.example.org/simple", "option"),
    ("-i https://mirror.example.org/simple", "option"),
    ("--extra-index-url=https://x.example.org/simple", "option"),
    ("git+https://github.com/org/lib.git@main#egg=lib", "url"),
    ("https://example.org/lib-1.0-py3-none-any.whl", "url"),
    ("lib @ https://example.org/lib-1.0-py3-none-any.whl", "url"),
    ("./vendored/lib", "path"),
    ("file:///opt/lib", "path"),
    ("not a requirement!", "invalid"),
])
def test_parse_line__left_out_with_the_reason(line: str, why: str) -> None:
    assert parse_line(line) == why


def test_parse_line__hashes_and_markers_kept_as_a_requirement() -> None:
    parsed = parse_line('uvicorn[standard]==0.34.3 --hash=sha256:abc ; python_version >= "3.8"')
    assert isinstance(parsed, Requirement)
    assert (parsed.name, str(parsed.specifier), parsed.extras) == ("uvicorn", "==0.34.3", {"standard"})


def test_plan__image_policy_installs_nothing() -> None:
    declared = Declared(source="requirements.txt", requirements=("pydantic-settings",))
    assert plan_for(declared, DependencyRules(policy="image", extras=("x",)), IMAGE).requirements == ()


def test_plan__declared_requirements_normalised_and_filtered() -> None:
    declared = Declared(source="requirements.txt", project_names=("Lesson_App",), pins=(
        "pydantic-settings==2.1.0", "fastapi==0.100.0"), requirements=(
        "Pydantic_Settings>=2", "FastAPI[standard]==0.100.0", "lesson-app", "black==24.1", "types-redis",
        "torch==2.0", "-e .", "pydantic-settings>=2"))

    plan = plan_for(declared, DECLARED, IMAGE)

    # the image's fastapi is the one that runs: its version is dropped, its extras are kept
    assert plan.requirements == ("fastapi[standard]", "pydantic-settings>=2")
    assert plan.constraints == ("pydantic-settings==2.1.0",)
    assert plan.denied == ("torch",)
    assert plan.from_image == ("fastapi",)
    assert plan.replaced == (("fastapi", "0.165.0", "==0.100.0"),)  # said to the student
    assert plan.skipped == (("editable", "-e ."),)


def test_plan__allowlist_installs_the_rubric_extras_only() -> None:
    rules = DependencyRules(policy="allowlist", extras=("pydantic-settings", "python-dotenv"))
    declared = Declared(requirements=("celery",))

    assert plan_for(declared, rules, IMAGE).requirements == ("pydantic-settings", "python-dotenv")


def test_plan__declared_adds_the_rubric_extras() -> None:
    rules = DependencyRules(policy="declared", extras=("pytest-env",))
    assert plan_for(Declared(requirements=("redis",)), rules, IMAGE).requirements == ("pytest-env", "redis")


def test_split_resolved__image_packages_dropped_and_denied_dependencies_named() -> None:
    resolved = split_resolved([("SQLAlchemy", "2.1.9"), ("redis", "5.0"), ("nvidia-cublas", "12")], DECLARED, IMAGE)

    assert resolved.install == (("redis", "5.0"),)
    assert resolved.denied == ("nvidia-cublas",)


def test_parse_resolution__pins_only() -> None:
    text = "# via x\nredis==5.0.1\n    # via y\nuvicorn[standard]==0.34.3 ; python_version >= '3.8'\n\n"
    assert parse_resolution(text) == [("redis", "5.0.1"), ("uvicorn", "0.34.3")]


def test_shadowing__the_image_modules_and_startup_hooks_but_not_a_namespace_portion() -> None:
    installed = {"pytest": False, "_pytest": False, "sitecustomize": False, "usercustomize": False, "redis": False,
                 "opentelemetry": True, "json": False}

    assert shadowing(installed, IMAGE) == ["_pytest", "json", "pytest", "sitecustomize", "usercustomize"]
    # a regular package where the image has a namespace would win over it: removed too
    assert shadowing({"opentelemetry": False}, IMAGE) == ["opentelemetry"]


def test_cache_key__same_inputs_same_folder_any_change_another() -> None:
    plan = plan_for(Declared(requirements=("redis",)), DECLARED, IMAGE)
    key = cache_key(plan, IMAGE, DECLARED, "https://pypi.org/simple")

    assert key == cache_key(plan, IMAGE, DECLARED, "https://pypi.org/simple")
    other_image = ImageInfo(digest="sha256:other", python_version="3.11.2", platform=IMAGE.platform)
    assert key != cache_key(plan, other_image, DECLARED, "https://pypi.org/simple")
    assert key != cache_key(plan, IMAGE, DependencyRules(policy="declared", max_packages=5), "https://pypi.org/simple")
    assert key != cache_key(plan, IMAGE, DECLARED, "https://mirror.example.org/simple")


@pytest.mark.parametrize(("machine", "libc", "tag"), [
    ("x86_64", "glibc 2.36", "x86_64-manylinux_2_36"), ("aarch64", "glibc 2.41", "aarch64-manylinux_2_40"),
    ("amd64", "glibc 2.12", "x86_64-manylinux_2_17"), ("x86_64", "", "x86_64-unknown-linux-musl"),
])
def test_platform_tag(machine: str, libc: str, tag: str) -> None:
    assert platform_tag(machine, libc) == tag


@pytest.mark.parametrize(("stderr", "kind", "detail"), [
    ("error: No solution found when resolving dependencies\n  cause: Because left-pad-xyz was not found in the "
     "package registry and you require left-pad-xyz, we can conclude that your requirements are unsatisfiable.",
     "not_found", "left-pad-xyz"),
    ("error: No solution found when resolving dependencies\n  cause: Because numpy==1.21.0 has no usable wheels and "
     "you require numpy==1.21.0, we can conclude that your requirements are unsatisfiable.\n\nhint: Wheels are "
     "required for `numpy` because building from source is disabled", "no_wheel", "numpy"),
    ("error: No solution found when resolving dependencies\n  cause: Because pydantic-settings==2.0.3 depends on "
     "pydantic>=2.0.1 and you require pydantic==1.10.2, we can conclude that your requirements are unsatisfiable.",
     "conflict", "pydantic-settings==2.0.3 depends on pydantic>=2.0.1 and you require pydantic==1.10.2"),
])
def test_explain_uv_error__student_facing_reasons(stderr: str, kind: str, detail: str) -> None:
    failure = explain_uv_error(stderr)
    assert isinstance(failure, DependencyFailure)
    assert (failure.kind, failure.detail) == (kind, detail)


def test_explain_uv_error__an_unreachable_index_is_the_infrastructures() -> None:
    stderr = ("error: Request failed after 3 retries\n  cause: Failed to fetch: https://pypi.org/simple/x/\n"
              "  cause: tcp connect error\n  cause: Connection refused (os error 111)")
    assert isinstance(explain_uv_error(stderr), InfrastructureError)


def test_without_requirement__drops_the_declared_one_the_failure_names() -> None:
    requirements = ["async-asgi-testclient~=1.4", "pydantic-settings"]

    assert without_requirement(requirements, DependencyFailure("no_wheel", "async_asgi_testclient==1.4.11")) == [
        "pydantic-settings"]
    assert without_requirement(requirements, DependencyFailure("no_wheel", "transitive-thing")) is None
    assert without_requirement(requirements, DependencyFailure("conflict", "pydantic-settings")) is None
