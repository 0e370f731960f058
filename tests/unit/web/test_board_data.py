"""The board is built from the summary's own rows without its papers-only work: for every unit
it shows the summary's state, figures ("x" included, a later version without the form keeping
the earlier figures) and the latest version's files and unresolved problems."""

from __future__ import annotations

from datetime import timedelta

from baocao.config.context import App
from baocao.intake.messages import figure_text
from baocao.reports.data import load_summary_data
from baocao.web.queries import load_board
from devtools.samples import sample_figures
from tests.unit.web.pages_support import COMMUNES, ROUND, Mailer, at, late_round


def test_board_rows_agree_with_the_summary(web_ctx: App) -> None:
    _, last = late_round(web_ctx)
    mail = Mailer(web_ctx)
    mail.report(COMMUNES[0], at(last - timedelta(days=2)), seed=1)
    mail.report(COMMUNES[0], at(last - timedelta(days=1)), seed=5, with_form=False)
    mail.report(COMMUNES[1], at(last + timedelta(days=2)), seed=2,
                form_values={"DC03": None, "DC02": "x"})
    mail.report(COMMUNES[2], at(last - timedelta(days=1)), seed=3, form_values={"DC01": "abc"})
    mail.report(COMMUNES[2], at(last + timedelta(days=1)), seed=4)
    now = web_ctx.clock()
    with web_ctx.sessions() as session:
        board = load_board(session, ROUND, web_ctx.settings.office, now, web_ctx.calendar)
        data = load_summary_data(session, ROUND, web_ctx.settings.office, now)
    assert data.spec is not None
    codes = [i.code for i in data.spec.indicators]
    assert [i.code for i in board.indicators] == codes
    assert board.counts == data.counts()
    assert len(board.rows) == len(data.units) == len(COMMUNES)
    for row, unit in zip(board.rows, data.units, strict=True):
        assert (row.unit_code, row.status, row.label, row.versions, row.received_at) == (
            unit.row.unit_code, unit.row.status, unit.row.label, unit.row.versions,
            unit.row.received_at)
        expected = tuple(
            figure_text(unit.figures[c], None) if c in unit.figures
            else "x" if c in unit.not_applicable else "" for c in codes)
        assert row.figures == (expected if unit.figures or unit.not_applicable
                               else ("",) * len(codes))
        latest = max((p.version for p in unit.problems), default=0)
        if row.versions:
            assert [f.name for f in row.files] == list(unit.row.files)
        assert list(row.problems) == [p.text for p in unit.problems
                                      if p.version == row.versions and latest]
    first, second, third = board.rows[:3]
    # Version 1's figures: version 2 (a letter without the form) keeps them.
    assert first.versions == 2 and first.figures == tuple(
        str(sample_figures(1)[c]) for c in codes)
    # Version 2 carries the form again: its figures, not version 1's.
    assert third.figures == tuple(str(sample_figures(4)[c]) for c in codes)
    assert "x" in second.figures and "" in second.figures
    assert second.flagged  # the blank DC03 is a form problem of the latest version
    assert third.versions == 2 and not third.flagged  # version 1's bad DC01 is superseded
