"""Benchmark: identifying the unit of a mail when the address is not registered.

At the size of a large province (3,321 units, each with a name, a short name and sometimes an
alias), the letterhead match (`baocao.rules.sender.match_documents`: name_key + rapidfuzz over
every unit) is timed against the address lookup that decides for registered senders
(`baocao.rules.values.identify_unit`) on the same units, in the same run. Also: the per-message
trust work (forward unwrapping + Authentication-Results) against `parse_envelope` of the same
message. Printed, never asserted.

Run from the repository root:  .venv/bin/python bench/identify.py
"""

# ruff: noqa: E402
from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from baocao.rules.sender import Thresholds, match_documents
from baocao.rules.values import UnitInfo, identify_unit
from devtools.samples import sample_report, unit_email
from mailer.authresults import forgery_reason, read_auth_results
from mailer.forward import unwrap_forward
from mailer.message import parse_envelope

UNITS = 3321
KINDS = ("xã", "phường", "thị trấn")
WORDS = ("An", "Bình", "Tân", "Hưng", "Phú", "Mỹ", "Long", "Thạnh", "Hòa", "Vĩnh", "Phước",
         "Đông", "Tây", "Nam", "Bắc", "Lợi", "Châu", "Điền", "Hà", "Khánh")


def units() -> list[UnitInfo]:
    out = []
    for n in range(UNITS):
        a, b, c = WORDS[n % 20], WORDS[(n // 20) % 20], WORDS[(n // 400) % 20]
        name = f"UBND {KINDS[n % 3]} {a} {b} {c} {n // 8000 or ''}".strip()
        out.append(UnitInfo(n, f"u{n}", name, f"{a} {b} {c}", "xa",
                            (f"ubnd@u{n}.gov.vn",),
                            aliases=(f"UBND xã {c} {b} {a} cũ",) if n % 7 == 0 else ()))
    return out


def median_s(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> int:
    every = units()
    target = every[2345]
    printed = target.name.upper()
    address = target.addresses[0]

    lookup = median_s(lambda: identify_unit(address, every), 21)
    matched = median_s(lambda: match_documents([printed], every, Thresholds()), 7)
    verdict = match_documents([printed], every, Thresholds())
    assert verdict.unit == target, verdict

    when = datetime(2025, 5, 20, 2, tzinfo=UTC)
    raw = unit_email(
        sender="vanthu@gmail.com", sender_name="Văn thư", to="baocao@noivu.vn",
        subject="Fwd: Báo cáo 6 tháng", files=(sample_report(target.name, "Báo cáo", when, 1),),
        body="---------- Forwarded message ---------\nFrom: Văn thư <ubnd@u1.gov.vn>\n"
             "Date: Mon, May 19, 2025\nSubject: Báo cáo\nTo: <noivu@x.vn>\n\nKính gửi",
        date=when,
    )
    raw = b"Authentication-Results: mx.noivu.vn; dmarc=pass header.from=gmail.com\r\n" + raw
    envelope = parse_envelope(raw, when)
    parse = median_s(lambda: parse_envelope(raw, when), 21)

    def trust() -> None:
        unwrap_forward(envelope)
        forgery_reason(read_auth_results(raw, ("mx.noivu.vn",)), envelope.sender)

    extra = median_s(trust, 21)
    print("6. Identification when the address is unknown (median; 3,321 units)")
    print(f"{'what':<48}{'ours':>10}{'baseline':>11}{'ours/base':>11}")
    print(f"{'letterhead match vs address lookup':<48}{matched * 1e3:>8.1f} ms"
          f"{lookup * 1e3:>9.2f} ms{matched / lookup:>10.0f}x")
    print(f"{'forward + Authentication-Results vs parse_envelope':<48}{extra * 1e3:>8.2f} ms"
          f"{parse * 1e3:>9.2f} ms{extra / parse:>10.2f}x")
    print("  the letterhead match runs only for unregistered senders, once per mail")
    return 0


if __name__ == "__main__":
    sys.exit(main())
