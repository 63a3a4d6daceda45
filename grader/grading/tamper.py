"""The tamper scan: code in a submission that could forge what a check measures in the student's process.

The student's own tests and their coverage necessarily run in the student's process, where any code
can reach pytest's and coverage.py's insides, end the process early or write where the grader reads.
This scan reads every Python file of the submission (parsing, never importing it) and lists the
constructs a lesson's code has no business with: coverage's API, pytest's internals and outcome hooks,
JUnit writers, `os._exit`, `sys.modules` or `builtins` surgery, dynamic or native code, interpreter
start-up hooks, and paths or names of the grader's own. Each finding names the checks it could forge;
scoring marks those "needs review" instead of crediting them, and the findings are shown to the
instructor and the student. It is a tripwire, not a proof: code that hides what it does (encoded
strings, indirection) can pass it, which the README's threat model states.

Pure apart from reading files; bounded in files, bytes and findings, and it never raises on what a
student committed.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from pathlib import Path

from grader.grading.report import TamperFinding
from grader.syntax import parse_python
from grader.texts import ENGLISH

MAX_FILES = 5000
MAX_FILE_BYTES = 512 * 1024
MAX_FINDINGS = 50
SKIPPED_FOLDERS = frozenset({".git", "__pycache__", ".venv", "venv", "node_modules"})  # never packed for the sandbox
RESULTS = ("tests", "coverage")  # what the student's own process measures
EVERYTHING = ("tests", "coverage", "hidden_tests", "migrations")  # lint runs before any student code

# What each kind of finding could forge (check kinds); its wording is in grader.texts.tamper_kinds.
CHECKS_AT_RISK: dict[str, tuple[str, ...]] = {
    "coverage_api": RESULTS, "pytest_internals": RESULTS, "pytest_hook": RESULTS, "junit_writer": RESULTS,
    "process_exit": RESULTS, "module_surgery": RESULTS, "builtins_surgery": RESULTS, "dynamic_code": RESULTS,
    "native_code": RESULTS, "startup_hook": RESULTS, "grader_paths": EVERYTHING, "unscannable": RESULTS,
    "coverage_hint": ("command:coverage_summary",),  # a command check whose verdict is a coverage summary
}
# Front-end sources: comments that make V8's or Istanbul's coverage skip code (a command check's coverage)
SCRIPT_SUFFIXES = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx", ".vue", ".svelte")
COVERAGE_HINT = re.compile(rb"(?:/\*|//)\s*[@#]?\s*(v8|c8|istanbul)\s+ignore\b")
OUTCOME_HOOKS = frozenset({"pytest_runtest_makereport", "pytest_runtest_logreport", "pytest_runtest_protocol",
                           "pytest_runtest_call", "pytest_pyfunc_call", "pytest_report_teststatus",
                           "pytest_sessionfinish", "pytest_terminal_summary", "pytest_collection_modifyitems",
                           "pytest_collectreport", "pytest_runtestloop"})
EXITS = frozenset({("os", "_exit"), ("posix", "_exit"), ("os", "abort"), ("os", "kill"), ("os", "killpg"),
                   ("signal", "raise_signal"), ("signal", "pthread_kill")})
DYNAMIC = frozenset({"exec", "eval", "compile", "__import__"})
NATIVE = frozenset({"ctypes", "cffi", "_ctypes"})
JUNIT_MODULES = frozenset({"junit_xml", "junitparser", "xmlrunner", "pytest_junitxml"})
MODULE_MUTATORS = frozenset({"pop", "popitem", "update", "setdefault", "clear", "__setitem__", "__delitem__"})
GRADER_MARKS = ("/work/out", "/work/scratch", "/grader", "/opt/grader", "/pg/", "/dev/fd", "/proc/", "GRADER_")
STARTUP_FILES = frozenset({"sitecustomize.py", "usercustomize.py"})


def finding(file: str, line: int, kind: str, name: str = "") -> TamperFinding:
    name = name[:80]
    return TamperFinding(file=file[:300], line=line, kind=kind, detail=ENGLISH.tamper_kinds[kind].format(name=name),
                         name=name, checks=list(CHECKS_AT_RISK[kind]))


class _Visitor(ast.NodeVisitor):
    def __init__(self, file: str) -> None:
        self.file = file
        self.found: list[TamperFinding] = []

    def add(self, node: ast.AST, kind: str, name: str = "") -> None:
        self.found.append(finding(self.file, getattr(node, "lineno", 0), kind, name))

    def _module(self, node: ast.AST, module: str) -> None:
        top = module.split(".", 1)[0]
        if top == "coverage":
            self.add(node, "coverage_api")
        elif top == "_pytest":
            self.add(node, "pytest_internals")
        elif top in JUNIT_MODULES:
            self.add(node, "junit_writer")
        elif top == "builtins":
            self.add(node, "builtins_surgery")
        elif top in NATIVE:
            self.add(node, "native_code", top)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._module(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self._module(node, node.module or "")
        for alias in node.names:
            if (node.module, alias.name) in EXITS:
                self.add(node, "process_exit", f"{node.module}.{alias.name}")

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if node.name in OUTCOME_HOOKS:
            self.add(node, "pytest_hook", node.name)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name) and (node.value.id, node.attr) in EXITS:
            self.add(node, "process_exit", f"{node.value.id}.{node.attr}")
        if _is_sys_modules(node.value) and node.attr in MODULE_MUTATORS:
            self.add(node, "module_surgery")
        if _is_sys_modules(node) and isinstance(node.ctx, ast.Store | ast.Del):
            self.add(node, "module_surgery")
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if _is_sys_modules(node.value) and isinstance(node.ctx, ast.Store | ast.Del):
            self.add(node, "module_surgery")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id in DYNAMIC:
            self.add(node, "dynamic_code", node.func.id)
        if any(_is_sys_modules(argument) for argument in node.args):
            self.add(node, "module_surgery")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == "__builtins__":
            self.add(node, "builtins_surgery")

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            if "<testsuite" in node.value or "<testcase" in node.value:
                self.add(node, "junit_writer")
            mark = next((mark for mark in GRADER_MARKS if mark in node.value), None)
            if mark:
                self.add(node, "grader_paths", mark)


def _is_sys_modules(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "modules" and isinstance(node.value, ast.Name) \
        and node.value.id == "sys"


def scan_source(file: str, source: bytes) -> list[TamperFinding]:
    """The findings of one Python file; a file that does not parse cannot run either: none."""
    name = file.rsplit("/", 1)[-1]
    if name in STARTUP_FILES:
        return [finding(file, 1, "startup_hook", name)]
    if len(source) > MAX_FILE_BYTES:
        return [finding(file, 1, "unscannable", f"larger than {MAX_FILE_BYTES // 1024} KB")]
    try:
        tree = parse_python(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    visitor = _Visitor(file)
    try:
        visitor.visit(tree)
    except RecursionError:
        return [finding(file, 1, "unscannable", "nested too deeply")]
    return visitor.found


def _files(root: Path) -> Iterator[Path]:
    for folder, folders, files in os.walk(root):
        folders[:] = sorted(name for name in folders if name not in SKIPPED_FOLDERS)
        for name in sorted(files):
            if name.endswith((".py", ".pth", *SCRIPT_SUFFIXES)):
                yield Path(folder) / name


def scan_checkout(root: Path) -> list[TamperFinding]:
    """Every finding of the checkout's Python files (and `.pth` files), at most MAX_FINDINGS."""
    found: list[TamperFinding] = []
    for count, path in enumerate(_files(root), start=1):
        relative = path.relative_to(root).as_posix()
        if count > MAX_FILES:
            found.append(finding(relative, 0, "unscannable", f"more than {MAX_FILES} Python files"))
            break
        try:
            found += _scan_file(path, relative)
        except OSError:
            continue
    return _distinct(found)[:MAX_FINDINGS]


def _scan_file(path: Path, relative: str) -> list[TamperFinding]:
    if path.is_symlink() or not path.is_file():
        return []
    if path.suffix == ".pth":
        return [finding(relative, 1, "startup_hook", path.name)]
    if path.stat().st_size > MAX_FILE_BYTES:
        return [finding(relative, 1, "unscannable", f"larger than {MAX_FILE_BYTES // 1024} KB")]
    if path.suffix in SCRIPT_SUFFIXES:
        return scan_script(relative, path.read_bytes())
    return scan_source(relative, path.read_bytes())


def scan_script(file: str, source: bytes) -> list[TamperFinding]:
    """A front-end source's coverage hints (`/* v8 ignore next */`, `/* istanbul ignore else */`, ...)."""
    return [finding(file, source.count(b"\n", 0, match.start()) + 1, "coverage_hint", match.group(1).decode())
            for match in COVERAGE_HINT.finditer(source)][:MAX_FINDINGS]


def _distinct(found: list[TamperFinding]) -> list[TamperFinding]:
    seen: set[tuple[str, int, str]] = set()
    kept = []
    for item in found:
        key = (item.file, item.line, item.kind)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept
