"""`baocao doctor` and the web board's system page: check an installation end to end, one line
per check, each with its fix.

Nothing here changes the office's data: the database is only read (never migrated), the IMAP
mailbox is selected but no message is fetched or flagged, the SMTP session ends after NOOP
without sending. The only write is a temporary file in the archive folder, deleted at once.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from baocao.config.settings import ConfigError, Settings, load_settings
from baocao.intake.post_actions import pending_count
from mailer.inbox import Inbox, InboxAuthError, InboxCommandError, InboxConnectionError
from mailer.smtp import SmtpSender
from mailer.tls import certificate_hint
from store.db import check, current_revision, head_revision, make_engine

__all__ = ["Check", "check_settings", "exit_status", "run_checks"]


@dataclass(frozen=True)
class Check:
    """One line of the report. `required=False` checks are information, not failures."""

    name: str
    ok: bool
    message: str
    required: bool = True


def exit_status(checks: list[Check]) -> int:
    """0 when every required check passed, else 1."""
    return 0 if all(c.ok for c in checks if c.required) else 1


def run_checks(config_path: Path, env: Mapping[str, str] | None = None) -> list[Check]:
    """Every check in order; stops after the config check when the config cannot be used."""
    try:
        settings = load_settings(config_path, env)
    except ConfigError as exc:
        return [Check("Cấu hình", False, f"{exc}\nCách sửa: sửa các khóa nêu trên rồi chạy lại.")]
    return [Check("Cấu hình", True, f"Đọc được {settings.path}."), *check_settings(settings)]


def check_settings(settings: Settings) -> list[Check]:
    """Every check after the config's own, for settings already loaded (the web board runs
    these with the settings it was started with)."""
    checks = _database_checks(settings)
    checks.append(_archive_check(settings.archive_dir))
    checks += _imap_checks(settings)
    checks.append(_smtp_check(settings))
    checks.append(_libreoffice_check(settings.intake.libreoffice))
    checks.append(_trust_check(settings))
    return checks


# --- database ------------------------------------------------------------------------------


def _database_checks(settings: Settings) -> list[Check]:
    alembic_log = logging.getLogger("alembic")
    level = alembic_log.level
    alembic_log.setLevel(max(level, logging.WARNING))  # its INFO lines are noise in a report
    try:
        return _database_checks_quietly(settings)
    finally:
        alembic_log.setLevel(level)


def _database_checks_quietly(settings: Settings) -> list[Check]:
    url = make_url(settings.database_url)
    shown = url.render_as_string(hide_password=True)
    skipped = Check("Mô hình dữ liệu", False,
                    "Chưa kiểm tra được vì cơ sở dữ liệu chưa sẵn sàng (xem dòng trên).",
                    required=False)
    sqlite_file = url.get_backend_name() == "sqlite" and url.database not in (None, ":memory:")
    if sqlite_file and not Path(str(url.database)).is_file():
        return [Check("Cơ sở dữ liệu", False,
                      f"Chưa có cơ sở dữ liệu {url.database}. "
                      "Cách sửa: chạy `baocao db upgrade` để tạo."), skipped]
    engine: Engine | None = None
    try:
        engine = make_engine(settings.database_url)
        current = current_revision(engine)
        head = head_revision()
        if current != head:
            at = current or "trống, chưa tạo bảng"
            return [Check("Cơ sở dữ liệu", False,
                          f"{shown} đang ở phiên bản {at}, bản mới nhất là {head}. "
                          "Cách sửa: chạy `baocao db upgrade`."), skipped]
        database = Check("Cơ sở dữ liệu", True, f"{shown}: phiên bản mới nhất ({head}).")
        problems = check(engine)
        with Session(engine) as session:
            owed = pending_count(session)
    except ImportError as exc:
        return [Check("Cơ sở dữ liệu", False,
                      f"Thiếu thư viện kết nối cho {shown} ({exc.name}). Cách sửa: cài "
                      "`pip install 'baocao[postgres]'` nếu dùng PostgreSQL."), skipped]
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return [Check("Cơ sở dữ liệu", False,
                      f"Không kết nối được {shown}: {detail}. Cách sửa: kiểm tra database.url, "
                      "máy chủ cơ sở dữ liệu có đang chạy, quyền của tài khoản."), skipped]
    finally:
        if engine is not None:
            engine.dispose()
    if problems:
        return [database, Check("Mô hình dữ liệu", False,
                                "Mô hình và migration chưa khớp: " + "; ".join(problems)
                                + ". Cách sửa: cài lại đúng phiên bản baocao rồi chạy "
                                "`baocao db upgrade`; nếu vẫn lỗi, báo người phát triển.")]
    return [database, Check("Mô hình dữ liệu", True, "Mô hình dữ liệu khớp với migration."),
            _post_action_check(owed)]


def _post_action_check(owed: int) -> Check:
    if not owed:
        return Check("Thao tác sau khi đọc thư", True,
                     "Không thư nào còn chờ đánh dấu/chuyển thư mục trên máy chủ.",
                     required=False)
    return Check("Thao tác sau khi đọc thư", False,
                 f"{owed} thư đã ghi nhận còn chờ thao tác imap.post_action trên máy chủ IMAP; "
                 "lần đọc thư sau sẽ làm tiếp. Nếu số này không giảm: xem nhật ký (máy chủ từ "
                 "chối lệnh?) và kiểm tra imap.post_action, quyền tạo/chuyển thư mục.",
                 required=False)


# --- archive -------------------------------------------------------------------------------


def _archive_check(folder: Path) -> Check:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".baocao-doctor-", dir=folder)
        try:
            os.write(fd, b"baocao doctor\n")
        finally:
            os.close(fd)
            os.unlink(name)
    except OSError as exc:
        return Check("Kho lưu thư gốc", False,
                     f"Không ghi được vào {folder}: {exc.strerror or exc}. Cách sửa: tạo thư mục "
                     "và cấp quyền ghi cho người dùng chạy baocao (chown/chmod), hoặc đổi "
                     "database.archive_dir.")
    return Check("Kho lưu thư gốc", True, f"Ghi được vào {folder}.")


# --- mail servers --------------------------------------------------------------------------


def _network_hint(
    exc: BaseException, section: str, timeout: float, ca_file: Path | None = None
) -> str:
    """What went wrong reaching a server and which keys to look at, from the root cause."""
    keys = f"{section}.host, {section}.port và {section}.security"
    ports = "ssl: 993, starttls: 143" if section == "imap" else "ssl: 465, starttls: 587"
    if isinstance(exc, ConnectionRefusedError):
        return (f"máy chủ từ chối kết nối (cổng đóng hoặc sai). Cách sửa: kiểm tra {keys} "
                f"({ports}) và máy chủ thư có đang chạy không.")
    if isinstance(exc, socket.gaierror):
        return f"không tìm thấy tên máy chủ. Cách sửa: kiểm tra {section}.host và DNS."
    if isinstance(exc, TimeoutError | socket.timeout):
        return (f"máy chủ không trả lời sau {timeout:g} giây. Cách sửa: kiểm tra mạng, "
                f"tường lửa và {keys}.")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"{certificate_hint(exc, section, ca_file)}."
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return (f"lỗi TLS/chứng chỉ ({exc}). Cách sửa: kiểm tra {section}.security "
                f"(ssl hay starttls) có đúng với cổng ({ports}) và chứng chỉ của máy chủ.")
    return f"{exc or type(exc).__name__}. Cách sửa: kiểm tra mạng và {keys} ({ports})."


def _root(exc: BaseException) -> BaseException:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


def _imap_checks(settings: Settings) -> list[Check]:
    s = settings.imap
    where = f"{s.host}:{s.port}"
    idle: Check | None = None
    sent: list[Check] = []
    try:
        with Inbox(s) as inbox:
            status = inbox.status()
            sent = _sent_folder_check(inbox, s.sent_folder)
            if inbox.supports_idle():
                idle = Check("IMAP IDLE", True, "Máy chủ có IDLE: thư mới được xử lý sau vài giây.",
                             required=False)
            else:
                idle = Check("IMAP IDLE", False,
                             "Máy chủ không có IDLE: `baocao run` đọc hộp thư mỗi "
                             f"{settings.schedule.poll_seconds} giây (schedule.poll_seconds).",
                             required=False)
    except InboxAuthError:
        imap = Check("IMAP", False,
                     f"{where} từ chối đăng nhập tài khoản {s.username!r}. Cách sửa: kiểm tra tên "
                     "đăng nhập/mật khẩu ứng dụng (imap.username và biến môi trường của "
                     "imap.password_env), và việc bật IMAP trong cài đặt hộp thư.")
    except InboxCommandError as exc:
        imap = Check("IMAP", False,
                     f"Đăng nhập được {where} nhưng không mở được thư mục {s.mailbox!r} "
                     f"(không có thư mục này hoặc không có quyền): {_root(exc)}. Cách sửa: "
                     "kiểm tra imap.mailbox (đúng tên thư mục như trong trình đọc thư).")
    except InboxConnectionError as exc:
        root = _root(exc)
        hint = _network_hint(root, "imap", s.timeout, s.ca_file) if root is not exc else str(exc)
        imap = Check("IMAP", False, f"Không kết nối được {where}: {hint}")
    except ValueError as exc:
        imap = Check("IMAP", False, str(exc))
    else:
        imap = Check("IMAP", True,
                     f"Đăng nhập {where} và mở thư mục {s.mailbox!r} được "
                     f"({status.exists} thư){_trusted_by(s.ca_file)}.")
    if idle is None:
        idle = Check("IMAP IDLE", False, "Chưa kiểm tra được (IMAP lỗi, xem dòng trên).",
                     required=False)
    return [imap, idle, *sent]


def _sent_folder_check(inbox: Inbox, setting: str) -> list[Check]:
    """Where copies of sent mail go (imap.sent_folder), so "auto" finding nothing is visible."""
    if setting != "auto":
        return []
    folder = inbox.find_sent_folder()
    if folder is None:
        return [Check("IMAP Sent", False,
                      "Máy chủ không đánh dấu thư mục thư đã gửi (\\Sent): thư baocao gửi đi "
                      "không được lưu bản sao. Cách sửa: đặt imap.sent_folder = tên thư mục "
                      "(ví dụ \"Sent\") hoặc \"\" để tắt hẳn.", required=False)]
    return [Check("IMAP Sent", True, f"Bản sao thư đã gửi được lưu vào thư mục {folder!r}.",
                  required=False)]


def _smtp_check(settings: Settings) -> Check:
    s = settings.smtp
    where = f"{s.host}:{s.port}"
    keys = "smtp.host, smtp.port và smtp.security"
    try:
        sender = SmtpSender(s)
        conn = sender._connect()  # connect, EHLO, STARTTLS, AUTH: exactly what sending does
        try:
            code, text = conn.noop()
        finally:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()
    except smtplib.SMTPAuthenticationError as exc:
        return Check("SMTP", False,
                     f"{where} từ chối đăng nhập tài khoản {s.username!r} ({exc.smtp_code}). "
                     "Cách sửa: kiểm tra tên đăng nhập/mật khẩu ứng dụng (smtp.username và biến "
                     "môi trường của smtp.password_env).")
    except smtplib.SMTPNotSupportedError as exc:
        return Check("SMTP", False,
                     f"{where} không hỗ trợ: {exc}. Cách sửa: kiểm tra smtp.security "
                     "(starttls/ssl), smtp.port, và bỏ smtp.username nếu máy chủ không cần "
                     "đăng nhập.")
    except smtplib.SMTPServerDisconnected as exc:
        return Check("SMTP", False,
                     f"{where} ngắt kết nối ({exc or 'không trả lời'}). Cách sửa: kiểm tra {keys} "
                     "(ssl: 465, starttls: 587) có khớp nhau không.")
    except smtplib.SMTPResponseException as exc:
        detail = exc.smtp_error.decode("utf-8", "replace") if isinstance(
            exc.smtp_error, bytes) else str(exc.smtp_error)
        return Check("SMTP", False,
                     f"{where} trả lời lỗi {exc.smtp_code} {detail}. Cách sửa: kiểm tra {keys} "
                     "và tài khoản gửi thư.")
    except (OSError, smtplib.SMTPException) as exc:
        return Check("SMTP", False,
                     f"Không kết nối được {where}: "
                     f"{_network_hint(exc, 'smtp', s.timeout, s.ca_file)}")
    except ValueError as exc:
        return Check("SMTP", False, str(exc))
    if code != 250:
        reply = text.decode("utf-8", "replace")
        return Check("SMTP", False, f"{where} trả lời NOOP bằng {code} {reply}.")
    who = f"đăng nhập {s.username!r}" if s.username else "không cần đăng nhập"
    return Check("SMTP", True, f"Kết nối {where} được ({s.security}, {who}"
                 f"{_trusted_by(s.ca_file)}); chưa gửi thư nào.")


def _trusted_by(ca_file: Path | None) -> str:
    return f", chứng chỉ do CA nội bộ {ca_file} ký" if ca_file else ""


# --- LibreOffice ---------------------------------------------------------------------------


def _libreoffice_check(setting: str) -> Check:
    """Whether old and OpenDocument files can be read, and how LibreOffice is kept off the
    network while it converts them (a linked picture would otherwise be fetched from the
    sender's URL)."""
    from parsers.others import (
        ISOLATION_NETNS,
        ISOLATION_USERNS,
        conversion_isolation,
        find_soffice,
    )

    name = "LibreOffice"
    if setting == "none":
        return Check(name, True, "Đã tắt (intake.libreoffice = \"none\"): tệp .doc, .rtf, "
                     ".odt, .ods được lưu nguyên bản, không đọc nội dung; biểu gửi bằng .xls "
                     "không được đọc.", required=False)
    path = find_soffice() if setting == "auto" else setting
    if path and os.access(path, os.X_OK):
        isolation = conversion_isolation()
        found = f"Có {path}: đọc được tệp .doc, .rtf, .odt, .ods và biểu .xls"
        who = "(kiểm tra với người dùng đang chạy lệnh này)"
        if isolation in (ISOLATION_NETNS, ISOLATION_USERNS):
            how = ("unshare --net" if isolation == ISOLATION_NETNS
                   else "unshare --user --net, không cần quyền root")
            return Check(name, True,
                         f"{found}; LibreOffice chạy trong không gian mạng riêng ({how}), không "
                         f"tải được gì từ mạng {who}.", required=False)
        return Check(name, False,
                     f"{found}, nhưng không tạo được không gian mạng riêng cho LibreOffice "
                     f"{who}: chỉ còn thiết lập của LibreOffice chặn tải ảnh và liên kết từ xa "
                     "trong tệp. Cách sửa: cài util-linux (lệnh unshare) và chạy baocao bằng "
                     "root, hoặc cho người dùng thường tạo user namespace (sysctl "
                     "user.max_user_namespaces > 0, kernel.unprivileged_userns_clone = 1); "
                     "trong container hay dịch vụ systemd: cho phép tạo namespace "
                     "(RestrictNamespaces, seccomp).", required=False)
    where = "trên máy này" if setting == "auto" else f"ở {setting} (intake.libreoffice)"
    return Check(name, False,
                 f"Không tìm thấy LibreOffice {where}: tệp .doc, .rtf, .odt, "
                 ".ods sẽ được lưu nguyên bản, không đọc nội dung; biểu .xls không được đọc. "
                 "Cách sửa (nếu cần): `apt-get install libreoffice-writer libreoffice-calc`, "
                 "hoặc ghi đường dẫn tới soffice vào intake.libreoffice.", required=False)


def _trust_check(settings: Settings) -> Check:
    """Information only: without an authserv-id, a forged unit address cannot be noticed."""
    name = "Chống giả mạo người gửi"
    trust = settings.trust
    if not trust.authserv_ids:
        return Check(name, False,
                     "Chưa cấu hình trust.authserv_id: thư giả địa chỉ của đơn vị không bị phát "
                     "hiện. Cách sửa: mở một thư bất kỳ trong hộp thư chung, xem dòng "
                     "'Authentication-Results: <tên máy chủ>; ...' do máy chủ của cơ quan thêm "
                     "vào, ghi <tên máy chủ> vào trust.authserv_id.", required=False)
    dkim = " và tự kiểm tra chữ ký DKIM" if trust.dkim == "verify" else ""
    return Check(name, True,
                 f"Tin kết quả kiểm tra SPF/DKIM/DMARC của {', '.join(trust.authserv_ids)}{dkim}.",
                 required=False)
