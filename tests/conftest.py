"""Shared fixtures: real servers on 127.0.0.1, one module per kind of server."""

pytest_plugins = [
    "tests.fixtures_db",
    "tests.fixtures_imap",
    "tests.fixtures_smtp",
]
