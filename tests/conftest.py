"""Shared fixtures: real servers on 127.0.0.1, one module per kind of server."""

from __future__ import annotations

import pytest

pytest_plugins = [
    "tests.fixtures_db",
    "tests.fixtures_imap",
    "tests.fixtures_smtp",
]

# The slowest end-to-end scenarios run on SQLite in `make test` and on PostgreSQL in .ci/run's
# `-m full` step (and the full crash trials): ~110 s of `make test` on two cores, for runs whose
# SQLite twins already exercise the same code paths on every change.
POSTGRES_IN_FULL_RUN = frozenset((
    "test_sigkill_at_random_moments_loses_nothing_and_doubles_nothing",
    "test_services_and_a_cron_poll_send_each_acknowledgement_once",
    "test_every_mail_goes_to_its_round_or_to_a_person",
    "test_a_reset_at_the_store_leaves_the_action_owed_then_done",
    "test_a_round_over_its_calendar",
))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        params = getattr(item, "callspec", None)
        if (isinstance(item, pytest.Function) and item.originalname in POSTGRES_IN_FULL_RUN
                and params is not None and params.params.get("db_url") == "postgresql"):
            item.add_marker(pytest.mark.full)
