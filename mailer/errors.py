"""Errors raised by mailer/: one root, split by whether retrying can help.

Callers (the outbox, the inbox loop) decide between "retry with backoff" and "give up and record a
problem" from the class alone, never by parsing messages or SMTP codes.
"""

from __future__ import annotations


class MailerError(Exception):
    """Root of mailer errors."""


class TransientMailError(MailerError):
    """Raised when a retry later may succeed (connection refused/reset, timeout, 4xx)."""


class PermanentMailError(MailerError):
    """Raised when retrying cannot help (5xx, auth refused, bad address)."""


class SmtpConnectionError(TransientMailError):
    """Raised when the SMTP server cannot be reached or drops the connection.

    Distinct from a 4xx reply about one message: the outbox stops its run and postpones every
    queued mail at once instead of failing them one by one.
    """
