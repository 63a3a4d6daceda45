"""The grade distribution as an inline SVG bar chart: no JavaScript, no chart library, readable as text."""

from __future__ import annotations

from html import escape

from grader.api.dto import GradeCount

WIDTH, HEIGHT = 360, 200
_TOP, _BOTTOM, _LEFT = 24, 28, 12
GRADE_COLOURS = {"S": "#1a7f37", "A": "#4c9a2a", "B": "#d4a72c", "C": "#cf222e"}


def _bar(index: int, slot: float, item: GradeCount, tallest: int) -> str:
    plot_height = HEIGHT - _TOP - _BOTTOM
    height = 0 if tallest == 0 else round(plot_height * item.students / tallest)
    x = _LEFT + index * slot + slot * 0.15
    y = _TOP + plot_height - height
    width = slot * 0.7
    colour = GRADE_COLOURS.get(item.grade, "#6e7781")
    grade = escape(item.grade)
    return (
        f'<g class="bar" data-grade="{grade}" data-students="{item.students}">'
        f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{height}" fill="{colour}"/>'
        f'<text x="{x + width / 2:.1f}" y="{y - 6}" text-anchor="middle">{item.students}</text>'
        f'<text x="{x + width / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" font-weight="bold">'
        f"{grade}</text>"
        "</g>"
    )


def grade_distribution_svg(distribution: list[GradeCount]) -> str:
    """An SVG bar per grade; its label says the same numbers for screen readers and tests."""
    tallest = max((item.students for item in distribution), default=0)
    slot = (WIDTH - 2 * _LEFT) / max(len(distribution), 1)
    label = "Grade distribution: " + ", ".join(f"{item.grade} {item.students}" for item in distribution)
    bars = "".join(_bar(index, slot, item, tallest) for index, item in enumerate(distribution))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="grade-distribution" role="img" '
        f'aria-label="{escape(label)}" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'style="max-width: 100%; height: auto" '
        f'font-family="sans-serif" font-size="13"><title>{escape(label)}</title>{bars}</svg>'
    )
