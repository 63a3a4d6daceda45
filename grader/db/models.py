"""The service's own tables, as typed `Mapped[...]` models.

Times are the service's clock in UTC (`received_at` is when the service got a push, never the
commit date a student can set).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def sqlite_utc(text: str) -> datetime:
    """A UTC time as stored on SQLite ("YYYY-MM-DD HH:MM:SS.ffffff", no zone), aware. (Parsing the zone
    with the text is several times faster than `.replace(tzinfo=UTC)` after it.)"""
    return datetime.fromisoformat(text + "+00:00")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone, so it is stored as UTC and re-attached)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is UTC:  # as asyncpg hands back timestamptz: nothing to convert
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # SQLite's own text, as SQLAlchemy's DATETIME writes it ("YYYY-MM-DD HH:MM:SS.ffffff"), in one C
        # call instead of this decorator's step and then the driver type's (a delivery writes eight).
        def format_utc(value: Any) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            return str(value.astimezone(UTC).isoformat(" ", "microseconds")[:26])

        return format_utc

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], datetime | None] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        # SQLite hands back text: one C parse instead of the driver type's, then this decorator's (a
        # gradebook of 10,000 students reads some 30,000 times).
        def parse(value: Any) -> datetime | None:
            if value is None:
                return None
            if isinstance(value, str):
                return sqlite_utc(value)
            return self.process_result_value(value, dialect)

        return parse


class Base(AsyncAttrs, DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobKind(enum.StrEnum):
    GRADE = "grade"
    PUBLISH = "publish"


class JobPriority(enum.IntEnum):
    """Claim order, lower first, before `run_after`: a finished grading's feedback is posted before any
    other grading starts (publishing takes seconds, grading minutes, and a student waits for the
    comment), and new pushes are graded before instructors' regrades and backfills."""

    PUBLISH = 0
    PUSH = 10
    REGRADE = 20


class TokenScope(enum.StrEnum):
    READ = "read"  # the API's GET endpoints and the dashboard's pages
    WRITE = "write"  # also overrides, regrades and extensions


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings with a CHECK constraint: portable, and readable in SQL.
    return Enum(cls, name=name, native_enum=False, values_callable=lambda members: [m.value for m in members],
                length=16, validate_strings=True, create_constraint=True)


class Repository(Base):
    __tablename__ = "repositories"

    id: Mapped[int] = mapped_column(primary_key=True)
    github_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    pull_requests: Mapped[list[PullRequest]] = relationship(back_populates="repository")


class PullRequest(Base):
    __tablename__ = "pull_requests"
    __table_args__ = (UniqueConstraint("repository_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    author_login: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    latest_head_sha: Mapped[str] = mapped_column(String(40))
    # GitHub's `pull_request.updated_at` of the delivery that set `latest_head_sha`: a delivery that
    # arrives late with an older time does not move the head back (None: not known).
    head_updated_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The one feedback comment, found again by its id (and by a hidden marker if the id is lost).
    comment_id: Mapped[int | None] = mapped_column(BigInteger)
    comment_sha: Mapped[str | None] = mapped_column(String(40))

    repository: Mapped[Repository] = relationship(back_populates="pull_requests")
    submissions: Mapped[list[Submission]] = relationship(back_populates="pull_request")


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("pull_request_id", "head_sha"),
        # The gradebook's per-student aggregates over an assignment, read from the index alone; and its
        # read of the pushes received after a deadline.
        Index("ix_submissions_gradebook", "assignment_id", "author_login", "received_at", "score"),
        Index("ix_submissions_assignment_received", "assignment_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pull_request_id: Mapped[int] = mapped_column(ForeignKey("pull_requests.id", ondelete="CASCADE"))
    head_sha: Mapped[str] = mapped_column(String(40))
    author_login: Mapped[str] = mapped_column(String(100), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The GitHub delivery that brought this push first (later deliveries of the same SHA add nothing).
    delivery_id: Mapped[str] = mapped_column(String(100), default="")
    check_run_id: Mapped[int | None] = mapped_column(BigInteger)
    # The course assignment its repository matched when it was received (None without a course file).
    assignment_id: Mapped[str | None] = mapped_column(String(100), index=True)
    # The newest service result's score and grade (None: not graded yet), kept with the result in one
    # transaction: the gradebook aggregates them per student without joining 20,000 results.
    score: Mapped[float | None] = mapped_column()
    grade: Mapped[str | None] = mapped_column(String(20))

    pull_request: Mapped[PullRequest] = relationship(back_populates="submissions")
    jobs: Mapped[list[Job]] = relationship(back_populates="submission")
    results: Mapped[list[Result]] = relationship(back_populates="submission")
    overrides: Mapped[list[Override]] = relationship(back_populates="submission")


class Delivery(Base):
    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(100), unique=True)
    event: Mapped[str] = mapped_column(String(50))
    action: Mapped[str] = mapped_column(String(50), default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_priority_run_after", "status", "priority", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[JobKind] = mapped_column(_enum(JobKind, "job_kind"), default=JobKind.GRADE)
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus, "job_status"), default=JobStatus.QUEUED)
    priority: Mapped[int] = mapped_column(SmallInteger, default=JobPriority.PUSH.value)
    # Incremented at every claim; a worker may only write while the attempt it claimed is current.
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()

    submission: Mapped[Submission] = relationship(back_populates="jobs")


class Result(Base):
    __tablename__ = "results"
    # Covers the gradebook's scan of every service grade without reading the report JSON.
    __table_args__ = (
        Index("ix_results_grade_scan", "submission_id", "advisory", "score", "grade"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), unique=True)
    score: Mapped[float] = mapped_column()
    grade: Mapped[str] = mapped_column(String(20))  # a band name of the rubric ("S", "pass", …)
    report: Mapped[dict[str, Any]] = mapped_column()
    # A result sent by a workflow the student controls is advice, never the service's own verdict.
    advisory: Mapped[bool] = mapped_column(default=False)
    duration_seconds: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="results")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[TokenScope] = mapped_column(_enum(TokenScope, "token_scope"), default=TokenScope.READ)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class RosterStudent(Base):
    """A student of the course, by GitHub login (`login_key`: the login in lower case, as GitHub
    compares them)."""

    __tablename__ = "roster"

    id: Mapped[int] = mapped_column(primary_key=True)
    github: Mapped[str] = mapped_column(String(100))
    login_key: Mapped[str] = mapped_column(String(100), unique=True)
    student_id: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Extension(Base):
    """A student's own deadline for an assignment, replacing the course file's."""

    __tablename__ = "extensions"
    __table_args__ = (UniqueConstraint("assignment_id", "login_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[str] = mapped_column(String(100))
    github: Mapped[str] = mapped_column(String(100))
    login_key: Mapped[str] = mapped_column(String(100))
    until: Mapped[datetime] = mapped_column()
    granted_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Override(Base):
    """An instructor's score for a submission, with the reason. Rows are never changed or deleted: the
    newest is in force, all of them are the audit trail."""

    __tablename__ = "overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column()
    grade: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="overrides")


class StudentSummary(Base):
    """Each student's newest service result per assignment, kept in the transaction that stores a
    result, so class statistics read one small row per student however many pushes and regrades there
    were. `failed_checks` holds only what the statistics need of the report: the failed checks' ids,
    titles and remediation links (`[{"id", "title", "remediation": [{"title", "url"}]}]`)."""

    __tablename__ = "student_summaries"
    __table_args__ = (UniqueConstraint("assignment_key", "author_login"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_key: Mapped[str] = mapped_column(String(100))  # "" without a course file
    author_login: Mapped[str] = mapped_column(String(100))
    result_id: Mapped[int] = mapped_column(Integer)  # the newest service result (highest id)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column()
    grade: Mapped[str] = mapped_column(String(20))
    failed_checks: Mapped[list[Any]] = mapped_column(JSON())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Standing(Base):
    """Where a student stands on an assignment, stored so the gradebook reads one row per student.

    The database keeps the inputs (migration 0006's triggers): a push adds to `attempts` and moves
    `last_activity`; a new grade, an override or an extension bumps `version`. The rest is the pure
    `grader.course.standing` as computed at `fresh_version` under the course settings `basis` names
    (`grader.api.standings`); a row whose version moved, or whose basis is not the course's now, is
    stale and computed afresh. `status` is None when nothing is graded or overridden: then it follows
    the newest push, which the reader knows. `login` is the login as pushed ("" when pushed under more
    than one casing)."""

    __tablename__ = "standings"
    __table_args__ = (UniqueConstraint("assignment_key", "login_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_key: Mapped[str] = mapped_column(String(100))  # "" without a course file
    login_key: Mapped[str] = mapped_column(String(100))
    login: Mapped[str] = mapped_column(String(100))
    attempts: Mapped[int] = mapped_column(Integer)
    last_activity: Mapped[datetime] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=0)
    fresh_version: Mapped[int] = mapped_column(Integer, default=0)
    basis: Mapped[str | None] = mapped_column(String(64))  # "*": nothing to compute (no grade, no override)
    status: Mapped[str | None] = mapped_column(String(10))
    score: Mapped[float | None] = mapped_column()
    grade: Mapped[str | None] = mapped_column(String(20))
    late_days: Mapped[int] = mapped_column(Integer, default=0)
    overridden: Mapped[bool] = mapped_column(default=False)
    score_at_deadline: Mapped[float | None] = mapped_column()
    grade_at_deadline: Mapped[str | None] = mapped_column(String(20))
    latest_score: Mapped[float | None] = mapped_column()
    latest_grade: Mapped[str | None] = mapped_column(String(20))
    best_score: Mapped[float | None] = mapped_column()
    best_grade: Mapped[str | None] = mapped_column(String(20))
