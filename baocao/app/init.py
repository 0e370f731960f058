"""`baocao init DIR`: the three files a new office starts from, written in one step.

- `baocao.toml`: every key the config reader knows, explained in Vietnamese and English; the
  keys a real office must set are active (with placeholder hosts), the rest commented out at
  their defaults. It is generated from `CONFIG_KEYS` below, the single source for the file.
- `units.xlsx`: the units list with the header `baocao.registry.units` reads, one example row and a
  "Hướng dẫn" sheet explaining the columns and the accepted kinds.
- `bieu01.xlsx`: the blank data form of the shipped spec "dan-chu-co-so", without unit names.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill

from baocao.registry.forms import spec_path
from baocao.reports.cells import append
from baocao.reports.form_template import form_template_command

__all__ = [
    "CONFIG_KEYS",
    "CONFIG_NAME",
    "FORM_NAME",
    "UNITS_HEADER",
    "UNITS_NAME",
    "ConfigKey",
    "OfficeFilesExist",
    "config_text",
    "init_office",
    "next_steps",
    "units_workbook",
]

CONFIG_NAME = "baocao.toml"
UNITS_NAME = "units.xlsx"
FORM_NAME = "bieu01.xlsx"
FORM_SPEC = "dan-chu-co-so"
IMAP_PASSWORD_ENV = "BAOCAO_IMAP_PASSWORD"
SMTP_PASSWORD_ENV = "BAOCAO_SMTP_PASSWORD"


class OfficeFilesExist(ValueError):
    """Raised when `init` would overwrite files that are already there (and no --force)."""


@dataclass(frozen=True)
class ConfigKey:
    """One key of baocao.toml: its TOML value, whether it is active, and what it means."""

    key: str  # "section.name"
    value: str  # TOML literal
    vi: str
    en: str
    active: bool = False  # False: written commented out (optional, shown at its default)


_SECTIONS: dict[str, tuple[str, str]] = {
    "office": ("Cơ quan", "The office"),
    "database": ("Cơ sở dữ liệu và kho lưu thư gốc", "Database and archive of original mail"),
    "imap": ("Hộp thư chung (đọc thư đến)", "Shared inbox (incoming mail)"),
    "smtp": ("Máy chủ gửi thư (thư xác nhận, nhắc hạn, tổng hợp)",
             "Outgoing mail server (acknowledgements, reminders, summaries)"),
    "calendar": ("Lịch làm việc", "Working calendar"),
    "intake": ("Đọc thư và tệp đính kèm", "Reading mail and attachments"),
    "schedule": ("Lịch chạy của `baocao run` (giờ Việt Nam)",
                 "When `baocao run` does what (Vietnam time)"),
    "trust": ("Tin cậy người gửi (xem README: Mô hình an ninh)",
              "Trusting senders (README: security model)"),
}

CONFIG_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey("office.name", '"Sở Nội vụ tỉnh Tân Hưng"',
              "BẮT BUỘC, hãy sửa: tên cơ quan, dùng trong thư gửi đi (\"Sở Nội vụ …\"; "
              "cấu hình cũ \"Phòng Nội vụ …\" vẫn dùng được).",
              "REQUIRED, edit: name of the office, used in outgoing mail.", True),
    ConfigKey("office.place", '"Tân Hưng"',
              "Địa danh ghi ở dòng \"…, ngày … tháng … năm …\" của báo cáo tổng hợp.",
              "Place name for the date line of the summary report.", True),
    ConfigKey("office.summary_to", '["noivu@example.gov.vn"]',
              "Danh sách địa chỉ nhận báo cáo tổng hợp (mặc định: không gửi ai).",
              "Addresses that receive the summary report (default: none)."),
    ConfigKey("office.signature", '"Sở Nội vụ tỉnh Tân Hưng"',
              "Chữ ký cuối thư tự động (mặc định: bằng office.name).",
              "Signature of automatic mail (default: office.name)."),
    ConfigKey("office.doc_symbol", '"BC-SNV"',
              "Ký hiệu ở dòng \"Số: …/BC-SNV\" của dự thảo báo cáo (mặc định theo office.name: "
              "Sở \"BC-SNV\", Phòng \"BC-NV\").",
              "Symbol in the \"Số: …/BC-SNV\" line of the draft report."),
    ConfigKey("office.signer_authority", '"KT."',
              "Quyền hạn ký: KT. | TL. | Q. | TM. (mặc định: người đứng đầu ký).",
              "Signing authority: KT. | TL. | Q. | TM. (default: the head signs)."),
    ConfigKey("office.signer_title", '"GIÁM ĐỐC"',
              "Chức vụ người đứng đầu, dòng sau quyền hạn ký (mặc định theo office.name: "
              "Sở \"GIÁM ĐỐC\", Phòng \"TRƯỞNG PHÒNG\").",
              "Title of the head (a Phòng: \"TRƯỞNG PHÒNG\"), after the authority."),
    ConfigKey("office.signer_position", '"PHÓ GIÁM ĐỐC"',
              "Chức vụ người ký khi ký KT./TL./TM. (mặc định với KT.: PHÓ + signer_title).",
              "Title of the person signing under KT./TL./TM. (KT. default: PHÓ + title)."),
    ConfigKey("office.signer_name", '"Nguyễn Văn A"',
              "Họ tên người ký (mặc định: để trống cho người ký tự ghi).",
              "Name of the signer (default: left blank)."),
    ConfigKey("database.url", '"sqlite:///baocao.db"',
              "SQLite (đường dẫn tương đối tính từ thư mục chứa tệp này) hoặc "
              "\"postgresql://người_dùng@máy/baocao\".",
              "SQLite (a relative path is relative to this file's folder) or a PostgreSQL URL.",
              True),
    ConfigKey("database.archive_dir", '"archive"',
              "Kho lưu thư gốc (.eml) và tệp đính kèm; sao lưu cả thư mục này.",
              "Where original mail (.eml) and attachments are kept; back this folder up.", True),
    ConfigKey("imap.host", '"mail.example.gov.vn"',
              "BẮT BUỘC, hãy sửa: máy chủ IMAP của hộp thư chung.",
              "REQUIRED, edit: IMAP server of the shared inbox.", True),
    ConfigKey("imap.security", '"ssl"',
              "ssl (cổng 993) | starttls (cổng 143) | plain (chỉ với máy chủ 127.0.0.1).",
              "ssl (port 993) | starttls (port 143) | plain (127.0.0.1 only).", True),
    ConfigKey("imap.port", "993",
              "Cổng IMAP (mặc định theo imap.security: 993 hoặc 143).",
              "IMAP port (default from imap.security: 993 or 143)."),
    ConfigKey("imap.username", '"baocao@example.gov.vn"',
              "BẮT BUỘC, hãy sửa: tên đăng nhập hộp thư chung.",
              "REQUIRED, edit: login name of the shared inbox.", True),
    ConfigKey("imap.password_env", f'"{IMAP_PASSWORD_ENV}"',
              "Tên biến môi trường chứa mật khẩu IMAP (không ghi mật khẩu vào tệp này).",
              "Environment variable holding the IMAP password (never the password itself).",
              True),
    ConfigKey("imap.mailbox", '"INBOX"',
              "Thư mục cần đọc (tên tiếng Việt được).",
              "Folder to read (Vietnamese names are fine).", True),
    ConfigKey("imap.post_action", '"none"',
              "Sau khi ghi nhận thư: none | seen (đánh dấu đã đọc) | flag:<cờ> | "
              "move:<thư mục>.",
              "After a message is recorded: none | seen | flag:<flag> | move:<folder>.", True),
    ConfigKey("imap.sent_folder", '"auto"',
              "Lưu bản sao mọi thư đã gửi vào thư mục này của hộp thư chung: \"auto\" (thư mục "
              "máy chủ đánh dấu là thư đã gửi), \"\" (không lưu) hoặc tên thư mục.",
              "Copy every sent mail into this folder of the shared mailbox: \"auto\" (the folder "
              "the server flags \\Sent), \"\" (no copies) or a folder name."),
    ConfigKey("imap.timeout_seconds", "30",
              "Thời gian chờ tối đa mỗi thao tác IMAP (giây).",
              "Longest wait for one IMAP operation (seconds)."),
    ConfigKey("imap.batch_size", "25",
              "Số thư tải về mỗi lần.", "Messages fetched per round trip."),
    ConfigKey("imap.ca_file", '"/etc/baocao/ca-noi-bo.pem"',
              "Chỉ khi máy chủ thư dùng chứng chỉ do CA nội bộ của cơ quan cấp: tệp PEM của CA "
              "đó, dùng thay kho chứng chỉ của hệ thống (vẫn kiểm tra tên máy chủ).",
              "Only for a server certificate from the office's internal CA: that CA's PEM "
              "file, trusted instead of the system store (the host name is still checked)."),
    ConfigKey("smtp.host", '"mail.example.gov.vn"',
              "BẮT BUỘC, hãy sửa: máy chủ gửi thư.",
              "REQUIRED, edit: outgoing mail server.", True),
    ConfigKey("smtp.security", '"starttls"',
              "ssl (cổng 465) | starttls (cổng 587) | plain (chỉ với máy chủ 127.0.0.1).",
              "ssl (port 465) | starttls (port 587) | plain (127.0.0.1 only).", True),
    ConfigKey("smtp.port", "587",
              "Cổng SMTP (mặc định theo smtp.security: 465, 587 hoặc 25).",
              "SMTP port (default from smtp.security: 465, 587 or 25)."),
    ConfigKey("smtp.username", '"baocao@example.gov.vn"',
              "Tên đăng nhập máy chủ gửi thư; xóa dòng này nếu máy chủ không cần đăng nhập.",
              "SMTP login; delete this line if the server needs no login.", True),
    ConfigKey("smtp.password_env", f'"{SMTP_PASSWORD_ENV}"',
              "Tên biến môi trường chứa mật khẩu SMTP (bắt buộc khi có smtp.username).",
              "Environment variable holding the SMTP password (required with smtp.username).",
              True),
    ConfigKey("smtp.from_address", '"baocao@example.gov.vn"',
              "BẮT BUỘC, hãy sửa: địa chỉ gửi thư xác nhận (thường là chính hộp thư chung).",
              "REQUIRED, edit: sender address of acknowledgements (usually the shared inbox).",
              True),
    ConfigKey("smtp.from_name", '"Sở Nội vụ tỉnh Tân Hưng"',
              "Tên hiển thị người gửi (mặc định: bằng office.name).",
              "Display name of the sender (default: office.name)."),
    ConfigKey("smtp.message_id_domain", '"example.gov.vn"',
              "Tên miền trong Message-ID thư gửi đi (mặc định: tên miền của from_address).",
              "Domain of outgoing Message-IDs (default: the domain of from_address)."),
    ConfigKey("smtp.timeout_seconds", "30",
              "Thời gian chờ tối đa khi gửi thư (giây).", "Longest wait when sending (seconds)."),
    ConfigKey("smtp.ca_file", '"/etc/baocao/ca-noi-bo.pem"',
              "Như imap.ca_file, cho máy chủ gửi thư.",
              "Like imap.ca_file, for the outgoing mail server."),
    ConfigKey("smtp.copy_to", '"luu.baocao@example.gov.vn"',
              "Gửi kèm bản sao (Bcc) mọi thư đi tới địa chỉ này — thay cho imap.sent_folder khi "
              "hộp thư chung không có thư mục Thư đã gửi (mặc định: không).",
              "Bcc a copy of every outgoing mail here, where the shared mailbox has no Sent "
              "folder (default: none)."),
    ConfigKey("calendar.extra_days_off", "[]",
              "Ngày nghỉ bù do Chính phủ công bố thêm, dạng [\"02/05/2025\"] (dd/mm/yyyy).",
              "Extra days off announced by the Government (dd/mm/yyyy).", True),
    ConfigKey("calendar.extra_working_days", "[]",
              "Thứ Bảy làm bù, dạng [\"26/04/2025\"] (dd/mm/yyyy).",
              "Saturdays worked to make up a day off (dd/mm/yyyy).", True),
    ConfigKey("intake.max_message_mb", "50",
              "Thư lớn hơn: lưu nguyên bản, không đọc nội dung tệp.",
              "Larger messages are archived but their files are not read."),
    ConfigKey("intake.max_attachment_mb", "25",
              "Tệp lớn hơn: lưu nguyên bản, báo \"tệp quá lớn\".",
              "Larger attachments are archived and reported as too large."),
    ConfigKey("intake.libreoffice", '"auto"',
              "Đọc tệp .doc, .rtf, .odt, .ods và biểu .xls bằng LibreOffice: auto (tự tìm "
              "soffice) | none | /đường/dẫn/tới/soffice.",
              "Read .doc, .rtf, .odt, .ods files and .xls forms with LibreOffice: auto | none | "
              "/path/to/soffice."),
    ConfigKey("intake.convert_timeout_seconds", "60",
              "Thời gian tối đa mỗi lần LibreOffice chuyển các tệp của một thư (giây); mỗi thư "
              "tối đa hai lần: tệp Word, tệp bảng tính.",
              "Longest LibreOffice run for one message's files (seconds); at most two runs a "
              "message: word-processor files, spreadsheets."),
    ConfigKey("intake.parse_timeout_seconds", "30",
              "Thời gian tối đa đọc một tệp, trong tiến trình riêng (giây).",
              "Longest read of one file, in a separate process (seconds)."),
    ConfigKey("intake.parse_memory_mb", "1024",
              "Bộ nhớ tối đa khi đọc một tệp, trong tiến trình riêng (MB).",
              "Memory limit when reading one file, in a separate process (MB)."),
    ConfigKey("intake.message_budget_seconds", "300",
              "Tổng thời gian tối đa đọc mọi tệp của một thư (giây); tệp còn lại được lưu "
              "nguyên bản.",
              "Longest total reading of one message's files (seconds); the rest are kept "
              "unread."),
    ConfigKey("intake.document_link_hosts", '["drive.google.com", "docs.google.com", '
              '"onedrive.live.com", "1drv.ms", "sharepoint.com", "dropbox.com", "fshare.vn"]',
              "Thư không có tệp mà có đường dẫn tới các trang chia sẻ tệp này (hoặc tới một tệp "
              ".pdf/.docx/.xlsx…) thì được ghi nhận và đề nghị gửi lại tệp; đường dẫn khác "
              "(trang chủ, chữ ký) không tính.",
              "Links that stand for a document when a mail has no file (file-sharing hosts, or "
              "a link to a .pdf/.docx/.xlsx…); other links do not count."),
    ConfigKey("schedule.poll_seconds", "300",
              "Chu kỳ đọc hộp thư khi máy chủ không có IDLE (giây).",
              "Polling interval when the server has no IDLE (seconds)."),
    ConfigKey("schedule.outbox_seconds", "60",
              "Chu kỳ gửi hộp thư đi (giây).", "Interval of outbox sending (seconds)."),
    ConfigKey("schedule.reminder_hour", "8",
              "Giờ gửi thư nhắc (chỉ ngày làm việc).", "Hour of reminders (working days only)."),
    ConfigKey("schedule.reminder_stages", "[-3, 0, 1, 3]",
              "Các lần nhắc, tính bằng ngày làm việc so với hạn cuối (âm: trước hạn).",
              "Reminder days, in working days relative to the last day (negative: before)."),
    ConfigKey("schedule.summary_weekday", '"fri"',
              "Ngày trong tuần gửi báo cáo tổng hợp: mon … sun.",
              "Weekday of the weekly summary: mon … sun."),
    ConfigKey("schedule.summary_hour", "16",
              "Giờ gửi báo cáo tổng hợp.", "Hour of the weekly summary."),
    ConfigKey("schedule.daily_cap", "20",
              "Số thư tự động tối đa gửi tới một đơn vị trong một ngày.",
              "Most automatic mails sent to one unit per day."),
    ConfigKey("schedule.stranger_hourly_cap", "20",
              "Số thư tối đa mỗi giờ gửi tới các địa chỉ chưa đăng ký (tính chung mọi địa "
              "chỉ), để không ai lợi dụng hệ thống gửi thư rác; 0: không gửi cho họ.",
              "Most mails per hour to addresses no unit registered (all together), so nobody "
              "can use the office as a spam reflector; 0: none."),
    ConfigKey("trust.authserv_id", '["mx.example.gov.vn"]',
              "Máy chủ nhận thư của cơ quan: chỉ tin Authentication-Results do máy chủ này ghi. "
              "Để trống thì thư giả địa chỉ của đơn vị (SPF/DKIM/DMARC không đạt) KHÔNG bị phát "
              "hiện. Cách tìm: mở một thư bất kỳ trong hộp thư chung, xem dòng "
              "'Authentication-Results: <tên máy chủ>; …' trên cùng do máy chủ của cơ quan thêm "
              "vào, ghi <tên máy chủ> vào đây (xem README, 'Mô hình an ninh').",
              "The office's own receiving server: only its Authentication-Results are trusted. "
              "Empty: forged unit addresses go unnoticed. Find it in the topmost "
              "'Authentication-Results: <server>; …' line of any message in the inbox."),
    ConfigKey("trust.dkim", '"off"',
              "verify: tự kiểm tra chữ ký DKIM của địa chỉ đã đăng ký (cần DNS).",
              "verify: check registered senders' DKIM signatures directly (needs DNS)."),
    ConfigKey("trust.identify_by_document", '"on"',
              "Địa chỉ chưa đăng ký: nhận đơn vị theo cơ quan ban hành ghi trên văn bản.",
              "Unregistered address: identify the unit by the document's issuing body."),
    ConfigKey("trust.match_min_score", "90",
              "Điểm khớp tên cơ quan ban hành tối thiểu (50–100).",
              "Least match score of the issuing body to a unit name (50–100)."),
    ConfigKey("trust.match_min_margin", "8",
              "Phải hơn đơn vị gần giống kế tiếp bấy nhiêu điểm.",
              "Lead over the next most similar unit."),
    ConfigKey("trust.date_skew_hours", "24",
              "Ngày giờ ghi trong thư lệch quá số giờ này so với máy chủ nhận: ghi vấn đề.",
              "A Date header further than this from the server's time is noted."),
    ConfigKey("trust.staff_addresses", '["noivu@example.gov.vn"]',
              "Cán bộ Nội vụ: thư họ chuyển tiếp được tin theo người gửi gốc.",
              "Nội vụ staff: their forwards are attributed to the original sender."),
)

_CONFIG_HEADER = (
    "# baocao.toml — cấu hình cho một Sở Nội vụ (configuration for one office).",
    "# Tạo bởi `baocao init`. Các khóa đang có hiệu lực là những khóa cần điền cho cơ quan;",
    "# các khóa có dấu # ở đầu là tùy chọn, ghi sẵn giá trị mặc định: bỏ dấu # để đổi.",
    "# Created by `baocao init`. Active keys are the ones an office sets; keys behind # are",
    "# optional and shown at their defaults: remove the # to change one.",
    "#",
    "# Mật khẩu KHÔNG ghi ở đây: ghi tên biến môi trường chứa mật khẩu (password_env).",
    "# Passwords never go in this file: name the environment variable that holds each one.",
)


def config_text(keys: Sequence[ConfigKey] = CONFIG_KEYS) -> str:
    """The commented baocao.toml, section by section in the order of `keys`."""
    lines = list(_CONFIG_HEADER)
    section = ""
    for item in keys:
        item_section, _, name = item.key.partition(".")
        if item_section != section:
            section = item_section
            vi, en = _SECTIONS[section]
            lines += ["", f"[{section}]", f"# {vi} / {en}"]
        lines += ["", f"# {item.vi}", f"# {item.en}"]
        lines.append(f"{'' if item.active else '# '}{name} = {item.value}")
    return unicodedata.normalize("NFC", "\n".join(lines) + "\n")


# --- units.xlsx ----------------------------------------------------------------------------

UNITS_HEADER = ("Mã", "Tên đơn vị", "Tên viết tắt", "Loại", "Email", "Người liên hệ", "Tên khác")
_UNITS_EXAMPLE = (
    "so-tai-chinh", "Sở Tài chính", "STC", "Sở, ban, ngành",
    "stc@example.gov.vn; vanthu.stc@example.gov.vn", "Nguyễn Văn A - 0912 345 678",
    "Sở Tài chính tỉnh Tân Hưng",
)
_UNITS_HELP: tuple[tuple[str, str, str], ...] = (
    ("Mã", "Không bắt buộc",
     "Mã đơn vị, không dấu, không cách (ví dụ: so-tai-chinh). Bỏ trống: tạo từ tên viết tắt. "
     "Nhập lại tệp thì đơn vị cùng mã được cập nhật."),
    ("Tên đơn vị", "Bắt buộc", "Tên đầy đủ, dùng trong thư và báo cáo tổng hợp."),
    ("Tên viết tắt", "Nên có", "Tên ngắn dùng trong bảng và tiêu đề thư."),
    ("Loại", "Bắt buộc",
     "Một trong: Sở, ban, ngành | Đoàn thể | Đơn vị sự nghiệp | Xã, phường, đặc khu "
     "(Phòng Nội vụ cấp huyện cũ: Phòng, ban | Xã, phường, thị trấn). "
     "Dùng cho đối tượng của đợt báo cáo (--for kind:phong_ban, kind:doan_the, "
     "kind:su_nghiep, kind:xa)."),
    ("Email", "Bắt buộc",
     "Các địa chỉ gửi báo cáo của đơn vị, cách nhau bởi dấu ; hoặc dấu phẩy. Ghi "
     "@tenmien.gov.vn để nhận mọi địa chỉ của tên miền (không dùng với @gmail.com…)."),
    ("Người liên hệ", "Không bắt buộc", "Họ tên, điện thoại của văn thư hoặc cán bộ đầu mối."),
    ("Tên khác", "Không bắt buộc",
     "Tên cũ hoặc cách gọi khác, cách nhau bởi dấu ; (để nhận ra đơn vị trong nội dung thư)."),
)
_KIND_HELP: tuple[tuple[str, str], ...] = (
    ("Sở, ban, ngành", "Sở, Văn phòng UBND, Thanh tra, ban, ngành (kind:phong_ban)"),
    ("Đoàn thể", "Mặt trận, Hội, Đoàn, Công đoàn (kind:doan_the)"),
    ("Đơn vị sự nghiệp", "Trung tâm, Trường, Ban quản lý (kind:su_nghiep)"),
    ("Xã, phường, đặc khu", "UBND cấp xã (kind:xa)"),
)


def units_workbook() -> bytes:
    """units.xlsx: header + one example row, and a sheet explaining the columns.

    Cells go through baocao.reports.cells like every workbook we write, though today all are ours.
    """
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="D9E1F2")
    wb = openpyxl.Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.title = "Đơn vị"
    append(sheet, UNITS_HEADER)
    append(sheet, _UNITS_EXAMPLE)
    for cell in sheet[1]:
        cell.font = bold
        cell.fill = head_fill
    for column, width in zip("ABCDEFG", (14, 36, 18, 22, 48, 30, 28), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"

    guide = wb.create_sheet("Hướng dẫn")
    append(guide, ["Hướng dẫn điền danh sách đơn vị (nhập bằng: baocao units import units.xlsx)"])
    guide["A1"].font = Font(bold=True, size=13)
    append(guide, [])
    append(guide, ["Cột", "Bắt buộc?", "Cách ghi"])
    for cell in guide[3]:
        cell.font = bold
        cell.fill = head_fill
    for row in _UNITS_HELP:
        append(guide, row)
    append(guide, [])
    append(guide, ["Giá trị cột Loại", "Gồm", ""])
    for cell in guide[guide.max_row]:
        cell.font = bold
    for label, meaning in _KIND_HELP:
        append(guide, [label, meaning])
    append(guide, [])
    append(guide, ["Mỗi đơn vị một dòng, bắt đầu từ dòng 2 của trang \"Đơn vị\"; xóa dòng ví dụ "
                   "trước khi nhập. Dòng sai được bỏ qua và báo lại kèm lý do."])
    for column, width in zip("ABC", (22, 44, 90), strict=True):
        guide.column_dimensions[column].width = width
    for row in guide.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- the whole folder ----------------------------------------------------------------------


def init_office(directory: Path, force: bool = False) -> list[Path]:
    """Write baocao.toml, units.xlsx and bieu01.xlsx into `directory` (created if needed).

    Raises OfficeFilesExist, naming every file already there, unless `force`; nothing is
    written in that case.
    """
    paths = [directory / CONFIG_NAME, directory / UNITS_NAME, directory / FORM_NAME]
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing)
        raise OfficeFilesExist(
            f"Đã có tệp {names}; không ghi đè. Dùng --force để ghi đè, "
            f"hoặc chọn một thư mục khác."
        )
    directory.mkdir(parents=True, exist_ok=True)
    _write(paths[0], config_text().encode("utf-8"))
    _write(paths[1], units_workbook())
    form_template_command(spec_path(FORM_SPEC), paths[2], [])
    return paths


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def next_steps(directory: Path) -> list[str]:
    """What the IT person does next, as shell lines with a Vietnamese comment each."""
    config = directory / CONFIG_NAME
    return [
        f"# 1. Sửa {config}: tên cơ quan, máy chủ và tài khoản thư (các dòng 'BẮT BUỘC').",
        f"export BAOCAO_CONFIG={config}",
        "# 2. Đặt mật khẩu vào biến môi trường (không ghi vào tệp cấu hình):",
        f"export {IMAP_PASSWORD_ENV}='…' {SMTP_PASSWORD_ENV}='…'",
        "# 3. Tạo cơ sở dữ liệu:",
        "baocao db upgrade",
        "# 4. Kiểm tra cấu hình, cơ sở dữ liệu, máy chủ thư (mỗi dòng lỗi nói cách sửa):",
        "baocao doctor",
        f"# 5. Điền danh sách đơn vị vào {directory / UNITS_NAME} rồi nhập:",
        f"baocao units import {directory / UNITS_NAME}",
        "# 6. Khai báo đợt báo cáo (gửi kèm biểu " + FORM_NAME + " cho các đơn vị nếu cần):",
        'baocao rounds add BC6T-2025 --title "Báo cáo 6 tháng đầu năm 2025" --kind periodic '
        '--due 30/06/2025 --form dan-chu-co-so',
        "# 7. Chạy dịch vụ: đọc thư, gửi xác nhận, nhắc hạn, tổng hợp (thường qua systemd,",
        "#    deploy/systemd/baocao.service). Thử trước: `baocao poll --once` đọc thư một lần.",
        "baocao run",
    ]
