"""notices to Nội vụ as digests; outbox rows to unregistered addresses

Notices already queued one by one in the outbox stay there; new ones wait in `notices` for the
next digest. Existing outbox rows are counted as mail to registered addresses.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 00:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('inbound_message_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('digest_key', sa.String(), nullable=True),
        sa.ForeignKeyConstraint(['inbound_message_id'], ['inbound_messages.id'],
                                name=op.f('fk_notices_inbound_message_id_inbound_messages'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notices')),
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notices_digest_key'), ['digest_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_notices_inbound_message_id'),
                              ['inbound_message_id'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('to_stranger', sa.Boolean(),
                                      server_default=sa.text('false'), nullable=False))
        batch_op.create_index(batch_op.f('ix_outbox_to_stranger_created_at'),
                              ['to_stranger', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_unit_id_created_at'),
                              ['unit_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_unit_id_created_at'))
        batch_op.drop_index(batch_op.f('ix_outbox_to_stranger_created_at'))
        batch_op.drop_column('to_stranger')

    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_inbound_message_id'))
        batch_op.drop_index(batch_op.f('ix_notices_digest_key'))

    op.drop_table('notices')
