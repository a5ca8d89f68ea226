"""budget pacing: dollar allowance, daily cap and pacing day per tier, spend per day, APScheduler's job store

The default tiers get allowances sized for real use (an offline build alone reports ~180k tokens);
a tier an admin already changed keeps its values.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from core.budget import DEFAULT_TIERS

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_DEFAULT_TOKENS = {'bootstrapper': 2_000_000, 'partner': 10_000_000, 'cto_scale': 50_000_000}


def upgrade() -> None:
    with op.batch_alter_table('tiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cost_allowance_microdollars', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('daily_token_cap', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('day_seconds', sa.Integer(), nullable=False, server_default='86400'))
    tiers = sa.table('tiers', sa.column('name', sa.String), sa.column('token_allowance', sa.BigInteger),
                     sa.column('cost_allowance_microdollars', sa.BigInteger))
    for spec in DEFAULT_TIERS:
        op.execute(
            tiers.update()
            .where(tiers.c.name == spec['name'],
                   tiers.c.token_allowance.in_([OLD_DEFAULT_TOKENS[spec['name']], spec['token_allowance']]))
            .values(token_allowance=spec['token_allowance'],
                    cost_allowance_microdollars=spec['cost_allowance_microdollars'])
        )
    op.create_table('usage_days',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('day_start', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('tokens', sa.BigInteger(), nullable=False),
    sa.Column('cost_microdollars', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('user_id', 'day_start')
    )
    op.create_table('scheduler_jobs',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=191), nullable=False),
    sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scheduler_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduler_jobs_next_run_time'), ['next_run_time'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('scheduler_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduler_jobs_next_run_time'))
    op.drop_table('scheduler_jobs')
    op.drop_table('usage_days')
    with op.batch_alter_table('tiers', schema=None) as batch_op:
        batch_op.drop_column('day_seconds')
        batch_op.drop_column('daily_token_cap')
        batch_op.drop_column('cost_allowance_microdollars')
