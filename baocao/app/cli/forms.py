"""`baocao form list | template`: the data forms (biểu số liệu) declared in .toml files."""

from __future__ import annotations

from pathlib import Path

import click

from baocao.app.cli.root import Context, UsageError
from baocao.app.cli.shared import say


@click.group()
def form() -> None:
    """Biểu số liệu (mẫu khai báo trong tệp .toml)."""


@form.command("list")
def form_list() -> None:
    """Liệt kê các biểu mẫu có sẵn."""
    from baocao.registry.forms import load_form_spec, shipped_specs

    for name in shipped_specs():
        spec = load_form_spec(name)
        say(f"{name}: {spec.title} (mã {spec.code}, phiên bản {spec.version}, "
            f"{len(spec.indicators)} chỉ tiêu)")


@form.command("template")
@click.argument("spec")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Tệp Excel mẫu để gửi cho các đơn vị.")
@click.option("--no-units", is_flag=True, help="Không cần cấu hình: bỏ danh sách đơn vị.")
@click.pass_obj
def form_template(obj: Context, spec: str, out: Path, no_units: bool) -> None:
    """Tạo biểu mẫu Excel trống (có khóa, danh sách đơn vị để chọn) từ SPEC."""
    from baocao.registry.forms import spec_path
    from baocao.reports.form_template import form_template_command

    names: list[str] = []
    if not no_units:
        from baocao.registry.units import active_unit_names

        app = obj.app(migrate=False)
        with app.sessions() as session:
            names = active_unit_names(session)
    try:
        form_template_command(spec_path(spec), out, names)
    except OSError as exc:
        raise UsageError(f"Không ghi được tệp {out}: {exc.strerror}") from None
    say(f"Đã tạo biểu mẫu {out} ({len(names)} đơn vị trong danh sách chọn).")
