"""Read the shared IMAP inbox carefully: by UID, without side effects, with clear errors.

The processor keeps its own cursor (mailbox, UIDVALIDITY, next UID), so this module never relies on
\\Seen to know what is new: units' staff may open the shared inbox in a mail client at any time.
Fetching uses BODY.PEEK[] so reading never marks a message; only `apply_post_action` changes the
mailbox, and only as the office configured.

Every network failure becomes `InboxConnectionError` (transient: reconnect later) and a refused
login `InboxAuthError` (permanent: a person must fix the password), each naming host:port and what
to check, in Vietnamese, because the office's IT person reads them in the log.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
import socket
import ssl
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from mailer.errors import PermanentMailError, TransientMailError

log = logging.getLogger(__name__)

PostAction = str  # "none" | "seen" | "flag:<\\Flag or keyword>" | "move:<folder>"

Security = Literal["ssl", "starttls", "plain"]

_SYSTEM_FLAGS = ("\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft")
# RFC 3501 atom: no controls, space, ( ) { % * " \ ]
_KEYWORD = re.compile(r"^[^\x00-\x20\x7f(){%*\"\\\]]+$")
_FETCH_ITEMS = [b"BODY.PEEK[]", b"INTERNALDATE", b"RFC822.SIZE"]

T = TypeVar("T")


class InboxConnectionError(TransientMailError):
    """Raised when the server cannot be reached, times out, or drops the connection."""


class InboxAuthError(PermanentMailError):
    """Raised when the server refuses the username/password: retrying cannot help."""


class InboxCommandError(PermanentMailError):
    """Raised when the server answers NO/BAD to a command (missing mailbox, refused MOVE)."""


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
        ctx = ssl.create_default_context() if s.security != "plain" else None
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
        if isinstance(e, ssl.SSLError | ssl.CertificateError):
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

    def fetch(self, uids: Sequence[int]) -> Iterator[FetchedMessage]:
        """Yield messages in UID order, `batch_size` per round trip, without setting \\Seen."""
        client = self.client
        ordered = sorted(set(uids))
        size = self.settings.batch_size
        for start in range(0, len(ordered), size):
            batch = ordered[start : start + size]
            data = self._fetch_batch(client, batch)
            for uid in batch:
                item = data.get(uid)
                if item is None:
                    log.info("Thư UID %d không còn trong %s (có thể đã bị xóa).", uid, self._where)
                    continue
                message = self._to_message(uid, item)
                if message is not None:
                    yield message

    def _fetch_batch(self, client: IMAPClient, batch: list[int]) -> dict[int, dict[bytes, Any]]:
        result: dict[int, dict[bytes, Any]] = self._call(lambda: client.fetch(batch, _FETCH_ITEMS))
        return result

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
        elif when.tzinfo is None:  # INTERNALDATE always carries a zone; be safe anyway
            when = when.replace(tzinfo=UTC)
        size = item.get(b"RFC822.SIZE")
        return FetchedMessage(
            uid=uid,
            raw=raw,
            internaldate=when.astimezone(UTC),
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

    # -- waiting ----------------------------------------------------------------------------

    def supports_idle(self) -> bool:
        client = self.client
        return bool(self._call(lambda: client.has_capability("IDLE")))

    def idle_wait(
        self, timeout: float, should_stop: Callable[[], bool] | None = None
    ) -> bool:
        """IDLE until the server reports new mail (EXISTS/RECENT) or `timeout` seconds pass.

        Returns whether something arrived. `should_stop` is asked every second so a service
        being stopped does not wait out a 25-minute IDLE. Any failure inside IDLE leaves the
        connection in an unknown state (imapclient bug #519 splits lines), so it is reported as
        transient and the caller reconnects.
        """
        client = self.client
        arrived = False
        try:
            client.idle()
            deadline = time.monotonic() + timeout
            while not arrived:
                left = deadline - time.monotonic()
                if left <= 0 or (should_stop is not None and should_stop()):
                    break
                step = min(left, 1.0) if should_stop is not None else left
                arrived = _has_new_mail(client.idle_check(timeout=step))
            _, responses = client.idle_done()
            arrived = arrived or _has_new_mail(responses)
        except Exception as e:
            raise InboxConnectionError(
                f"Lỗi trong khi chờ thư mới (IDLE) trên máy chủ IMAP {self._where}: "
                f"{e or type(e).__name__}. Sẽ kết nối lại."
            ) from e
        return arrived


def _has_new_mail(responses: Sequence[Any]) -> bool:
    return any(
        isinstance(r, tuple) and len(r) >= 2 and r[1] in (b"EXISTS", b"RECENT") and r[0]
        for r in responses
    )
