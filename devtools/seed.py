"""A realistic district: units of every kind with Vietnamese names, for the demo, tests, benches."""

from __future__ import annotations

from dataclasses import dataclass

from parsers.vntext import fold


@dataclass(frozen=True)
class SeedUnit:
    name: str
    short_name: str
    kind: str
    email: str

    @property
    def code(self) -> str:
        return fold(self.short_name).replace(" ", "-")


DOMAIN = "tanhung.example.vn"

DISTRICT_UNITS: tuple[SeedUnit, ...] = (
    SeedUnit("Văn phòng HĐND và UBND huyện", "VP HĐND-UBND", "phong_ban", f"vanphong@{DOMAIN}"),
    SeedUnit("Phòng Tài chính - Kế hoạch", "Phòng TC-KH", "phong_ban", f"taichinh@{DOMAIN}"),
    SeedUnit("Phòng Tư pháp", "Phòng Tư pháp", "phong_ban", f"tuphap@{DOMAIN}"),
    SeedUnit("Phòng Văn hóa và Thông tin", "Phòng VH-TT", "phong_ban", f"vanhoa@{DOMAIN}"),
    SeedUnit("Phòng Giáo dục và Đào tạo", "Phòng GD-ĐT", "phong_ban", f"giaoduc@{DOMAIN}"),
    SeedUnit("Phòng Y tế", "Phòng Y tế", "phong_ban", f"yte@{DOMAIN}"),
    SeedUnit("Thanh tra huyện", "Thanh tra", "phong_ban", f"thanhtra@{DOMAIN}"),
    SeedUnit("Ủy ban Mặt trận Tổ quốc Việt Nam huyện", "MTTQ huyện", "doan_the",
             "mttq.tanhung@gmail.com"),
    SeedUnit("Hội Liên hiệp Phụ nữ huyện", "Hội LHPN", "doan_the", "phunu.tanhung@gmail.com"),
    SeedUnit("Huyện đoàn Tân Hưng", "Huyện đoàn", "doan_the", "huyendoan@tanhung.example.vn"),
    SeedUnit("Hội Nông dân huyện", "Hội Nông dân", "doan_the", "hoinongdan@tanhung.example.vn"),
    SeedUnit("Trung tâm Y tế huyện", "TTYT", "su_nghiep", "ttyt@tanhung.example.vn"),
    SeedUnit("Ban Quản lý dự án đầu tư xây dựng", "BQLDA", "su_nghiep", "bqlda@tanhung.example.vn"),
    SeedUnit("Trung tâm Văn hóa, Thể thao và Truyền thanh", "TT VHTT-TT", "su_nghiep",
             "ttvh@tanhung.example.vn"),
    SeedUnit("UBND thị trấn Tân Hưng", "TT Tân Hưng", "xa", "ubnd@thitrantanhung.example.vn"),
    SeedUnit("UBND xã Hưng Điền", "Xã Hưng Điền", "xa", "ubnd@hungdien.example.vn"),
    SeedUnit("UBND xã Hưng Điền B", "Xã Hưng Điền B", "xa", "ubnd@hungdienb.example.vn"),
    SeedUnit("UBND xã Hưng Hà", "Xã Hưng Hà", "xa", "ubnd@hungha.example.vn"),
    SeedUnit("UBND xã Hưng Thạnh", "Xã Hưng Thạnh", "xa", "ubnd@hungthanh.example.vn"),
    SeedUnit("UBND xã Thạnh Hưng", "Xã Thạnh Hưng", "xa", "ubnd@thanhhung.example.vn"),
    SeedUnit("UBND xã Vĩnh Châu A", "Xã Vĩnh Châu A", "xa", "ubnd@vinhchaua.example.vn"),
    SeedUnit("UBND xã Vĩnh Châu B", "Xã Vĩnh Châu B", "xa", "ubnd@vinhchaub.example.vn"),
    SeedUnit("UBND xã Vĩnh Lợi", "Xã Vĩnh Lợi", "xa", "ubnd@vinhloi.example.vn"),
    SeedUnit("UBND xã Vĩnh Đại", "Xã Vĩnh Đại", "xa", "ubnd@vinhdai.example.vn"),
    SeedUnit("UBND xã Vĩnh Thạnh", "Xã Vĩnh Thạnh", "xa", "ubnd@vinhthanh.example.vn"),
)


def units_sheet_rows(units: tuple[SeedUnit, ...] = DISTRICT_UNITS) -> list[list[str]]:
    """The rows of a units.xlsx as an office would keep it (header first)."""
    rows = [["STT", "Tên đơn vị", "Tên viết tắt", "Loại", "Email", "Người liên hệ"]]
    labels = {"phong_ban": "Phòng, ban", "doan_the": "Đoàn thể",
              "su_nghiep": "Đơn vị sự nghiệp", "xa": "Xã, thị trấn"}
    for index, unit in enumerate(units, start=1):
        rows.append([str(index), unit.name, unit.short_name, labels[unit.kind], unit.email,
                     f"Văn thư {unit.short_name}"])
    return rows
