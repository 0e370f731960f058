"""SMTP fixtures: a real aiosmtpd server on 127.0.0.1, one per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.embedded_smtp import CapturingSmtpServer


@pytest.fixture
def smtp_server() -> Iterator[CapturingSmtpServer]:
    """A started server; it records every accepted message and can be told to fail."""
    with CapturingSmtpServer() as server:
        yield server
