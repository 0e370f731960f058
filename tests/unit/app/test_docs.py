"""The README cannot drift from the code: every config key and CLI command is documented."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import click

from baocao.app.cli import cli
from baocao.config.settings import parse_settings
from tests import REPO

ROOT = REPO
README = (ROOT / "README.md").read_text(encoding="utf-8")


def config_keys() -> set[str]:
    source = (ROOT / "baocao" / "config" / "settings.py").read_text(encoding="utf-8")
    keys = set()
    pattern = r"r\.(text|integer|integers|choice|str_list|dates|secret)\(\s*\"([a-z_.]+)\""
    for method, key in re.findall(pattern, source):
        keys.add(key + "_env" if method == "secret" else key)
    return keys


def test_every_config_key_is_in_the_readme_table() -> None:
    keys = config_keys()
    assert len(keys) > 20, keys
    missing = sorted(k for k in keys if f"| `{k}` |" not in README)
    assert not missing, f"README lacks config keys: {missing}"


def test_the_example_config_is_valid_and_complete(tmp_path: Path) -> None:
    path = ROOT / "baocao.example.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    env = {"BAOCAO_IMAP_PASSWORD": "x", "BAOCAO_SMTP_PASSWORD": "y"}
    settings = parse_settings(data, tmp_path / "baocao.toml", env)
    assert settings.imap.security == "ssl"
    text = path.read_text(encoding="utf-8")
    for key in config_keys():
        section, _, name = key.partition(".")
        assert f"[{section}]" in text and re.search(rf"^#?\s*{name}\s*=", text, re.M), key


def test_every_cli_command_is_in_the_readme() -> None:
    ctx = click.Context(cli)  # the root group loads its commands on demand: ask it for them
    top = {name: cli.get_command(ctx, name) for name in cli.list_commands(ctx)}
    commands = []
    for name, command in top.items():
        sub = getattr(command, "commands", None)
        commands += [f"baocao {name} {s}" for s in sub] if sub else [f"baocao {name}"]
    assert len(commands) > 20, commands
    missing = [c for c in commands if f"`{c}" not in README]
    # A group that also runs on its own (`baocao messages [--round …]`) is a command too.
    missing += [f"baocao {name}" for name, command in top.items()
                if getattr(command, "invoke_without_command", False)
                and f"`baocao {name} [" not in README and f"`baocao {name}`" not in README]
    assert not missing, f"README lacks commands: {missing}"
