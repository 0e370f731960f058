"""the staff board: users, server-side sessions, failed sign-ins; staff actions outside review

Four new tables and nothing else changed, so an existing database keeps every row. Outbox
retries and user management go to `staff_actions` rather than `audit_entries`: widening that
table's CHECK on SQLite means rebuilding a table that `superseded_rows` points at.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 21:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAFF_ACTIONS = ("action IN ('retry-send', 'user-add', 'user-disable', 'user-enable', "
                 "'user-password')")
WEB_ROLES = "role IN ('xem', 'xu-ly', 'quan-tri')"


def upgrade() -> None:
    op.create_table(
        'staff_actions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.Column('action', sa.String(), nullable=False),
        sa.Column('outbox_id', sa.Integer(), nullable=True),
        sa.Column('target', sa.String(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.CheckConstraint(STAFF_ACTIONS, name=op.f('ck_staff_actions_action_valid')),
        sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'],
                                name=op.f('fk_staff_actions_outbox_id_outbox')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_actions')),
    )
    with op.batch_alter_table('staff_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_actions_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_actions_outbox_id'), ['outbox_id'],
                              unique=False)

    op.create_table(
        'web_users',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(), nullable=False),
        sa.Column('password_hash', sa.String(), nullable=False),
        sa.Column('role', sa.String(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('disabled', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.CheckConstraint(WEB_ROLES, name=op.f('ck_web_users_role_valid')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_web_users')),
        sa.UniqueConstraint('name', name=op.f('uq_web_users_name')),
    )

    op.create_table(
        'web_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('csrf_secret', sa.String(), nullable=False),
        sa.Column('address', sa.String(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['web_users.id'],
                                name=op.f('fk_web_sessions_user_id_web_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_web_sessions_token_hash')),
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_expires_at'), ['expires_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_web_sessions_user_id'), ['user_id'], unique=False)

    op.create_table(
        'login_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(), nullable=False),
        sa.Column('address', sa.String(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts')),
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_attempts_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempts_name_address_at'),
                              ['name', 'address', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempts_name_address_at'))
        batch_op.drop_index(batch_op.f('ix_login_attempts_at'))
    op.drop_table('login_attempts')

    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_web_sessions_expires_at'))
    op.drop_table('web_sessions')
    op.drop_table('web_users')

    with op.batch_alter_table('staff_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_actions_outbox_id'))
        batch_op.drop_index(batch_op.f('ix_staff_actions_at'))
    op.drop_table('staff_actions')
