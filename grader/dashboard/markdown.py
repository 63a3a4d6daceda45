"""The student's comment as GitHub shows it: GitHub-flavoured Markdown (tables, strikethrough, the
`<details>` sections the comment uses) rendered to HTML, then sanitised with an allow-list, since
parts of a shown result can come from an advisory report the student controls."""

from __future__ import annotations

from functools import cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "code", "del", "details", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "li", "ol", "p", "pre", "s", "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead",
    "tr", "ul",
}
# No `style`: the dashboard's CSP allows no inline style, so a table's column alignment is dropped.
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"align"}, "th": {"align"}}


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def comment_html(markdown: str) -> str:
    """Safe HTML for the dashboard (no scripts, no event handlers, links only to http(s) and mailto)."""
    return nh3.clean(_parser().render(markdown), tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")
