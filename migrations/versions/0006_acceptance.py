"""acceptance: the latest acceptance-check result of each feature per build, with its evidence screenshot

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'acceptance_results',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.Uuid(), nullable=False),
        sa.Column('project_id', sa.Uuid(), nullable=False),
        sa.Column('feature', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column('in_scope', sa.Boolean(), nullable=False),
        sa.Column('passed', sa.Boolean(), nullable=False),
        sa.Column('ran', sa.Boolean(), nullable=False),
        sa.Column('failed_step', sa.Integer(), nullable=True),
        sa.Column('step', sa.Text(), nullable=False),
        sa.Column('problem', sa.Text(), nullable=False),
        sa.Column('screenshot_key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['job_id'], ['build_jobs.id']),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('job_id', 'feature'),
    )
    op.create_index('ix_acceptance_results_job_id', 'acceptance_results', ['job_id'])
    op.create_index('ix_acceptance_results_project_id', 'acceptance_results', ['project_id'])


def downgrade() -> None:
    op.drop_index('ix_acceptance_results_project_id', table_name='acceptance_results')
    op.drop_index('ix_acceptance_results_job_id', table_name='acceptance_results')
    op.drop_table('acceptance_results')
