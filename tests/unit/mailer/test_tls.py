"""Internal TLS: a mail server whose certificate comes from the office's own CA.

Everything is real: a throwaway CA and server certificates made here, pymap speaking STARTTLS
with one, pymap behind a TLS port (as on 993), aiosmtpd with SMTPS and with STARTTLS. Without
`ca_file` each connection fails with a Vietnamese message that names the key; with it, it works,
and the server's name is still checked against its certificate.
"""

from __future__ import annotations

import contextlib
import ipaddress
import select
import shutil
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from baocao.config.settings import load_settings
from baocao.ops.doctor import Check, run_checks
from devtools.embedded_imap import LOOPBACK, PymapServer, free_port
from mailer.compose import OutgoingMail, build_message
from mailer.errors import PermanentMailError
from mailer.inbox import ImapSettings, Inbox, InboxConnectionError
from mailer.smtp import SmtpSender, SmtpSettings

# --- a throwaway PKI --------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca: Path  # the office's internal CA (what ca_file names)
    other_ca: Path  # some other CA: the wrong file
    cert: Path  # server certificate for localhost and 127.0.0.1, signed by `ca`
    key: Path
    stranger_cert: Path  # signed by `ca` too, but for another host name
    stranger_key: Path

    def server_context(self, stranger: bool = False) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        if stranger:
            context.load_cert_chain(self.stranger_cert, self.stranger_key)
        else:
            context.load_cert_chain(self.cert, self.key)
        return context


def _issue(
    name: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[x509.Certificate,
                                                              ec.EllipticCurvePrivateKey] | None,
    hosts: tuple[str, ...] = (),
) -> x509.Certificate:
    """A CA certificate (no issuer: self-signed) or a server certificate for `hosts`, with the
    extensions strict verifiers want (key identifiers, key usage, serverAuth)."""
    now = datetime.now(UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Phòng Nội vụ (thử)"),
                         x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_cert, issuer_key = issuer if issuer else (None, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject if issuer_cert else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=issuer is None,
                crl_sign=issuer is None, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
    )
    if hosts:
        alt: list[x509.GeneralName] = []
        for host in hosts:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                alt.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(directory: Path, name: str, cert: x509.Certificate,
           key: ec.EllipticCurvePrivateKey | None = None) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        key_path.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ))
    return cert_path, key_path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ca_key, other_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(
        ec.SECP256R1())
    ca = _issue("CA nội bộ Phòng Nội vụ", ca_key, None)
    server_key, stranger_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(
        ec.SECP256R1())
    server = _issue("mail.noivu.local", server_key, (ca, ca_key), ("localhost", LOOPBACK))
    stranger = _issue("mail.khac.example.vn", stranger_key, (ca, ca_key),
                      ("mail.khac.example.vn",))
    ca_path, _ = _write(d, "ca", ca)
    other_path, _ = _write(d, "other-ca", _issue("CA khác", other_key, None))
    cert, key = _write(d, "server", server, server_key)
    stranger_cert, stranger_key_path = _write(d, "stranger", stranger, stranger_key)
    return Pki(ca_path, other_path, cert, key, stranger_cert, stranger_key_path)


# --- servers ----------------------------------------------------------------------------------


class TlsPymap(PymapServer):
    """pymap with a certificate: it then offers STARTTLS (it has no implicit-TLS port)."""

    name = "pymap-tls"

    def __init__(self, cert: Path, key: Path) -> None:
        super().__init__()
        self._cert, self._key = cert, key

    def _command(self) -> list[str]:
        command = super()._command()
        at = command.index("--no-tls")
        return [*command[:at], "--cert", str(self._cert), "--key", str(self._key),
                *command[at + 1:]]


@pytest.fixture(scope="module")
def tls_pymap(pki: Pki) -> Iterator[TlsPymap]:
    with TlsPymap(pki.cert, pki.key) as server:
        yield server


class TlsPort:
    """An implicit-TLS port (as 993 is) in front of a plain server on 127.0.0.1.

    A handshake the client refuses just closes that connection; bytes are relayed as they come.
    """

    def __init__(self, target_port: int, context: ssl.SSLContext) -> None:
        self._target = (LOOPBACK, target_port)
        self._context = context
        self._listener = socket.create_server((LOOPBACK, 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name="tls-port", daemon=True).start()

    def __enter__(self) -> TlsPort:
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            tls = self._context.wrap_socket(conn, server_side=True)
        except OSError:
            conn.close()
            return
        with tls, socket.create_connection(self._target, timeout=10) as plain:
            other = {tls: plain, plain: tls}
            while not self._closed.is_set():
                ready = [tls] if tls.pending() else select.select([tls, plain], [], [], 0.2)[0]
                for sock in ready:
                    try:
                        data = sock.recv(65536)
                        if not data:
                            return
                        other[sock].sendall(data)
                    except OSError:
                        return


class _Keep:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


@contextlib.contextmanager
def smtp_tls_server(pki: Pki, security: str) -> Iterator[tuple[int, _Keep]]:
    """aiosmtpd on 127.0.0.1 with SMTPS (`ssl`) or a required STARTTLS (`starttls`)."""
    keep, port = _Keep(), free_port()
    tls: dict[str, Any] = (
        {"ssl_context": pki.server_context()} if security == "ssl"
        else {"tls_context": pki.server_context(), "require_starttls": True}
    )
    controller = Controller(keep, hostname=LOOPBACK, port=port, ready_timeout=5.0, **tls)
    controller.start()
    try:
        yield port, keep
    finally:
        controller.stop()


# --- IMAP ---------------------------------------------------------------------------------------


def _imap(server: PymapServer, port: int, security: str, host: str = LOOPBACK) -> ImapSettings:
    return ImapSettings(host=host, port=port, security=security,  # type: ignore[arg-type]
                        username=server.username, password=server.password, timeout=10.0)


def test_imap_starttls_trusts_the_internal_ca_only_when_told(
    tls_pymap: TlsPymap, pki: Pki
) -> None:
    settings = _imap(tls_pymap, tls_pymap.port, "starttls")
    with pytest.raises(InboxConnectionError) as info, Inbox(settings):
        pass
    text = str(info.value)
    assert "chứng chỉ của máy chủ không được tin cậy" in text
    assert "ghi đường dẫn tệp PEM của CA đó vào imap.ca_file" in text

    for host in (LOOPBACK, "localhost"):
        with Inbox(replace(_imap(tls_pymap, tls_pymap.port, "starttls", host),
                           ca_file=pki.ca)) as inbox:
            assert inbox.status().exists == 0
            assert isinstance(inbox.client._imap.sock, ssl.SSLSocket)  # the login went over TLS

    with pytest.raises(InboxConnectionError) as info, Inbox(replace(settings,
                                                                    ca_file=pki.other_ca)):
        pass
    assert f"không do CA trong imap.ca_file ({pki.other_ca}) ký" in str(info.value)


def test_imap_ssl_port_with_the_internal_ca_reads_mail_and_checks_the_name(
    pymap_server: PymapServer, pki: Pki
) -> None:
    raw = b"From: a@xa.example.vn\r\nTo: b@noivu.example.vn\r\nSubject: TLS\r\n\r\nthan thu\r\n"
    pymap_server.deliver(raw)
    with TlsPort(pymap_server.port, pki.server_context()) as port:
        settings = _imap(pymap_server, port.port, "ssl")
        with pytest.raises(InboxConnectionError, match=r"imap\.ca_file"), Inbox(settings):
            pass
        with Inbox(replace(settings, ca_file=pki.ca)) as inbox:
            messages = list(inbox.fetch(inbox.uids_from(1)))
        assert [m.raw for m in messages] == [raw]

    # Trusting the CA does not mean trusting any name it signed.
    with TlsPort(pymap_server.port, pki.server_context(stranger=True)) as port:
        settings = replace(_imap(pymap_server, port.port, "ssl"), ca_file=pki.ca)
        with pytest.raises(InboxConnectionError) as info, Inbox(settings):
            pass
    assert "không mang tên imap.host đã cấu hình" in str(info.value)
    assert "IP address mismatch" in str(info.value)


# --- SMTP ---------------------------------------------------------------------------------------


def _mail() -> Any:
    return build_message(
        OutgoingMail(to=("vanthu@xa.example.vn",), subject="Xác nhận đã nhận báo cáo",
                     text="Phòng Nội vụ đã nhận.", html=None,
                     message_id="<tls.1@noivu.example.vn>"),
        from_addr="baocao@noivu.example.vn", from_name="Phòng Nội vụ",
        date=datetime(2025, 6, 2, 2, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_smtp_trusts_the_internal_ca_only_when_told(pki: Pki, security: str) -> None:
    with smtp_tls_server(pki, security) as (port, keep):
        settings = SmtpSettings(host=LOOPBACK, port=port, security=security,  # type: ignore[arg-type]
                                username=None, password=None,
                                from_address="baocao@noivu.example.vn", from_name="Phòng Nội vụ",
                                timeout=10.0)
        with pytest.raises(PermanentMailError) as info, SmtpSender(settings) as sender:
            sender.send(_mail())
        text = str(info.value)
        assert f"Chứng chỉ của máy chủ SMTP {LOOPBACK}:{port} không hợp lệ" in text
        assert "ghi đường dẫn tệp PEM của CA đó vào smtp.ca_file" in text
        assert keep.envelopes == []

        with SmtpSender(replace(settings, ca_file=pki.ca)) as sender:
            sender.send(_mail())
        assert [e.rcpt_tos for e in keep.envelopes] == [["vanthu@xa.example.vn"]]

        wrong_ca = replace(settings, host="localhost", ca_file=pki.other_ca)
        with pytest.raises(PermanentMailError, match=r"không do CA trong smtp\.ca_file"), \
                SmtpSender(wrong_ca) as sender:
            sender.send(_mail())


# --- config and doctor --------------------------------------------------------------------------


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_doctor_points_to_ca_file_and_passes_with_it(
    tmp_path: Path, tls_pymap: TlsPymap, pki: Pki
) -> None:
    with smtp_tls_server(pki, "starttls") as (smtp_port, _keep):
        config = tmp_path / "baocao.toml"
        text = f"""
[office]
name = "Phòng Nội vụ huyện Tân Hưng"

[imap]
host = "localhost"
port = {tls_pymap.port}
security = "starttls"
username = "{tls_pymap.username}"
password_env = "TEST_IMAP_PASSWORD"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "starttls"
from_address = "baocao@noivu.example.vn"
"""
        env = {"TEST_IMAP_PASSWORD": tls_pymap.password}
        config.write_text(text, encoding="utf-8")
        before = _by_name(run_checks(config, env))
        assert not before["IMAP"].ok and not before["SMTP"].ok
        assert "ghi đường dẫn tệp PEM của CA đó vào imap.ca_file" in before["IMAP"].message
        assert "ghi đường dẫn tệp PEM của CA đó vào smtp.ca_file" in before["SMTP"].message

        # A relative ca_file is found next to the config, as the archive is.
        shutil.copy(pki.ca, tmp_path / "ca-noi-bo.pem")
        with_ca = text.replace('password_env = "TEST_IMAP_PASSWORD"\n',
                               'password_env = "TEST_IMAP_PASSWORD"\nca_file = "ca-noi-bo.pem"\n')
        config.write_text(with_ca.replace('from_address = "baocao@noivu.example.vn"\n',
                                          'from_address = "baocao@noivu.example.vn"\n'
                                          f'ca_file = "{tmp_path / "ca-noi-bo.pem"}"\n'),
                          encoding="utf-8")
        settings = load_settings(config, env)
        assert settings.imap.ca_file == settings.smtp.ca_file == tmp_path / "ca-noi-bo.pem"
        after = _by_name(run_checks(config, env))
        assert after["IMAP"].ok and after["SMTP"].ok, (after["IMAP"], after["SMTP"])
        assert "chứng chỉ do CA nội bộ" in after["IMAP"].message
        assert "chứng chỉ do CA nội bộ" in after["SMTP"].message
