"""The letterhead (number, symbol, type, date, issuer, trích yếu, signer) of every Word format:
.doc/.rtf/.odt through LibreOffice, and .docx typed in TCVN3/VNI fonts, read as Unicode.

Legacy fonts are decoded in the one Word walk shared by the text, letterhead and form readers
(parsers.extract.word_events), by the run's font or the font its style inherits.
"""

from __future__ import annotations

import io
import zipfile

import docx
import pytest

from devtools.office import in_legacy_fonts, letter
from parsers.admin import read_admin_metadata
from parsers.extract import extract
from parsers.legacy import unicode_to_tcvn3
from tests.unit.parsers.test_admin import REPORT_META
from tests.unit.parsers.test_formats_files import converted, needs_soffice

EXPECTED = REPORT_META


def test_the_docx_original() -> None:
    assert read_admin_metadata(letter()) == EXPECTED


@needs_soffice
@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["doc", "odt", "rtf"])
def test_an_old_or_opendocument_letter_reads_as_its_docx(fmt: str) -> None:
    reading = converted()[("letter", fmt)]
    assert reading.admin == EXPECTED
    # Also read again from the kept conversion, as the form reader will use it.
    assert reading.converted is not None
    assert read_admin_metadata(reading.converted) == EXPECTED


@pytest.mark.parametrize(
    ("encoding", "style"),
    [("tcvn3", False), ("vni", False), ("vni", True)],
    ids=["tcvn3-runs", "vni-runs", "vni-normal-style"],
)
def test_a_letter_typed_in_legacy_fonts_reads_as_unicode(encoding: str, style: bool) -> None:
    data = in_legacy_fonts(letter(), encoding, style=style)
    with zipfile.ZipFile(io.BytesIO(data)) as z:  # the file itself holds no Unicode name
        assert "TÂN HƯNG".encode() not in z.read("word/document.xml")
    assert read_admin_metadata(data) == EXPECTED
    assert extract("x.docx", data).text == extract("x.docx", letter()).text


@needs_soffice
@pytest.mark.slow
def test_a_tcvn3_letter_saved_as_doc_reads_as_unicode() -> None:
    """LibreOffice keeps the .VnTime/.VnTimeH names and writes TCVN3's "ư" (the soft hyphen's
    code) as <w:softHyphen/>: "HƯNG", "phường" survive the round trip."""
    reading = converted()[("letter-tcvn3", "doc")]
    assert reading.converted is not None
    with zipfile.ZipFile(io.BytesIO(reading.converted)) as z:
        assert b"softHyphen" in z.read("word/document.xml")
    assert reading.admin == EXPECTED
    assert "UBND XÃ TÂN HƯNG" in reading.parsed.text.split("\n")[0]


# --- fonts from styles, and soft hyphens ------------------------------------------------------


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _styled(paragraphs: list[tuple[str, str | None, str | None]], styles: str) -> bytes:
    """A .docx whose w:styles holds `styles` and whose paragraphs are (text, paragraph style,
    character style), with no font on any run."""
    body = ""
    for text, pstyle, rstyle in paragraphs:
        ppr = f'<w:pPr><w:pStyle w:val="{pstyle}"/></w:pPr>' if pstyle else ""
        rpr = f'<w:rPr><w:rStyle w:val="{rstyle}"/></w:rPr>' if rstyle else ""
        body += f'<w:p>{ppr}<w:r>{rpr}<w:t xml:space="preserve">{text}</w:t></w:r></w:p>'
    parts = {
        "word/styles.xml": f"<w:styles {W}>{styles}</w:styles>",
        "word/document.xml": f"<w:document {W}><w:body>{body}</w:body></w:document>",
    }
    plain = io.BytesIO()
    docx.Document().save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            replaced = parts.get(item.filename)
            dst.writestr(item, replaced.encode() if replaced else src.read(item.filename))
    return out.getvalue()


def _font(name: str) -> str:
    return f'<w:rPr><w:rFonts w:ascii="{name}" w:hAnsi="{name}"/></w:rPr>'


STYLES = (
    f"<w:docDefaults><w:rPrDefault>{_font('.VnTime')}</w:rPrDefault></w:docDefaults>"
    '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/>'
    "</w:style>"
    f'<w:style w:type="paragraph" w:styleId="Head"><w:basedOn w:val="Normal"/>{_font(".VnTimeH")}'
    "</w:style>"
    '<w:style w:type="paragraph" w:styleId="Head2"><w:basedOn w:val="Head"/></w:style>'
    f'<w:style w:type="character" w:styleId="Latin">{_font("Times New Roman")}</w:style>'
    '<w:style w:type="paragraph" w:styleId="Loop"><w:basedOn w:val="Loop"/></w:style>'
)


def test_fonts_are_inherited_from_styles_and_document_defaults() -> None:
    data = _styled([
        (unicode_to_tcvn3("ủy ban nhân dân"), "Head2", None),  # .VnTimeH through basedOn
        (unicode_to_tcvn3("Báo cáo số 5"), None, None),  # default style → docDefaults
        ("Hòa Bình", None, "Latin"),  # a character style's Unicode font wins
        (unicode_to_tcvn3("thị trấn"), "Loop", None),  # a basedOn loop ends; the default
    ], STYLES)  # fmt: skip
    assert extract("x.docx", data).text.split("\n") == [
        "ỦY BAN NHÂN DÂN",
        "Báo cáo số 5",
        "Hòa Bình",
        "thị trấn",
    ]


def test_a_soft_hyphen_is_a_letter_only_in_tcvn3() -> None:
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    document = docx.Document()
    for font in (".VnTime", "Times New Roman"):
        run = document.add_paragraph().add_run(unicode_to_tcvn3("Tân H"))
        run.font.name = font
        run._r.append(run._r.makeelement(f"{{{w}}}softHyphen", {}))
        tail = run._r.makeelement(f"{{{w}}}t", {})
        tail.text = "ng"
        run._r.append(tail)
    out = io.BytesIO()
    document.save(out)
    assert extract("x.docx", out.getvalue()).text.split("\n") == ["Tân Hưng", "T©n Hng"]
