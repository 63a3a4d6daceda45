"""The grade distribution as an inline SVG bar chart: no JavaScript, no chart library, readable as text."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from grader.api.dto import GradeCount

WIDTH, HEIGHT = 360, 200
_TOP, _BOTTOM, _LEFT = 24, 28, 12
# Best band green, lowest red, those between along the way; a grade of no band is grey.
BEST, BETWEEN, LOWEST, OTHER = "#1a7f37", ("#4c9a2a", "#8a9a2a", "#d4a72c", "#e07b24"), "#cf222e", "#6e7781"


def band_colours(bands: Sequence[str]) -> dict[str, str]:
    """A colour per band, from green (best) to red (lowest)."""
    if len(bands) < 2:
        return dict.fromkeys(bands, BEST)
    middle = list(bands[1:-1])
    between = {band: BETWEEN[min(len(BETWEEN) - 1, i * len(BETWEEN) // max(len(middle), 1))]
               for i, band in enumerate(middle)}
    return {bands[0]: BEST, **between, bands[-1]: LOWEST}


def _bar(index: int, slot: float, item: GradeCount, tallest: int, colours: dict[str, str]) -> str:
    plot_height = HEIGHT - _TOP - _BOTTOM
    height = 0 if tallest == 0 else round(plot_height * item.students / tallest)
    x = _LEFT + index * slot + slot * 0.15
    y = _TOP + plot_height - height
    width = slot * 0.7
    colour = colours.get(item.grade, OTHER)
    grade = escape(item.grade)
    return (
        f'<g class="bar" data-grade="{grade}" data-students="{item.students}">'
        f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{height}" fill="{colour}"/>'
        f'<text x="{x + width / 2:.1f}" y="{y - 6}" text-anchor="middle">{item.students}</text>'
        f'<text x="{x + width / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" font-weight="bold">'
        f"{grade}</text>"
        "</g>"
    )


def grade_distribution_svg(distribution: list[GradeCount], bands: Sequence[str]) -> str:
    """An SVG bar per grade; its label says the same numbers for screen readers and tests."""
    tallest = max((item.students for item in distribution), default=0)
    slot = (WIDTH - 2 * _LEFT) / max(len(distribution), 1)
    label = "Grade distribution: " + ", ".join(f"{item.grade} {item.students}" for item in distribution)
    colours = band_colours(bands)
    bars = "".join(_bar(index, slot, item, tallest, colours) for index, item in enumerate(distribution))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="grade-distribution" role="img" '
        f'aria-label="{escape(label)}" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'font-family="sans-serif" font-size="13"><title>{escape(label)}</title>{bars}</svg>'
    )
