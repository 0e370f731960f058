"""rounds.basis: the document a round carries out, cited as căn cứ by the summary report

One added column with a server default, so existing rows read "" (no căn cứ) and neither
SQLite nor PostgreSQL rebuilds the table.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-12 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('rounds', sa.Column('basis', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_column('basis')
