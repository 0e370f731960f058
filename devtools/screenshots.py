"""The README's pictures of the staff board: `make demo`'s data, `baocao web`, Debian's Chromium.

    .venv/bin/python -m devtools.screenshots [--out docs/img]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from devtools.browser import chromium, make_demo, missing_browser, serve_board, sign_in
from devtools.demo import HALF_YEAR

PAGES = (
    ("web-dot-bao-cao", "/"),
    ("web-bang-theo-doi", f"/dot/{HALF_YEAR}"),
    ("web-don-vi", "/don-vi/22"),
    ("web-thu-den", "/thu"),
    ("web-thu-cho-xu-ly", "/xu-ly"),
    ("web-thu-di", "/thu-di"),
    ("web-he-thong", "/he-thong"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Chụp ảnh các trang của bảng theo dõi.")
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    args = parser.parse_args(argv)
    reason = missing_browser()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo"
        make_demo(demo)
        with serve_board(demo) as board:
            driver = chromium(Path(tmp), width=1280, height=800)
            try:
                sign_in(driver, board.url)
                for name, path in PAGES:
                    driver.get(board.url + path)
                    driver.save_screenshot(str(out / f"{name}.png"))
                    print(out / f"{name}.png")
            finally:
                driver.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
