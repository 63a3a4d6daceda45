"""The one find-or-create of repositories, pull requests and submissions, for any number of pushes.

The webhook intake and the workflow reports both come here, so a report and a webhook for the same
push meet on the same rows. Writes are INSERT … ON CONFLICT DO NOTHING (or, for what the webhook says
is newest, DO UPDATE), in key order, so duplicates racing each other create nothing twice and
concurrent transactions on PostgreSQL lock rows in the same order. A batch of any size costs a few
multi-row Core statements, built once per dialect; nothing just written is read back (RETURNING says
it). The functions are synchronous, for `grader.db.writer.TransactionWriter` or `run_sync`.

A pull request's head is the push GitHub says is newest (the payload's `pull_request.updated_at`),
not the delivery that arrived last: an older push delivered late never moves the head back, and a
push back to an earlier SHA (A → B → A) does move it, which the intake sees (`StoredPushes.moved`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Insert,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    case,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from grader.db.dialect import insert_for
from grader.db.models import Base
from grader.db.prebuilt import insert_rows

REPOSITORIES, PULL_REQUESTS, SUBMISSIONS = (Base.metadata.tables[name] for name in
                                            ("repositories", "pull_requests", "submissions"))
SubmissionKey = tuple[int, str]  # (pull request id, head SHA)


@dataclass(frozen=True)
class PushRecord:
    """A push to a pull request, as the service stores it (from a webhook or a workflow report)."""

    repository_id: int  # GitHub's id
    repository: str  # "owner/name"
    installation_id: int | None
    pr_number: int
    author_login: str
    head_sha: str
    title: str = ""
    delivery_id: str = ""  # "" when the push came from a workflow report
    received_at: datetime | None = None  # the service's clock when the push arrived (None: the write's time)
    assignment_id: str | None = None  # the course assignment its repository matched
    updated_at: datetime | None = None  # GitHub's time of the push (the webhook's `pull_request.updated_at`)


@dataclass(frozen=True)
class KnownRepository:
    """A repository row as stored: our id, GitHub's name and the App installation."""

    id: int
    full_name: str
    installation_id: int | None


@dataclass
class RepositoryCache:
    """Repository rows one process has seen committed, so a delivery need not read its course's
    repository again (they change only when GitHub renames a repository or the App is reinstalled,
    and the webhook then says so). Rows of a transaction count only once it has committed
    (`committed`); after any failure everything is forgotten and read again."""

    rows: dict[int, KnownRepository] = field(default_factory=dict)
    pending: dict[int, KnownRepository] = field(default_factory=dict)

    def committed(self) -> None:
        self.rows.update(self.pending)
        self.pending = {}

    def forget(self) -> None:
        self.rows, self.pending = {}, {}


@dataclass(frozen=True)
class StoredPushes:
    pull_request_ids: list[int]  # per record, in the order given
    submission_ids: list[int]  # per record
    created: set[int]  # the submission ids this call created
    heads: dict[int, str] = field(default_factory=dict)  # PR id -> its head SHA after these pushes (webhook)
    moved: set[int] = field(default_factory=set)  # PR ids whose head these pushes changed (or that are new)
    repositories: dict[int, KnownRepository] = field(default_factory=dict)  # GitHub id -> the row as it now is


@dataclass(frozen=True)
class _Statements:
    repositories_by_github_id: Select[tuple[int, int, str, int | None]]
    new_repositories: Insert
    update_repository: Update
    upsert_pull_requests: Insert  # the webhook's word on a PR's newest head wins, if it is newer
    new_pull_requests: Insert  # a workflow report never moves a PR's head
    pull_requests_by_key: Select[tuple[int, int, int]]
    new_submissions: Insert
    submissions_by_key: Select[tuple[int, str, int]]


@cache
def _statements(dialect: str) -> _Statements:
    def insert(table: Table) -> postgresql.Insert | sqlite.Insert:
        return insert_for(dialect, table)

    repository_columns = (REPOSITORIES.c.github_id, REPOSITORIES.c.id, REPOSITORIES.c.full_name,
                          REPOSITORIES.c.installation_id)
    pr_columns = (PULL_REQUESTS.c.repository_id, PULL_REQUESTS.c.number, PULL_REQUESTS.c.id)
    keys = tuple_(PULL_REQUESTS.c.repository_id, PULL_REQUESTS.c.number).in_(bindparam("keys", expanding=True))
    return _Statements(
        repositories_by_github_id=select(*repository_columns)
        .where(REPOSITORIES.c.github_id.in_(bindparam("github_ids", expanding=True))),
        new_repositories=insert(REPOSITORIES).on_conflict_do_nothing(index_elements=["github_id"])
        .returning(*repository_columns),
        update_repository=update(REPOSITORIES).where(REPOSITORIES.c.id == bindparam("repository_row"))
        .values(full_name=bindparam("new_full_name"), installation_id=bindparam("new_installation_id")),
        upsert_pull_requests=_upsert_pull_requests(insert(PULL_REQUESTS)),
        new_pull_requests=insert(PULL_REQUESTS).on_conflict_do_nothing(index_elements=["repository_id", "number"])
        .returning(*pr_columns),
        pull_requests_by_key=select(*pr_columns).where(keys),
        new_submissions=insert(SUBMISSIONS).on_conflict_do_nothing(index_elements=["pull_request_id", "head_sha"])
        .returning(SUBMISSIONS.c.pull_request_id, SUBMISSIONS.c.head_sha, SUBMISSIONS.c.id),
        submissions_by_key=select(SUBMISSIONS.c.pull_request_id, SUBMISSIONS.c.head_sha, SUBMISSIONS.c.id)
        .where(tuple_(SUBMISSIONS.c.pull_request_id, SUBMISSIONS.c.head_sha).in_(bindparam("keys", expanding=True))),
    )


def _upsert_pull_requests(pull_requests: postgresql.Insert | sqlite.Insert) -> Insert:
    """Insert new PRs; of an existing one, take the head and title only from a newer push, and stamp
    `updated_at` only when the head moves to another SHA. RETURNING sees only the row as it is after the
    statement, so that stamp, equal to this write's time, is how the writer tells a head that moved (or a
    new PR) from one that stayed, without reading the heads first."""
    excluded = pull_requests.excluded
    newer = _newer(excluded.head_updated_at)
    moves = and_(newer, PULL_REQUESTS.c.latest_head_sha != excluded.latest_head_sha)
    return pull_requests.on_conflict_do_update(
        index_elements=["repository_id", "number"],
        set_={name: case((newer, getattr(excluded, name)), else_=PULL_REQUESTS.c[name])
              for name in ("latest_head_sha", "head_updated_at", "title")}
        | {"updated_at": case((moves, excluded.updated_at), else_=PULL_REQUESTS.c.updated_at)},
    ).returning(PULL_REQUESTS.c.repository_id, PULL_REQUESTS.c.number, PULL_REQUESTS.c.id,
                PULL_REQUESTS.c.latest_head_sha, PULL_REQUESTS.c.updated_at)


def _newer(pushed_at: ColumnElement[datetime | None]) -> ColumnElement[bool]:
    """Whether a push (its GitHub time) may replace the PR's stored head: not older than it, or either
    time unknown (then the later arrival wins, as before the time was recorded)."""
    stored = PULL_REQUESTS.c.head_updated_at
    return or_(pushed_at.is_(None), stored.is_(None), pushed_at >= stored)


def _age(record: PushRecord) -> tuple[bool, datetime]:
    """Sort key of a PR's records: by GitHub's time, a record without one counting as the newest."""
    return record.updated_at is None, record.updated_at or datetime.min.replace(tzinfo=UTC)


def store_pushes(connection: Connection, records: Sequence[PushRecord], now: datetime, *,
                 authoritative: bool, known: dict[int, KnownRepository] | None = None) -> StoredPushes:
    """Find or create the rows of each record in the caller's open transaction.

    `authoritative` (the webhook): a repository's name and installation, and a PR's newest head and
    title, are updated from the records (the newest record of a PR by GitHub's time wins, and only if
    it is not older than the stored head). Otherwise (a workflow report, which the student controls)
    existing rows are left as they are. `known`: repository rows committed earlier (the intake's cache,
    GitHub id -> row), which are then not read again; the rows as they are after this call come back
    in `repositories`, for the caller to remember once the transaction has committed.
    """
    sql = _statements(connection.dialect.name)
    repositories = _repository_rows(connection, sql, records, now, authoritative, known or {})
    repository_ids = {github_id: row.id for github_id, row in repositories.items()}
    pull_request_ids, heads, moved = _pull_request_ids(connection, sql, records, repository_ids, now, authoritative)
    keys = [(pull_request_ids[index], record.head_sha) for index, record in enumerate(records)]
    submissions, created = _submissions(connection, sql, records, keys, now)
    return StoredPushes(pull_request_ids, [submissions[key] for key in keys], created, heads, moved, repositories)


def _repository_values(record: PushRecord) -> dict[str, object]:
    return {"github_id": record.repository_id, "full_name": record.repository,
            "installation_id": record.installation_id}


def _repository_rows(connection: Connection, sql: _Statements, records: Sequence[PushRecord], now: datetime,
                     authoritative: bool, cached: dict[int, KnownRepository]) -> dict[int, KnownRepository]:
    """GitHub repository id → our row. Read before writing: every push of a course hits the same
    repository row, and an upsert would lock it, queueing a course's deliveries behind each other;
    rows the caller already knows are not read at all."""
    latest = {record.repository_id: record for record in records}
    known = {github_id: cached[github_id] for github_id in latest if github_id in cached}
    unknown = sorted(set(latest) - set(known))
    if unknown:
        known.update(_known_repositories(connection.execute(sql.repositories_by_github_id, {"github_ids": unknown})))
    missing = sorted(set(latest) - set(known))
    if missing:
        known.update(_known_repositories(insert_rows(connection, sql.new_repositories, [
            {**_repository_values(latest[github_id]), "created_at": now} for github_id in missing])))
    raced = sorted(set(latest) - set(known))  # created by a concurrent transaction since the read
    if raced:
        known.update(_known_repositories(connection.execute(sql.repositories_by_github_id, {"github_ids": raced})))
    for github_id, row in known.items():
        record = latest[github_id]
        if authoritative and (row.full_name, row.installation_id) != (record.repository, record.installation_id):
            connection.execute(sql.update_repository, {
                "repository_row": row.id, "new_full_name": record.repository,
                "new_installation_id": record.installation_id})
            known[github_id] = KnownRepository(row.id, record.repository, record.installation_id)
    return known


def _known_repositories(rows: Iterable[Any]) -> dict[int, KnownRepository]:
    return {row.github_id: KnownRepository(row.id, row.full_name, row.installation_id) for row in rows}


def _pull_request_ids(connection: Connection, sql: _Statements, records: Sequence[PushRecord],
                      repository_ids: dict[int, int], now: datetime,
                      authoritative: bool) -> tuple[list[int], dict[int, str], set[int]]:
    """Each PR written once (its newest record by GitHub's time, the last one on a tie); returns the PR
    id of every record, each PR's head afterwards and the PRs whose head moved (webhook only)."""
    latest: dict[tuple[int, int], PushRecord] = {}
    for record in records:
        key = (repository_ids[record.repository_id], record.pr_number)
        if key not in latest or _age(record) >= _age(latest[key]):
            latest[key] = record
    values = [{"repository_id": key[0], "number": key[1], "author_login": record.author_login,
               "title": record.title[:300], "latest_head_sha": record.head_sha, "head_updated_at": record.updated_at,
               "updated_at": now} for key, record in sorted(latest.items())]
    heads: dict[int, str] = {}
    moved: set[int] = set()
    if authoritative:
        rows = insert_rows(connection, sql.upsert_pull_requests, values)
        heads = {row.id: row.latest_head_sha for row in rows}
        moved = {row.id for row in rows if row.updated_at == now}
    else:
        rows = insert_rows(connection, sql.new_pull_requests, values)
        existing = sorted(set(latest) - {(row.repository_id, row.number) for row in rows})
        if existing:
            rows += connection.execute(sql.pull_requests_by_key, {"keys": existing})
    ids = {(row.repository_id, row.number): row.id for row in rows}
    return [ids[(repository_ids[record.repository_id], record.pr_number)] for record in records], heads, moved


def _submissions(connection: Connection, sql: _Statements, records: Sequence[PushRecord],
                 keys: list[SubmissionKey], now: datetime) -> tuple[dict[SubmissionKey, int], set[int]]:
    """(PR id, head SHA) → submission id for every record, and the ids this call created."""
    first: dict[SubmissionKey, PushRecord] = {}
    for key, record in zip(keys, records, strict=True):
        first.setdefault(key, record)
    rows = insert_rows(connection, sql.new_submissions, [
        {"pull_request_id": key[0], "head_sha": key[1], "author_login": record.author_login,
         "received_at": record.received_at or now, "delivery_id": record.delivery_id,
         "assignment_id": record.assignment_id} for key, record in sorted(first.items())])
    ids = {(row.pull_request_id, row.head_sha): row.id for row in rows}
    created = set(ids.values())
    known_before = sorted(set(first) - set(ids))
    if known_before:
        found = connection.execute(sql.submissions_by_key, {"keys": known_before})
        ids.update({(row.pull_request_id, row.head_sha): row.id for row in found})
    return ids, created
