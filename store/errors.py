"""Errors raised by the store package.

One root (`StoreError`) so callers can contain any storage failure to the message being
handled; each subclass says when it is raised.
"""

from __future__ import annotations


class StoreError(Exception):
    """Raised when the store cannot do what was asked; the root of this package's errors."""


class ArchiveError(StoreError):
    """Raised when a raw file cannot be written to, or read back from, the file archive.

    Usually the disk is full or the directory is not writable; the message (Vietnamese)
    names the directory so an administrator can act on it.
    """


class DatabaseGone(StoreError):
    """Raised when the SQLite file in use was deleted or replaced by another file.

    Writing on would record submissions into a file nobody will ever open again (an unlinked
    inode), so the service stops loudly instead; the message (Vietnamese) names the file.
    """
