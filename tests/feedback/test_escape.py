"""Escaping of student-controlled text."""

from __future__ import annotations

import pytest

from grader.feedback.escape import ZERO_WIDTH_SPACE, code_block, inline, one_line, safe_url


@pytest.mark.parametrize(("raw", "escaped"), [
    ("</details>", "&lt;/details&gt;"),
    ("a | b", "a \\| b"),
    ("[x](http://evil)", "\\[x\\]\\(http\\:/ /evil\\)".replace(" ", "")),
    ("# heading", "\\# heading"),
    ("@octocat hi", f"@{ZERO_WIDTH_SPACE}octocat hi"),
    ("see org/repo#12", f"see org/repo\\#{ZERO_WIDTH_SPACE}12"),
    ("**bold** _it_", "\\*\\*bold\\*\\* \\_it\\_"),
    ("line1\nline2", "line1 line2"),
])
def test_inline__makes_markdown_and_html_inert(raw: str, escaped: str) -> None:
    assert inline(raw) == escaped


def test_one_line__cuts_long_text_with_an_ellipsis() -> None:
    assert one_line("x" * 50, limit=10) == "x" * 9 + "…"


def test_code_block__fence_is_longer_than_any_backticks_inside() -> None:
    block = code_block(["````", "@team look"])

    assert block.startswith("`````text\n")
    assert block.endswith("\n`````")
    assert f"@{ZERO_WIDTH_SPACE}team" in block


@pytest.mark.parametrize(("url", "kept"), [
    ("https://textbook.example.org/sa#sa1", True),
    ("javascript:alert(1)", False),
    ("https://x.org/a) [y](z", False),
])
def test_safe_url__keeps_only_plain_http_links(url: str, kept: bool) -> None:
    assert (safe_url(url) == url) is kept
