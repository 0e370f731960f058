"""SQLAlchemy models: the registry of units, report rounds, processed mail and the outbox.

Plain declarations only: no IO, no sessions. Values that are computed (alias keys, a round's
last day, timeliness) are computed by the service layer and stored here as facts.

Constraint names come from a naming convention so Alembic migrations can refer to them and
are identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    inspect,
    true,
)
from sqlalchemy import false as sql_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from store.types import UTCDateTime

__all__ = [
    "AUDIT_ACTIONS",
    "OUTBOX_STATUSES",
    "OUTCOMES",
    "ROUND_KINDS",
    "STAFF_ACTIONS",
    "UNIT_KINDS",
    "WEB_ROLES",
    "Attachment",
    "AuditEntry",
    "Base",
    "FormValue",
    "InboundMessage",
    "Lease",
    "LoginAttempt",
    "MailboxState",
    "Notice",
    "Outbox",
    "Problem",
    "RegistryVersion",
    "Round",
    "RoundTarget",
    "StaffAction",
    "Submission",
    "SupersededRow",
    "Unit",
    "UnitAddress",
    "UnitAlias",
    "WebSession",
    "WebUser",
    "metadata",
]

UNIT_KINDS: tuple[str, ...] = ("phong_ban", "doan_the", "su_nghiep", "xa")
ROUND_KINDS: tuple[str, ...] = ("plan", "periodic", "adhoc")
OUTCOMES: tuple[str, ...] = (
    "accepted",
    "accepted_with_problems",
    "quarantined",
    "ignored",
    "failed",
)
# "sending": claimed by one sender (claimed_by, claimed_at) between its claim and the SMTP
# server's answer; a claim whose sender died is handed back to "pending" (baocao.outbound.outbox).
OUTBOX_STATUSES: tuple[str, ...] = ("pending", "sending", "sent", "failed")
# What a person did to a message in review (baocao.intake.review), as the audit trail names it.
AUDIT_ACTIONS: tuple[str, ...] = ("assign", "reject", "reopen", "remember-address")
# What a person did outside review (a mail sent again, a board user managed): `StaffAction`.
STAFF_ACTIONS: tuple[str, ...] = (
    "retry-send", "user-add", "user-disable", "user-enable", "user-password",
)
# The staff board's roles, lowest first: view, review, administer (baocao.web.auth.Role).
WEB_ROLES: tuple[str, ...] = ("xem", "xu-ly", "quan-tri")

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Default for bookkeeping timestamps; business times (received_at…) are always passed in."""
    return datetime.now(UTC)


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """A CHECK that keeps a closed set closed even for rows written outside the ORM."""
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_valid")


class Base(DeclarativeBase):
    """Declarative base: one MetaData, Python types mapped to portable column types."""

    metadata = metadata
    type_annotation_map = {  # noqa: RUF012 - read by SQLAlchemy at class creation
        str: String(),
        int: Integer(),
        datetime: UTCDateTime(),
        date: Date(),
    }

    def __repr__(self) -> str:
        # Identity only: a repr that touches attributes could trigger lazy loads (IO).
        identity = inspect(self).identity
        key = ", ".join(map(repr, identity)) if identity else "unsaved"
        return f"<{type(self).__name__} {key}>"


class Unit(Base):
    """A reporting unit (đơn vị): a department, mass organisation, service unit or commune."""

    __tablename__ = "units"
    __table_args__ = (_one_of("kind", UNIT_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(unique=True)
    name: Mapped[str]
    short_name: Mapped[str | None]
    kind: Mapped[str] = mapped_column(index=True)
    contact: Mapped[str | None]
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    addresses: Mapped[list[UnitAddress]] = relationship(
        back_populates="unit", cascade="all, delete-orphan", order_by="UnitAddress.id"
    )
    aliases: Mapped[list[UnitAlias]] = relationship(
        back_populates="unit", cascade="all, delete-orphan", order_by="UnitAlias.id"
    )


class UnitAddress(Base):
    """A sender address or a whole domain ("@xa.vn") that identifies a unit.

    Unique across all units: one address must never identify two units.
    """

    __tablename__ = "unit_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    pattern: Mapped[str] = mapped_column(unique=True)

    unit: Mapped[Unit] = relationship(back_populates="addresses")


class UnitAlias(Base):
    """Another name a unit goes by in document headers; `key` is the accent-folded lookup key."""

    __tablename__ = "unit_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str]
    key: Mapped[str] = mapped_column(index=True)

    unit: Mapped[Unit] = relationship(back_populates="aliases")


class Round(Base):
    """A reporting round (đợt báo cáo): what is asked, of whom, and by when.

    `last_day` is derived from the deadline rule by the service (it needs the working-day
    calendar) and stored so queries and reminders never recompute it differently.
    """

    __tablename__ = "rounds"
    __table_args__ = (_one_of("kind", ROUND_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(unique=True)
    title: Mapped[str]
    kind: Mapped[str]
    opens_on: Mapped[date]
    due_date: Mapped[date | None]
    within_working_days: Mapped[int | None]
    counted_from: Mapped[date | None]
    last_day: Mapped[date]
    keywords: Mapped[str] = mapped_column(default="", server_default="")
    # Name of a form spec (templates/forms/<name>.toml) whose figures units must send.
    form_spec: Mapped[str | None]
    # The document the round carries out ("Kế hoạch số 58/KH-UBND ngày …"): the căn cứ of the
    # summary report; "" when not given.
    basis: Mapped[str] = mapped_column(Text, default="", server_default="")
    closed: Mapped[bool] = mapped_column(default=False, server_default=sql_false(), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    targets: Mapped[list[RoundTarget]] = relationship(
        back_populates="round", cascade="all, delete-orphan", order_by="RoundTarget.id"
    )


class RoundTarget(Base):
    """Who must answer a round: one named unit, or every unit of a kind."""

    __tablename__ = "round_targets"
    __table_args__ = (
        CheckConstraint("(unit_id IS NULL) <> (unit_kind IS NULL)", name="unit_xor_kind"),
        _one_of("unit_kind", UNIT_KINDS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), index=True
    )
    unit_kind: Mapped[str | None]

    round: Mapped[Round] = relationship(back_populates="targets")
    unit: Mapped[Unit | None] = relationship()


class MailboxState(Base):
    """The IMAP cursor: the next UID to fetch, valid only for this UIDVALIDITY."""

    __tablename__ = "mailbox_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(unique=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    next_uid: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Lease(Base):
    """A named, expiring lock held in the database (see store.lease)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(primary_key=True)
    holder: Mapped[str]
    expires_at: Mapped[datetime]


class InboundMessage(Base):
    """One fetched email and what intake decided about it.

    Two keys make processing idempotent: the IMAP position (a re-fetch after a crash) and
    `dedup_key` (the same mail delivered twice, or copied to another folder).
    """

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("mailbox", "uidvalidity", "uid"),
        _one_of("outcome", OUTCOMES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str]
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    dedup_key: Mapped[str] = mapped_column(unique=True)
    message_id: Mapped[str | None]
    sha256: Mapped[str]
    size: Mapped[int]
    received_at: Mapped[datetime] = mapped_column(index=True)
    date_header: Mapped[datetime | None]
    sender: Mapped[str]
    subject: Mapped[str]
    outcome: Mapped[str] = mapped_column(index=True)
    reason: Mapped[str | None]
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # How the unit was known: "address", "forward" (the original sender of a forwarded mail),
    # "document" (the letterhead, from an unregistered address) or "review" (a person).
    identified_by: Mapped[str | None]
    original_sender: Mapped[str | None]  # of a forwarded message
    # Why a message is held for a person (machine code; `reason` has the words) and the
    # unit it most likely came from, shown to the reviewer.
    hold_code: Mapped[str | None] = mapped_column(index=True)
    candidate_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    # A person's verdict on a held message: "assigned" or "rejected", when and why.
    review: Mapped[str | None]
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str | None]
    # The IMAP post-action (imap.post_action) still owed to this message: written with the
    # record, cleared once done on the server, so a crash between the two is reconciled.
    pending_action: Mapped[str | None] = mapped_column(index=True)
    action_done_at: Mapped[datetime | None]
    # sha256 of what the mail says (normalised body text, decoded attachments): the same mail
    # re-encoded by a mailbox migration has the same key (baocao.rules.dedup).
    content_key: Mapped[str | None]

    unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id])
    candidate_unit: Mapped[Unit | None] = relationship(foreign_keys=[candidate_unit_id])
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="inbound_message", cascade="all, delete-orphan", order_by="Attachment.id"
    )
    problems: Mapped[list[Problem]] = relationship(
        back_populates="inbound_message", cascade="all, delete-orphan", order_by="Problem.id"
    )
    submissions: Mapped[list[Submission]] = relationship(
        back_populates="inbound_message", order_by="Submission.id"
    )


class Submission(Base):
    """One unit's answer to one round; a resubmission is a new row with the next version."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("round_id", "unit_id", "version"),
        # The same email must not count twice for the same round and unit.
        UniqueConstraint("round_id", "unit_id", "inbound_message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    inbound_message_id: Mapped[int] = mapped_column(ForeignKey("inbound_messages.id"), index=True)
    version: Mapped[int]
    received_at: Mapped[datetime]
    on_time: Mapped[bool]
    days_late: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    round: Mapped[Round] = relationship()
    unit: Mapped[Unit] = relationship()
    inbound_message: Mapped[InboundMessage] = relationship(back_populates="submissions")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="submission", order_by="Attachment.id"
    )
    problems: Mapped[list[Problem]] = relationship(
        back_populates="submission", order_by="Problem.id"
    )


class Attachment(Base):
    """A file that came with a message; the bytes live in the archive under `sha256`."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    inbound_message_id: Mapped[int] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="CASCADE"), index=True
    )
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    filename: Mapped[str]
    content_type: Mapped[str]
    size: Mapped[int]
    sha256: Mapped[str]
    kind: Mapped[str]
    readable: Mapped[bool]
    text: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    # Administrative metadata (NĐ 30/2020 layout) read from the document itself.
    doc_number: Mapped[str | None]  # "45"; None for a draft with a blank number
    doc_symbol: Mapped[str | None]  # "BC-UBND"
    doc_type: Mapped[str | None]  # "BC", "KH", "CV"…
    doc_date: Mapped[date | None]
    issuer: Mapped[str | None]
    title: Mapped[str | None] = mapped_column(Text)
    signer: Mapped[str | None]
    digital_signer: Mapped[str | None]  # from a signed PDF
    form_code: Mapped[str | None]  # the data form found in this file
    # A .docx and a .pdf of the same document (same number and symbol) point at each other.
    same_document_as_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))

    inbound_message: Mapped[InboundMessage] = relationship(back_populates="attachments")
    submission: Mapped[Submission | None] = relationship(back_populates="attachments")
    form_values: Mapped[list[FormValue]] = relationship(
        back_populates="attachment", cascade="all, delete-orphan", order_by="FormValue.id"
    )


class FormValue(Base):
    """One figure of a data form, as read from one attachment (value by indicator code)."""

    __tablename__ = "form_values"
    __table_args__ = (UniqueConstraint("attachment_id", "form_code", "indicator"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attachment_id: Mapped[int] = mapped_column(
        ForeignKey("attachments.id", ondelete="CASCADE"), index=True
    )
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    form_code: Mapped[str]
    indicator: Mapped[str]
    number: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    text: Mapped[str | None]
    raw: Mapped[str | None]
    place: Mapped[str | None]

    attachment: Mapped[Attachment] = relationship(back_populates="form_values")


class Problem(Base):
    """Something a person must look at, stated as one Vietnamese sentence in `text`."""

    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(primary_key=True)
    inbound_message_id: Mapped[int] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="CASCADE"), index=True
    )
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachments.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str]
    text: Mapped[str] = mapped_column(Text)
    place: Mapped[str | None]  # sheet/row/cell or table/row, when the problem has one
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved: Mapped[bool] = mapped_column(default=False, server_default=sql_false())

    inbound_message: Mapped[InboundMessage] = relationship(back_populates="problems")
    submission: Mapped[Submission | None] = relationship(back_populates="problems")
    attachment: Mapped[Attachment | None] = relationship()


class Outbox(Base):
    """Every email we send, queued here first.

    `key` is the idempotency key (kind + round + unit + stage…): a job that runs twice inserts
    the same key and hits the unique constraint instead of mailing twice.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        _one_of("status", OUTBOX_STATUSES),
        Index(None, "status", "next_attempt_at"),
        Index(None, "to_stranger", "created_at"),
        # The daily cap: a seek per counted kind that reads at most `cap` entries.
        Index(None, "unit_id", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(unique=True)
    kind: Mapped[str]
    to_addr: Mapped[str]
    subject: Mapped[str]
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    message_id_header: Mapped[str] = mapped_column(unique=True)
    in_reply_to: Mapped[str | None]
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    # Reminder stage ("-3", "0", "+1"…) or summary occasion ("weekly-2025-W22"), for the record.
    stage: Mapped[str | None]
    # Files sent with the mail: JSON list of {"filename", "content_type", "sha256"}; the bytes
    # live in the archive so a retry sends exactly what was built.
    attachments_json: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(default="pending", server_default="pending")
    # To an address no unit registered (nor Nội vụ staff): counted by the hourly cap on such
    # mail, so the office's domain never becomes a spam reflector.
    to_stranger: Mapped[bool] = mapped_column(default=False, server_default=sql_false())
    claimed_by: Mapped[str | None]  # "host:pid" of the sender holding a "sending" row
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # When the copy in the shared mailbox's Sent folder was stored (or found there).
    copied_at: Mapped[datetime | None]
    # A delivery failure report (DSN) that came back for this mail.
    bounced_at: Mapped[datetime | None]
    bounce_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    round: Mapped[Round | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
    submission: Mapped[Submission | None] = relationship()


class Notice(Base):
    """Something Nội vụ must be told about one message (a suspected forgery, an address no unit
    registered…); notices go out as one digest per poll, not one mail each
    (baocao.outbound.notices)."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    inbound_message_id: Mapped[int] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str]
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The outbox key of the digest that carried it; None until then.
    digest_key: Mapped[str | None] = mapped_column(index=True)

    inbound_message: Mapped[InboundMessage] = relationship()


class AuditEntry(Base):
    """One review action by a person: who, when, on which message, the state before and after.

    Written in the same transaction as the action and never changed afterwards, so "who moved
    this report to another unit, and what was it before" has an answer. `before`/`after` are
    JSON objects (store.audit.message_state).
    """

    __tablename__ = "audit_entries"
    __table_args__ = (_one_of("action", AUDIT_ACTIONS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str]  # the OS user at the CLI (or --as / BAOCAO_USER), a web board's login
    action: Mapped[str]
    inbound_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id"), index=True
    )
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)  # the reason a person gave


class SupersededRow(Base):
    """A row a review took out of the count without deleting it.

    Exactly one of: a submission withdrawn when its message was reopened (status, reminders and
    summaries skip it), or a file or problem of an earlier recording of a message that a review
    recorded again. `audit_entry_id` is the action that did it. Assigning a reopened message
    back to the unit and round it was withdrawn from puts that recording back: its rows here get
    `restored_by_id` (the database allows one submission per message, unit and round).
    """

    __tablename__ = "superseded_rows"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN submission_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN attachment_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN problem_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_row",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_entry_id: Mapped[int] = mapped_column(ForeignKey("audit_entries.id"), index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachments.id", ondelete="CASCADE"), index=True
    )
    problem_id: Mapped[int | None] = mapped_column(
        ForeignKey("problems.id", ondelete="CASCADE"), index=True
    )
    restored_by_id: Mapped[int | None] = mapped_column(ForeignKey("audit_entries.id"))


class StaffAction(Base):
    """One thing a person did that is not a review of a message: a failed mail sent again, a
    board user added, disabled or given a new password.

    Kept apart from `AuditEntry` (whose rows are about one inbound message and whose action set
    is closed by a CHECK that SQLite cannot widen without rebuilding a table other rows point
    at); `actor` is recorded the same way (the OS user at the CLI, the login on the board).
    """

    __tablename__ = "staff_actions"
    __table_args__ = (_one_of("action", STAFF_ACTIONS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str]
    action: Mapped[str]
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), index=True)
    target: Mapped[str | None]  # the user name a user-* action was about
    note: Mapped[str | None] = mapped_column(Text)  # e.g. the error the retried mail had


class WebUser(Base):
    """A person who may sign in to the staff board (`baocao users add`).

    Only an argon2 hash of the password is kept. A user is disabled, never deleted, so the
    audit trail's names keep meaning someone.
    """

    __tablename__ = "web_users"
    __table_args__ = (_one_of("role", WEB_ROLES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    password_hash: Mapped[str]
    role: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled: Mapped[bool] = mapped_column(default=False, server_default=sql_false())


class WebSession(Base):
    """A signed-in browser: server-side, so signing out or disabling a user ends it at once.

    Only the SHA-256 of the cookie's token is stored: a copy of the database (a backup) signs
    no one in. The CSRF secret is per session and goes into every form.
    """

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("web_users.id", ondelete="CASCADE"), index=True
    )
    csrf_secret: Mapped[str]
    address: Mapped[str | None]  # where it signed in from, for the record
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)  # the absolute limit

    user: Mapped[WebUser] = relationship()


class LoginAttempt(Base):
    """A failed sign-in, by name and client address: the rate limit counts these rows, so it
    holds across several board processes (and a restart)."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index(None, "name", "address", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    address: Mapped[str]
    at: Mapped[datetime] = mapped_column(index=True)


class RegistryVersion(Base):
    """One row of change counters. `version` goes up with every write to units, their addresses
    and aliases, rounds and their targets, so a long-running poller reuses its snapshot of them
    until one changes (baocao.registry.snapshots.SnapshotCache); `submissions` with every write
    to what the rounds received, so the staff board reuses a built board
    (baocao.web.board_cache). Both on one row: a transaction that moves both takes one lock.

    Bumped by database triggers (migration 0011), not by the code that writes: a writer added
    later, a bulk UPDATE or another process cannot forget it.
    """

    __tablename__ = "registry_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Writes to submissions, attachments, form values, problems and superseded rows (0012).
    submissions: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
