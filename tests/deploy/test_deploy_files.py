"""The production recipe's files say what deploy/README.md promises."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import skip_or_fail
from tests.support.servers import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def test_github_app__asks_for_exactly_what_the_grader_uses() -> None:
    manifest = json.loads((DEPLOY / "github-app.json").read_text(encoding="utf-8"))
    assert manifest["default_permissions"] == {"checks": "write", "pull_requests": "write", "contents": "read",
                                               "metadata": "read"}
    assert manifest["default_events"] == ["pull_request"]
    assert manifest["hook_attributes"]["url"].endswith("/webhooks/github")
    assert manifest["public"] is False


def test_compose__only_the_workers_hold_the_engine_socket() -> None:
    services = _compose()["services"]
    with_socket = {name for name, service in services.items()
                   if any("docker.sock" in volume for volume in service.get("volumes", []))}
    assert with_socket == {"worker"}
    assert services["api"]["environment"]["GRADER_WORKERS"] == "0"
    assert services["worker"]["command"][:2] == ["grader", "worker"]


def test_compose__the_service_and_the_workers_share_one_database_and_secrets() -> None:
    services = _compose()["services"]
    assert services["api"]["environment"]["DATABASE_URL"] == services["worker"]["environment"]["DATABASE_URL"]
    assert services["api"]["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://grader:")
    assert "GITHUB_WEBHOOK_SECRET" in services["worker"]["environment"]
    assert services["caddy"]["ports"] == ["80:80", "443:443"]
    assert "ports" not in services["api"]  # reached through the TLS front only


def test_caddyfile__is_valid_for_caddy(tmp_path: Path) -> None:
    caddy = shutil.which("caddy")
    if caddy is None:
        skip_or_fail("needs caddy to validate deploy/Caddyfile: apt-get install caddy")
    env = {**os.environ, "GRADER_DOMAIN": "grader.example.edu", "HOME": str(tmp_path),
           "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    result = subprocess.run([caddy, "validate", "--adapter", "caddyfile", "--config", str(DEPLOY / "Caddyfile")],
                            capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
