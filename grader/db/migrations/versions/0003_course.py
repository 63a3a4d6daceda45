"""course: roster, extensions, overrides, a submission's assignment and grade, job priority, token scope

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 21:58:38

Tokens made before scopes keep what they could do (regrade included): they get the write scope.
Jobs already in the queue keep the priority of a push. A result's grade is any band name of a rubric
("pass", "excellent"), not only a letter.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('extensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.String(length=100), nullable=False),
    sa.Column('github', sa.String(length=100), nullable=False),
    sa.Column('login_key', sa.String(length=100), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('granted_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extensions')),
    sa.UniqueConstraint('assignment_id', 'login_key', name=op.f('uq_extensions_assignment_id_login_key'))
    )
    op.create_table('roster',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('github', sa.String(length=100), nullable=False),
    sa.Column('login_key', sa.String(length=100), nullable=False),
    sa.Column('student_id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster')),
    sa.UniqueConstraint('login_key', name=op.f('uq_roster_login_key')),
    sa.UniqueConstraint('student_id', name=op.f('uq_roster_student_id'))
    )
    op.create_table('overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('grade', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_overrides_submission_id_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_overrides'))
    )
    with op.batch_alter_table('overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_overrides_submission_id'), ['submission_id'], unique=False)

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.Enum('read', 'write', name='token_scope', native_enum=False, create_constraint=True, length=16), nullable=False, server_default='write'))
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('scope', server_default=None)

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.SmallInteger(), nullable=False, server_default='10'))
        batch_op.drop_index('ix_jobs_status_run_after')
        batch_op.create_index('ix_jobs_status_priority_run_after', ['status', 'priority', 'run_after'], unique=False)

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.alter_column('priority', server_default=None)

    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.alter_column('grade', existing_type=sa.String(length=2), type_=sa.String(length=20),
                              existing_nullable=False)

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignment_id', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('score', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('grade', sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f('ix_submissions_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index('ix_submissions_gradebook', ['assignment_id', 'author_login', 'received_at', 'score'],
                              unique=False)
        batch_op.create_index('ix_submissions_assignment_received', ['assignment_id', 'received_at'], unique=False)
    # Each submission's newest service result, as the queue keeps it from now on.
    op.execute("""
        UPDATE submissions SET
          score = (SELECT r.score FROM results r WHERE r.submission_id = submissions.id AND r.advisory = false
                   ORDER BY r.id DESC LIMIT 1),
          grade = (SELECT r.grade FROM results r WHERE r.submission_id = submissions.id AND r.advisory = false
                   ORDER BY r.id DESC LIMIT 1)
    """)



def downgrade() -> None:
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.alter_column('grade', existing_type=sa.String(length=20), type_=sa.String(length=2),
                              existing_nullable=False)

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_assignment_received')
        batch_op.drop_index('ix_submissions_gradebook')
        batch_op.drop_index(batch_op.f('ix_submissions_assignment_id'))
        batch_op.drop_column('grade')
        batch_op.drop_column('score')
        batch_op.drop_column('assignment_id')

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_status_priority_run_after')
        batch_op.create_index('ix_jobs_status_run_after', ['status', 'run_after'], unique=False)
        batch_op.drop_column('priority')

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_api_tokens_token_scope'), type_='check')
        batch_op.drop_column('scope')

    with op.batch_alter_table('overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_overrides_submission_id'))

    op.drop_table('overrides')
    op.drop_table('roster')
    op.drop_table('extensions')
