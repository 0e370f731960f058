"""Finding a round's form spec: a name shipped in templates/forms/, or a path the office wrote."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from parsers.forms import FormSpec, FormSpecError, load_spec
from templates import TEMPLATE_DIR

FORMS_DIR = TEMPLATE_DIR / "forms"


def shipped_specs() -> list[str]:
    return sorted(p.stem for p in FORMS_DIR.glob("*.toml"))


def spec_path(name: str) -> Path:
    """A bare name ("dan-chu-co-so") is a shipped spec; anything else is a file path."""
    candidate = FORMS_DIR / f"{name}.toml"
    if "/" not in name and "\\" not in name and not name.endswith(".toml"):
        if candidate.is_file():
            return candidate
        raise FormSpecError(
            f"Không có biểu mẫu '{name}'. Biểu mẫu có sẵn: {', '.join(shipped_specs())}; "
            f"hoặc ghi đường dẫn tới tệp .toml của cơ quan."
        )
    path = Path(name)
    if not path.is_file():
        raise FormSpecError(f"Không tìm thấy tệp biểu mẫu {path}.")
    return path


@lru_cache(maxsize=32)
def _load(path: Path, mtime: float) -> FormSpec:
    return load_spec(path.read_text(encoding="utf-8"))


def load_form_spec(name: str) -> FormSpec:
    path = spec_path(name).resolve()
    return _load(path, path.stat().st_mtime)


def spec_stamp(name: str | None) -> tuple[str, float] | None:
    """Where a spec file is and when it last changed, to tell a cached reading from a stale
    one; None without a spec or when it cannot be found (a reader then reports why)."""
    if not name:
        return None
    try:
        path = spec_path(name).resolve()
        return str(path), path.stat().st_mtime
    except (FormSpecError, OSError):
        return None
