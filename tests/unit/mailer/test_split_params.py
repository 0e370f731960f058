"""split_segments steps from quote to semicolon to backslash; it must cut exactly where the
character-by-character scanner it replaced did (kept here as the reference)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.decoding import split_params, split_segments


def scanner(value: str) -> list[str]:
    segments: list[str] = []
    buf: list[str] = []
    quoted = False
    i = 0
    while i < len(value):
        ch = value[i]
        if quoted and ch == "\\" and i + 1 < len(value) and value[i + 1] in '"\\':
            buf.append(ch + value[i + 1])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            segments.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    segments.append("".join(buf))
    return segments


REAL = (
    'attachment; filename="Báo cáo; 6 tháng.docx"; size=12',
    'application/octet-stream; name="C:\\\\temp\\\\a.xlsx"',
    'text/plain; charset="utf-8\\"; x=1',
    "attachment; filename*=utf-8''B%C3%A1o%20c%C3%A1o.docx",
    'multipart/mixed; boundary="----=_Part_1"',
    '"unterminated; a=1',
    'a; b="x\\',
)


def test_real_values() -> None:
    for value in REAL:
        assert split_segments(value) == scanner(value), value
    assert split_params(REAL[0]) == (
        "attachment", [("filename", "Báo cáo; 6 tháng.docx"), ("size", "12")])
    assert split_params(REAL[2]) == ("text/plain", [("charset", 'utf-8"; x=1')])


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet='";\\= aBcá', max_size=60))
def test_same_cuts_as_the_scanner(value: str) -> None:
    assert split_segments(value) == scanner(value)
