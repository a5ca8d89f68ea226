"""restore: a build that brings an earlier version back as the next one names that version's build

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('build_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('restore_of', sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('build_jobs', schema=None) as batch_op:
        batch_op.drop_column('restore_of')
