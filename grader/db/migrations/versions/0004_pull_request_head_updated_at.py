"""pull_requests: head_updated_at, GitHub's time of the push that set the PR's head

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 12:00:00

Pushes to one pull request are ordered by the payload's `pull_request.updated_at`, not by the order their
deliveries arrive in: a late delivery of an older push no longer moves the head back.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('pull_requests') as batch:
        batch.add_column(sa.Column('head_updated_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('pull_requests') as batch:
        batch.drop_column('head_updated_at')
