"""The image build context: only the Dockerfile's inputs, the host CA bundle when configured."""

from __future__ import annotations

from pathlib import Path

from grader.runner.image import CA_NAME, build_args, harness_sha256, prepare_context
from grader.settings import load_settings


def test_prepare_context__dockerfile_inputs_without_caches(tmp_path: Path) -> None:
    context = prepare_context(tmp_path / "ctx")
    assert (context / "Dockerfile").is_file()
    assert (context / "grader" / "runner" / "harness" / "main.py").is_file()
    assert (context / "rubric" / "sqlalchemy-async.toml").is_file()
    assert not list(context.rglob("__pycache__"))
    assert not (context / CA_NAME).exists()
    assert not (context / "tests").exists()


def test_prepare_context__host_ca_bundle_goes_into_the_context_only(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    settings = load_settings({"PIP_CERT": str(bundle)})
    context = prepare_context(tmp_path / "ctx", ca_bundle=settings.runner.build_ca_bundle)
    assert (context / CA_NAME).read_text() == "-----BEGIN CERTIFICATE-----\n"


def test_build_args__packages_base_and_harness_hash() -> None:
    args = build_args(("ruff==1", "pytest==2"), "grader-base:bookworm", ("nodejs", "npm"), ("vitest@3",))
    assert args == {"RUNNER_PACKAGES": "ruff==1 pytest==2", "BASE_IMAGE": "grader-base:bookworm",
                    "HARNESS_SHA256": harness_sha256(), "SYSTEM_PACKAGES": "nodejs npm", "NODE_PACKAGES": "vitest@3"}
    assert "BASE_IMAGE" not in build_args((), None)
    assert len(harness_sha256()) == 64
