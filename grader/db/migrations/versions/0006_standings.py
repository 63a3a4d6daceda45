"""standings: each student's place in an assignment, stored; triggers keep its inputs

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 05:00:00

The gradebook reads one row per student instead of every push. The database itself keeps each row's
inputs, whichever process writes: a push adds to `attempts` and moves `last_activity`; a changed
grade, a new override and a granted or moved extension bump `version`, which makes the stored standing
stale until the service computes it again (as does a push stored already graded). Rows for the pushes
already stored are made here, all stale (the service computes them at its next start).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The statements each trigger runs, in the dialect's own words (NEW is the row written).
_PUSHED = """
INSERT INTO standings (assignment_key, login_key, login, attempts, last_activity, version, fresh_version,
                       basis, late_days, overridden)
VALUES (coalesce(NEW.assignment_id, ''), lower(NEW.author_login), NEW.author_login, 1, NEW.received_at, 0, 0,
        CASE WHEN NEW.score IS NULL THEN '*' END, 0, {false})
ON CONFLICT (assignment_key, login_key) DO UPDATE SET
    attempts = standings.attempts + 1,
    last_activity = {greatest}(standings.last_activity, excluded.last_activity),
    login = CASE WHEN standings.login = excluded.login THEN standings.login ELSE '' END,
    version = standings.version + CASE WHEN excluded.basis IS NULL THEN 1 ELSE 0 END;
"""
_GRADED = """
UPDATE standings SET version = version + 1
WHERE assignment_key = coalesce(NEW.assignment_id, '') AND login_key = lower(NEW.author_login);
"""
_OVERRIDDEN = """
UPDATE standings SET version = version + 1
WHERE (assignment_key, login_key) = (SELECT coalesce(assignment_id, ''), lower(author_login)
                                     FROM submissions WHERE id = NEW.submission_id);
"""
_EXTENDED = """
UPDATE standings SET version = version + 1
WHERE assignment_key = NEW.assignment_id AND login_key = NEW.login_key;
"""
# name: (event, table, condition, statement); the condition: only when the grade changed
_TRIGGERS = {
    'grader_standing_pushed': ('INSERT', 'submissions', '', _PUSHED),
    'grader_standing_graded': ('UPDATE OF score, grade', 'submissions',
                               'OLD.score {differs} NEW.score OR OLD.grade {differs} NEW.grade', _GRADED),
    'grader_standing_overridden': ('INSERT', 'overrides', '', _OVERRIDDEN),
    'grader_standing_extended': ('INSERT', 'extensions', '', _EXTENDED),
    'grader_standing_extension_moved': ('UPDATE', 'extensions', '', _EXTENDED),
}


def upgrade() -> None:
    standings = op.create_table(
        'standings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assignment_key', sa.String(length=100), nullable=False),
        sa.Column('login_key', sa.String(length=100), nullable=False),
        sa.Column('login', sa.String(length=100), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_activity', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('fresh_version', sa.Integer(), nullable=False),
        sa.Column('basis', sa.String(length=64), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=True),
        sa.Column('score', sa.Double(), nullable=True),
        sa.Column('grade', sa.String(length=20), nullable=True),
        sa.Column('late_days', sa.Integer(), nullable=False),
        sa.Column('overridden', sa.Boolean(), nullable=False),
        sa.Column('score_at_deadline', sa.Double(), nullable=True),
        sa.Column('grade_at_deadline', sa.String(length=20), nullable=True),
        sa.Column('latest_score', sa.Double(), nullable=True),
        sa.Column('latest_grade', sa.String(length=20), nullable=True),
        sa.Column('best_score', sa.Double(), nullable=True),
        sa.Column('best_grade', sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_standings')),
        sa.UniqueConstraint('assignment_key', 'login_key', name=op.f('uq_standings_assignment_key_login_key')),
    )
    _fill(standings)
    postgres = op.get_bind().dialect.name == 'postgresql'
    for name, (event, table, condition, statement) in _TRIGGERS.items():
        words = {'false': 'false' if postgres else '0', 'greatest': 'greatest' if postgres else 'max',
                 'differs': 'IS DISTINCT FROM' if postgres else 'IS NOT'}  # NULL included
        body = statement.format(**words)
        when = f'WHEN ({condition.format(**words)})' if condition else ''
        if postgres:
            op.execute(f'CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN {body} RETURN NULL; END; $$ '
                       'LANGUAGE plpgsql')
            op.execute(f'CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW {when} '
                       f'EXECUTE FUNCTION {name}()')
        else:
            op.execute(f'CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW {when} BEGIN {body} END')


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    for name, (_, table, _, _) in _TRIGGERS.items():
        op.execute(f'DROP TRIGGER IF EXISTS {name}' + (f' ON {table}' if postgres else ''))
        if postgres:
            op.execute(f'DROP FUNCTION IF EXISTS {name}()')
    op.drop_table('standings')


def _fill(standings: sa.Table) -> None:
    """One stale row per (assignment, login) that has pushed."""
    submissions = sa.table('submissions', sa.column('assignment_id'), sa.column('author_login'),
                           sa.column('received_at'))
    key = sa.func.coalesce(submissions.c.assignment_id, '')
    login = sa.case((sa.func.count(sa.distinct(submissions.c.author_login)) == 1, sa.func.min(submissions.c.author_login)),
                    else_='')
    rows = (sa.select(key, sa.func.lower(submissions.c.author_login), login, sa.func.count(),
                      sa.func.max(submissions.c.received_at), sa.literal(1), sa.literal(0), sa.literal(0),
                      sa.false())
            .group_by(key, sa.func.lower(submissions.c.author_login)))
    op.execute(standings.insert().from_select(
        ['assignment_key', 'login_key', 'login', 'attempts', 'last_activity', 'version', 'fresh_version',
         'late_days', 'overridden'], rows))
