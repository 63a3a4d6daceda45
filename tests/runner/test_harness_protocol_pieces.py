"""The pieces of the hidden checks' protocol, in-process: what the driver answers whatever the student's
code does, what the broker lets through, what the hidden side accepts, what the grader's plugins send."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table

from grader.runner.harness import alembic_check, broker, driver, hidden_support, results_plugin


def _probe(**ops: Any) -> ModuleType:
    module = ModuleType("probe")
    module.OPS = ops  # type: ignore[attr-defined]
    return module


def _exits() -> None:
    raise SystemExit(0)


def test_driver_answer__the_students_exit_or_garbage_is_an_error_answer_never_a_crash() -> None:
    probe = _probe(ok=lambda x: {"x": x}, exits=_exits, unjsonable=lambda: {1, 2})
    assert driver.answer(probe, {"id": "n", "op": "ok", "args": {"x": 1}}) == {"id": "n", "ok": True,
                                                                              "value": {"x": 1}}
    assert driver.answer(probe, {"id": "n", "op": "exits"}) == {"id": "n", "ok": False, "error": "SystemExit: 0"}
    assert driver.answer(probe, {"id": "n", "op": "unjsonable"})["ok"] is False
    assert driver.answer(probe, {"id": "n", "op": "nope"})["error"] == "unknown operation 'nope'"
    assert driver.answer(probe, [1, 2]) == {"ok": False, "error": "malformed request"}
    assert driver.answer(probe, {"op": "ok", "args": "not a table"}) == {"ok": False, "error": "malformed request"}


def test_driver_load_probe__by_path_with_annotations_resolved(tmp_path: Path) -> None:
    path = tmp_path / "probe.py"
    path.write_text("from __future__ import annotations\nimport sys\n\n"
                    "def name() -> str:\n    return __name__\n\nOPS = {'name': name}\n")
    probe = driver.load_probe(str(path))
    assert probe.OPS["name"]() == "_grader_probe"


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair()
    yield left, right
    left.close()
    right.close()


def test_driver_serve_and_student_process_call__one_line_each_way(pair: tuple[socket.socket, socket.socket]) -> None:
    hidden_end, student_end = pair
    server = threading.Thread(target=driver.serve, args=(student_end, _probe(double=lambda x: 2 * x)), daemon=True)
    server.start()
    process = hidden_support.StudentProcess(hidden_end)

    assert process.call("double", x=21) == 42
    with pytest.raises(hidden_support.StudentCodeError, match="unknown operation"):
        process.call("missing")
    process.close()
    student_end.shutdown(socket.SHUT_RDWR)
    server.join(5)


@pytest.mark.parametrize(("line", "message"), [
    (b"", "ended during op"),
    (b"{not json\n", "not readable"),
    (b'{"id": "someone-else", "ok": true, "value": 1}\n', "does not belong to its request"),
    (b'{"id": "NONCE", "ok": false, "error": "ZeroDivisionError: division by zero"}\n', "ZeroDivisionError"),
    (b"[" * 100_000 + b"\n", "not readable"),
])
def test_student_process_value__anything_but_its_own_answer_is_a_failure(line: bytes, message: str) -> None:
    with pytest.raises(hidden_support.StudentCodeError, match=message):
        hidden_support._value("op", "NONCE", line)


def test_student_process_value__an_answer_to_this_request_is_its_value() -> None:
    assert hidden_support._value("op", "abc", b'{"id": "abc", "ok": true, "value": [1]}\n') == [1]


def test_student_process_call__silence_is_a_timeout(pair: tuple[socket.socket, socket.socket]) -> None:
    process = hidden_support.StudentProcess(pair[0])
    with pytest.raises(hidden_support.StudentCodeError, match="did not answer op within 0 s"):
        process.call("op", timeout=0.2)
    process.close()


def test_broker_driver_env__only_allowed_variables_of_the_request_pass() -> None:
    config = {"path": "/usr/bin", "home": "/h", "tmp": "/t", "account": {"name": "student"}, "probe": "/p.py",
              "paths": ["/work/src/backend"]}
    env = broker.driver_env(config, {"env": {"DATABASE_URL": "sqlite://", "PYTHONPATH": "/evil",
                                             "LD_PRELOAD": "/evil.so"}}, 7)
    assert env["DATABASE_URL"] == "sqlite://"
    assert "PYTHONPATH" not in env
    assert "LD_PRELOAD" not in env
    assert (env["GRADER_DRIVER_FD"], env["HOME"], json.loads(env["GRADER_STUDENT_PATHS"])) == (
        "7", "/h", ["/work/src/backend"])


def test_broker_read_request__one_bounded_line(pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = pair
    left.sendall(b'{"env": {}}\n')
    assert broker._read_request(right) == {"env": {}}
    left.sendall(b"[1]\n")
    with pytest.raises(ValueError, match="not an object"):
        broker._read_request(right)
    left.close()
    with pytest.raises(ValueError, match="no complete request"):
        broker._read_request(right)


def _report(nodeid: str, when: str, outcome: str, message: str = "") -> SimpleNamespace:
    crash = SimpleNamespace(message=message) if message else None
    return SimpleNamespace(nodeid=nodeid, when=when, outcome=outcome,
                           longrepr=SimpleNamespace(reprcrash=crash) if crash else None)


def test_results_plugin__worst_phase_wins_and_the_document_goes_through_the_pipe(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results_plugin, "_outcomes", {})
    for report in (_report("t.py::a", "setup", "passed"), _report("t.py::a", "call", "passed"),
                   _report("t.py::a", "teardown", "failed", "boom\nmore"),
                   _report("t.py::b", "call", "failed", "AssertionError: " + "x" * 1000),
                   _report("t.py::d", "call", "failed", "assert 1 == 2\n +  where 1 = len([3])\n" + "line\n" * 9),
                   _report("t.py::c", "setup", "skipped", "not today")):
        results_plugin.pytest_runtest_logreport(report)
    read_end, write_end = os.pipe()
    monkeypatch.setenv(results_plugin.CHANNEL_ENV, str(write_end))
    monkeypatch.setattr(results_plugin, "_coverage", lambda: None)  # this suite may itself run under coverage

    results_plugin.pytest_sessionfinish(None, 1)

    with os.fdopen(read_end, "rb") as pipe:
        document = json.loads(pipe.read())
    assert (document["finished"], document["exitstatus"], document["coverage"]) == (True, 1, None)
    assert [(test["id"], test["outcome"]) for test in document["tests"]] == [
        ("t.py::a", "error"), ("t.py::b", "failed"), ("t.py::d", "failed"), ("t.py::c", "skipped")]
    assert document["tests"][0]["message"] == "boom\nmore"
    assert document["tests"][1]["message"] == "AssertionError: " + "x" * 284  # one line: 300 characters
    assert document["tests"][2]["message"] == "assert 1 == 2\n +  where 1 = len([3])\n" + "line\n" * 3 + "line"


def test_alembic_check__differences_and_declared_tables_as_data() -> None:
    metadata = MetaData()
    items = Table("items", metadata, Column("id", Integer, primary_key=True), Column("name", String(10)))
    assert alembic_check.declared_tables(metadata) == {"items": ["id", "name"]}
    assert alembic_check._describe(("add_table", items)) == "add_table items"
    assert alembic_check._describe(("add_column", None, "items", items.c.name)) == "add_column items.name"
    assert alembic_check._describe([("modify_nullable", None, "items", "name")]) == "modify_nullable items.name"
