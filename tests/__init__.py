"""The test suite: tests/unit/<package>/ mirrors the code, tests/scenarios/ runs the whole loop on
real servers (end to end, crash, faults, corpora), tests/fuzz/ generates hostile input."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "tests" / "data"
