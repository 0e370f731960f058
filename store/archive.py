"""Content-addressed archive of raw files (the .eml as fetched, attachments).

A message is archived BEFORE it is parsed, so whatever intake later decides, the original
bytes can be shown, re-processed or handed to an auditor. Writes are atomic (temp file,
fsync, rename, fsync directory): after a crash a file is either whole or absent, never
truncated, and since the name is the content hash, writing it twice is harmless.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from store.errors import ArchiveError

__all__ = ["Archive"]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SUFFIX = re.compile(r"(\.[A-Za-z0-9_-]{1,16})?")


class Archive:
    """Files stored under `root/ab/cd/<sha256><suffix>`; two levels keep directories small."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha: str, suffix: str = ".eml") -> Path:
        """Where a file with this hash lives; validated so a key can never escape `root`."""
        if not _SHA256.fullmatch(sha):
            raise ValueError(f"not a lowercase sha256 hex digest: {sha!r}")
        if not _SUFFIX.fullmatch(suffix):
            raise ValueError(f"unsafe archive suffix: {suffix!r}")
        return self.root / sha[:2] / sha[2:4] / f"{sha}{suffix}"

    def exists(self, sha: str, suffix: str = ".eml") -> bool:
        return self.path(sha, suffix).is_file()

    def put(self, data: bytes, suffix: str = ".eml", *, durable: bool = True) -> str:
        """Store `data` and return its sha256 hex digest (the key to get it back).

        `durable=False` skips the fsyncs, for copies that can be rebuilt from a durable file
        (attachments are also inside their archived .eml).
        """
        sha = hashlib.sha256(data).hexdigest()
        dest = self.path(sha, suffix)
        if dest.is_file():
            return sha
        directory = dest.parent
        try:
            created = _make_dirs(directory)
            fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=suffix)
            try:
                with os.fdopen(fd, "wb") as tmp:
                    tmp.write(data)
                    tmp.flush()
                    if durable:
                        os.fsync(tmp.fileno())
                os.replace(tmp_name, dest)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)
                raise
            # The rename (and any new directories) are durable only once their parents are synced.
            if durable:
                for synced in {directory, *(made.parent for made in created)}:
                    _fsync_dir(synced)
        except OSError as exc:
            raise ArchiveError(
                f"Không lưu được tệp vào thư mục lưu trữ {directory}: {_reason(exc)}"
            ) from exc
        return sha

    def put_stream(self, chunks: Iterable[bytes], suffix: str = ".eml") -> str:
        """Store bytes that arrive in pieces (a large message fetched in parts), durably,
        without ever holding them whole; returns their sha256 as `put` does."""
        digest = hashlib.sha256()
        staging = self.root / "tmp"
        try:
            staging.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=staging, prefix=".stream-", suffix=suffix)
        except OSError as exc:
            raise ArchiveError(
                f"Không lưu được tệp vào thư mục lưu trữ {staging}: {_reason(exc)}") from exc
        try:
            with os.fdopen(fd, "wb") as tmp:
                for chunk in chunks:
                    digest.update(chunk)
                    tmp.write(chunk)
                tmp.flush()
                os.fsync(tmp.fileno())
            sha = digest.hexdigest()
            dest = self.path(sha, suffix)
            if not dest.is_file():
                created = _make_dirs(dest.parent)
                os.replace(tmp_name, dest)  # same filesystem: staging lives under root
                for synced in {dest.parent, *(made.parent for made in created)}:
                    _fsync_dir(synced)
        except OSError as exc:
            raise ArchiveError(
                f"Không lưu được tệp vào thư mục lưu trữ {self.root}: {_reason(exc)}") from exc
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
        return sha

    def get(self, sha: str, suffix: str = ".eml") -> bytes:
        """The stored bytes; checked against the hash so silent disk corruption is noticed."""
        path = self.path(sha, suffix)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ArchiveError(
                f"Không đọc được tệp {path.name} trong thư mục lưu trữ {path.parent}: "
                f"{_reason(exc)}"
            ) from exc
        if hashlib.sha256(data).hexdigest() != sha:
            raise ArchiveError(
                f"Tệp {path.name} trong thư mục lưu trữ {path.parent} đã bị hỏng "
                "(nội dung không khớp mã băm)"
            )
        return data


def _make_dirs(directory: Path) -> list[Path]:
    """mkdir -p, returning the directories it created (outermost first)."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    missing.reverse()
    for path in missing:
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            path.mkdir()
    return missing


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
