"""outbox claims, pending IMAP post-actions, content keys

An outbox row is claimed ("sending", by whom, since when) before it is sent; a message records
the post-action it is still owed; the content key recognises a re-encoded copy of a mail.
Existing messages owe nothing: their post-action was done (or lost) under the old code.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 22:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "status IN ('pending', 'sent', 'failed')"
NEW = "status IN ('pending', 'sending', 'sent', 'failed')"


def upgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_action', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('action_done_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('content_key', sa.String(), nullable=True))
        batch_op.create_index(batch_op.f('ix_inbound_messages_pending_action'), ['pending_action'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_outbox_status_valid'), type_='check')
        batch_op.create_check_constraint('status_valid', NEW)


def downgrade() -> None:
    op.execute("UPDATE outbox SET status = 'pending' WHERE status = 'sending'")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_outbox_status_valid'), type_='check')
        batch_op.create_check_constraint('status_valid', OLD)
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claimed_by')

    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_messages_pending_action'))
        batch_op.drop_column('content_key')
        batch_op.drop_column('action_done_at')
        batch_op.drop_column('pending_action')
