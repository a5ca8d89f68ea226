"""default tiers

Seeded by the migration (not at app start-up) so the first sign-up can never race the seeding:
`serve` migrates before it listens. Admins edit the rows afterwards; this never overwrites them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.budget import DEFAULT_TIERS

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    tiers = sa.table('tiers', sa.column('name', sa.String), sa.column('label', sa.String),
                     sa.column('token_allowance', sa.BigInteger), sa.column('period_days', sa.Integer),
                     sa.column('max_concurrent_user', sa.Integer), sa.column('max_concurrent_project', sa.Integer),
                     sa.column('max_iterations', sa.Integer), sa.column('priority', sa.Integer),
                     sa.column('models', sa.JSON))
    existing = {row[0] for row in op.get_bind().execute(sa.select(tiers.c.name))}
    columns = set(tiers.c.keys())  # the specs grew columns later migrations add
    rows = [{'period_days': 30, 'models': {}, **{k: v for k, v in spec.items() if k in columns}}
            for spec in DEFAULT_TIERS if spec['name'] not in existing]
    if rows:
        op.bulk_insert(tiers, rows)


def downgrade() -> None:
    pass  # tiers may be referenced by users by then; leave them
