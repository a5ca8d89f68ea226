"""retention: where a build's archived events live, when its preview was last viewed

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('build_jobs', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('events_archive_key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True)
        )
        batch_op.add_column(sa.Column('preview_viewed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('build_jobs', schema=None) as batch_op:
        batch_op.drop_column('preview_viewed_at')
        batch_op.drop_column('events_archive_key')
