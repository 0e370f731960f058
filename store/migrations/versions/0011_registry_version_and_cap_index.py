"""a version number of the unit and round registry, bumped by triggers; the daily cap's index

The daily cap counts a unit's acknowledgements and reminders of the day: (unit_id, kind,
created_at) replaces (unit_id, created_at), so the count seeks straight to those kinds and
stops at the cap instead of reading every mail the unit got that day.

The long-running poller keeps its snapshot of units and rounds while `registry_version.version`
stands still. Triggers bump it on every write to units, unit_addresses, unit_aliases, rounds and
round_targets, whichever process or statement writes. On PostgreSQL the bump is a deferred
constraint trigger, once per transaction at commit: taking the counter's row lock last means two
registry writers never deadlock on it. A later SQLite migration that rebuilds one of these
tables (batch_alter_table "move and copy") drops its triggers and must create them again
(tests/unit/intake/test_snapshot_cache.py fails if it does not).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('units', 'unit_addresses', 'unit_aliases', 'rounds', 'round_targets')
OPERATIONS = ('INSERT', 'UPDATE', 'DELETE')

# Once per transaction: a transaction-local setting remembers that this one already bumped.
PG_FUNCTION = """
CREATE FUNCTION registry_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('baocao.registry_bumped', true) IS DISTINCT FROM txid_current()::text THEN
        PERFORM set_config('baocao.registry_bumped', txid_current()::text, true);
        EXECUTE format('UPDATE %I.registry_version SET version = version + 1 WHERE id = 1',
                       TG_TABLE_SCHEMA);
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.drop_index(op.f('ix_outbox_unit_id_created_at'), table_name='outbox')
    op.create_index(op.f('ix_outbox_unit_id_kind_created_at'), 'outbox',
                    ['unit_id', 'kind', 'created_at'], unique=False)

    op.create_table(
        'registry_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.BigInteger(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_version')),
    )
    op.execute("INSERT INTO registry_version (id, version) VALUES (1, 0)")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTION)
        for table in TABLES:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER registry_version_{table} "
                f"AFTER INSERT OR UPDATE OR DELETE ON {table} DEFERRABLE INITIALLY DEFERRED "
                f"FOR EACH ROW EXECUTE FUNCTION registry_version_bump()"
            )
            op.execute(
                f"CREATE TRIGGER registry_version_{table}_truncate AFTER TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION registry_version_bump()"
            )
        return
    for table in TABLES:
        for operation in OPERATIONS:
            op.execute(
                f"CREATE TRIGGER registry_version_{table}_{operation.lower()} "
                f"AFTER {operation} ON {table} BEGIN "
                f"UPDATE registry_version SET version = version + 1 WHERE id = 1; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in TABLES:
            op.execute(f"DROP TRIGGER registry_version_{table}_truncate ON {table}")
            op.execute(f"DROP TRIGGER registry_version_{table} ON {table}")
        op.execute("DROP FUNCTION registry_version_bump()")
    else:
        for table in TABLES:
            for operation in OPERATIONS:
                op.execute(f"DROP TRIGGER registry_version_{table}_{operation.lower()}")
    op.drop_table('registry_version')
    op.drop_index(op.f('ix_outbox_unit_id_kind_created_at'), table_name='outbox')
    op.create_index(op.f('ix_outbox_unit_id_created_at'), 'outbox', ['unit_id', 'created_at'],
                    unique=False)
