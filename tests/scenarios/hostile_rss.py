"""Run the hostile corpus through intake in this process; report every outcome and peak memory.

Used two ways: imported by tests/scenarios/test_hostile_corpus.py (the setup and the per-input
runner), and
run as a script in a fresh process, so that its peak RSS is the corpus's alone and not the test
session's:

    python tests/scenarios/hostile_rss.py WORKDIR [LARGE_DIR]

prints one JSON object: the outcome of each input, the process's peak RSS (ru_maxrss of
RUSAGE_SELF) and the largest peak of its children (RUSAGE_CHILDREN: the sandboxed parsers, and
LibreOffice if a .doc is converted), both in KiB as Linux reports them.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import resource
import sys
import tomllib
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a script
    sys.path.insert(0, str(REPO))

from sqlalchemy import select  # noqa: E402

from baocao.config.context import App  # noqa: E402
from baocao.intake.poll import Snapshot, process_message  # noqa: E402
from baocao.registry.rounds import RoundSpec, add_round  # noqa: E402
from baocao.registry.snapshots import load_rounds, load_units  # noqa: E402
from baocao.rules.deadlines import DeadlineRule  # noqa: E402
from devtools.testbed import make_app, seed_units  # noqa: E402
from mailer.inbox import FetchedMessage, ImapSettings  # noqa: E402
from mailer.smtp import SmtpSettings  # noqa: E402
from store.models import Attachment, InboundMessage, Problem  # noqa: E402

CORPUS = REPO / "tests" / "data" / "hostile"
MAILBOX = "INBOX"
UIDVALIDITY = 1


@functools.cache
def load_generator() -> ModuleType:
    """tests/data/hostile/generate.py as a module (tests/data is no package)."""
    spec = importlib.util.spec_from_file_location("hostile_generate", CORPUS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("hostile_generate", module)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Entry:
    """One line of MANIFEST.toml."""

    name: str
    category: str
    what: str
    outcomes: tuple[str, ...]
    problems: tuple[str, ...]
    large: bool


def manifest() -> list[Entry]:
    data = tomllib.loads((CORPUS / "MANIFEST.toml").read_text(encoding="utf-8"))
    return [
        Entry(e["name"], e["category"], e["what"], tuple(e["outcomes"]), tuple(e["problems"]),
              bool(e.get("large", False)))
        for e in data["input"]
    ]


def read_input(entry: Entry, large_dir: Path | None) -> bytes:
    if entry.large:
        assert large_dir is not None, f"{entry.name} is built on demand: pass LARGE_DIR"
        return (large_dir / entry.name).read_bytes()
    return (CORPUS / entry.name).read_bytes()


def offline_settings() -> tuple[ImapSettings, SmtpSettings]:
    """Server settings that are never used: process_message talks only to the DB and disk."""
    imap = ImapSettings("127.0.0.1", 9, "plain", "baocao", "unused", timeout=1.0)
    smtp = SmtpSettings("127.0.0.1", 9, "plain", None, None, "baocao@noivu.example.vn",
                        "Phòng Nội vụ", timeout=1.0)
    return imap, smtp


def setup_rounds(app: App) -> None:
    """The district's units; communes owe a report, district offices a data form."""
    gen = load_generator()
    seed_units(app)
    with app.sessions() as session, session.begin():
        for (code, title), kind, form in (
            (gen.REPORT_ROUND, "kind:xa", None),
            (gen.FORM_ROUND, "kind:phong_ban", gen.FORM_SPEC),
        ):
            add_round(session, app.calendar, RoundSpec(
                code, title, "periodic", date(2025, 5, 1), DeadlineRule.on(date(2025, 5, 30)),
                (kind,), "6 thang", form_spec=form,
            ))


def build_app(workdir: Path, db_url: str, imap: ImapSettings | None = None,
              smtp: SmtpSettings | None = None) -> App:
    """tests.support.make_app, believing our own server's Authentication-Results."""
    offline = offline_settings()
    app = make_app(workdir, db_url, imap or offline[0], smtp or offline[1])
    trust = replace(app.settings.trust, authserv_ids=(load_generator().AUTHSERV,))
    app = replace(app, settings=replace(app.settings, trust=trust))
    setup_rounds(app)
    return app


def snapshot(app: App) -> Snapshot:
    with app.sessions() as session:
        return Snapshot(load_units(session), load_rounds(session))


@dataclass
class Result:
    """What became of one input."""

    name: str
    uid: int
    returned: str | None = None  # Recorded.outcome, or None for a duplicate
    error: str | None = None  # an exception that escaped process_message
    rows: int = 0  # InboundMessage rows with this UID
    outcome: str | None = None  # the row's outcome
    problems: list[str] = field(default_factory=list)
    sha256: str | None = None
    filenames: list[str] = field(default_factory=list)  # attachments as stored


def run_one(app: App, snap: Snapshot, entry: Entry, uid: int, raw: bytes) -> Result:
    gen = load_generator()
    result = Result(entry.name, uid)
    fetched = FetchedMessage(uid, raw, gen.WHEN, len(raw))
    try:
        recorded = process_message(app, MAILBOX, UIDVALIDITY, fetched, snap)
        result.returned = recorded.outcome if recorded is not None else None
    except Exception:
        result.error = traceback.format_exc(limit=8)[-3000:]
    with app.sessions() as session:
        rows = list(session.scalars(select(InboundMessage).where(InboundMessage.uid == uid)))
        result.rows = len(rows)
        if rows:
            row = rows[0]
            result.outcome, result.sha256 = row.outcome, row.sha256
            result.problems = sorted(session.scalars(
                select(Problem.code).where(Problem.inbound_message_id == row.id)))
            result.filenames = list(session.scalars(
                select(Attachment.filename).where(Attachment.inbound_message_id == row.id)
                .order_by(Attachment.id)))
    return result


def run_corpus(app: App, entries: list[Entry], large_dir: Path | None) -> Iterator[Result]:
    """Each input in manifest order, UIDs 1, 2, ...; the next one runs whatever happened."""
    snap = snapshot(app)
    for uid, entry in enumerate(entries, start=1):
        raw = read_input(entry, large_dir)
        yield run_one(app, snap, entry, uid, raw)
        del raw


def main(argv: list[str]) -> int:
    workdir = Path(argv[0])
    large_dir = Path(argv[1]) if len(argv) > 1 else None
    workdir.mkdir(parents=True, exist_ok=True)
    entries = [e for e in manifest() if large_dir is not None or not e.large]
    app = build_app(workdir, f"sqlite:///{workdir / 'baocao.db'}")
    results = [r.__dict__ for r in run_corpus(app, entries, large_dir)]
    app.engine.dispose()
    print(json.dumps({
        "inputs": len(results),
        "results": results,
        "maxrss_self_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "maxrss_children_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
