"""Start-up time of the `baocao` command against bare interpreters measured in the same run.

Run from the repository root:  .venv/bin/python bench/startup.py [--quick] [--imports]

Every timing is a fresh process, as the operator and cron start the command, from exec to exit.
Baselines: `python -c pass` (the interpreter alone) and `python -c "import click,
sqlalchemy.orm"` (what any command that reads the database cannot do without). Ours:

- `baocao --help`: goal <= 3x `python -c pass`;
- `baocao status R --json` on a small SQLite database (25 units, one round): goal <= 1.5x
  `import click, sqlalchemy.orm`;
- other read-only commands on the same database, for context (no goal).

Runs are interleaved (each round runs every command once, in turn) so load from other jobs on
the machine falls on all of them alike; the figure is the median. The children get a private
bytecode cache (PYTHONPYCACHEPREFIX), filled by an untimed warm-up run, whatever this
environment says about PYTHONDONTWRITEBYTECODE: an installed package has its .pyc files (pip
compiles them at install), and compiling our modules on every run would measure the compiler.

`--imports` also prints the modules `status --json` imports beyond the baseline, heaviest first
(`python -X importtime`): where to look when the ratio grows. Printed, never asserted.
"""

# ruff: noqa: E402  (the repository root must be on sys.path before our imports)
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import table
from devtools.testbed import units_xlsx

PASSWORD_ENV = "BENCH_IMAP_PASSWORD"
CONFIG = f"""
[office]
name = "Phòng Nội vụ huyện Tân Hưng"
place = "Tân Hưng"
summary_to = ["noivu@tanhung.example.vn"]

[database]
url = "sqlite:///baocao.db"

[imap]
host = "127.0.0.1"
port = 1143
security = "plain"
username = "baocao"
password_env = "{PASSWORD_ENV}"

[smtp]
host = "127.0.0.1"
port = 1025
security = "plain"
from_address = "baocao@noivu.example.vn"
"""


@dataclass(frozen=True)
class Case:
    label: str
    argv: tuple[str, ...]
    baseline: str | None = None  # label of the case it is compared with
    goal: float | None = None  # at most this many times the baseline


def baocao_command() -> tuple[str, ...]:
    """The installed console script next to this interpreter, else `python -m`."""
    script = Path(sys.executable).with_name("baocao")
    return (str(script),) if script.exists() else (sys.executable, "-m", "baocao.app.cli")


def child_env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update({PASSWORD_ENV: "x", "PYTHONPYCACHEPREFIX": str(cache), "COLUMNS": "120"})
    return env


def run_once(argv: Sequence[str], env: dict[str, str], cwd: Path) -> float:
    began = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n"
                         f"{done.stderr.decode(errors='replace')}")
    return elapsed


def prepare(workdir: Path, env: dict[str, str]) -> Path:
    """A config and a small database made through the command itself: 25 units, one round."""
    config = workdir / "baocao.toml"
    config.write_text(CONFIG, encoding="utf-8")
    units = workdir / "units.xlsx"
    units.write_bytes(units_xlsx())
    for args in (("db", "upgrade"), ("units", "import", str(units)),
                 ("rounds", "add", "R", "--title", "Báo cáo 6 tháng đầu năm 2025",
                  "--due", "31/12/2099")):
        run_once((*baocao_command(), "-c", str(config), *args), env, workdir)
    return config


def cases(config: Path) -> list[Case]:
    py, ours = sys.executable, (*baocao_command(), "-c", str(config))
    return [
        Case("python -c pass (baseline)", (py, "-c", "pass")),
        Case("python -c 'import click, sqlalchemy.orm' (baseline)",
             (py, "-c", "import click, sqlalchemy.orm")),
        Case("baocao --help", (*baocao_command(), "--help"), "python -c pass (baseline)", 3.0),
        Case("baocao status R --json", (*ours, "status", "R", "--json"),
             "python -c 'import click, sqlalchemy.orm' (baseline)", 1.5),
        Case("baocao status R (table)", (*ours, "status", "R"),
             "python -c 'import click, sqlalchemy.orm' (baseline)"),
        Case("baocao units list --json", (*ours, "units", "list", "--json"),
             "python -c 'import click, sqlalchemy.orm' (baseline)"),
        Case("baocao remind R --dry-run", (*ours, "remind", "R", "--dry-run"),
             "python -c 'import click, sqlalchemy.orm' (baseline)"),
    ]


def heaviest_imports(argv: Sequence[str], baseline: Sequence[str], env: dict[str, str],
                     cwd: Path, top: int = 15) -> list[tuple[str, float, float]]:
    """Modules `argv` imports that `baseline` does not: (name, self ms, cumulative ms)."""

    def importtime(command: Sequence[str]) -> dict[str, tuple[float, float]]:
        # `python -X importtime SCRIPT …` runs the console script under the same interpreter.
        rest = command[1:] if command[0] == sys.executable else command
        done = subprocess.run([sys.executable, "-X", "importtime", *rest], env=env, cwd=cwd,
                              capture_output=True, text=True, check=False)
        out: dict[str, tuple[float, float]] = {}
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "imported package" in line:
                continue
            own, cumulative, name = line[len("import time:"):].split("|")
            out[name.strip()] = (int(own) / 1000, int(cumulative) / 1000)
        return out

    base = importtime(baseline)
    ours = importtime(argv)
    extra = [(name, own, cum) for name, (own, cum) in ours.items() if name not in base]
    return sorted(extra, key=lambda row: row[1], reverse=True)[:top]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (CI)")
    parser.add_argument("--imports", action="store_true",
                        help="also list what status --json imports beyond the baseline")
    args = parser.parse_args(argv)
    rounds = 9 if args.quick else 25
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="baocao-startup-") as tmp:
        workdir = Path(tmp)
        env = child_env(workdir / "pycache")
        config = prepare(workdir, env)
        todo = cases(config)
        for case in todo:  # warm-up: fills the bytecode cache
            run_once(case.argv, env, workdir)
        times: dict[str, list[float]] = {case.label: [] for case in todo}
        for _ in range(rounds):
            for case in todo:
                times[case.label].append(run_once(case.argv, env, workdir))
        imports = (heaviest_imports(todo[3].argv, todo[1].argv, env, workdir)
                   if args.imports else [])
    median = {label: statistics.median(values) for label, values in times.items()}
    rows = []
    for case in todo:
        ratio = f"{median[case.label] / median[case.baseline]:.2f}x" if case.baseline else "1.00x"
        vs = "pass" if case.baseline == todo[0].label else ("click+orm" if case.baseline else "-")
        goal = f"<= {case.goal:g}x" if case.goal else ""
        spread = f"{min(times[case.label]) * 1000:.0f}-{max(times[case.label]) * 1000:.0f}"
        rows.append((case.label, f"{median[case.label] * 1000:.1f} ms", spread, vs, ratio, goal))
    print(table(
        f"9. Start-up: a fresh process per command, exec to exit (median of {rounds}, "
        "interleaved; small SQLite database: 25 units, one round)",
        ("command", "median", "min-max ms", "vs", "ratio", "goal"), rows,
    ))
    if imports:
        print()
        print(table(
            "   Imported by `status --json` beyond click + sqlalchemy.orm (python -X importtime, "
            "one run; heaviest self time first)",
            ("module", "self", "cumulative"),
            [(name, f"{own:.1f} ms", f"{cum:.1f} ms") for name, own, cum in imports],
        ))
    print(f"\nstart-up bench time {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
