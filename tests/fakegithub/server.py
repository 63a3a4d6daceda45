"""A fake GitHub REST API over real HTTP, for PyGithub pointed at it through `GITHUB_API_URL`.

It keeps comments, check runs (with their annotations), commit statuses and tarballs in memory, and
rejects with 422 any request that the vendored OpenAPI operations do not allow, recording why in
`rejections` so a test can assert there were none. Faults are injected per operation id.
"""

from __future__ import annotations

import io
import itertools
import json
import tarfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt

from tests.fakegithub.openapi import Operation, RequestRejected, check_request, load_operations, match

BOT = {"login": "grader-app[bot]", "id": 900001, "type": "Bot"}
CODELOAD_PREFIX = "/_codeload/"


@dataclass
class Fault:
    """The next request to `operation_id` answers `status`; `after_store` applies the write first."""

    operation_id: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "injected fault"
    after_store: bool = False


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class FakeGitHub:
    """The state and behaviour of the fake; `serve()` puts it on a free loopback port."""

    def __init__(self, token: str = "test-token", app_id: str = "", public_key: str = "",  # noqa: S107
                 token_user: dict[str, Any] | None = None) -> None:
        self.token = token
        # Who the plain token belongs to (GET /user, comment author); installation tokens act as BOT.
        self.token_user = token_user or BOT
        self.app_id = app_id
        self.public_key = public_key
        self.operations: list[Operation] = load_operations()
        self.comments: dict[int, dict[str, Any]] = {}
        self.check_runs: dict[int, dict[str, Any]] = {}
        self.statuses: list[dict[str, Any]] = []
        self.tarballs: dict[tuple[str, str], bytes] = {}
        self.pulls: dict[tuple[str, int], str] = {}
        self.installation_tokens: dict[str, int] = {}
        self.requests: list[tuple[str, str]] = []
        self.rejections: list[str] = []
        self.faults: list[Fault] = []
        self.base_url = ""
        self._ids = itertools.count(1001)
        self._caller: dict[str, Any] = BOT
        self._lock = threading.Lock()

    # -- set-up and inspection helpers for tests --------------------------------------------------
    def add_comment(self, repo: str, issue: int, body: str, user: dict[str, Any] | None = None) -> int:
        return self._store_comment(repo, issue, body, user or {"login": "student", "id": 7, "type": "User"})

    def add_tarball(self, repo: str, sha: str, source: Path) -> None:
        """Serves the files under `source` as GitHub's tarball of `repo` at `sha` (with its top folder)."""
        top = f"{repo.replace('/', '-')}-{sha[:7]}"
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            tar.add(source, arcname=top, filter=lambda info: None if info.issym() or info.islnk() else info)
        self.tarballs[(repo, sha)] = buffer.getvalue()

    def comments_on(self, repo: str, issue: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.values() if c["_repo"] == repo and c["_issue"] == issue]

    def inject(self, operation_id: str, status: int, **kwargs: Any) -> None:
        self.faults.append(Fault(operation_id, status, **kwargs))

    def count(self, operation_id: str) -> int:
        return sum(1 for op, _ in self.requests if op == operation_id)

    # -- request handling -------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], raw_body: bytes) -> Reply:
        url = urlsplit(target)
        if url.path.startswith(CODELOAD_PREFIX):
            return self._codeload(url.path[len(CODELOAD_PREFIX):])
        try:
            operation, args = match(self.operations, method, url.path)
            body = json.loads(raw_body) if raw_body else None
            check_request(operation, args, dict(parse_qsl(url.query)), body)
        except (RequestRejected, json.JSONDecodeError) as exc:
            self.rejections.append(f"{method} {url.path}: {exc}")
            return Reply(422, {"message": f"Invalid request: {exc}"})
        with self._lock:
            self.requests.append((operation.operation_id, url.path))
            return self._dispatch(operation, args, headers, body, dict(parse_qsl(url.query)))

    def _dispatch(self, operation: Operation, args: dict[str, str], headers: dict[str, str], body: Any,
                  query: dict[str, str]) -> Reply:
        denied = self._authenticate(operation, headers)
        if denied:
            return denied
        fault = next((f for f in self.faults if f.operation_id == operation.operation_id), None)
        if fault and not fault.after_store:
            self.faults.remove(fault)
            return Reply(fault.status, {"message": fault.message}, fault.headers)
        handler = getattr(self, "_op_" + operation.operation_id.replace("/", "_").replace("-", "_"))
        reply: Reply = handler(args, body, query)
        if fault:
            self.faults.remove(fault)
            return Reply(fault.status, {"message": fault.message}, fault.headers)
        return reply

    def _authenticate(self, operation: Operation, headers: dict[str, str]) -> Reply | None:
        _scheme, _, credential = headers.get("authorization", "").partition(" ")
        if operation.operation_id == "apps/create-installation-access-token":
            try:
                claims = jwt.decode(credential, self.public_key, algorithms=["RS256"])
            except jwt.PyJWTError as exc:
                return Reply(401, {"message": f"A JSON web token could not be decoded: {exc}"})
            return None if str(claims.get("iss")) == self.app_id else Reply(401, {"message": "wrong issuer"})
        if credential == self.token or credential in self.installation_tokens:
            self._caller = self.token_user if credential == self.token else BOT
            return None
        return Reply(401, {"message": "Bad credentials"})

    # -- operations -------------------------------------------------------------------------------
    def _op_apps_create_installation_access_token(self, args: dict[str, str], body: Any,
                                                  query: dict[str, str]) -> Reply:
        token = f"ghs_fake{next(self._ids)}"
        self.installation_tokens[token] = int(args["installation_id"])
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        return Reply(201, {"token": token, "expires_at": expires, "permissions": {}})

    def _op_users_get_authenticated(self, args: dict[str, str], body: Any, query: dict[str, str]) -> Reply:
        if self._caller is BOT:
            return Reply(403, {"message": "Resource not accessible by integration"})
        return Reply(200, self.token_user)

    def _op_pulls_get(self, args: dict[str, str], body: Any, query: dict[str, str]) -> Reply:
        repo, number = f"{args['owner']}/{args['repo']}", int(args["pull_number"])
        if (repo, number) not in self.pulls:
            return Reply(404, {"message": "Not Found"})
        return Reply(200, {"number": number, "state": "open", "head": {"sha": self.pulls[(repo, number)]},
                           "url": f"{self.base_url}/repos/{repo}/pulls/{number}"})

    def _op_issues_list_comments(self, args: dict[str, str], body: Any, query: dict[str, str]) -> Reply:
        found = self.comments_on(f"{args['owner']}/{args['repo']}", int(args["issue_number"]))
        per_page, page = int(query.get("per_page", 30)), int(query.get("page", 1))
        chunk = found[(page - 1) * per_page: page * per_page]
        headers = {}
        if page * per_page < len(found):
            path = f"/repos/{args['owner']}/{args['repo']}/issues/{args['issue_number']}/comments"
            headers["Link"] = f'<{self.base_url}{path}?per_page={per_page}&page={page + 1}>; rel="next"'
        return Reply(200, [self._public(c) for c in chunk], headers)

    def _op_issues_create_comment(self, args: dict[str, str], body: Any, query: dict[str, str]) -> Reply:
        repo, issue = f"{args['owner']}/{args['repo']}", int(args["issue_number"])
        if self.pulls and (repo, issue) not in self.pulls:
            return Reply(404, {"message": "Not Found"})
        comment_id = self._store_comment(repo, issue, body["body"], self._caller)
        return Reply(201, self._public(self.comments[comment_id]))

    def _op_issues_get_comment(self, args: dict[str, str], body: Any, query: dict[str, str]) -> Reply:
        comment = self.comments.get(int(args["comment_id"]))
        return Reply(200, self._public(comment)) if comment else Reply(404, {"message": "Not Found"})

    def _op_issues_update_comment(self, args: dict[str, str], body: Any, query: dict[str, str]) -> Reply:
        comment = self.comments.get(int(args["comment_id"]))
        if comment is None:
            return Reply(404, {"message": "Not Found"})
        comment.update(body=body["body"], updated_at=_now(), _edits=comment["_edits"] + 1)
        return Reply(200, self._public(comment))

    def _op_checks_create(self, args: dict[str, str], body: Any, query: dict[str, str]) -> Reply:
        run_id = next(self._ids)
        repo = f"{args['owner']}/{args['repo']}"
        self.check_runs[run_id] = {"id": run_id, "_repo": repo, "status": "queued", "conclusion": None,
                                   "output": {}, "annotations": [], "_history": []}
        self._apply_check(self.check_runs[run_id], body)
        return Reply(201, self._public_check(self.check_runs[run_id]))

    def _op_checks_get(self, args: dict[str, str], body: Any, query: dict[str, str]) -> Reply:
        run = self.check_runs.get(int(args["check_run_id"]))
        return Reply(200, self._public_check(run)) if run else Reply(404, {"message": "Not Found"})

    def _op_checks_list_for_ref(self, args: dict[str, str], body: Any, query: dict[str, str]) -> Reply:
        repo = f"{args['owner']}/{args['repo']}"
        runs = [self._public_check(run) for run in self.check_runs.values()
                if run["_repo"] == repo and run["head_sha"] == args["ref"]
                and run["name"] == query.get("check_name", run["name"])]
        return Reply(200, {"total_count": len(runs), "check_runs": runs})

    def _op_checks_update(self, args: dict[str, str], body: Any, query: dict[str, str]) -> Reply:
        run = self.check_runs.get(int(args["check_run_id"]))
        if run is None:
            return Reply(404, {"message": "Not Found"})
        self._apply_check(run, body)
        return Reply(200, self._public_check(run))

    def _op_repos_create_commit_status(self, args: dict[str, str], body: Any, query: dict[str, str]) -> Reply:
        repo = f"{args['owner']}/{args['repo']}"
        status = {"id": next(self._ids), "sha": args["sha"], "repo": repo, **body}
        self.statuses.append(status)
        return Reply(201, {"id": status["id"], "state": body["state"], "context": status.get("context")})

    def _op_repos_download_tarball_archive(self, args: dict[str, str], body: Any,
                                           query: dict[str, str]) -> Reply:
        repo, ref = f"{args['owner']}/{args['repo']}", args["ref"]
        if (repo, ref) not in self.tarballs:
            return Reply(404, {"message": "Not Found"})
        return Reply(302, headers={"Location": f"{self.base_url}{CODELOAD_PREFIX}{repo}/legacy.tar.gz/{ref}"})

    def _codeload(self, rest: str) -> Reply:
        repo, _, ref = rest.partition("/legacy.tar.gz/")
        data = self.tarballs.get((repo, ref))
        if data is None:
            return Reply(404, raw=b"not found")
        return Reply(200, raw=data, headers={"Content-Type": "application/x-gzip"})

    # -- records ----------------------------------------------------------------------------------
    def _store_comment(self, repo: str, issue: int, body: str, user: dict[str, Any]) -> int:
        comment_id = next(self._ids)
        self.comments[comment_id] = {"id": comment_id, "body": body, "user": user, "created_at": _now(),
                                     "updated_at": _now(), "_repo": repo, "_issue": issue, "_edits": 0}
        return comment_id

    def _public(self, comment: dict[str, Any]) -> dict[str, Any]:
        repo, issue = comment["_repo"], comment["_issue"]
        return {**{k: v for k, v in comment.items() if not k.startswith("_")},
                "url": f"{self.base_url}/repos/{repo}/issues/comments/{comment['id']}",
                "issue_url": f"{self.base_url}/repos/{repo}/issues/{issue}",
                "html_url": f"https://github.com/{repo}/pull/{issue}#issuecomment-{comment['id']}"}

    def _apply_check(self, run: dict[str, Any], body: dict[str, Any]) -> None:
        output = dict(body.get("output") or {})
        run["annotations"].extend(output.pop("annotations", []))
        run["output"].update(output)
        run.update({k: v for k, v in body.items() if k != "output"})
        if body.get("conclusion"):
            run["status"] = "completed"
        run["_history"].append(run["status"])

    def _public_check(self, run: dict[str, Any]) -> dict[str, Any]:
        return {**{k: v for k, v in run.items() if not k.startswith("_") and k != "annotations"},
                "url": f"{self.base_url}/repos/{run['_repo']}/check-runs/{run['id']}",
                "output": {**run["output"], "annotations_count": len(run["annotations"])}}


def _handler_for(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = fake.handle(self.command, self.path, headers, self.rfile.read(length))
            payload = reply.raw if reply.raw is not None else (
                b"" if reply.body is None else json.dumps(reply.body).encode())
            self.send_response(reply.status)
            for name, value in {"Content-Type": "application/json; charset=utf-8", **reply.headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the recorded `requests` are the log."""

    return Handler


@contextmanager
def serve(fake: FakeGitHub) -> Iterator[FakeGitHub]:
    """Runs `fake` on a free loopback port for the duration of the block; `fake.base_url` is set."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(fake))
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
