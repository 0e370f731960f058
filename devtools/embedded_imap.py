"""Real IMAP servers on 127.0.0.1 for tests, the demo and benchmarks.

Mocks of IMAP hide exactly what goes wrong in production (the last UID returned by every search,
INTERNALDATE zones, folder-name encoding, UIDVALIDITY after a restart), so we run real servers:
pymap (pure Python, installed with the test extras, in-memory: loses everything and changes
UIDVALIDITY on restart) and Dovecot (the server many offices actually run; keeps everything).
Both are started as subprocesses with their own files under a temp dir and never touch the
system's mail setup. Mail is put in with IMAP APPEND, so a caller can choose each INTERNALDATE.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from imapclient import IMAPClient

from mailer.inbox import ImapSettings

LOOPBACK = "127.0.0.1"


class ImapTestServer(Protocol):
    host: str
    port: int
    username: str
    password: str

    def settings(self, mailbox: str = "INBOX") -> ImapSettings: ...

    def deliver(self, raw: bytes, when: datetime | None = None, mailbox: str = "INBOX") -> None: ...

    def reset(self) -> None: ...

    def restart(self) -> None: ...

    def stop(self) -> None: ...


def free_port() -> int:
    """A TCP port nobody listens on right now (the usual bind-to-0 trick; racy but fine here)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        port: int = s.getsockname()[1]
        return port


class _Server:
    """What both servers share: a subprocess, a port kept across restarts, IMAP helpers."""

    name = "imap"
    startup_timeout = 20.0

    def __init__(self, username: str, password: str, port: int | None = None) -> None:
        self.host = LOOPBACK
        self.port = port or free_port()
        self.username = username
        self.password = password
        self._dir = Path(tempfile.mkdtemp(prefix=f"baocao-{self.name}-"))
        self._log_path = self._dir / f"{self.name}.out"
        self._proc: subprocess.Popen[bytes] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        if self.running:
            return
        with open(self._log_path, "ab") as out:
            # Own session so stop() can kill helper processes too (Dovecot forks several).
            self._proc = subprocess.Popen(
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_for_greeting()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # leftovers of our own process group only
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)

    def restart(self) -> None:
        self._terminate()
        self.start()

    def stop(self) -> None:
        self._terminate()
        shutil.rmtree(self._dir, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's own output, for error messages when it will not start."""
        texts = []
        for path in (self._log_path, self._dir / "dovecot.log"):
            with contextlib.suppress(OSError):
                texts.append(path.read_text(errors="replace"))
        return "\n".join("\n".join(texts).splitlines()[-lines:])

    def _wait_for_greeting(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self._proc is None or self._proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited during startup:\n{self.log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1.0) as s:
                    if s.recv(200).startswith(b"* OK"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self._terminate()
                raise RuntimeError(
                    f"{self.name} did not greet on {self.host}:{self.port} within "
                    f"{self.startup_timeout:g} s:\n{self.log_tail()}"
                )
            time.sleep(0.02)

    # -- IMAP helpers ------------------------------------------------------------------------

    def settings(self, mailbox: str = "INBOX") -> ImapSettings:
        return ImapSettings(
            host=self.host,
            port=self.port,
            security="plain",
            username=self.username,
            password=self.password,
            mailbox=mailbox,
            timeout=10.0,
        )

    @contextlib.contextmanager
    def _client(self) -> Iterator[IMAPClient]:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10.0)
        client._imap.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            client.login(self.username, self.password)
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def deliver(self, raw: bytes, when: datetime | None = None, mailbox: str = "INBOX") -> None:
        """APPEND one message; `when` becomes its INTERNALDATE (naive means local time)."""
        with self._client() as client:
            if mailbox.upper() != "INBOX" and not client.folder_exists(mailbox):
                client.create_folder(mailbox)
            client.append(mailbox, raw, msg_time=when)

    def reset(self) -> None:
        """Empty INBOX and delete every other folder, so a long-lived server looks new."""
        with self._client() as client:
            names = [name for _, _, name in client.list_folders() if name.upper() != "INBOX"]
            for name in sorted(names, key=len, reverse=True):  # children before parents
                client.delete_folder(name)
            client.select_folder("INBOX")
            uids = client.search("ALL")
            if uids:
                client.delete_messages(uids)
                client.expunge()
            client.close_folder()


# pymap has no __main__ module, so its entry point is called directly (whatever the venv's bin
# directory is called). It hashes passwords with 500,000 rounds of PBKDF2, which makes every LOGIN
# cost ~0.25 s; a throwaway test server stores the password in clear instead (LOGIN: ~2 ms).
_PYMAP_LAUNCHER = """\
import sys
from pysasl.hashing import Cleartext
from pymap.config import IMAPConfig
IMAPConfig._get_hash_context = classmethod(lambda cls, passlib_cfg: Cleartext())
from pymap.main import main
sys.argv[0] = "pymap"
sys.exit(main())
"""


class PymapServer(_Server):
    """pymap's in-memory `dict` backend: starts empty (no --demo-data), forgets all on restart."""

    name = "pymap"

    def __init__(
        self, username: str = "baocao", password: str = "baocao-test", port: int | None = None
    ) -> None:
        super().__init__(username, password, port)

    def _command(self) -> list[str]:
        return [
            sys.executable,
            "-c",
            _PYMAP_LAUNCHER,
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--no-tls",  # otherwise it advertises STARTTLS without a usable certificate
            "dict",
            "--demo-user",
            self.username,
            "--demo-password",
            self.password,
        ]


def _dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)),
        None,
    )


def dovecot_unavailable_reason() -> str | None:
    """Why DovecotServer cannot run here, or None when it can."""
    if _dovecot_binary() is None:
        return "dovecot is not installed (apt-get install dovecot-imapd)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("mail")
        except KeyError:
            return "running as root but there is no 'mail' user to own the test mail"
    return None


class DovecotServer(_Server):
    """Dovecot 2.3 with its own config, passwd-file and maildir under a temp dir.

    As root, mail belongs to the `mail` user (Dovecot refuses uid 0 for mail); otherwise Dovecot
    runs rootless as the current user. Restarting keeps UIDVALIDITY and messages, like a real
    office server. Stopping takes ~1 s: the master waits for its children.
    """

    name = "dovecot"

    def __init__(
        self, username: str = "baocao", password: str = "baocao-test", port: int | None = None
    ) -> None:
        reason = dovecot_unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        super().__init__(username, password, port)
        self._write_config()

    def _write_config(self) -> None:
        d = self._dir
        d.chmod(0o755)  # the mail user must reach its maildir through this directory
        mail = d / "mail"
        mail.mkdir()
        (d / "run").mkdir()
        (d / "state").mkdir()
        passwd = d / "passwd"
        passwd.write_text(f"{self.username}:{{PLAIN}}{self.password}\n")
        passwd.chmod(0o644)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("mail")
            identity = login_chroot = ""
        else:
            owner = pwd.getpwuid(os.getuid())
            # Rootless: every service runs as us and nothing can chroot.
            identity = (
                f"default_internal_user = {owner.pw_name}\n"
                f"default_login_user = {owner.pw_name}\n"
                f"default_internal_group = {grp.getgrgid(owner.pw_gid).gr_name}\n"
                "service anvil {\n  chroot =\n}\n"
            )
            login_chroot = "chroot ="

        os.chown(mail, owner.pw_uid, owner.pw_gid)
        self._config = d / "dovecot.conf"
        self._config.write_text(
            f"""\
base_dir = {d}/run
state_dir = {d}/state
instance_name = baocao-test-{self.port}
log_path = {d}/dovecot.log
protocols = imap
listen = {self.host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = {owner.pw_uid}
last_valid_uid = {owner.pw_uid}
mail_location = maildir:{mail}/%u/Maildir
mail_home = {mail}/%u
{identity}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid}
}}
service imap-login {{
  {login_chroot}
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
        )

    def _command(self) -> list[str]:
        binary = _dovecot_binary()
        assert binary is not None
        return [binary, "-c", str(self._config), "-F"]
