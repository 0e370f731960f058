"""LibreOffice never reaches the network while it converts old Word files (issue 12, item 3).

A .doc whose picture is linked rather than embedded (Word stores it as INCLUDEPICTURE "url" \\d)
made LibreOffice 7.4 send OPTIONS and HEAD while importing it and GET while exporting it: a
beacon to the sender, or a request into the office LAN. The real-LibreOffice tests point such
files at an HTTP server on 127.0.0.1 that counts every connection and request, and expect none;
a control test shows the same files do reach the server from an unprotected LibreOffice.
"""

from __future__ import annotations

import functools
import http.server
import io
import os
import stat
import struct
import subprocess
import threading
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import pytest

import parsers.others as others
from baocao.intake.sandbox import Limits, run_limited
from baocao.ops.doctor import _libreoffice_check
from parsers.extract import extract
from parsers.others import (
    ISOLATION_NETNS,
    ISOLATION_SETTINGS,
    ISOLATION_USERNS,
    conversion_isolation,
    convert_docs_with_soffice,
    find_soffice,
    read_docs,
)
from parsers.safety import Limits as ParseLimits

SOFFICE = find_soffice()
needs_soffice = pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice (soffice) is not installed; CI has it"
)
GUARD_SECONDS = 300.0  # only against a hung LibreOffice; a batch here takes a few seconds
PICTURE_TEXT = "Báo cáo có ảnh liên kết, không nhúng"
FIELD_TEXT = "Kế hoạch có ảnh chèn bằng trường INCLUDEPICTURE"


# --- a server that counts every request ----------------------------------------------------------


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)  # 1x1 RGBA
    pixels = zlib.compress(b"\x00\xff\x00\x00\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(
        b"IEND", b"")


class CountingServer(http.server.ThreadingHTTPServer):
    """Records every accepted connection and every request line (any method); answers with a
    picture so that an unprotected LibreOffice goes through its whole OPTIONS/HEAD/GET."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.connections = 0
        self.requests: list[tuple[str, str]] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.lock:
            self.connections += 1
        super().process_request(request, client_address)

    def reset(self) -> None:
        with self.lock:
            self.connections = 0
            self.requests.clear()

    def seen(self) -> tuple[int, list[tuple[str, str]]]:
        with self.lock:
            return self.connections, list(self.requests)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: CountingServer
    picture = _png()

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        if parsed:
            with self.server.lock:
                self.server.requests.append((self.command, self.path))
        return parsed

    def _answer(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.picture)))
        self.send_header("Allow", "OPTIONS, GET, HEAD")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(self.picture)

    do_GET = do_HEAD = do_OPTIONS = do_PROPFIND = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[CountingServer]:
    httpd = CountingServer()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


# --- documents that name a picture by URL ------------------------------------------------------

_NS = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"'
)
_LINKED_PICTURE = """<w:r><w:drawing><wp:inline><wp:extent cx="914400" cy="914400"/>
<wp:docPr id="1" name="Picture 1"/><a:graphic>
<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic>
<pic:nvPicPr><pic:cNvPr id="1" name="picture.png"/><pic:cNvPicPr/></pic:nvPicPr>
<pic:blipFill><a:blip r:link="rIdPicture"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>
<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="914400" cy="914400"/></a:xfrm>
<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr>
</pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r>"""


def linked_docx(text: str, url: str, *, field: bool) -> bytes:
    """A .docx whose only picture is linked (r:link, a relationship with TargetMode="External",
    no image part). With `field`, the picture is the result of an INCLUDEPICTURE "url" \\d field,
    as Word writes "Insert picture > Link to file" (LibreOffice 7.4 drops the field when its
    result is plain text)."""
    picture = _LINKED_PICTURE
    if field:
        picture = (
            '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
            f'<w:r><w:instrText xml:space="preserve"> INCLUDEPICTURE "{url}" \\d </w:instrText>'
            '</w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r>'
            f'{picture}<w:r><w:fldChar w:fldCharType="end"/></w:r>'
        )
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document {_NS}><w:body>'
        f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p><w:p>{picture}</w:p></w:body></w:document>"
    )
    relationships = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
        'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rIdPicture" Type="http://schemas.openxmlformats.org/officeDocument/'
        f'2006/relationships/image" Target="{url}" TargetMode="External"/></Relationships>'
    )
    package = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
        'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
    )
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types '
        'xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.wordprocessingml.document.main+xml"/></Types>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", content_types)
        z.writestr("_rels/.rels", package)
        z.writestr("word/document.xml", document)
        z.writestr("word/_rels/document.xml.rels", relationships)
    return out.getvalue()


def _soffice_env(home: Path) -> dict[str, str]:
    return {"HOME": str(home), "PATH": "/usr/bin:/bin", "SAL_USE_VCLPLUGIN": "svp"}


@pytest.fixture(scope="module")
def linked_docs(
    server: CountingServer, tmp_path_factory: pytest.TempPathFactory
) -> list[tuple[str, bytes]]:
    """Two Word 97-2003 files naming their picture by a URL on `server`: a linked picture
    (beacon.png) and an INCLUDEPICTURE field (field.png), saved as .doc by LibreOffice (which
    fetches the pictures while reading the .docx: the counters are reset afterwards)."""
    assert SOFFICE is not None
    tmp = tmp_path_factory.mktemp("linked-sources")
    base = f"http://127.0.0.1:{server.port}"
    sources = {"anh-lien-ket": (PICTURE_TEXT, f"{base}/beacon.png", False),
               "truong-includepicture": (FIELD_TEXT, f"{base}/field.png", True)}
    for stem, (text, url, field) in sources.items():
        (tmp / f"{stem}.docx").write_bytes(linked_docx(text, url, field=field))
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation={(tmp / 'profile').as_uri()}", "--headless",
         "--norestore", "--convert-to", "doc:MS Word 97", "--outdir", str(tmp / "doc"),
         *(str(tmp / f"{stem}.docx") for stem in sources)],
        check=True, capture_output=True, timeout=GUARD_SECONDS, env=_soffice_env(tmp),
    )  # fmt: skip
    docs = []
    for stem, (_text, url, _field) in sources.items():
        data = (tmp / "doc" / f"{stem}.doc").read_bytes()
        # How Word 97-2003 keeps a linked picture; without it this file would test nothing.
        assert "INCLUDEPICTURE".encode("utf-16-le") in data, stem
        assert url.encode("utf-16-le") in data, stem
        docs.append((f"{stem}.doc", data))
    server.reset()
    return docs


def _assert_untouched(server: CountingServer) -> None:
    connections, requests = server.seen()
    assert (connections, requests) == (0, []), (
        f"LibreOffice reached the server: {connections} connections, requests {requests}")


def _texts(converted: list[bytes | Any]) -> list[str]:
    assert all(isinstance(c, bytes) for c in converted), converted
    return ["\n".join(p.text for p in docx.Document(io.BytesIO(c)).paragraphs if p.text)
            for c in converted]


# --- real LibreOffice ----------------------------------------------------------------------------


@needs_soffice
@pytest.mark.slow
def test_control_unprotected_libreoffice_fetches_the_linked_pictures(
    server: CountingServer, linked_docs: list[tuple[str, bytes]], tmp_path: Path
) -> None:
    """The threat, and the proof that the files below are live: a plain soffice run asks the
    server about both pictures."""
    assert SOFFICE is not None
    for name, data in linked_docs:
        (tmp_path / name).write_bytes(data)
    server.reset()
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
         "--norestore", "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(tmp_path / "out"),
         *(str(tmp_path / name) for name, _data in linked_docs)],
        check=True, capture_output=True, timeout=GUARD_SECONDS, env=_soffice_env(tmp_path),
    )  # fmt: skip
    _connections, requests = server.seen()
    server.reset()
    assert {path for _method, path in requests} == {"/beacon.png", "/field.png"}, requests


@needs_soffice
@pytest.mark.slow
def test_conversion_sends_no_request_and_still_converts(
    server: CountingServer, linked_docs: list[tuple[str, bytes]]
) -> None:
    assert SOFFICE is not None
    server.reset()
    converted = convert_docs_with_soffice(linked_docs, SOFFICE, timeout=GUARD_SECONDS)
    _assert_untouched(server)
    assert _texts(converted) == [PICTURE_TEXT, FIELD_TEXT]


@needs_soffice
@pytest.mark.slow
def test_profile_settings_alone_send_no_request(
    server: CountingServer, linked_docs: list[tuple[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where no network namespace can be made (a container without the capability)."""
    assert SOFFICE is not None
    monkeypatch.setattr(others, "_network_isolation", lambda: ((), ISOLATION_SETTINGS))
    server.reset()
    converted = convert_docs_with_soffice(linked_docs, SOFFICE, timeout=GUARD_SECONDS)
    _assert_untouched(server)
    assert _texts(converted) == [PICTURE_TEXT, FIELD_TEXT]


@needs_soffice
@pytest.mark.slow
def test_read_docs_in_the_sandbox_sends_no_request(
    server: CountingServer, linked_docs: list[tuple[str, bytes]]
) -> None:
    """As the pipeline runs it: one read_docs per message inside baocao.intake.sandbox."""
    read = functools.partial(read_docs, soffice=SOFFICE, timeout=GUARD_SECONDS, read_docx=extract)
    server.reset()
    outcome = run_limited(read, linked_docs, ParseLimits(), limits=Limits(seconds=GUARD_SECONDS))
    _assert_untouched(server)
    assert outcome.status == "ok", outcome.detail
    assert [(p.readable, p.text) for p in outcome.value] == [
        (True, PICTURE_TEXT), (True, FIELD_TEXT)]


# --- how soffice is started (a fake soffice: no LibreOffice needed) ------------------------------


@pytest.fixture
def fresh_probe() -> Iterator[None]:
    """The isolation probe runs again in this test and after it (its result is cached)."""
    others._network_isolation.cache_clear()
    yield
    others._network_isolation.cache_clear()


def _script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_soffice_runs_without_network(tmp_path: Path) -> None:
    if conversion_isolation() == ISOLATION_SETTINGS:
        pytest.skip("unshare cannot make a network namespace here (settings-only fallback)")
    report = tmp_path / "report"
    soffice = _script(tmp_path / "soffice", f"readlink /proc/self/ns/net > {report}\n"
                      f"cat /proc/self/net/dev >> {report}\n")
    convert_docs_with_soffice([("a.doc", b"x")], soffice, timeout=60)
    namespace, *devices = report.read_text().splitlines()
    assert namespace != os.readlink("/proc/self/ns/net")
    assert [line.split(":")[0].strip() for line in devices if ":" in line] == ["lo"]


def test_the_profile_refuses_remote_content_before_soffice_starts(tmp_path: Path) -> None:
    copy, env = tmp_path / "registrymodifications.xcu", tmp_path / "env"
    soffice = _script(tmp_path / "soffice", f"""for arg in "$@"; do
  case "$arg" in -env:UserInstallation=file://*) profile="${{arg#*file://}}" ;; esac
done
cp "$profile/user/registrymodifications.xcu" {copy}
env > {env}
""")
    convert_docs_with_soffice([("a.doc", b"x")], soffice, timeout=60)
    oor = "{http://openoffice.org/2001/registry}"
    settings = {
        (item.attrib[f"{oor}path"], prop.attrib[f"{oor}name"]): prop.findtext("value") or ""
        for item in ET.parse(copy).getroot() for prop in item
    }
    scripting = "/org.openoffice.Office.Common/Security/Scripting"
    assert settings[(scripting, "BlockUntrustedRefererLinks")] == "true"
    assert settings[("/org.openoffice.Office.Writer/Content/Update", "Link")] == "0"  # never
    assert settings[("/org.openoffice.Office.Calc/Content/Update", "Link")] == "1"  # never
    inet = "/org.openoffice.Inet/Settings"
    assert settings[(inet, "ooInetProxyType")] == "1"
    assert settings[(inet, "ooInetNoProxy")] == ""
    port = settings[(inet, "ooInetHTTPProxyPort")]
    for scheme in ("HTTP", "HTTPS", "FTP"):
        assert settings[(inet, f"ooInet{scheme}ProxyName")] == "127.0.0.1"
        assert settings[(inet, f"ooInet{scheme}ProxyPort")] == port
    variables = dict(line.split("=", 1) for line in env.read_text().splitlines() if "=" in line)
    assert variables["http_proxy"] == variables["https_proxy"] == f"http://127.0.0.1:{port}"
    assert "no_proxy" not in variables and "NO_PROXY" not in variables


def test_an_unprivileged_user_gets_a_user_namespace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_probe: None
) -> None:
    """Without root `unshare --net` fails; `unshare --user --map-root-user --net` is next."""
    (tmp_path / "bin").mkdir()
    log = tmp_path / "unshare.log"
    _script(tmp_path / "bin" / "unshare", f"""[ "$1" = --net ] && exit 1
echo "$@" >> {log}
while [ "$1" != --net ]; do shift; done
shift
exec "$@"
""")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    assert conversion_isolation() == ISOLATION_USERNS
    marker = tmp_path / "ran"
    soffice = _script(tmp_path / "soffice", f"touch {marker}\n")
    convert_docs_with_soffice([("a.doc", b"x")], soffice, timeout=60)
    assert marker.exists()
    assert log.read_text().splitlines()[-1].startswith(f"--user --map-root-user --net {soffice} ")


def test_without_namespaces_soffice_runs_with_the_settings_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_probe: None
) -> None:
    (tmp_path / "bin").mkdir()
    _script(tmp_path / "bin" / "unshare", "exit 1\n")  # a container without the capability
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    assert conversion_isolation() == ISOLATION_SETTINGS
    marker = tmp_path / "ran"
    soffice = _script(tmp_path / "soffice", f"touch {marker}\n")
    convert_docs_with_soffice([("a.doc", b"x")], soffice, timeout=60)
    assert marker.exists()


# --- baocao doctor -------------------------------------------------------------------------------


@pytest.mark.parametrize("isolation", [ISOLATION_NETNS, ISOLATION_USERNS, ISOLATION_SETTINGS])
def test_doctor_says_which_isolation_is_in_use(
    isolation: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    soffice = _script(tmp_path / "soffice", "exit 0\n")
    monkeypatch.setattr(others, "_network_isolation", lambda: ((), isolation))
    check = _libreoffice_check(soffice)
    assert check.name == "LibreOffice" and not check.required
    assert soffice in check.message
    if isolation == ISOLATION_SETTINGS:  # a warning: conversions still work
        assert not check.ok
        assert "không tạo được không gian mạng riêng" in check.message
        assert "Cách sửa" in check.message and "unshare" in check.message
    else:
        assert check.ok
        assert "không gian mạng riêng" in check.message
        assert ("unshare --net" if isolation == ISOLATION_NETNS else "--user") in check.message
