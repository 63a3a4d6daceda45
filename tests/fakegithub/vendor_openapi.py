"""Re-create `tests/data/openapi/github-operations.json` from the npm package `@octokit/openapi`.

Only the operations the grader calls are kept, and of each only what a request must satisfy
(parameters and request body); responses are left out to keep the file small.
Run: `python tests/fakegithub/vendor_openapi.py /path/to/node_modules/@octokit/openapi`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OPERATIONS = [
    ("post", "/app/installations/{installation_id}/access_tokens"),
    ("get", "/user"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("get", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("patch", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("post", "/repos/{owner}/{repo}/check-runs"),
    ("get", "/repos/{owner}/{repo}/check-runs/{check_run_id}"),
    ("get", "/repos/{owner}/{repo}/commits/{ref}/check-runs"),
    ("patch", "/repos/{owner}/{repo}/check-runs/{check_run_id}"),
    ("post", "/repos/{owner}/{repo}/statuses/{sha}"),
    ("get", "/repos/{owner}/{repo}/tarball/{ref}"),
]
TARGET = Path(__file__).resolve().parents[1] / "data" / "openapi" / "github-operations.json"


def _strip(value: object, *, names: bool = False) -> object:
    """Drops prose (descriptions, examples) that a validator does not need; `names` marks a
    `properties` mapping, whose keys are field names (a field may be called "description")."""
    if isinstance(value, dict):
        return {key: _strip(item, names=key == "properties" and not names) for key, item in value.items()
                if names or key not in {"description", "examples", "example"}}
    if isinstance(value, list):
        return [_strip(item) for item in value]
    return value


def vendor(package_dir: Path) -> dict[str, object]:
    spec = json.loads((package_dir / "generated" / "api.github.com.deref.json").read_text())
    paths: dict[str, dict[str, object]] = {}
    for method, path in OPERATIONS:
        operation = spec["paths"][path][method]
        kept = {key: operation[key] for key in ("operationId", "parameters", "requestBody")
                if key in operation}
        kept["responses"] = sorted(operation["responses"])
        paths.setdefault(path, {})[method] = _strip(kept)
    return {"source": f"@octokit/openapi {json.loads((package_dir / 'package.json').read_text())['version']}",
            "openapi": spec["openapi"], "paths": paths}


if __name__ == "__main__":
    TARGET.write_text(json.dumps(vendor(Path(sys.argv[1])), indent=1, sort_keys=True) + "\n")
