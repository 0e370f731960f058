"""Who may use the staff board: users, roles, argon2 passwords, server-side sessions and the
sign-in rate limit.

Everything here takes a `Session` and an explicit `now` (the App's clock), so the CLI, the
middleware and the tests share one implementation and expiry is testable without waiting.
Sessions are rows, not signed cookies: signing out, disabling a user or changing a password
ends their sessions at once, and no server secret has to be configured or rotated.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request

from store.models import LoginAttempt, StaffAction
from store.models import WebSession as SessionRow
from store.models import WebUser as UserRow

SESSION_COOKIE = "baocao_phien"
# With --secure-cookies the browser only keeps a "__Host-" cookie if it is Secure, has Path=/ and
# no Domain: no other host on the LAN (or plain-HTTP page) can set or overwrite it.
SECURE_SESSION_COOKIE = "__Host-baocao_phien"
LOGIN_COOKIE = "baocao_dang_nhap"  # the login form's CSRF token (double submit, before a session)
SECURE_LOGIN_COOKIE = "__Host-baocao_dang_nhap"

IDLE_LIMIT = timedelta(hours=2)
SESSION_LIMIT = timedelta(hours=12)  # a working day, then sign in again
TOUCH_EVERY = timedelta(minutes=5)  # last_seen is written at most this often (fewer writes)

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
BLOCK_FOR = timedelta(minutes=15)
KEEP_ATTEMPTS = timedelta(days=1)

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; a megabyte "password" only wastes CPU
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")


class Role(StrEnum):
    """What a user may do, lowest first: read everything; settle held mail and retry sends;
    administer (the same on the board today; users are managed with `baocao users`)."""

    VIEW = "xem"
    REVIEW = "xu-ly"
    ADMIN = "quan-tri"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.VIEW: "xem",
    Role.REVIEW: "xem và xử lý thư",
    Role.ADMIN: "quản trị",
}


@dataclass(frozen=True)
class WebUser:
    """The signed-in person as pages see it (`request.state.user`)."""

    name: str
    role: Role

    def can(self, needed: Role) -> bool:
        return self.role.allows(needed)


@dataclass(frozen=True)
class SignedIn:
    """A live session: its user, the CSRF token its forms carry, and its row id."""

    user: WebUser
    csrf_token: str
    session_id: int


@dataclass(frozen=True)
class UserInfo:
    """One user as `baocao users list` shows it."""

    name: str
    role: Role
    created_at: datetime
    disabled: bool
    sessions: int


class AuthError(Exception):
    """Root of this module's errors; the message is Vietnamese, for the person."""


class UserError(AuthError):
    """Raised when a user cannot be created or changed: bad name, short password, duplicate,
    unknown user."""


class LoginRefused(AuthError):
    """Raised when a sign-in fails: wrong name or password (one message for both, so names
    cannot be probed) or a disabled user."""


class LoginBlocked(LoginRefused):
    """Raised instead of checking the password when a name failed too often from one address."""


# --- passwords -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    # argon2-cffi's defaults are RFC 9106's low-memory profile (argon2id, 64 MiB, t=3).
    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify against when there is no user, so a wrong name costs as long as a
    wrong password and timing does not say which names exist."""
    return _hasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher().hash(password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher().verify(stored, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return False


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự.")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"Mật khẩu dài quá {MAX_PASSWORD} ký tự.")


def normalize_name(name: str) -> str:
    """A login name as stored: NFC, trimmed, lower case (so "Lan" and "lan" are one user)."""
    return unicodedata.normalize("NFC", name).strip().lower()


def _check_name(name: str) -> str:
    normal = normalize_name(name)
    if not NAME_RE.fullmatch(normal):
        raise UserError(
            f"Tên đăng nhập không hợp lệ {name!r}: chỉ dùng chữ cái không dấu, số và . _ @ -, "
            "bắt đầu bằng chữ hoặc số, tối đa 64 ký tự."
        )
    return normal


# --- users ---------------------------------------------------------------------------------------


def _record(session: Session, *, now: datetime, actor: str, action: str, target: str,
            note: str | None = None) -> None:
    session.add(StaffAction(at=now, actor=actor, action=action, target=target, note=note))


def _user_row(session: Session, name: str) -> UserRow:
    row = session.scalar(select(UserRow).where(UserRow.name == normalize_name(name)))
    if row is None:
        raise UserError(f"Không có người dùng '{normalize_name(name)}'.")
    return row


def create_user(
    session: Session, name: str, role: Role, password: str, *, now: datetime,
    actor: str = "",
) -> WebUser:
    """Add a user (audited as `user-add` when `actor` is given); UserError if the name is
    taken or the password too short."""
    normal = _check_name(name)
    password_hash = hash_password(password)
    if session.scalar(select(UserRow.id).where(UserRow.name == normal)) is not None:
        raise UserError(f"Đã có người dùng '{normal}'.")
    session.add(UserRow(name=normal, password_hash=password_hash, role=role.value,
                        created_at=now))
    if actor:
        _record(session, now=now, actor=actor, action="user-add", target=normal,
                note=f"vai trò {role.value}")
    session.flush()
    return WebUser(normal, role)


def set_password(session: Session, name: str, password: str, *, now: datetime,
                 actor: str = "") -> None:
    """Change a password; every session of that user ends (a stolen cookie stops working)."""
    row = _user_row(session, name)
    row.password_hash = hash_password(password)
    session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
    if actor:
        _record(session, now=now, actor=actor, action="user-password", target=row.name)


def set_disabled(session: Session, name: str, disabled: bool, *, now: datetime,
                 actor: str = "") -> None:
    """Disable (ending every session) or enable a user; users are never deleted."""
    row = _user_row(session, name)
    row.disabled = disabled
    if disabled:
        session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
    if actor:
        _record(session, now=now, actor=actor,
                action="user-disable" if disabled else "user-enable", target=row.name)


def list_users(session: Session, *, now: datetime) -> list[UserInfo]:
    live = (
        select(SessionRow.user_id, func.count().label("n"))
        .where(SessionRow.expires_at > now, SessionRow.last_seen_at > now - IDLE_LIMIT)
        .group_by(SessionRow.user_id).subquery()
    )
    rows = session.execute(
        select(UserRow, func.coalesce(live.c.n, 0))
        .outerjoin(live, live.c.user_id == UserRow.id).order_by(UserRow.name)
    )
    return [UserInfo(u.name, Role(u.role), u.created_at, u.disabled, int(n)) for u, n in rows]


# --- signing in ----------------------------------------------------------------------------------


def blocked_until(session: Session, name: str, address: str, *, now: datetime) -> datetime | None:
    """When this name may try again from this address, if MAX_FAILURES failures within
    FAILURE_WINDOW blocked it (for BLOCK_FOR after the last of them); None when not blocked."""
    recent = list(session.scalars(
        select(LoginAttempt.at)
        .where(LoginAttempt.name == name, LoginAttempt.address == address,
               LoginAttempt.at > now - FAILURE_WINDOW - BLOCK_FOR)
        .order_by(LoginAttempt.at.desc()).limit(MAX_FAILURES)
    ))
    if len(recent) < MAX_FAILURES or recent[0] - recent[-1] > FAILURE_WINDOW:
        return None
    until = recent[0] + BLOCK_FOR
    return until if now < until else None


def _wait_text(until: datetime, now: datetime) -> str:
    minutes = max(1, -(-int((until - now).total_seconds()) // 60))
    return (
        f"Đã đăng nhập sai {MAX_FAILURES} lần liên tiếp. Vui lòng thử lại sau {minutes} phút "
        "(hoặc nhờ quản trị viên đặt lại mật khẩu)."
    )


WRONG_LOGIN = "Tên đăng nhập hoặc mật khẩu không đúng."


def authenticate(session: Session, name: str, password: str, address: str, *,
                 now: datetime) -> WebUser:
    """The user if `name`/`password` are right; LoginRefused otherwise.

    Every path spends one argon2 verification (a blocked or unknown name too), so neither the
    answer's time nor its text tells an attacker which names exist or whether a block ended.
    A failure is recorded in the same transaction; the caller commits it even when refusing.
    """
    normal = normalize_name(name)[:200]
    row = session.scalar(select(UserRow).where(UserRow.name == normal)) if normal else None
    until = blocked_until(session, normal, address, now=now)
    good = _verify(row.password_hash if row is not None else _dummy_hash(), password)
    if until is not None:
        raise LoginBlocked(_wait_text(until, now))
    if row is None or not good or row.disabled:
        session.add(LoginAttempt(name=normal, address=address, at=now))
        session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP_ATTEMPTS))
        raise LoginRefused(WRONG_LOGIN)
    if _hasher().check_needs_rehash(row.password_hash):
        row.password_hash = _hasher().hash(password)
    session.execute(delete(LoginAttempt).where(LoginAttempt.name == normal,
                                               LoginAttempt.address == address))
    return WebUser(row.name, Role(row.role))


# --- sessions ------------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def open_session(session: Session, user: WebUser, address: str, *,
                 now: datetime) -> tuple[str, str]:
    """A new session for `user`: (cookie token, CSRF token). Always a fresh token, so a
    token planted before sign-in (session fixation) is worth nothing."""
    row = session.scalar(select(UserRow).where(UserRow.name == user.name))
    if row is None:
        raise UserError(f"Không có người dùng '{user.name}'.")
    session.execute(delete(SessionRow).where(
        (SessionRow.expires_at <= now) | (SessionRow.last_seen_at <= now - IDLE_LIMIT)
    ))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(SessionRow(token_hash=_token_hash(token), user_id=row.id, csrf_secret=csrf,
                           address=address[:200], created_at=now, last_seen_at=now,
                           expires_at=now + SESSION_LIMIT))
    return token, csrf


def load_session(session: Session, token: str, *, now: datetime) -> SignedIn | None:
    """The live session for a cookie token, or None (unknown, idle too long, past its limit,
    or its user disabled). Touches last_seen at most every TOUCH_EVERY."""
    if not token or len(token) > 200:
        return None
    found = session.execute(
        select(SessionRow, UserRow).join(UserRow, UserRow.id == SessionRow.user_id)
        .where(SessionRow.token_hash == _token_hash(token))
    ).first()
    if found is None:
        return None
    row, user = found
    if user.disabled or row.expires_at <= now or row.last_seen_at <= now - IDLE_LIMIT:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        session.execute(update(SessionRow).where(SessionRow.id == row.id)
                        .values(last_seen_at=now))
    return SignedIn(WebUser(user.name, Role(user.role)), row.csrf_secret, row.id)


def close_session(session: Session, token: str) -> None:
    session.execute(delete(SessionRow).where(SessionRow.token_hash == _token_hash(token)))


def same_token(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a submitted token with the expected one."""
    return bool(given) and bool(expected) and hmac.compare_digest(
        (given or "").encode("utf-8", "surrogateescape"),
        expected.encode("utf-8", "surrogateescape"),
    )


def session_cookie(secure: bool) -> str:
    return SECURE_SESSION_COOKIE if secure else SESSION_COOKIE


def login_cookie(secure: bool) -> str:
    return SECURE_LOGIN_COOKIE if secure else LOGIN_COOKIE


# --- pages ---------------------------------------------------------------------------------------


def current_user(request: Request) -> WebUser:
    user = getattr(request.state, "user", None)
    if not isinstance(user, WebUser):  # the middleware lets no such request through
        raise HTTPException(303, headers={"Location": "/dang-nhap"})
    return user


def require(request: Request, role: Role) -> WebUser:
    """The signed-in user if their role allows `role`; HTTPException(403) otherwise."""
    user = current_user(request)
    if not user.can(role):
        raise HTTPException(
            403, f"Tài khoản '{user.name}' ({user.role.label}) không được làm việc này; "
                 f"cần vai trò '{role.value}'.")
    return user


def client_address(request: Request) -> str:
    """The client's address as uvicorn saw it (behind nginx/Caddy on the same machine,
    uvicorn takes it from X-Forwarded-For, which it trusts from 127.0.0.1 only)."""
    return request.client.host if request.client is not None else "?"
