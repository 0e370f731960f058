"""audit trail of review actions; rows a review took out of the count without deleting them

Two new tables only: existing tables are not rebuilt (on SQLite a rebuild of `submissions`
fails once attachments point at it), and existing rows need nothing: no submission of an
existing database has been withdrawn.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_ROW = (
    "(CASE WHEN submission_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN attachment_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN problem_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def upgrade() -> None:
    op.create_table(
        'audit_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.Column('action', sa.String(), nullable=False),
        sa.Column('inbound_message_id', sa.Integer(), nullable=True),
        sa.Column('before', sa.Text(), nullable=True),
        sa.Column('after', sa.Text(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.CheckConstraint("action IN ('assign', 'reject', 'reopen', 'remember-address')",
                           name=op.f('ck_audit_entries_action_valid')),
        sa.ForeignKeyConstraint(['inbound_message_id'], ['inbound_messages.id'],
                                name=op.f('fk_audit_entries_inbound_message_id_inbound_messages')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries')),
    )
    op.create_index(op.f('ix_audit_entries_at'), 'audit_entries', ['at'], unique=False)
    op.create_index(op.f('ix_audit_entries_inbound_message_id'), 'audit_entries',
                    ['inbound_message_id'], unique=False)

    op.create_table(
        'superseded_rows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('audit_entry_id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=True),
        sa.Column('attachment_id', sa.Integer(), nullable=True),
        sa.Column('problem_id', sa.Integer(), nullable=True),
        sa.Column('restored_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint(ONE_ROW, name=op.f('ck_superseded_rows_one_row')),
        sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'],
                                name=op.f('fk_superseded_rows_attachment_id_attachments'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['audit_entry_id'], ['audit_entries.id'],
                                name=op.f('fk_superseded_rows_audit_entry_id_audit_entries')),
        sa.ForeignKeyConstraint(['problem_id'], ['problems.id'],
                                name=op.f('fk_superseded_rows_problem_id_problems'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['restored_by_id'], ['audit_entries.id'],
                                name=op.f('fk_superseded_rows_restored_by_id_audit_entries')),
        sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'],
                                name=op.f('fk_superseded_rows_submission_id_submissions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_superseded_rows')),
    )
    for column in ('attachment_id', 'audit_entry_id', 'problem_id', 'submission_id'):
        op.create_index(op.f(f'ix_superseded_rows_{column}'), 'superseded_rows', [column],
                        unique=False)


def downgrade() -> None:
    for column in ('submission_id', 'problem_id', 'audit_entry_id', 'attachment_id'):
        op.drop_index(op.f(f'ix_superseded_rows_{column}'), table_name='superseded_rows')
    op.drop_table('superseded_rows')
    op.drop_index(op.f('ix_audit_entries_inbound_message_id'), table_name='audit_entries')
    op.drop_index(op.f('ix_audit_entries_at'), table_name='audit_entries')
    op.drop_table('audit_entries')
