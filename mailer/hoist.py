"""Long base64 bodies set aside while the stdlib's MIME parser reads a message.

The feed parser reads a message line by line and tests every line of a part against every open
boundary, then scans each payload again for its last line break: for a ~100 KB report that is
~1,300 lines of base64 and ~60 % of parsing the message. A line made only of base64 characters
can never be a boundary (those start with "--"), a header (no ":") or a header's continuation
(no leading blank), so a run of such lines is replaced by ONE token line made of the same kind
of characters: the parser takes every decision on the shorter message exactly as on the whole
one, and builds the same tree; the runs are then put back into the payloads it built.

Runs start and end at a "\\n", where the parser's lines also start and end (it splits at "\\r\\n",
"\\r" or "\\n"), and a token line ends as its run's last line did, so the line break the parser
drops before a boundary is dropped from the token line in the same way.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from email.message import Message

__all__ = ["Hoisted", "hoist"]

MIN_LINES = 8  # shorter runs cost the parser little; a token for them would save nothing

_RUN = re.compile(rb"(?m)^(?:[A-Za-z0-9+/=]+(\r?\n)){%d,}" % MIN_LINES)
# Random per process and checked absent from each message, so no sender can plant a token.
_PREFIX = "Bq" + secrets.token_hex(10)
_TOKEN = re.compile(_PREFIX + r"(\d+)Z")


@dataclass(frozen=True)
class Hoisted:
    """A message with its long base64 runs replaced by token lines: _PREFIX, a number, "Z"."""

    raw: bytes
    runs: tuple[str, ...]  # each run without its last line break (see module docstring)

    def restore(self, msg: Message) -> None:
        """Put the runs back into every payload, preamble and epilogue of `msg`'s tree."""
        if not self.runs:
            return

        def back(text: str) -> str:
            return _TOKEN.sub(lambda m: self.runs[int(m.group(1))], text)

        for part in msg.walk():
            # The payload as the parser stored it: get_payload() would re-decode it by charset.
            payload = getattr(part, "_payload", None)
            if isinstance(payload, str) and _PREFIX in payload:
                part.set_payload(back(payload))  # no charset: stored as given
            for name in ("preamble", "epilogue"):
                text = getattr(part, name, None)
                if isinstance(text, str) and _PREFIX in text:
                    setattr(part, name, back(text))


def hoist(raw: bytes) -> Hoisted:
    """`raw` with each run of MIN_LINES or more base64-only lines replaced by a token line."""
    if _PREFIX.encode("ascii") in raw:  # pragma: no cover - 1 in 2**80
        return Hoisted(raw, ())
    runs: list[str] = []

    def token(m: re.Match[bytes]) -> bytes:
        eol = m.group(1)
        runs.append(m.group(0)[: -len(eol)].decode("ascii"))
        return f"{_PREFIX}{len(runs) - 1}Z".encode("ascii") + eol

    reduced = _RUN.sub(token, raw)
    return Hoisted(reduced, tuple(runs))
