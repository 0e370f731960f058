"""A real SMTP server on 127.0.0.1 that keeps what it receives: for tests, the demo and benchmarks.

Real SMTP on loopback exercises smtplib, our error mapping and reconnects exactly as production
does; a mock would not. Faults (4xx/5xx answers, downtime) are injected on purpose.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
import warnings
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from mailer.smtp import SmtpSettings

__all__ = ["CapturedMail", "CapturingSmtpServer"]


@dataclass(frozen=True)
class CapturedMail:
    """One accepted message, exactly as the client sent it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    def parsed(self) -> EmailMessage:
        msg = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


class _PortController(Controller):
    """aiosmtpd's Controller, but port 0 works: it probes the port it actually got."""

    def _trigger_server(self) -> None:
        if self.port == 0 and isinstance(self.server, asyncio.Server):
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class _Handler:
    def __init__(self, owner: CapturingSmtpServer) -> None:
        self.owner = owner

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address.lower() in self.owner.refused_recipients:
            return "550 5.1.1 Không có hộp thư này"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return self.owner._accept(envelope)


class CapturingSmtpServer:
    """SMTP server in a background thread; `messages` is what it accepted, in order.

    With `username`, AUTH is offered and required over plain TCP (loopback only).
    """

    def __init__(
        self, *, username: str | None = None, password: str | None = None, port: int = 0
    ) -> None:
        self.host = "127.0.0.1"
        self.port = port
        self.username = username
        self.password = password
        self._cond = threading.Condition()
        self._messages: list[CapturedMail] = []
        self._refuse: list[tuple[int, str]] = []
        self.refused_recipients: set[str] = set()  # RCPT TO answered 550 (lower-case)
        self._controller: _PortController | None = None

    # -- lifecycle

    def start(self) -> None:
        """Start listening; after `stop()` the same port is reused, as a restarted MTA would."""
        if self._controller is not None:
            return
        kwargs: dict[str, Any] = {}
        if self.username is not None:
            # Loopback only, so AUTH over plain TCP is what we want; silence aiosmtpd's warning.
            warnings.filterwarnings(
                "ignore", message="Requiring AUTH while not requiring TLS", category=UserWarning
            )
            kwargs.update(
                authenticator=self._authenticate, auth_required=True, auth_require_tls=False
            )
        controller = _PortController(
            _Handler(self), hostname=self.host, port=self.port, ready_timeout=5.0, **kwargs
        )
        controller.start()
        self.port = int(controller.port)
        self._controller = controller

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> CapturingSmtpServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what tests use

    @property
    def messages(self) -> list[CapturedMail]:
        """A snapshot (a copy), safe to read while the server thread appends."""
        with self._cond:
            return list(self._messages)

    def settings(
        self, from_address: str = "noivu@example.vn", from_name: str = "Phòng Nội vụ"
    ) -> SmtpSettings:
        return SmtpSettings(
            host=self.host,
            port=self.port,
            security="plain",
            username=self.username,
            password=self.password,
            from_address=from_address,
            from_name=from_name,
            timeout=5.0,
        )

    def refuse_next(
        self, n: int, code: int = 451, text: str = "4.3.0 Tạm thời không nhận thư, thử lại sau"
    ) -> None:
        """Make the next `n` DATA commands answer `code text` instead of accepting."""
        with self._cond:
            self._refuse.extend([(code, text)] * n)

    def wait_for(self, count: int, timeout: float) -> list[CapturedMail]:
        """Block until at least `count` messages arrived; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"expected {count} messages within {timeout}s, got {len(self._messages)}"
                    )
                self._cond.wait(left)
            return list(self._messages)

    def clear(self) -> None:
        with self._cond:
            self._messages.clear()

    # -- server thread side

    def _accept(self, envelope: Any) -> str:
        with self._cond:
            if self._refuse:
                code, text = self._refuse.pop(0)
                return f"{code} {text}"
            raw = envelope.original_content or envelope.content or b""
            self._messages.append(
                CapturedMail(
                    mail_from=str(envelope.mail_from),
                    rcpt_tos=tuple(str(r) for r in envelope.rcpt_tos),
                    raw=bytes(raw),
                )
            )
            self._cond.notify_all()
        return "250 OK"

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode("utf-8", "replace") == self.username
            and auth_data.password.decode("utf-8", "replace") == (self.password or "")
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
