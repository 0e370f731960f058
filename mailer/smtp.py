"""SMTP delivery of built messages, with every failure sorted into transient or permanent.

The outbox retries `TransientMailError` with backoff and records `PermanentMailError` as a problem;
it never needs to look at smtplib's exceptions or reply codes itself.
"""

from __future__ import annotations

import base64
import ipaddress
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from types import TracebackType
from typing import Literal

from mailer.errors import PermanentMailError, SmtpConnectionError, TransientMailError
from mailer.tls import certificate_hint, client_context

__all__ = ["SmtpSender", "SmtpSettings"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    """Where and as whom we send; built once from the config file."""

    host: str
    port: int
    security: Literal["ssl", "starttls", "plain"]
    username: str | None
    password: str | None = field(repr=False)
    from_address: str
    from_name: str
    timeout: float = 30.0
    # PEM of the office's internal CA: trusted instead of the system store (hostname still checked)
    ca_file: Path | None = None
    # Every mail also goes to this address, in the envelope only (a Bcc no recipient sees): the
    # copy for staff where the shared mailbox has no Sent folder to APPEND to.
    copy_to: str | None = None


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _classify(code: int, text: object) -> TransientMailError | PermanentMailError:
    detail = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    message = f"SMTP {code}: {detail}"
    return TransientMailError(message) if 400 <= code < 500 else PermanentMailError(message)


def _login(conn: smtplib.SMTP, username: str, password: str) -> None:
    if username.isascii() and password.isascii():
        conn.login(username, password)
        return
    # smtplib encodes credentials as ASCII; RFC 4616 AUTH PLAIN carries UTF-8, which is how a
    # Vietnamese password reaches the server.
    token = b"\0" + username.encode("utf-8") + b"\0" + password.encode("utf-8")
    code, resp = conn.docmd("AUTH", "PLAIN " + base64.b64encode(token).decode("ascii"))
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, resp)


class SmtpSender:
    """Holds one SMTP connection for a batch of sends (a context manager).

    A connection idle between outbox runs is often dropped by the server; `send` checks it with
    NOOP and reconnects rather than failing the first message of every batch.
    """

    def __init__(self, settings: SmtpSettings) -> None:
        if settings.security == "plain" and not _is_loopback(settings.host):
            raise ValueError(
                "Chỉ được gửi thư không mã hóa (plain) tới máy chủ trên chính máy này "
                f"(127.0.0.1/localhost), không phải “{settings.host}”; hãy dùng ssl hoặc starttls."
            )
        self.settings = settings
        self._conn: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = client_context(s.ca_file)
        conn: smtplib.SMTP
        if s.security == "ssl":
            conn = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            conn.ehlo()
            if s.security == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
            if s.username:
                _login(conn, s.username, s.password or "")
        except BaseException:
            conn.close()
            raise
        return conn

    def _connection(self) -> smtplib.SMTP:
        if self._conn is not None:
            try:
                if self._conn.noop()[0] == 250:
                    return self._conn
            except (smtplib.SMTPException, OSError):
                pass
            self._conn.close()
            self._conn = None
        self._conn = self._connect()
        return self._conn

    def send(self, msg: EmailMessage) -> None:
        """Send to To/Cc/Bcc with envelope-from `settings.from_address`.

        Raises TransientMailError (connection trouble, timeouts, 4xx) or PermanentMailError
        (5xx, refused login, no usable recipient).
        """
        fields = [str(v) for key in ("To", "Cc", "Bcc") for v in (msg.get_all(key) or [])]
        recipients = [addr for _name, addr in getaddresses(fields) if "@" in addr]
        if not recipients:
            raise PermanentMailError("Thư không có địa chỉ người nhận hợp lệ.")
        copy = self.settings.copy_to
        if copy and copy.lower() not in {r.lower() for r in recipients}:
            recipients.append(copy)
        try:
            conn = self._connection()
            refused = conn.send_message(msg, self.settings.from_address, recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _text in exc.recipients.values()]
            details = "; ".join(f"{rcpt}: {c} {t!r}" for rcpt, (c, t) in exc.recipients.items())
            if codes and all(code >= 500 for code in codes):
                raise PermanentMailError(f"Người nhận bị từ chối: {details}") from exc
            raise TransientMailError(f"Người nhận tạm thời bị từ chối: {details}") from exc
        except smtplib.SMTPServerDisconnected as exc:
            self._drop()
            raise SmtpConnectionError(f"Máy chủ SMTP ngắt kết nối: {exc}") from exc
        except smtplib.SMTPResponseException as exc:
            # Includes SMTPAuthenticationError (535 → permanent; 454 "try later" → transient),
            # SMTPSenderRefused, SMTPDataError and SMTPConnectError.
            self._drop()
            raise _classify(exc.smtp_code, exc.smtp_error) from exc
        except smtplib.SMTPNotSupportedError as exc:
            # STARTTLS/AUTH/SMTPUTF8 missing on the server: a configuration error.
            self._drop()
            raise PermanentMailError(f"Máy chủ SMTP không hỗ trợ: {exc}") from exc
        except ssl.SSLCertVerificationError as exc:
            self._drop()
            s = self.settings
            raise PermanentMailError(
                f"Chứng chỉ của máy chủ SMTP {s.host}:{s.port} không hợp lệ: "
                f"{certificate_hint(exc, 'smtp', s.ca_file)}."
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:  # timeouts, refused, reset, TLS errors
            self._drop()
            raise SmtpConnectionError(f"Lỗi kết nối SMTP: {exc!r}") from exc
        if copy and copy in refused:
            # The staff copy alone never fails a mail the unit did get (nor sends it twice).
            log.warning("Máy chủ SMTP từ chối bản sao gửi %s: %s", copy, refused.pop(copy))
        if refused:
            # Some recipients accepted: the message is out, so retrying would duplicate it.
            details = "; ".join(f"{rcpt}: {c}" for rcpt, (c, _t) in refused.items())
            raise PermanentMailError(f"Một số người nhận bị từ chối: {details}")

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
