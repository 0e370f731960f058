"""`/he-thong`: the `baocao doctor` checks, run with the settings the board was started with,
and the configuration in force, read-only and without a secret (no password, no token; the
database URL without its password)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy.engine import URL, make_url
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from baocao.config.context import App
from baocao.config.settings import Settings
from baocao.ops.doctor import check_settings, exit_status
from baocao.rules.deadlines import format_date
from baocao.web.render import page


@dataclass(frozen=True)
class Section:
    title: str
    entries: tuple[tuple[str, str], ...]


def database_url(url: str) -> str:
    """The URL with its password (and any password-like query parameter) removed."""
    parsed = make_url(url)
    kept = {k: v for k, v in parsed.query.items() if "pass" not in k.lower()}
    # URL.set(password=None) means "unchanged": build the URL again without it.
    bare = URL.create(parsed.drivername, parsed.username, None, parsed.host, parsed.port,
                      parsed.database, kept)
    return bare.render_as_string(hide_password=False)


def _days(days: frozenset[date]) -> str:
    return ", ".join(format_date(d) for d in sorted(days)) or "không"


def config_summary(settings: Settings) -> list[Section]:
    """What the office configured, key by key; each value is named here, so a secret added to
    the settings later is never shown by accident."""
    o, i, s, k, t, n = (settings.office, settings.imap, settings.smtp, settings.intake,
                        settings.trust, settings.schedule)
    yes_no = {True: "có", False: "không"}
    return [
        Section("Cơ quan", (
            ("Tên", o.name), ("Địa danh", o.place),
            ("Người nhận tổng hợp", ", ".join(o.summary_to) or "chưa cấu hình"),
            ("Ký hiệu văn bản", o.doc_symbol), ("Chức danh người ký", o.signer_title),
        )),
        Section("Lưu trữ", (
            ("Tệp cấu hình", str(settings.path)),
            ("Cơ sở dữ liệu", database_url(settings.database_url)),
            ("Kho lưu thư gốc", str(settings.archive_dir)),
        )),
        Section("Hộp thư đến (IMAP)", (
            ("Máy chủ", f"{i.host}:{i.port} ({i.security})"), ("Tài khoản", i.username),
            ("Thư mục", i.mailbox), ("Thư mục thư đã gửi", i.sent_folder or "không lưu"),
            ("CA nội bộ", str(i.ca_file) if i.ca_file else "không"),
            ("Thao tác sau khi đọc", k.post_action),
        )),
        Section("Gửi thư (SMTP)", (
            ("Máy chủ", f"{s.host}:{s.port} ({s.security})"),
            ("Tài khoản", s.username or "không đăng nhập"),
            ("Người gửi", f"{s.from_name} <{s.from_address}>"),
            ("Bản sao mọi thư gửi đi (Bcc)", s.copy_to or "không"),
            ("CA nội bộ", str(s.ca_file) if s.ca_file else "không"),
        )),
        Section("Lịch", (
            ("Đọc thư mỗi (khi không có IDLE)", f"{n.poll_seconds} giây"),
            ("Giờ gửi thư nhắc", f"{n.reminder_hour} giờ"),
            ("Các lần nhắc (ngày làm việc so với hạn)",
             ", ".join(f"{x:+d}" if x else "0" for x in n.reminder_stages)),
            ("Tổng hợp hằng tuần", f"{n.summary_weekday}, {n.summary_hour} giờ"),
            ("Thư tự động tối đa mỗi đơn vị mỗi ngày", str(n.daily_cap)),
            ("Ngày nghỉ thêm", _days(settings.extra_days_off)),
            ("Ngày làm bù", _days(settings.extra_working_days)),
        )),
        Section("Tiếp nhận và tin cậy", (
            ("Thư lớn nhất", f"{k.max_message_bytes // (1024 * 1024)} MB"),
            ("Tệp đính kèm lớn nhất", f"{k.max_attachment_bytes // (1024 * 1024)} MB"),
            ("LibreOffice", k.libreoffice),
            ("Tin kết quả kiểm tra của", ", ".join(t.authserv_ids) or "chưa cấu hình"),
            ("Tự kiểm tra DKIM", yes_no[t.dkim == "verify"]),
            ("Nhận diện theo văn bản", yes_no[t.identify_by_document]),
        )),
    ]


# A page should answer while someone waits: a mail server that does not answer is reported
# after this many seconds, not after the service's own (longer) timeout.
CHECK_TIMEOUT = 10.0


def system_page(request: Request) -> Response:
    ctx: App = request.app.state.ctx
    settings = ctx.settings
    quick = replace(settings, imap=replace(settings.imap, timeout=min(settings.imap.timeout,
                                                                      CHECK_TIMEOUT)),
                    smtp=replace(settings.smtp, timeout=min(settings.smtp.timeout,
                                                            CHECK_TIMEOUT)))
    # A plain function: Starlette runs it in a worker thread, so the network checks (IMAP,
    # SMTP) never hold up other requests.
    checks = check_settings(quick)
    return page(request, "system.html", checks=checks, ok=exit_status(checks) == 0,
                sections=config_summary(ctx.settings))


routes = [Route("/he-thong", system_page, name="system")]
