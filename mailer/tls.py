"""TLS for both mail servers: whose certificates we trust, and what to say when one is refused.

An office whose mail server has a certificate from its own internal CA names that CA's PEM file
(`imap.ca_file`, `smtp.ca_file`); it is then trusted instead of the system store, and the
server's name is still checked against the certificate.
"""

from __future__ import annotations

import ssl
from pathlib import Path

__all__ = ["certificate_hint", "client_context"]

# X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
_NAME_MISMATCH = (62, 64)


def client_context(ca_file: Path | None) -> ssl.SSLContext:
    """A verifying client context: the system's CAs, or only `ca_file` when it is given."""
    return ssl.create_default_context(cafile=ca_file)


def certificate_hint(e: ssl.SSLCertVerificationError, section: str, ca_file: Path | None) -> str:
    """What is wrong with a refused certificate and the fix, naming the config keys (Vietnamese;
    no final full stop, so callers can embed it)."""
    if e.verify_code in _NAME_MISMATCH:
        return (f"chứng chỉ của máy chủ không mang tên {section}.host đã cấu hình "
                f"({e.verify_message}). Cách sửa: ghi {section}.host đúng tên máy chủ ghi trong "
                "chứng chỉ")
    if ca_file is not None:
        return (f"chứng chỉ của máy chủ không do CA trong {section}.ca_file ({ca_file}) ký "
                f"({e.verify_message}). Cách sửa: {section}.ca_file phải là chứng chỉ của CA nội "
                "bộ đã cấp chứng chỉ cho máy chủ thư")
    return (f"chứng chỉ của máy chủ không được tin cậy ({e.verify_message}). Cách sửa: nếu máy "
            "chủ thư dùng chứng chỉ do CA nội bộ của cơ quan cấp, ghi đường dẫn tệp PEM của CA "
            f"đó vào {section}.ca_file")
