"""When two fetched copies are the same mail: one Message-ID and the same content.

A mailbox migration or a forwarding server may re-encode a message (new MIME boundaries,
base64 instead of quoted-printable, folded headers): the raw bytes differ but the mail is the
same and must be recorded once. A broken client that reuses a Message-ID for a different mail
must not lose that mail. So the content decides: the decoded attachments (by sha256) and the
body text with whitespace normalised. Pure: an Envelope in, a key out.
"""

from __future__ import annotations

import hashlib
import unicodedata

from mailer.message import Envelope


def content_key(envelope: Envelope) -> str:
    """sha256 over the normalised body text and the sorted digests of the decoded files."""
    text = " ".join(unicodedata.normalize("NFC", envelope.body_text).split())
    files = sorted(hashlib.sha256(part.data).hexdigest() for part in envelope.attachments)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass"))
    for name in files:
        digest.update(b"\0" + name.encode("ascii"))
    return digest.hexdigest()
