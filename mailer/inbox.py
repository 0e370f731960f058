"""Read the shared IMAP inbox carefully: by UID, without side effects, with clear errors.

The processor keeps its own cursor (mailbox, UIDVALIDITY, next UID), so this module never relies on
\\Seen to know what is new: units' staff may open the shared inbox in a mail client at any time.
Fetching uses BODY.PEEK[] so reading never marks a message; only `apply_post_action` changes the
mailbox, and only as the office configured.

Every network failure becomes `InboxConnectionError` (transient: reconnect later) and a refused
login `InboxAuthError` (permanent: a person must fix the password), each naming host:port and what
to check, in Vietnamese, because the office's IT person reads them in the log.

Responses are read through `_Wire`, our own blocking reader under imaplib, rather than imaplib's
file object: imapclient's `idle_check` reads with the socket non-blocking and mistakes half a
line for a whole one when a response arrives in several TCP segments (imapclient bug #519), which
on a shared inbox (staff reading mail → `* N FETCH (FLAGS …)`) meant a reconnect for nothing.
IDLE here only asks the wire whether a response has started to arrive and then reads it whole.

Fetching is bounded in memory: sizes are learnt first, batches are capped in bytes as well as in
messages, and a message larger than `stream_bytes` is fetched alone in partial chunks that can go
straight to the caller's archive (`spool`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import imaplib
import io
import ipaddress
import logging
import re
import selectors
import socket
import ssl
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError
from imapclient.imapclient import _parse_untagged_response
from imapclient.response_parser import parse_response

from mailer.errors import PermanentMailError, TransientMailError
from mailer.message import as_utc
from mailer.tls import certificate_hint, client_context

IMAPLIB_LOGGER = "imapclient.imaplib"  # where imapclient sends imaplib's own debug lines

log = logging.getLogger(__name__)

PostAction = str  # "none" | "seen" | "flag:<\\Flag or keyword>" | "move:<folder>"

Security = Literal["ssl", "starttls", "plain"]

# Receives a large message's chunks as they arrive, writes them durably, and returns the whole
# message read back. It must let exceptions from the iterator propagate (discarding what it wrote):
# they mean the message vanished or the connection failed.
Spool = Callable[[Iterator[bytes]], bytes]

_SYSTEM_FLAGS = ("\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft")
# RFC 3501 atom: no controls, space, ( ) { % * " \ ]
_KEYWORD = re.compile(r"^[^\x00-\x20\x7f(){%*\"\\\]]+$")
_FETCH_ITEMS = [b"BODY.PEEK[]", b"INTERNALDATE"]  # RFC822.SIZE is known from the size probe
_SIZE_CHUNK = 500  # UIDs per `UID FETCH … (RFC822.SIZE)`: a few KB of command line
_MAX_LINE = 1_000_000  # imaplib's own limit for one response line
_RECV_BYTES = 64 * 1024
_COUNT_LINE = re.compile(rb"\* (\d+) (EXISTS|EXPUNGE)\r\n\Z", re.IGNORECASE)
_LITERAL = re.compile(rb"\{(\d+)\}\Z")  # a response line (CRLF removed) ending in a literal
_MIB = 1024 * 1024

T = TypeVar("T")


class InboxConnectionError(TransientMailError):
    """Raised when the server cannot be reached, times out, or drops the connection."""


class InboxAuthError(PermanentMailError):
    """Raised when the server refuses the username/password: retrying cannot help."""


class InboxCommandError(PermanentMailError):
    """Raised when the server answers NO/BAD to a command (missing mailbox, refused MOVE)."""


class _Gone(Exception):
    """A message being streamed was expunged meanwhile."""


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    security: Security
    username: str
    password: str
    mailbox: str = "INBOX"
    timeout: float = 30.0
    batch_size: int = 25
    batch_bytes: int = 16 * _MIB  # a batch stops growing at this many bytes of messages
    stream_bytes: int = 8 * _MIB  # larger messages are fetched alone, in chunks
    chunk_bytes: int = 4 * _MIB  # one partial fetch of such a message
    # PEM of the office's internal CA: trusted instead of the system store (hostname still checked)
    ca_file: Path | None = None
    # Where copies of sent mail go: "auto" (the folder flagged \Sent), "" (none) or a name.
    sent_folder: str = "auto"

    def __repr__(self) -> str:  # keep the password out of logs and tracebacks
        return (
            f"ImapSettings(host={self.host!r}, port={self.port}, security={self.security!r}, "
            f"username={self.username!r}, mailbox={self.mailbox!r})"
        )


@dataclass(frozen=True)
class MailboxStatus:
    uidvalidity: int
    uidnext: int | None
    exists: int


@dataclass(frozen=True)
class FetchedMessage:
    uid: int
    raw: bytes
    internaldate: datetime  # aware, UTC
    size: int


class _Wire:
    """imaplib's `read`/`readline`, served from our own buffer over the connection's socket.

    Reads always block (within the socket timeout) until what was asked for is complete, so a
    response split across TCP segments is never mistaken for a short one. Waiting for news in
    IDLE only asks `ready()`, which consumes nothing. Every response line passes through
    `readline` in order, whichever command reads it, so this is also where a growing message count
    (`* N EXISTS`, less `* N EXPUNGE`) is noticed: imaplib files untagged responses by name and
    loses their order.
    """

    def __init__(self, imap: Any, buffered: bytes = b"") -> None:
        self._imap = imap
        self._sock: socket.socket = imap.sock
        self._buf = bytearray(buffered)
        self._scanned = 0  # the first _scanned bytes of _buf hold no b"\n"
        self._chunk = bytearray(_RECV_BYTES)
        self._after_literal = False
        self.messages: int | None = None  # the count as this connection was last told it
        self.grew = False

    @classmethod
    def install(cls, imap: Any) -> _Wire:
        """Take over imaplib's reads, keeping anything its own buffer already holds."""
        wire = cls(imap, _leftover(imap))
        # `read` and `readline` are imaplib's documented override points (IMAP4.file, used by
        # the originals, became read-only in Python 3.14).
        imap.read = wire.read
        imap.readline = wire.readline
        return wire

    def _socket(self) -> socket.socket:
        sock: socket.socket = self._imap.sock
        if sock is not self._sock:
            # STARTTLS wrapped the socket: bytes read before it arrived unencrypted and could
            # have been injected by anyone on the path.
            if self._buf:
                raise imaplib.IMAP4.abort("dữ liệu không mã hóa nhận được sau STARTTLS")
            self._sock = sock
        return sock

    def _recv(self) -> int:
        with memoryview(self._chunk) as view:
            n = self._socket().recv_into(view)
            self._buf += view[:n]
        return n

    def readline(self) -> bytes:
        """One line including its CRLF, or what is left at EOF (imaplib reports both)."""
        self._socket()
        while (end := self._buf.find(b"\n", self._scanned)) < 0:
            self._scanned = len(self._buf)
            if self._scanned > _MAX_LINE:
                raise imaplib.IMAP4.error(f"got more than {_MAX_LINE} bytes")
            if not self._recv():
                line = bytes(self._buf)
                self._buf.clear()
                self._scanned = 0
                return line
        line = bytes(self._buf[: end + 1])
        del self._buf[: end + 1]  # CPython trims a bytearray's head in O(1)
        self._scanned = 0
        self._observe(line)
        return line

    def read(self, size: int) -> bytes:
        """Exactly `size` bytes (a literal); EOF before that is an error, not a short read."""
        sock = self._socket()
        have = len(self._buf)
        self._scanned = 0
        if have >= size:
            data = bytes(self._buf[:size])
            del self._buf[:size]
            return data
        # Receive straight into the result. A BytesIO made from a fresh bytes object writes into
        # it in place and getvalue() hands it back, so a large literal exists once in memory
        # (a bytearray would need a second copy to become bytes).
        out = io.BytesIO(bytes(size))
        with out.getbuffer() as view:
            view[:have] = self._buf
            self._buf.clear()
            while have < size:
                n = sock.recv_into(view[have:])
                if not n:
                    raise imaplib.IMAP4.abort("socket error: EOF")
                have += n
        return out.getvalue()

    def ready(self, timeout: float) -> bool:
        """Whether a response has started to arrive, waiting up to `timeout` seconds."""
        if self._buf:
            return True
        sock = self._socket()
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True  # decrypted already, so select() would not see it
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            return bool(selector.select(timeout))

    def take_growth(self) -> bool:
        """Whether the message count grew since the last call."""
        grew, self.grew = self.grew, False
        return grew

    def _observe(self, line: bytes) -> None:
        after_literal = self._after_literal
        self._after_literal = line.endswith(b"}\r\n") and bool(
            _LITERAL.search(line, 0, len(line) - 2)
        )
        if after_literal:
            return  # the rest of a response, after a literal: data, whatever it looks like
        counted = _COUNT_LINE.match(line)
        if counted is None:
            return
        n = int(counted.group(1))
        if counted.group(2).upper() == b"EXPUNGE":
            if self.messages:
                self.messages -= 1
        else:
            if self.messages is not None and n > self.messages:
                self.grew = True
            self.messages = n


def _leftover(imap: Any) -> bytes:
    """Bytes imaplib's buffered file read past the greeting (normally none), without blocking."""
    file = vars(imap).get("file")
    if not isinstance(file, io.BufferedReader):
        return b""
    sock: socket.socket = imap.sock
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        data = file.peek()  # one non-blocking read at most
        return file.read(len(data)) if data else b""
    except OSError:  # nothing there (TLS reports it as an error)
        return b""
    finally:
        sock.settimeout(timeout)


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: the only hosts where a plain connection is safe."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def validate_settings(settings: ImapSettings) -> None:
    """Raise ValueError (Vietnamese) for settings that must never be used.

    Separate from the dataclass so the config loader can collect it with its other errors.
    """
    if settings.security not in ("ssl", "starttls", "plain"):
        raise ValueError(
            f"Kiểu bảo mật IMAP {settings.security!r} không hợp lệ: "
            "cần 'ssl', 'starttls' hoặc 'plain'."
        )
    if settings.security == "plain" and not is_loopback(settings.host):
        raise ValueError(
            f"Không được kết nối IMAP không mã hóa tới {settings.host}: mật khẩu sẽ đi qua mạng "
            "ở dạng rõ. Hãy dùng security = 'ssl' (cổng 993) hoặc 'starttls' (cổng 143); "
            "'plain' chỉ dùng cho máy chủ thử nghiệm trên chính máy này (127.0.0.1)."
        )
    if not 1 <= settings.port <= 65535:
        raise ValueError(f"Cổng IMAP {settings.port} không hợp lệ (cần 1–65535).")
    if settings.batch_size < 1 or settings.timeout <= 0:
        raise ValueError("batch_size phải ≥ 1 và timeout phải > 0.")
    for name in ("batch_bytes", "stream_bytes", "chunk_bytes"):
        if getattr(settings, name) <= 0:
            raise ValueError(f"{name} phải > 0 (đang là {getattr(settings, name)}).")


def parse_post_action(action: PostAction) -> tuple[str, str]:
    """Split and check a post action: ("none"|"seen"|"flag"|"move", argument).

    Raises ValueError (Vietnamese) so a typo in the config fails before any mail is touched.
    Folder names are NFC-normalised: Vietnamese typed with combining marks must name the same
    folder as the precomposed spelling.
    """
    kind, _, arg = action.partition(":")
    kind = kind.strip().lower()
    arg = arg.strip()
    if kind in ("none", "seen") and not arg:
        return kind, ""
    if kind == "flag" and arg:
        system = {f.lower(): f for f in _SYSTEM_FLAGS}
        if arg.startswith("\\"):
            if arg.lower() in system:
                return kind, system[arg.lower()]
        elif _KEYWORD.match(arg):
            return kind, arg
        raise ValueError(
            f"Cờ {arg!r} không hợp lệ: dùng một cờ hệ thống ({', '.join(_SYSTEM_FLAGS)}) "
            "hoặc một từ khóa không có dấu cách, ví dụ '$DaXuLy'."
        )
    if kind == "move" and arg:
        return kind, unicodedata.normalize("NFC", arg)
    raise ValueError(
        f"Hành động sau khi đọc thư {action!r} không hợp lệ: cần 'none', 'seen', "
        "'flag:<cờ>' hoặc 'move:<thư mục>'."
    )


class Inbox:
    """One IMAP connection to one mailbox; use as a context manager.

    The mailbox is selected read-write so post actions work, but nothing here changes a message
    unless `apply_post_action` is called.
    """

    def __init__(self, settings: ImapSettings) -> None:
        validate_settings(settings)
        self.settings = settings
        self._client: IMAPClient | None = None
        self._wire: _Wire | None = None
        self._status: MailboxStatus | None = None
        self._known_folders: set[str] = set()

    # -- connection -------------------------------------------------------------------------

    @property
    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def __enter__(self) -> Inbox:
        try:
            self._connect()
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._close()

    def _connect(self) -> None:
        s = self.settings
        ctx = client_context(s.ca_file) if s.security != "plain" else None
        try:
            client = IMAPClient(
                s.host,
                port=s.port,
                ssl=s.security == "ssl",
                ssl_context=ctx if s.security == "ssl" else None,
                timeout=s.timeout,
            )
        except (OSError, IMAPClientError) as e:
            raise self._connection_error(e) from e
        self._client = client
        # imapclient sets imaplib's debug level to 5 and sends its messages to a logger, so
        # imaplib formats every response with %r (a 100 KB message's repr) for a logger that
        # then drops it: ~85 % of fetching a backlog here. Kept only when someone listens.
        if not logging.getLogger(IMAPLIB_LOGGER).isEnabledFor(logging.DEBUG):
            client._imap.debug = 0
        self._wire = _Wire.install(client._imap)
        self._nodelay()
        if s.security == "starttls":
            self._call(lambda: client.starttls(ctx))
            self._nodelay()
        try:
            client.login(s.username, s.password)
        except LoginError as e:
            if isinstance(e.__context__, IMAPClientAbortError):  # imapclient wraps a dropped
                raise self._connection_error(e.__context__) from e  # connection as LoginError
            text = str(e)
            if "UNAVAILABLE" in text.upper():  # RFC 5530: server-side trouble, try later
                raise InboxConnectionError(
                    f"Máy chủ IMAP {self._where} tạm thời không cho đăng nhập ({text}). "
                    "Sẽ thử lại sau."
                ) from e
            raise InboxAuthError(
                f"Máy chủ IMAP {self._where} từ chối đăng nhập tài khoản {s.username!r}: "
                f"{text}. Kiểm tra tên đăng nhập, mật khẩu (hoặc mật khẩu ứng dụng) và việc "
                "bật IMAP trong cài đặt hộp thư."
            ) from e
        except (OSError, IMAPClientAbortError) as e:
            raise self._connection_error(e) from e
        client.normalise_times = False  # keep INTERNALDATE's zone; we convert to UTC ourselves
        response = self._call(lambda: client.select_folder(s.mailbox, readonly=False))
        self._status = MailboxStatus(
            uidvalidity=int(response[b"UIDVALIDITY"]),
            uidnext=int(response[b"UIDNEXT"]) if b"UIDNEXT" in response else None,
            exists=int(response.get(b"EXISTS", 0)),
        )

    def _nodelay(self) -> None:
        # imapclient writes a command in two send() calls; with Nagle + delayed ACK each command
        # then waits ~40 ms for the server's ACK.
        assert self._client is not None
        try:
            self._client._imap.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (AttributeError, OSError) as e:
            log.debug("Không đặt được TCP_NODELAY cho %s: %s", self._where, e)

    def _close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # the connection may already be gone; exit must never raise
            with contextlib.suppress(Exception):
                client.shutdown()

    def _connection_error(self, e: BaseException) -> InboxConnectionError:
        if isinstance(e, ssl.SSLCertVerificationError):
            hint = certificate_hint(e, "imap", self.settings.ca_file)
        elif isinstance(e, ssl.SSLError | ssl.CertificateError):
            hint = "kiểm tra chứng chỉ của máy chủ và kiểu bảo mật (ssl/starttls) đã cấu hình"
        elif isinstance(e, TimeoutError | socket.timeout):
            hint = (
                f"máy chủ không trả lời sau {self.settings.timeout:g} giây; kiểm tra mạng, "
                "tường lửa và cổng"
            )
        elif isinstance(e, socket.gaierror):
            hint = "không tìm thấy tên máy chủ; kiểm tra lại địa chỉ và DNS"
        elif isinstance(e, ConnectionRefusedError):
            hint = "máy chủ từ chối kết nối; kiểm tra cổng và máy chủ thư có đang chạy không"
        else:
            hint = "kiểm tra mạng, địa chỉ, cổng và kiểu bảo mật của máy chủ thư"
        return InboxConnectionError(
            f"Lỗi kết nối tới máy chủ IMAP {self._where}: {e or type(e).__name__}. Gợi ý: {hint}."
        )

    def _call(self, fn: Callable[[], T]) -> T:
        """Run one imapclient call, translating its exceptions into ours."""
        if self._client is None:
            raise InboxConnectionError(f"Chưa kết nối tới máy chủ IMAP {self._where}.")
        try:
            return fn()
        except (OSError, IMAPClientAbortError) as e:
            raise self._connection_error(e) from e
        except IMAPClientError as e:
            raise InboxCommandError(
                f"Máy chủ IMAP {self._where} từ chối lệnh trên hộp thư "
                f"{self.settings.mailbox!r}: {e}"
            ) from e

    @property
    def client(self) -> IMAPClient:
        """The underlying imapclient connection, for tools and benchmarks."""
        if self._client is None:
            raise InboxConnectionError(f"Chưa kết nối tới máy chủ IMAP {self._where}.")
        return self._client

    # -- reading ----------------------------------------------------------------------------

    def status(self) -> MailboxStatus:
        """UIDVALIDITY, UIDNEXT and EXISTS as reported when the mailbox was selected."""
        if self._status is None:
            raise InboxConnectionError(f"Chưa kết nối tới máy chủ IMAP {self._where}.")
        return self._status

    def uids_from(self, first_uid: int) -> list[int]:
        """UIDs >= first_uid, ascending.

        `UID SEARCH UID n:*` always matches the highest UID, even when it is below n (RFC 3501:
        "*" is the largest UID in use), so the result is filtered here.
        """
        first = max(1, first_uid)
        client = self.client
        found = self._call(lambda: client.search(["UID", f"{first}:*"]))
        return sorted(int(u) for u in found if int(u) >= first)

    def fetch(self, uids: Sequence[int], spool: Spool | None = None) -> Iterator[FetchedMessage]:
        """Yield messages in ascending UID order, without setting \\Seen, in bounded memory.

        Sizes come first (cheap), so a batch holds at most `batch_size` messages and about
        `batch_bytes` bytes, and a message over `stream_bytes` is fetched alone in `chunk_bytes`
        pieces: handed to `spool` as they arrive when one is given, joined here otherwise. UIDs
        that are gone (deleted meanwhile) are logged and skipped.
        """
        client = self.client
        ordered = sorted(set(uids))
        for start in range(0, len(ordered), _SIZE_CHUNK):
            pending = ordered[start : start + _SIZE_CHUNK]
            sizes = self._sizes(client, pending)
            for uid in pending:
                if uid not in sizes:
                    self._gone(uid)
            for streamed, batch in _plan(pending, sizes, self.settings):
                # Sub-generators, so that no local here keeps a yielded message alive while the
                # next one is being fetched.
                if streamed:
                    yield from self._fetch_streamed(client, batch[0], spool)
                else:
                    yield from self._fetch_batch(client, batch, sizes)

    def peek(self, uids: Sequence[int], names: Sequence[str]
             ) -> dict[int, tuple[bytes, datetime | None]]:
        """Those header fields' raw lines and the INTERNALDATE (UTC) of each message, without
        its body (`BODY.PEEK[HEADER.FIELDS (…)]`: nothing is marked seen); gone UIDs are
        absent."""
        client = self.client
        item = f"BODY.PEEK[HEADER.FIELDS ({' '.join(names)})]".encode("ascii")
        found: dict[int, tuple[bytes, datetime | None]] = {}
        ordered = sorted(set(uids))
        for start in range(0, len(ordered), _SIZE_CHUNK):
            chunk = ordered[start : start + _SIZE_CHUNK]
            data: dict[int, dict[bytes, Any]] = self._call(
                functools.partial(client.fetch, chunk, [item, b"INTERNALDATE"]))
            for uid, values in data.items():
                head = next((v for k, v in values.items()
                             if k.startswith(b"BODY[HEADER") and isinstance(v, bytes)), None)
                when = values.get(b"INTERNALDATE")
                if head is not None:
                    found[int(uid)] = (head, as_utc(when) if isinstance(when, datetime) else None)
        return found

    def _gone(self, uid: int) -> None:
        log.info("Thư UID %d không còn trong %s (có thể đã bị xóa).", uid, self._where)

    def _sizes(self, client: IMAPClient, uids: list[int]) -> dict[int, int]:
        data: dict[int, dict[bytes, Any]] = self._call(
            lambda: client.fetch(uids, [b"RFC822.SIZE"])
        )
        sizes: dict[int, int] = {}
        for uid in uids:
            if uid in data:
                size = data[uid].get(b"RFC822.SIZE")
                # Unknown size: stream it, which is safe whatever it turns out to be.
                sizes[uid] = size if isinstance(size, int) else self.settings.stream_bytes + 1
        return sizes

    def _fetch_batch(
        self, client: IMAPClient, batch: list[int], sizes: dict[int, int]
    ) -> Iterator[FetchedMessage]:
        data: dict[int, dict[bytes, Any]] = self._call(lambda: client.fetch(batch, _FETCH_ITEMS))
        for uid in batch:
            item = data.pop(uid, None)
            if item is None:
                self._gone(uid)
                continue
            message = self._to_message(uid, {b"RFC822.SIZE": sizes[uid], **item})
            if message is not None:
                yield message

    def _fetch_streamed(
        self, client: IMAPClient, uid: int, spool: Spool | None
    ) -> Iterator[FetchedMessage]:
        head: dict[bytes, Any] | None = self._call(
            lambda: client.fetch([uid], [b"INTERNALDATE", b"RFC822.SIZE"])
        ).get(uid)
        if head is None:
            self._gone(uid)
            return
        chunks = self._chunks(client, uid)
        try:
            if spool is not None:
                raw = self._spooled(uid, chunks, spool)
            else:
                size = head.get(b"RFC822.SIZE")
                raw = _join(chunks, size if isinstance(size, int) else 0)
        except _Gone:
            self._gone(uid)
            return
        message = self._to_message(uid, {**head, b"BODY[]": raw})
        if message is not None:
            yield message

    def _chunks(self, client: IMAPClient, uid: int) -> Iterator[bytes]:
        """The message in `chunk_bytes` pieces, ending at the first short one: RFC822.SIZE is
        only used as an estimate, so a size that disagrees with the body cannot truncate it."""
        step = self.settings.chunk_bytes
        offset = 0
        while True:
            data = self._fetch_part(client, uid, offset, step)
            if data is None:
                raise _Gone(uid)
            if data:
                yield data
            offset += len(data)
            if len(data) < step:
                return

    def _fetch_part(self, client: IMAPClient, uid: int, offset: int, length: int) -> bytes | None:
        item = f"BODY.PEEK[]<{offset}.{length}>".encode("ascii")
        result: dict[int, dict[bytes, Any]] = self._call(lambda: client.fetch([uid], [item]))
        for key, value in result.get(uid, {}).items():
            if key.startswith(b"BODY[]<") and isinstance(value, bytes):
                return value
        return None

    def _spooled(self, uid: int, chunks: Iterator[bytes], spool: Spool) -> bytes:
        """Run `spool`, then check that what it read back is exactly what the server sent."""
        digest = hashlib.sha256()
        streamed = 0
        finished = False

        def tee() -> Iterator[bytes]:
            nonlocal streamed, finished
            for chunk in chunks:
                digest.update(chunk)
                streamed += len(chunk)
                yield chunk
            finished = True

        raw = spool(tee())
        if not finished or len(raw) != streamed or hashlib.sha256(raw).digest() != digest.digest():
            raise OSError(
                f"Bản lưu thư UID {uid} ({len(raw)} byte) không khớp với nội dung máy chủ IMAP "
                f"{self._where} gửi ({streamed} byte{'' if finished else ', chưa hết'})."
            )
        return raw

    def _to_message(self, uid: int, item: dict[bytes, Any]) -> FetchedMessage | None:
        raw = item.get(b"BODY[]")
        if not isinstance(raw, bytes):
            log.warning(
                "Máy chủ IMAP %s trả về thư UID %d không có nội dung; bỏ qua lần này.",
                self._where,
                uid,
            )
            return None
        when = item.get(b"INTERNALDATE")
        if not isinstance(when, datetime):
            log.warning("Thư UID %d không có INTERNALDATE; dùng giờ hiện tại.", uid)
            when = datetime.now(UTC)
        size = item.get(b"RFC822.SIZE")
        return FetchedMessage(
            uid=uid,
            raw=raw,
            internaldate=as_utc(when),
            size=int(size) if isinstance(size, int) else len(raw),
        )

    # -- changing ---------------------------------------------------------------------------

    def apply_post_action(self, uid: int, action: PostAction) -> None:
        """Mark or move one processed message as the office configured."""
        kind, arg = parse_post_action(action)
        client = self.client
        if kind == "none":
            return
        if kind == "seen":
            self._call(lambda: client.add_flags([uid], [b"\\Seen"], silent=True))
        elif kind == "flag":
            self._call(lambda: client.add_flags([uid], [arg.encode("ascii")], silent=True))
        else:
            self._move(uid, arg)

    def _move(self, uid: int, folder: str) -> None:
        client = self.client
        self._ensure_folder(folder)
        if self._call(lambda: client.has_capability("MOVE")):
            self._call(lambda: client.move([uid], folder))
            return
        self._call(lambda: client.copy([uid], folder))
        self._call(lambda: client.add_flags([uid], [b"\\Deleted"], silent=True))
        if self._call(lambda: client.has_capability("UIDPLUS")):
            self._call(lambda: client.uid_expunge([uid]))
        else:
            # A plain EXPUNGE would also remove messages other people marked \Deleted in the
            # shared inbox; leave ours marked and let the mail client purge them.
            log.info(
                "Máy chủ %s không hỗ trợ UIDPLUS: thư UID %d đã chép sang %r và đánh dấu xóa.",
                self._where,
                uid,
                folder,
            )

    def _ensure_folder(self, folder: str) -> None:
        if folder in self._known_folders:
            return
        client = self.client
        if not self._call(lambda: client.folder_exists(folder)):
            try:
                self._call(lambda: client.create_folder(folder))
                log.info("Đã tạo thư mục %r trên %s.", folder, self._where)
            except InboxCommandError:
                # Another instance may have created it in the meantime.
                if not self._call(lambda: client.folder_exists(folder)):
                    raise
        self._known_folders.add(folder)

    # -- copies of sent mail ----------------------------------------------------------------

    def find_sent_folder(self) -> str | None:
        """The folder the server flags \\Sent (RFC 6154), or None: names are never guessed."""
        client = self.client
        for flags, _delimiter, name in self._call(lambda: client.list_folders()):
            if any(bytes(f).lower() == b"\\sent" for f in flags):
                return str(name)
        return None

    def has_message_id(self, folder: str, message_id: str) -> bool:
        """Whether `folder` holds a message with this Message-ID (selects it read-only)."""
        client = self.client
        self._ensure_folder(folder)
        self._call(lambda: client.select_folder(folder, readonly=True))
        found = self._call(lambda: client.search(["HEADER", "Message-ID", message_id]))
        return bool(found)

    def append_copy(self, folder: str, raw: bytes, when: datetime) -> None:
        """Store a copy of a sent message in `folder`, already read, dated when it was sent."""
        client = self.client
        self._ensure_folder(folder)
        self._call(lambda: client.append(folder, raw, flags=(b"\\Seen",), msg_time=when))

    # -- waiting ----------------------------------------------------------------------------

    def supports_idle(self) -> bool:
        client = self.client
        return bool(self._call(lambda: client.has_capability("IDLE")))

    def idle_wait(
        self, timeout: float, should_stop: Callable[[], bool] | None = None
    ) -> bool:
        """IDLE until the server reports new mail or `timeout` seconds pass.

        Returns whether the message count grew (`* N EXISTS` above the count this connection
        knew). Mail that arrived while the connection was not idling counts too: a NOOP first
        collects what the server held back, and the wire has seen every EXISTS that other
        commands read. Flag changes, `* OK Still here` and expunges are read and ignored (both
        test servers follow an expunge with a non-zero `* N RECENT`, so RECENT is not news).
        `should_stop` is asked at least every second so a service being stopped does not wait out
        a 25-minute IDLE. Any failure is reported as transient and the caller reconnects.
        """
        client = self.client
        wire = self._wire
        assert wire is not None
        try:
            self._exchange(client, "NOOP")
            if wire.take_growth():
                return True
            self._idle(client, wire, timeout, should_stop)
        except Exception as e:
            raise InboxConnectionError(
                f"Lỗi trong khi chờ thư mới (IDLE) trên máy chủ IMAP {self._where}: "
                f"{e or type(e).__name__}. Sẽ kết nối lại."
            ) from e
        return wire.take_growth()

    def _idle(
        self,
        client: IMAPClient,
        wire: _Wire,
        timeout: float,
        should_stop: Callable[[], bool] | None,
    ) -> None:
        imap = client._imap
        tag: bytes = imap._command("IDLE")
        try:
            while (kind := self._response(imap, tag)) == "untagged":
                pass  # updates may come before the server's "+ idling"
            if kind == "tagged":  # refused (NO/BAD raised already) or over at once
                return
            log.debug("Đang chờ thư mới (IDLE) trên %s.", self._where)
            deadline = time.monotonic() + timeout
            while not wire.grew:
                left = deadline - time.monotonic()
                if left <= 0 or (should_stop is not None and should_stop()):
                    break
                if wire.ready(min(left, 1.0)) and self._response(imap, tag) == "tagged":
                    return  # the server ended IDLE itself; DONE now would be a bad command
            imap.send(b"DONE\r\n")
            while self._response(imap, tag) != "tagged":
                pass
        finally:
            imap.tagged_commands.pop(tag, None)

    def _exchange(self, client: IMAPClient, command: str) -> None:
        """Run a command with no arguments, reading its responses through `_response`."""
        imap = client._imap
        tag: bytes = imap._command(command)
        try:
            while self._response(imap, tag) != "tagged":
                pass
        finally:
            imap.tagged_commands.pop(tag, None)

    def _response(self, imap: Any, tag: bytes) -> Literal["tagged", "untagged", "continuation"]:
        """Read one whole response, literals included, and say what it was.

        Read here rather than by imaplib so that unsolicited updates are not filed away in its
        `untagged_responses` (which only a SELECT empties) for as long as the connection lives.
        A tagged NO/BAD raises; so does `* BYE`, since the server is about to close.
        """
        line: bytes = imap._get_line()  # raises on EOF or a line cut short
        if line.startswith(tag + b" "):
            status = line[len(tag) + 1 :]
            if not status.upper().startswith(b"OK"):
                raise IMAPClientError(status.decode("utf-8", "replace"))
            return "tagged"
        if line.startswith(b"+"):
            return "continuation"
        records: list[Any] = []
        while (literal := _LITERAL.search(line)) is not None:
            records.append((line, imap.read(int(literal.group(1)))))
            line = imap._get_line()
        first = records[0][0] if records else line
        if first.startswith(b"* BYE"):
            raise IMAPClientAbortError(first.decode("utf-8", "replace"))
        if log.isEnabledFor(logging.DEBUG):
            log.debug("IMAP %s báo: %.200r", self._where, _parse_update(records, line))
        return "untagged"


def _parse_update(records: list[Any], line: bytes) -> Any:
    """An untagged response as imapclient parses it, or raw if it cannot (only ever logged:
    the response was framed correctly, so the connection is fine either way)."""
    try:
        if not records:
            return _parse_untagged_response(line)
        (first, data), rest = records[0], records[1:]
        return parse_response([(first[2:], data), *rest, line])
    except (IMAPClientError, ValueError):
        return line


def _plan(
    uids: Iterable[int], sizes: dict[int, int], settings: ImapSettings
) -> Iterator[tuple[bool, list[int]]]:
    """Split UIDs (in order) into batches: (True, [uid]) for a message to stream alone, else
    (False, uids) bounded by `batch_size` messages and, unless it is one message, `batch_bytes`.
    UIDs without a size are gone and left out."""
    batch: list[int] = []
    total = 0
    for uid in uids:
        if uid not in sizes:
            continue
        size = sizes[uid]
        if size > settings.stream_bytes:
            if batch:
                yield False, batch
                batch, total = [], 0
            yield True, [uid]
            continue
        if batch and (len(batch) >= settings.batch_size or total + size > settings.batch_bytes):
            yield False, batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield False, batch


def _join(chunks: Iterable[bytes], size_hint: int) -> bytes:
    """The chunks as one bytes object, holding little more than the message at the peak.

    A BytesIO made from a fresh bytes object of the announced size is written in place and
    handed back by getvalue() (trimmed, or grown if the size was wrong); b"".join(list) would
    hold the pieces and the result at once.
    """
    out = io.BytesIO(bytes(max(0, size_hint)))
    for chunk in chunks:
        out.write(chunk)
    out.truncate()
    return out.getvalue()
