"""`/dot/{code}`: one row per unit that owes the round, filtered by state, kind and name; the
summary workbook and the draft report of the round, built as `baocao summary` builds them; and
`/tep/{id}`, a received file as it came."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from baocao.config.context import App
from baocao.reports.data import UnknownRound, load_summary_data
from baocao.reports.draft import build_report
from baocao.reports.summary_mail import summary_filenames
from baocao.reports.workbook import build_workbook
from baocao.web.board_cache import BoardCache
from baocao.web.downloads import OCTET, SAFE_TYPES, download
from baocao.web.queries import STATE_LABELS, filter_rows
from baocao.web.render import not_found, page
from mailer.message import parse_envelope
from store.errors import ArchiveError
from store.models import Attachment, InboundMessage

XLSX = SAFE_TYPES["xlsx"]
DOCX = SAFE_TYPES["docx"]


def _unknown_round(request: Request, code: str) -> Response:
    return not_found(request, f"Không có đợt báo cáo mã “{code}”.")


def board_page(request: Request) -> Response:
    ctx: App = request.app.state.ctx
    boards: BoardCache = request.app.state.boards
    code = request.path_params["code"]
    params = request.query_params
    state, kind, query = params.get("trang_thai", ""), params.get("loai", ""), params.get("q", "")
    try:
        with ctx.sessions() as session:
            found = boards.get(session, code, ctx.settings.office, ctx.clock(), ctx.calendar)
    except UnknownRound:
        return _unknown_round(request, code)
    board = found.board
    rows = filter_rows(board.rows, state=state, kind=kind, query=query)
    body = found.body(rows)
    return page(request, "board.html", board=board, shown=len(rows), body=body,
                states=STATE_LABELS, state=state, kind=kind, query=query)


def _summary(request: Request, which: str) -> Response:
    ctx: App = request.app.state.ctx
    code = request.path_params["code"]
    try:
        with ctx.sessions() as session:
            data = load_summary_data(session, code, ctx.settings.office, ctx.clock())
    except UnknownRound:
        return _unknown_round(request, code)
    xlsx_name, docx_name = summary_filenames(data)
    if which == "xlsx":
        return download(build_workbook(data), xlsx_name, XLSX)
    return download(build_report(data), docx_name, DOCX)


def workbook_download(request: Request) -> Response:
    return _summary(request, "xlsx")


def report_download(request: Request) -> Response:
    return _summary(request, "docx")


def _from_message(ctx: App, message_sha: str, received_at: datetime, sha: str) -> bytes | None:
    """The file cut again out of its archived message: intake stores each file without an
    fsync, since the .eml (stored durably first) holds it too."""
    try:
        raw = ctx.archive.get(message_sha)
    except (ArchiveError, ValueError):
        return None
    envelope = parse_envelope(raw, received_at, own_domain=ctx.settings.message_id_domain)
    return next((part.data for part in envelope.attachments
                 if hashlib.sha256(part.data).hexdigest() == sha), None)


def file_download(request: Request) -> Response:
    """The file's bytes as received (the archive checks them against their hash)."""
    ctx: App = request.app.state.ctx
    attachment_id: int = request.path_params["attachment_id"]
    with ctx.sessions() as session:
        found = session.execute(
            select(Attachment.sha256, Attachment.filename, Attachment.kind,
                   InboundMessage.sha256, InboundMessage.received_at)
            .join(InboundMessage, InboundMessage.id == Attachment.inbound_message_id)
            .where(Attachment.id == attachment_id)
        ).first()
    if found is None:
        return not_found(request, f"Không có tệp số {attachment_id}.")
    sha, filename, kind, message_sha, received_at = found
    try:
        data: bytes | None = ctx.archive.get(sha, ".bin")
    except (ArchiveError, ValueError):
        data = _from_message(ctx, message_sha, received_at, sha)
    if data is None:
        return not_found(request, f"Tệp “{filename}” không còn trong kho lưu trữ (hoặc đã hỏng).")
    return download(data, filename, SAFE_TYPES.get(kind, OCTET))


routes = [
    Route("/dot/{code}", board_page, name="board"),
    Route("/dot/{code}/tong-hop.xlsx", workbook_download, name="board-xlsx"),
    Route("/dot/{code}/du-thao.docx", report_download, name="board-docx"),
    Route("/tep/{attachment_id:int}", file_download, name="file"),
]
