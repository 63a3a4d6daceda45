"""Dependencies benchmark: `grader check` of a FastAPI submission that declares 20 packages, three ways,
side by side in one run:

- cold: an empty dependency cache (uv's download cache included), so the wheels come from the index;
- warm: the same cache after a first run (the submission's next push, or another student's same set);
- in-image: the same 20 packages baked into a runner image, with the rubric installing nothing.

The submission is the `clean` fixture plus a requirements.txt of the 20 and tests that use each of them.
Runs are interleaved (cold, warm, in-image, then rotated), median of `--runs` each; the goal is warm
within 1.2x of in-image.

    .venv/bin/python bench/deps_bench.py [--runs 5] [--image grader-runner:latest] [--base grader-base:bookworm]

Needs Docker, the runner image, and the package index (GRADER_PACKAGE_INDEX_URL, default PyPI).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.runner.submissions import TEST_RUBRIC, make_submission  # noqa: E402

GRADER = Path(sys.executable).parent / "grader"
RUNNER_PACKAGES = ("ruff==0.17.6", "pytest==9.2.0", "pytest-asyncio==1.5.0", "coverage==7.17.4", "httpx==0.28.1",
                   "sqlalchemy[asyncio]==2.1.9", "asyncpg==0.32.0", "aiosqlite==0.22.1", "alembic==1.20.1",
                   "fastapi==0.165.0", "litestar==2.25.0")
# What a FastAPI course project declares beyond the framework (none of it is in the runner image).
DECLARED = ("pydantic-settings", "python-dotenv", "uvicorn", "python-jose", "passlib", "bcrypt", "pyjwt",
            "python-slugify", "email-validator", "redis", "fakeredis", "slowapi", "jinja2", "aiofiles", "orjson",
            "structlog", "loguru", "tenacity", "cachetools", "itsdangerous")
STACK_TESTS = '''"""The project's stack: every declared package is imported and used."""

import importlib

import bcrypt
import jinja2
import jwt
import orjson
import pytest
from fakeredis import FakeRedis

MODULES = ["pydantic_settings", "dotenv", "uvicorn", "jose", "passlib", "bcrypt", "jwt", "slugify",
           "email_validator", "redis", "fakeredis", "slowapi", "jinja2", "aiofiles", "orjson", "structlog",
           "loguru", "tenacity", "cachetools", "itsdangerous"]


@pytest.mark.parametrize("name", MODULES)
def test_declared_module_imports(name: str) -> None:
    importlib.import_module(name)


def test_the_stack_works_together() -> None:
    token = jwt.encode({"sub": "student"}, "key", algorithm="HS256")
    assert jwt.decode(token, "key", algorithms=["HS256"])["sub"] == "student"
    assert bcrypt.checkpw(b"pw", bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)))
    assert jinja2.Template("{{ x }}").render(x=1) == "1"
    assert orjson.loads(orjson.dumps({"a": 1})) == {"a": 1}
    cache = FakeRedis()
    cache.set("k", "v")
    assert cache.get("k") == b"v"
'''


def rubric_text(policy: str, packages: tuple[str, ...]) -> str:
    """The runner tests' rubric with absolute paths, a dependency policy and the image's package list."""
    text = TEST_RUBRIC.read_text()
    text = text.replace('path = "hidden_tests"', f'path = "{TEST_RUBRIC.parent / "hidden_tests"}"')
    for key in ("key", "probe"):  # the quiz key and the probe, both of the shipped rubric
        text = text.replace(f'{key} = "../../../rubric/', f'{key} = "{ROOT / "rubric"}/')
    listed = ", ".join(json.dumps(package) for package in packages)
    text = text.replace('[runner]\n', f"[runner]\npackages = [{listed}]\n")
    return text + f'\n[dependencies]\npolicy = "{policy}"\nmax_packages = 80\n'


def submission(folder: Path) -> Path:
    checkout = make_submission("clean", folder)
    (checkout / "requirements.txt").write_text("\n".join(DECLARED) + "\n")
    (checkout / "backend" / "tests" / "test_stack.py").write_text(STACK_TESTS)
    return checkout


def build_image(rubric: Path, tag: str, base: str | None) -> None:
    argv = [str(GRADER), "image", "build", "--rubric", str(rubric), "--tag", tag] + (["--base", base] if base else [])
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def grade(checkout: Path, rubric: Path, image: str, cache: Path) -> tuple[float, dict[str, object]]:
    env = {**os.environ, "GRADER_IMAGE": image, "GRADER_DEPS_CACHE_DIR": str(cache)}
    started = time.monotonic()
    done = subprocess.run([str(GRADER), "check", str(checkout), "--rubric", str(rubric), "--format", "json"],
                          env=env, capture_output=True, text=True, check=True)
    return time.monotonic() - started, json.loads(done.stdout)


def summary(result: dict[str, object]) -> str:
    checks = result["checks"]
    assert isinstance(checks, list)
    return " ".join(f"{check['id']}={check['points']:g}" for check in checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--image", default=os.environ.get("GRADER_IMAGE", "grader-runner:latest"))
    parser.add_argument("--base", default=None, help="base image for the in-image build (e.g. grader-base:bookworm)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="deps-bench-"))
    declared_rubric, image_rubric = work / "declared.toml", work / "image.toml"
    declared_rubric.write_text(rubric_text("declared", RUNNER_PACKAGES))
    image_rubric.write_text(rubric_text("image", RUNNER_PACKAGES + DECLARED))
    baked = f"{args.image}-deps-bench" if ":" in args.image else f"{args.image}:deps-bench"
    print(f"building {baked} with the 20 packages baked in…", flush=True)
    build_image(image_rubric, baked, args.base)
    checkout = submission(work / "submission")
    warm_cache = work / "warm-cache"
    grade(checkout, declared_rubric, args.image, warm_cache)  # fills the warm cache
    times: dict[str, list[float]] = {"cold": [], "warm": [], "in-image": []}
    results: dict[str, str] = {}
    for run in range(args.runs):
        order = ["cold", "warm", "in-image"][run % 3:] + ["cold", "warm", "in-image"][:run % 3]
        for kind in order:
            cache = work / f"cold-{run}" if kind == "cold" else warm_cache
            rubric, image = (image_rubric, baked) if kind == "in-image" else (declared_rubric, args.image)
            seconds, result = grade(checkout, rubric, image, cache)
            times[kind].append(seconds)
            results[kind] = summary(result)
            print(f"run {run + 1} {kind:8} {seconds:6.2f} s  {results[kind]}", flush=True)
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    for kind, median in medians.items():
        print(f"{kind:8} median {median:6.2f} s  (min {min(times[kind]):.2f}, max {max(times[kind]):.2f})")
    ratio = medians["warm"] / medians["in-image"]
    print(f"warm / in-image = {ratio:.2f} (goal <= 1.2); cold / in-image = {medians['cold'] / medians['in-image']:.2f}")
    same = len(set(results.values())) == 1
    print("the three gradings agree" if same else f"the gradings differ: {results}")
    return 0 if ratio <= 1.2 and same else 1


if __name__ == "__main__":
    raise SystemExit(main())
