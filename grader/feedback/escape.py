"""Making student-controlled text (test names, messages, file names) inert in GitHub Markdown.

Escaped text cannot start a heading, a table cell, a link or an emphasis, cannot open or close HTML
(so it cannot close our `<details>`), and cannot @-mention anyone or cross-reference an issue
(a zero-width space after `@` and before an issue number keeps the text readable but inert).
"""

from __future__ import annotations

import re

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:])")
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
_ISSUE_REFERENCE = re.compile(r"#(?=\d)")
_LONGEST_BACKTICKS = re.compile(r"`+")
ZERO_WIDTH_SPACE = "\u200b"


def one_line(text: str, limit: int = 200) -> str:
    """Whitespace collapsed to single spaces, cut at `limit` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def inline(text: str, limit: int = 200) -> str:
    """One line of plain text, safe anywhere in Markdown including a table cell."""
    flat = one_line(text, limit)
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    flat = _ISSUE_REFERENCE.sub("#" + ZERO_WIDTH_SPACE, flat)
    flat = _MARKDOWN_SPECIALS.sub(r"\\\1", flat)
    return _MENTION.sub("@" + ZERO_WIDTH_SPACE, flat)


def code_block(lines: list[str], limit_lines: int = 20, limit_chars: int = 300) -> str:
    """A fenced block whose fence is longer than any run of backticks inside, so it cannot be closed."""
    shown = [line[:limit_chars] for line in lines[:limit_lines]]
    body = "\n".join(_MENTION.sub("@" + ZERO_WIDTH_SPACE, line) for line in shown)
    longest = max((len(run) for run in _LONGEST_BACKTICKS.findall(body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body}\n{fence}"


def safe_url(url: str) -> str:
    """The URL if it is http(s) and has nothing that ends a Markdown link; otherwise empty."""
    if not url.startswith(("https://", "http://")) or re.search(r"[\s()<>\"']", url):
        return ""
    return url
