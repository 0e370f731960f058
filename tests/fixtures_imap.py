"""IMAP servers for tests: pymap always, Dovecot where it is installed (always in CI).

pymap takes ~0.3 s to start (Python imports) and Dovecot ~1.1 s to stop, while emptying a
mailbox over IMAP takes ~20 ms, so each server lives for a module (pymap) or the session
(Dovecot) and every test gets it back reset: INBOX empty, no other folders. UIDs therefore do
not restart at 1 or 101 between tests; tests must not assume them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from devtools.embedded_imap import (
    DovecotServer,
    ImapTestServer,
    PymapServer,
    dovecot_unavailable_reason,
)


@pytest.fixture(scope="module")
def _pymap_process() -> Iterator[PymapServer]:
    with PymapServer() as server:
        yield server


@pytest.fixture
def pymap_server(_pymap_process: PymapServer) -> PymapServer:
    """A running pymap with an empty INBOX (restarted if a previous test stopped it)."""
    if not _pymap_process.running:
        _pymap_process.start()
    _pymap_process.reset()
    return _pymap_process


@pytest.fixture(scope="session")
def _dovecot_process() -> Iterator[DovecotServer]:
    reason = dovecot_unavailable_reason()
    if reason is not None:
        if os.environ.get("BAOCAO_REQUIRE_DOVECOT") == "1":
            pytest.fail(f"BAOCAO_REQUIRE_DOVECOT=1 but {reason}")
        pytest.skip(reason)
    with DovecotServer() as server:
        yield server


@pytest.fixture
def dovecot_server(_dovecot_process: DovecotServer) -> DovecotServer:
    """A running Dovecot with an empty INBOX; UIDVALIDITY stays the same all session."""
    if not _dovecot_process.running:
        _dovecot_process.start()
    _dovecot_process.reset()
    return _dovecot_process


@pytest.fixture(params=["pymap", pytest.param("dovecot", marks=pytest.mark.dovecot)])
def imap_server(request: pytest.FixtureRequest) -> ImapTestServer:
    """Each test using this runs against both servers."""
    server: ImapTestServer = request.getfixturevalue(f"{request.param}_server")
    return server
