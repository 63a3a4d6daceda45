"""What `grader serve` says when it is up: where, on which database, with what, and what is missing."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from grader import __version__
from grader.grading.rubric import RubricSet
from grader.settings import Settings


def startup_lines(settings: Settings, rubrics: RubricSet, host: str, port: int) -> list[str]:
    """The start-up summary, then one `warning:` line per missing setting (never a secret's value)."""
    address = f"http://{host}:{port}"
    database = make_url(settings.database.url).render_as_string(hide_password=True)
    lines = [f"grader {__version__} is up at {address} (dashboard: {address}/dashboard)",
             f"  database: {database}",
             f"  workers: {settings.queue.workers} in this process" if settings.queue.workers
             else "  workers: none in this process (run `grader worker`)",
             f"  rubric: {rubrics.default.id} v{rubrics.default.version} ({rubrics.default.path})",
             _course_line(settings, rubrics),
             f"  GitHub: {settings.github.api_url}, " + ("App credentials" if settings.github.app_id
                                                        else "a token" if settings.github.token else "no credentials"),
             "  workflow reports: " + ("accepted" if settings.oidc.enabled else "off (GRADER_OIDC_AUDIENCE not set)")]
    return lines + [f"warning: {problem}" for problem in missing(settings)]


def _course_line(settings: Settings, rubrics: RubricSet) -> str:
    course = settings.course
    if course is None:
        return "  course: none (GRADER_COURSE not set): every repository is graded with the rubric above"
    assignments = ", ".join(f"{assignment.id} ({rubrics.for_assignment(assignment.id).id})"
                            for assignment in course.assignments)
    return f"  course: {course.id}, assignments {assignments}"


def missing(settings: Settings) -> list[str]:
    problems = []
    if not settings.webhook.secret:
        problems.append("GITHUB_WEBHOOK_SECRET is not set: every delivery is refused until it is")
    if not (settings.github.token or settings.github.app_id):
        problems.append("no GitHub credentials (GITHUB_APP_ID with GITHUB_PRIVATE_KEY, or GITHUB_TOKEN): "
                        "pushes are received but cannot be fetched or commented on")
    return problems
