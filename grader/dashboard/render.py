"""Jinja templates of the dashboard, rendered to HTML strings (autoescaped: student data is untrusted)."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from litestar import MediaType, Response

from grader.feedback.escape import safe_url


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("grader.dashboard", "templates"),
                      autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    # Links can come from an advisory report a student controls: only http(s) URLs become links.
    env.filters["safe_url"] = safe_url
    return env


def page(template: str, status_code: int = 200, **context: Any) -> Response[str]:
    html = environment().get_template(template).render(**context)
    # The security headers (CSP and the rest) are added to every response by grader.security_headers.
    return Response(html, media_type=MediaType.HTML, status_code=status_code, headers={"Cache-Control": "no-store"})
