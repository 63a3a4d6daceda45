"""student_summaries: each student's newest service result per assignment; NOTIFY on new jobs

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 01:30:00

Class statistics read one row per student instead of every student's newest report (8 KB of JSON
each). The rows are filled from the results already stored. On PostgreSQL every insert into `jobs`
also sends `NOTIFY grader_jobs` (delivered at commit), which wakes idle workers in other processes.
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION grader_jobs_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('grader_jobs', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
_NOTIFY_TRIGGER = """
CREATE TRIGGER grader_jobs_inserted AFTER INSERT ON jobs
FOR EACH STATEMENT EXECUTE FUNCTION grader_jobs_notify()
"""


def upgrade() -> None:
    summaries = op.create_table(
        'student_summaries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assignment_key', sa.String(length=100), nullable=False),
        sa.Column('author_login', sa.String(length=100), nullable=False),
        sa.Column('result_id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('score', sa.Double(), nullable=False),
        sa.Column('grade', sa.String(length=20), nullable=False),
        sa.Column('failed_checks', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'],
                                name=op.f('fk_student_summaries_submission_id_submissions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_student_summaries')),
        sa.UniqueConstraint('assignment_key', 'author_login',
                            name=op.f('uq_student_summaries_assignment_key_author_login')),
    )
    with op.batch_alter_table('student_summaries') as batch:
        batch.create_index(batch.f('ix_student_summaries_submission_id'), ['submission_id'], unique=False)
    _fill(summaries)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_NOTIFY_FUNCTION)
        op.execute(_NOTIFY_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS grader_jobs_inserted ON jobs")
        op.execute("DROP FUNCTION IF EXISTS grader_jobs_notify()")
    with op.batch_alter_table('student_summaries') as batch:
        batch.drop_index(batch.f('ix_student_summaries_submission_id'))
    op.drop_table('student_summaries')


def _failed_checks(report: Any) -> list[dict[str, Any]]:
    # A copy of the rule at the time of this migration (migrations never import the application).
    if isinstance(report, str):
        report = json.loads(report)
    checks = report.get('checks') if isinstance(report, dict) else None
    failed = []
    for check in checks if isinstance(checks, list) else []:
        if not isinstance(check, dict) or check.get('passed', True) or not isinstance(check.get('id'), str):
            continue
        links = [{'title': str(link.get('title', '')), 'url': str(link.get('url', ''))}
                 for link in check.get('remediation') or [] if isinstance(link, dict)]
        failed.append({'id': check['id'], 'title': str(check.get('title', check['id'])), 'remediation': links})
    return failed


def _fill(summaries: sa.Table) -> None:
    """One row per (assignment, login) from its newest service result, read a thousand at a time."""
    submissions = sa.table('submissions', sa.column('id'), sa.column('assignment_id'), sa.column('author_login'))
    results = sa.table('results', sa.column('id'), sa.column('submission_id'), sa.column('advisory'),
                       sa.column('score'), sa.column('grade'), sa.column('report'))
    newest = (sa.select(sa.func.max(results.c.id))
              .select_from(results.join(submissions, submissions.c.id == results.c.submission_id))
              .where(results.c.advisory == sa.false())
              .group_by(submissions.c.assignment_id, submissions.c.author_login))
    bind = op.get_bind()
    ids = [row[0] for row in bind.execute(newest)]
    now = datetime.now(UTC)
    for start in range(0, len(ids), 1000):
        rows = bind.execute(
            sa.select(results.c.id, results.c.submission_id, results.c.score, results.c.grade, results.c.report,
                      submissions.c.assignment_id, submissions.c.author_login)
            .select_from(results.join(submissions, submissions.c.id == results.c.submission_id))
            .where(results.c.id.in_(ids[start:start + 1000])))
        values = [{'assignment_key': row.assignment_id or '', 'author_login': row.author_login, 'result_id': row.id,
                   'submission_id': row.submission_id, 'score': row.score, 'grade': row.grade,
                   'failed_checks': _failed_checks(row.report), 'updated_at': now} for row in rows]
        if values:
            bind.execute(summaries.insert(), values)
