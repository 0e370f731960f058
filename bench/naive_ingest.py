"""The baseline issue 17 compares against: the script an office's IT person would write.

Standalone on purpose (it imports nothing from this repository): imapclient, the stdlib `email`
package with `policy.default`, python-docx for Word text, openpyxl (read-only) for spreadsheets,
one SQLite INSERT per message and per attachment, a commit per message. No sandbox, no archive,
no duplicate check, no unit identification: everything our intake adds on top of reading the
files is missing, which is what makes it the honest "how fast could it be, done simply".

    IMAP_PASSWORD=... python bench/naive_ingest.py --host 127.0.0.1 --port 10143 \\
        --user baocao --db naive.db [--mailbox INBOX] [--batch 50]
"""

from __future__ import annotations

import argparse
import io
import os
import sqlite3
import sys
import time
from collections.abc import Sequence
from email import message_from_bytes, policy
from email.message import EmailMessage

import docx
import openpyxl
from imapclient import IMAPClient

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY, uid INTEGER, message_id TEXT, sender TEXT, subject TEXT,
    sent_date TEXT, body TEXT, fetched_at REAL
);
CREATE TABLE IF NOT EXISTS attachments (
    id INTEGER PRIMARY KEY, message_id INTEGER REFERENCES messages(id), filename TEXT,
    content_type TEXT, size INTEGER, text TEXT
);
"""


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    return "\n".join(p.text for p in document.paragraphs)


def xlsx_text(data: bytes) -> str:
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        cells = [str(value) for sheet in workbook.worksheets
                 for row in sheet.iter_rows(values_only=True)
                 for value in row if value is not None]
    finally:
        workbook.close()
    return "\t".join(cells)


def body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else ""


def store(db: sqlite3.Connection, uid: int, raw: bytes) -> int:
    """Parse one message and record it with its attachments; returns the attachment count."""
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    cursor = db.execute(
        "INSERT INTO messages (uid, message_id, sender, subject, sent_date, body, fetched_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (uid, str(msg["Message-ID"] or ""), str(msg["From"] or ""), str(msg["Subject"] or ""),
         str(msg["Date"] or ""), body_text(msg), time.time()),
    )
    message_row = cursor.lastrowid
    count = 0
    for part in msg.iter_attachments():
        filename = part.get_filename() or ""
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        text = ""
        try:
            if filename.lower().endswith(".docx"):
                text = docx_text(data)
            elif filename.lower().endswith(".xlsx"):
                text = xlsx_text(data)
        except Exception as exc:  # a broken file must not stop the run
            text = f"ERROR: {exc}"
        db.execute(
            "INSERT INTO attachments (message_id, filename, content_type, size, text) "
            "VALUES (?, ?, ?, ?, ?)",
            (message_row, filename, part.get_content_type(), len(data), text),
        )
        count += 1
    db.commit()
    return count


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=143)
    parser.add_argument("--user", required=True)
    parser.add_argument("--mailbox", default="INBOX")
    parser.add_argument("--db", required=True)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args(argv)

    db = sqlite3.connect(args.db)
    db.executescript(SCHEMA)
    client = IMAPClient(args.host, port=args.port, ssl=False, timeout=60)
    messages = attachments = 0
    try:
        client.login(args.user, os.environ["IMAP_PASSWORD"])
        client.select_folder(args.mailbox)
        uids = client.search("ALL")
        for start in range(0, len(uids), args.batch):
            fetched = client.fetch(uids[start : start + args.batch], [b"BODY.PEEK[]"])
            for uid, data in sorted(fetched.items()):
                attachments += store(db, uid, data[b"BODY[]"])
                messages += 1
    finally:
        client.logout()
        db.close()
    print(f"{messages} messages, {attachments} attachments")
    return 0


if __name__ == "__main__":
    sys.exit(main())
