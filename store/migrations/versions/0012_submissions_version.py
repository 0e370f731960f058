"""a second counter on registry_version: what the rounds received, bumped by triggers

`registry_version.submissions` goes up with every write to submissions, attachments,
form_values, problems and superseded_rows (a review withdrawing or restoring a submission), from
whichever process or statement writes. The staff board keeps a loaded round board while this
counter and `version` stand still (baocao.web.board_cache), so filtering and reloading a
3,321-unit board does not read and rebuild it every time.

The counter shares the registry's row rather than having a row or table of its own: on
PostgreSQL each bump is a deferred constraint trigger that locks the counter's row at commit, and
a transaction that writes both the registry and submissions (a review that remembers a sender's
address) then takes one row lock, never two in an order another transaction could reverse.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 00:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('submissions', 'attachments', 'form_values', 'problems', 'superseded_rows')
OPERATIONS = ('INSERT', 'UPDATE', 'DELETE')

# Once per transaction, as registry_version_bump() (0011) does for the registry.
PG_FUNCTION = """
CREATE FUNCTION submissions_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('baocao.submissions_bumped', true)
            IS DISTINCT FROM txid_current()::text THEN
        PERFORM set_config('baocao.submissions_bumped', txid_current()::text, true);
        EXECUTE format(
            'UPDATE %I.registry_version SET submissions = submissions + 1 WHERE id = 1',
            TG_TABLE_SCHEMA);
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.add_column('registry_version', sa.Column(
        'submissions', sa.BigInteger(), server_default='0', nullable=False))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTION)
        for table in TABLES:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER submissions_version_{table} "
                f"AFTER INSERT OR UPDATE OR DELETE ON {table} DEFERRABLE INITIALLY DEFERRED "
                f"FOR EACH ROW EXECUTE FUNCTION submissions_version_bump()"
            )
            op.execute(
                f"CREATE TRIGGER submissions_version_{table}_truncate AFTER TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION submissions_version_bump()"
            )
        return
    for table in TABLES:
        for operation in OPERATIONS:
            op.execute(
                f"CREATE TRIGGER submissions_version_{table}_{operation.lower()} "
                f"AFTER {operation} ON {table} BEGIN "
                f"UPDATE registry_version SET submissions = submissions + 1 WHERE id = 1; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in TABLES:
            op.execute(f"DROP TRIGGER submissions_version_{table}_truncate ON {table}")
            op.execute(f"DROP TRIGGER submissions_version_{table} ON {table}")
        op.execute("DROP FUNCTION submissions_version_bump()")
    else:
        for table in TABLES:
            for operation in OPERATIONS:
                op.execute(f"DROP TRIGGER submissions_version_{table}_{operation.lower()}")
    # ALTER TABLE DROP COLUMN (SQLite 3.35+), not a batch copy: a rebuilt registry_version
    # would break the triggers of 0011 that update it.
    op.drop_column('registry_version', 'submissions')
