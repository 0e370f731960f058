"""One TOML file configures an office; this module turns it into typed settings or a clear error.

Passwords never live in the file: the file names the environment variable that holds each one,
so the config can be copied, backed up and shown to a colleague safely.
Every error names the key, the bad value and what is expected, in Vietnamese, because the person
reading it is the office's IT person at a terminal. A key the reader does not know is an error
too (with the nearest known key): a typo would otherwise silently mean "use the default".
"""

from __future__ import annotations

import difflib
import os
import ssl
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, cast

from baocao.rules.calendar import WEEKDAYS
from baocao.rules.deadlines import parse_vn_date
from baocao.rules.office import office_wording
from mailer.addresses import UndeliverableAddress, deliverable_address
from mailer.forward import DOCUMENT_HOSTS
from mailer.inbox import ImapSettings, is_loopback, parse_post_action, validate_settings
from mailer.smtp import SmtpSettings
from mailer.tls import client_context

Security = Literal["ssl", "starttls", "plain"]
SECURITIES: tuple[Security, ...] = ("ssl", "starttls", "plain")
# Quyền hạn ký (NĐ 30/2020): ký thay, thừa lệnh, quyền, thay mặt; "" = the head signs.
SIGNER_AUTHORITIES = ("", "KT.", "TL.", "Q.", "TM.")
DEFAULT_PORTS = {"imap": {"ssl": 993, "starttls": 143, "plain": 143},
                 "smtp": {"ssl": 465, "starttls": 587, "plain": 25}}


class ConfigError(Exception):
    """Raised when the config file is missing, unreadable, or a key has a wrong value."""


@dataclass(frozen=True)
class OfficeSettings:
    """Who the office is; the signer keys fit both a Sở (KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC) and a
    Phòng (TRƯỞNG PHÒNG) in the NĐ 30/2020 signature block of the draft report."""

    name: str
    place: str
    summary_to: tuple[str, ...]
    signature: str
    doc_symbol: str = ""  # "Số: …/BC-SNV"; "" = the level's (BC-SNV for a Sở, BC-NV a Phòng)
    signer_authority: str = ""  # "" | "KT." | "TL." | "Q." | "TM."
    signer_title: str = ""  # the head (or the collective after TM.); "" = the level's
    signer_position: str = ""  # who signs under KT./TL./TM.: "PHÓ GIÁM ĐỐC"; "" = derived
    signer_name: str = ""  # "" leaves the name for the clerk

    def __post_init__(self) -> None:
        wording = office_wording(self.name)
        if not self.doc_symbol:
            object.__setattr__(self, "doc_symbol", wording.doc_symbol)
        if not self.signer_title:
            object.__setattr__(self, "signer_title", wording.signer_title)


@dataclass(frozen=True)
class IntakeSettings:
    post_action: str
    max_message_bytes: int
    max_attachment_bytes: int
    libreoffice: str = "auto"  # "auto" (find soffice), "none", or a path to soffice
    convert_timeout: float = 60.0
    parse_timeout: float = 30.0  # per file, in a sandboxed process
    parse_memory_bytes: int = 1024 * 1024 * 1024
    message_budget: float = 300.0  # all the reading of one message, files and forms
    document_link_hosts: tuple[str, ...] = DOCUMENT_HOSTS  # links that stand for a document




@dataclass(frozen=True)
class ScheduleSettings:
    """When `baocao run` does what (Asia/Ho_Chi_Minh)."""

    poll_seconds: int = 300  # interval poll when the server has no IDLE (and a safety net)
    outbox_seconds: int = 60
    reminder_hour: int = 8
    reminder_stages: tuple[int, ...] = (-3, 0, 1, 3)  # working days relative to the last day
    summary_weekday: str = "fri"
    summary_hour: int = 16
    daily_cap: int = 20  # automatic mails to one unit per day
    stranger_hourly_cap: int = 20  # mails per hour to addresses no unit registered, all together


@dataclass(frozen=True)
class TrustSettings:
    """What baocao believes about senders (README: "Mô hình an ninh")."""

    # authserv-id(s) of the office's own receiving server: only its Authentication-Results count.
    authserv_ids: tuple[str, ...] = ()
    dkim: str = "off"  # "verify": check DKIM signatures of registered senders directly (DNS)
    identify_by_document: bool = True  # unknown address: identify by the letterhead
    match_min_score: int = 90  # 0–100, fuzzy match of the issuing body to a unit's names
    match_min_margin: int = 8  # lead over the next unit a fuzzy match needs
    date_skew_hours: int = 24  # a Date header further than this from server time is noted
    staff_addresses: tuple[str, ...] = ()  # Nội vụ staff: their forwards are trusted


@dataclass(frozen=True)
class Settings:
    """Everything read from baocao.toml, with paths already made absolute."""

    path: Path
    office: OfficeSettings
    database_url: str
    archive_dir: Path
    imap: ImapSettings
    smtp: SmtpSettings
    extra_days_off: frozenset[date]
    extra_working_days: frozenset[date]
    intake: IntakeSettings
    message_id_domain: str
    schedule: ScheduleSettings = ScheduleSettings()
    trust: TrustSettings = TrustSettings()


class _Reader:
    """Reads typed values out of nested tables, collecting every error before failing."""

    def __init__(self, data: Mapping[str, Any], env: Mapping[str, str]) -> None:
        self.data = data
        self.env = env
        self.errors: list[str] = []
        self.asked: set[str] = set()  # every key read: what the file may contain
        self.refused: set[str] = set()  # known but never suggested (a password in the file)

    def _get(self, key: str) -> tuple[bool, Any]:
        self.asked.add(key)
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return False, None
            node = node[part]
        return True, node

    def text(self, key: str, default: str | None = None) -> str:
        found, value = self._get(key)
        if not found:
            if default is None:
                self.errors.append(f"Thiếu khóa '{key}' (cần một chuỗi).")
            return default or ""
        if not isinstance(value, str) or not value.strip():
            self.errors.append(f"Khóa '{key}' = {value!r} không hợp lệ: cần một chuỗi không rỗng.")
            return default or ""
        return str(value).strip()

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        found, value = self._get(key)
        if not found:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.errors.append(
                f"Khóa '{key}' = {value!r} không hợp lệ: cần một số nguyên >= {minimum}."
            )
            return default
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.text(key, default)
        if value not in choices:
            self.errors.append(
                f"Khóa '{key}' = {value!r} không hợp lệ: cần một trong {', '.join(choices)}."
            )
            return default
        return value

    def str_list(self, key: str) -> tuple[str, ...]:
        found, value = self._get(key)
        if not found:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.errors.append(f"Khóa '{key}' = {value!r} không hợp lệ: cần danh sách chuỗi.")
            return ()
        return tuple(v.strip() for v in value if v.strip())

    def integers(self, key: str, default: tuple[int, ...]) -> tuple[int, ...]:
        found, value = self._get(key)
        if not found:
            return default
        if not isinstance(value, list) or not value or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            self.errors.append(
                f"Khóa '{key}' = {value!r} không hợp lệ: cần danh sách số nguyên, "
                f"ví dụ [-3, 0, 1, 3]."
            )
            return default
        return tuple(sorted(set(value)))

    def dates(self, key: str) -> frozenset[date]:
        found, value = self._get(key)
        if not found:
            return frozenset()
        if not isinstance(value, list):
            self.errors.append(f"Khóa '{key}' = {value!r} không hợp lệ: cần danh sách ngày.")
            return frozenset()
        out: set[date] = set()
        for item in value:
            if isinstance(item, date):
                out.add(item)
                continue
            try:
                out.add(parse_vn_date(str(item)))
            except ValueError:
                self.errors.append(
                    f"Khóa '{key}' có giá trị {item!r} không hợp lệ: cần ngày dạng dd/mm/yyyy."
                )
        return frozenset(out)

    def secret(self, key: str, required: bool) -> str | None:
        """A password is named by an env var (``<key>_env``), never written in the file."""
        self.refused.add(key)
        found, _ = self._get(key)
        if found:
            self.errors.append(
                f"Khóa '{key}' không được ghi mật khẩu trong tệp cấu hình: "
                f"dùng '{key}_env' = \"TÊN_BIẾN_MÔI_TRƯỜNG\"."
            )
        found, var = self._get(key + "_env")
        if not found:
            if required:
                self.errors.append(f"Thiếu khóa '{key}_env' (tên biến môi trường chứa mật khẩu).")
            return None
        if not isinstance(var, str) or not var.strip():
            self.errors.append(f"Khóa '{key}_env' = {var!r} không hợp lệ: cần tên biến môi trường.")
            return None
        value = self.env.get(var.strip())
        if value is None:
            self.errors.append(
                f"Biến môi trường '{var.strip()}' (khóa '{key}_env') chưa được đặt: "
                f"hãy đặt mật khẩu vào biến này trước khi chạy."
            )
            return None
        return value

    def unknown(self) -> list[str]:
        """An error for each key and section of the file that nothing read. Call it after every
        read: the known keys are exactly the ones asked for."""
        keys = sorted(self.asked - self.refused)
        sections = sorted({k.partition(".")[0] for k in keys})
        errors = []
        for name, value in self.data.items():
            table = isinstance(value, Mapping)
            if name in sections and table:
                errors += [_unknown_key(f"{name}.{sub}", keys) for sub in value
                           if f"{name}.{sub}" not in self.asked]
            elif name in sections:
                errors.append(f"'{name}' phải là một mục [{name}] chứa các khóa, "
                              f"không phải một giá trị.")
            elif table:
                errors.append(_unknown_section(name, sections))
            else:
                errors.append(_unknown_key(name, keys))
        return errors


def _unknown_key(key: str, keys: list[str]) -> str:
    """Names the nearest known key: a close spelling in the same section, else the same (or a
    close) name in another section. Names are compared without their section, which every key
    of a section shares and which would make any two of them look alike."""
    section, _, leaf = key.rpartition(".")
    own = [k.rpartition(".")[2] for k in keys if k.rpartition(".")[0] == section]
    elsewhere = {k.rpartition(".")[2]: k for k in reversed(keys) if k.rpartition(".")[0] != section}
    if near := difflib.get_close_matches(leaf, own, n=1, cutoff=0.6):
        return f"Khóa không hợp lệ '{key}' — có phải '{section}.{near[0]}'?"
    if near := difflib.get_close_matches(leaf, list(elsewhere), n=1, cutoff=0.8):
        return f"Khóa không hợp lệ '{key}' — có phải '{elsewhere[near[0]]}'?"
    where = (f"các khóa của [{section}]: {', '.join(own)}" if own
             else "mọi khóa phải nằm trong một mục như [office], [imap]")
    return f"Khóa không hợp lệ '{key}': baocao không dùng khóa này ({where})."


def _unknown_section(name: str, sections: list[str]) -> str:
    close = difflib.get_close_matches(name, sections, n=1, cutoff=0.6)
    if close:
        return f"Mục không hợp lệ [{name}] — có phải [{close[0]}]?"
    return f"Mục không hợp lệ [{name}]: các mục là {', '.join(f'[{s}]' for s in sections)}."


def _copy_address(r: _Reader, raw: str) -> str | None:
    if not raw.strip():
        return None
    try:
        return deliverable_address(raw)
    except UndeliverableAddress as exc:
        r.errors.append(f"Khóa 'smtp.copy_to' = {raw!r} không hợp lệ: {exc}.")
        return None


def _ca_file(r: _Reader, key: str, raw: str, base: Path, security: str) -> Path | None:
    """The office's internal CA (PEM), loaded now so a wrong path fails at start, not at the
    first connection. A relative path is relative to the config file, like the archive."""
    if not raw:
        return None
    path = (base / raw).resolve()
    if security == "plain":
        r.errors.append(f"Khóa '{key}' chỉ dùng khi {key.partition('.')[0]}.security là "
                        f"'ssl' hoặc 'starttls' (đang là 'plain').")
        return None
    try:
        client_context(path)
    except ssl.SSLError:
        r.errors.append(f"Khóa '{key}' = {raw!r}: tệp {path} không chứa chứng chỉ PEM nào "
                        f"(cần tệp chứng chỉ của CA nội bộ, dạng -----BEGIN CERTIFICATE-----).")
    except OSError as exc:
        r.errors.append(f"Khóa '{key}' = {raw!r}: không đọc được tệp {path} "
                        f"({exc.strerror or exc}); kiểm tra đường dẫn và quyền đọc của người "
                        f"dùng chạy baocao.")
    else:
        return path
    return None


def _database_url(raw: str, base: Path) -> str:
    """Relative SQLite paths are relative to the config file, not to wherever the CLI ran."""
    prefix = "sqlite:///"
    if raw.startswith(prefix) and not raw.startswith(prefix + "/") and raw != prefix + ":memory:":
        return prefix + str((base / raw[len(prefix):]).resolve())
    return raw


def parse_settings(
    data: Mapping[str, Any], path: Path, env: Mapping[str, str] | None = None
) -> Settings:
    """Validate a parsed TOML document; raise ConfigError listing every problem at once."""
    r = _Reader(data, os.environ if env is None else env)
    base = path.parent
    office = OfficeSettings(
        name=r.text("office.name"),
        place=r.text("office.place", ""),
        summary_to=r.str_list("office.summary_to"),
        signature=r.text("office.signature", "") or r.text("office.name", ""),
        doc_symbol=r.text("office.doc_symbol", ""),
        signer_authority=r.choice("office.signer_authority", SIGNER_AUTHORITIES, ""),
        signer_title=r.text("office.signer_title", ""),
        signer_position=r.text("office.signer_position", ""),
        signer_name=r.text("office.signer_name", ""),
    )
    database_url = _database_url(r.text("database.url", "sqlite:///baocao.db"), base)
    archive_dir = (base / r.text("database.archive_dir", "archive")).resolve()

    imap_sec = cast(Security, r.choice("imap.security", SECURITIES, "ssl"))
    imap = ImapSettings(
        host=r.text("imap.host"),
        port=r.integer("imap.port", DEFAULT_PORTS["imap"][imap_sec], 1),
        security=imap_sec,
        username=r.text("imap.username"),
        password=r.secret("imap.password", required=True) or "",
        mailbox=r.text("imap.mailbox", "INBOX"),
        timeout=float(r.integer("imap.timeout_seconds", 30, 1)),
        batch_size=r.integer("imap.batch_size", 25, 1),
        ca_file=_ca_file(r, "imap.ca_file", r.text("imap.ca_file", ""), base, imap_sec),
        sent_folder=r.text("imap.sent_folder", "auto").strip(),
    )
    smtp_sec = cast(Security, r.choice("smtp.security", SECURITIES, "starttls"))
    smtp_user = r.text("smtp.username", "") or None
    smtp = SmtpSettings(
        host=r.text("smtp.host"),
        port=r.integer("smtp.port", DEFAULT_PORTS["smtp"][smtp_sec], 1),
        security=smtp_sec,
        username=smtp_user,
        password=r.secret("smtp.password", required=smtp_user is not None),
        from_address=r.text("smtp.from_address"),
        from_name=r.text("smtp.from_name", "") or office.name,
        timeout=float(r.integer("smtp.timeout_seconds", 30, 1)),
        ca_file=_ca_file(r, "smtp.ca_file", r.text("smtp.ca_file", ""), base, smtp_sec),
        copy_to=_copy_address(r, r.text("smtp.copy_to", "")),
    )
    if imap.host:
        try:
            validate_settings(imap)
        except ValueError as exc:
            r.errors.append(f"Mục [imap]: {exc}")
    if smtp.host and smtp.security == "plain" and not is_loopback(smtp.host):
        r.errors.append(
            f"Khóa 'smtp.security' = 'plain' chỉ dùng được với máy chủ trên chính máy này "
            f"(127.0.0.1), không dùng với {smtp.host!r}: hãy dùng 'ssl' hoặc 'starttls'."
        )
    post_action = r.text("imap.post_action", "none")
    try:
        parse_post_action(post_action)
    except ValueError:
        r.errors.append(
            f"Khóa 'imap.post_action' = {post_action!r} không hợp lệ: cần 'none', 'seen', "
            f"'flag:<cờ>' hoặc 'move:<thư mục>'."
        )
    intake = IntakeSettings(
        post_action=post_action,
        max_message_bytes=r.integer("intake.max_message_mb", 50, 1) * 1024 * 1024,
        max_attachment_bytes=r.integer("intake.max_attachment_mb", 25, 1) * 1024 * 1024,
        libreoffice=r.text("intake.libreoffice", "auto"),
        convert_timeout=float(r.integer("intake.convert_timeout_seconds", 60, 1)),
        parse_timeout=float(r.integer("intake.parse_timeout_seconds", 30, 1)),
        parse_memory_bytes=r.integer("intake.parse_memory_mb", 1024, 64) * 1024 * 1024,
        message_budget=float(r.integer("intake.message_budget_seconds", 300, 10)),
        document_link_hosts=r.str_list("intake.document_link_hosts") or DOCUMENT_HOSTS,
    )
    schedule = ScheduleSettings(
        poll_seconds=r.integer("schedule.poll_seconds", 300, 10),
        outbox_seconds=r.integer("schedule.outbox_seconds", 60, 5),
        reminder_hour=r.integer("schedule.reminder_hour", 8, 0),
        reminder_stages=r.integers("schedule.reminder_stages", (-3, 0, 1, 3)),
        summary_weekday=r.choice("schedule.summary_weekday", WEEKDAYS, "fri"),
        summary_hour=r.integer("schedule.summary_hour", 16, 0),
        daily_cap=r.integer("schedule.daily_cap", 20, 1),
        stranger_hourly_cap=r.integer("schedule.stranger_hourly_cap", 20, 0),
    )
    for key, hour in (("reminder_hour", schedule.reminder_hour),
                      ("summary_hour", schedule.summary_hour)):
        if hour > 23:
            r.errors.append(f"Khóa 'schedule.{key}' = {hour} không hợp lệ: cần giờ từ 0 đến 23.")
    trust = TrustSettings(
        authserv_ids=r.str_list("trust.authserv_id"),
        dkim=r.choice("trust.dkim", ("off", "verify"), "off"),
        identify_by_document=r.choice("trust.identify_by_document", ("on", "off"), "on") == "on",
        match_min_score=r.integer("trust.match_min_score", 90, 50),
        match_min_margin=r.integer("trust.match_min_margin", 8, 0),
        date_skew_hours=r.integer("trust.date_skew_hours", 24, 1),
        staff_addresses=tuple(
            a.lower() for a in (r.str_list("trust.staff_addresses") or office.summary_to)
        ),
    )
    if trust.match_min_score > 100:
        r.errors.append(
            f"Khóa 'trust.match_min_score' = {trust.match_min_score} không hợp lệ: "
            f"cần số từ 50 đến 100."
        )
    from_domain = smtp.from_address.rpartition("@")[2] or "baocao.invalid"
    settings = Settings(
        path=path,
        office=office,
        database_url=database_url,
        archive_dir=archive_dir,
        imap=imap,
        smtp=smtp,
        extra_days_off=r.dates("calendar.extra_days_off"),
        extra_working_days=r.dates("calendar.extra_working_days"),
        intake=intake,
        message_id_domain=r.text("smtp.message_id_domain", "") or from_domain,
        schedule=schedule,
        trust=trust,
    )
    for address in office.summary_to:
        if "@" not in address:
            r.errors.append(
                f"Khóa 'office.summary_to' có địa chỉ {address!r} không hợp lệ: cần địa chỉ email."
            )
    r.errors[:0] = r.unknown()  # first: a misspelt key often explains a "missing" one below
    if r.errors:
        raise ConfigError(
            f"Tệp cấu hình {path} có lỗi:\n" + "\n".join(f"  - {e}" for e in r.errors)
        )
    return settings


def load_settings(path: Path, env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate ``baocao.toml``."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"Không tìm thấy tệp cấu hình {path}. Dùng --config để chỉ đường dẫn "
            f"hoặc đặt biến BAOCAO_CONFIG."
        ) from None
    except OSError as exc:
        raise ConfigError(f"Không đọc được tệp cấu hình {path}: {exc.strerror}.") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"Tệp cấu hình {path} phải được lưu dạng UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Tệp cấu hình {path} sai cú pháp TOML: {exc}.") from None
    return parse_settings(data, path.resolve(), env)
