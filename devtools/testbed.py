"""An App on local servers with the district's units seeded: what the tests, the benchmarks and
the hostile-corpus tools share, so each builds its set-up one way."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl

from baocao.config.context import App, Clock, build_app, utc_now
from baocao.config.settings import IntakeSettings, OfficeSettings, Settings
from baocao.registry.units import import_units, read_unit_sheet
from devtools.seed import DISTRICT_UNITS, SeedUnit, units_sheet_rows
from mailer.inbox import ImapSettings
from mailer.smtp import SmtpSettings

OFFICE = OfficeSettings(
    name="Phòng Nội vụ huyện Tân Hưng",
    place="Tân Hưng",
    summary_to=("noivu@tanhung.example.vn",),
    signature="Phòng Nội vụ huyện Tân Hưng",
)
INBOX_ADDRESS = "baocao@noivu.example.vn"


def make_app(
    tmp_path: Path, db_url: str, imap: ImapSettings, smtp: SmtpSettings,
    clock: Clock = utc_now, post_action: str = "none",
) -> App:
    settings = Settings(
        path=tmp_path / "baocao.toml",
        office=OFFICE,
        database_url=db_url,
        archive_dir=tmp_path / "archive",
        imap=imap,
        smtp=smtp,
        extra_days_off=frozenset(),
        extra_working_days=frozenset(),
        intake=IntakeSettings(post_action, 50 * 1024 * 1024, 25 * 1024 * 1024),
        message_id_domain="noivu.example.vn",
    )
    return build_app(settings, clock=clock)


def units_xlsx(units: tuple[SeedUnit, ...] = DISTRICT_UNITS) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in units_sheet_rows(units):
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def seed_units(app: App, units: tuple[SeedUnit, ...] = DISTRICT_UNITS) -> None:
    with app.sessions() as session, session.begin():
        report = import_units(session, read_unit_sheet(units_xlsx(units)))
    assert not report.skipped, report.skipped
