"""results: covering index for the gradebook's scan of service grades

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:20:00

The gradebook reads (submission, advisory, score, grade) of every result; without this index that scan reads
every result row, report JSON included.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_results_grade_scan', 'results',
                    ['submission_id', 'advisory', 'score', 'grade'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_results_grade_scan', table_name='results')
