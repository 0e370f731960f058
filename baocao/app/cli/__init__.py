"""The `baocao` command: thin wrappers that read settings, build the App, call an application
function and print its result in Vietnamese.

Imports are deferred on purpose. An operator types `baocao status` many times a day and cron
starts `baocao poll --once` every few minutes; importing everything up front (SQLAlchemy,
Alembic, openpyxl, python-docx, APScheduler, Jinja2, dkimpy…) cost 1.4–3 s per command. So
the modules here import only click at the top, the root group imports a command's module only
when that command runs, and each command imports what it uses inside its function: `--help`
loads click and nothing else of weight. bench/startup.py measures it.

One module per command group: root.py (the group, failures, `main`), setup.py (init, doctor),
db.py, units.py, rounds.py, forms.py, mail.py (poll, run, outbox, remind, summary), review.py
(quarantine, messages), status.py, web.py (users, web: the staff board); shared.py holds what
several of them use.
"""

from __future__ import annotations

from baocao.app.cli.root import UsageError, cli, main

__all__ = ["UsageError", "cli", "main"]
