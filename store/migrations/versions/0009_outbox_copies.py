"""outbox.copied_at: when the copy of a sent mail was stored in the shared Sent folder

One nullable column, so neither SQLite nor PostgreSQL rebuilds the table; rows sent before it
read NULL and only the recent ones among them are copied (baocao.outbound.outbox).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('outbox', sa.Column('copied_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('copied_at')
