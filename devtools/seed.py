"""Realistic units with Vietnamese names: a province after the 2025 reform (the demo) and a
district before it (tests and benches, which also keep pre-reform configs working)."""

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


PROVINCE_DOMAIN = "tanhung.gov.example.vn"

# After 1/7/2025: the Sở Nội vụ of a province, its sở/ban/ngành, provincial đoàn thể and đơn vị sự
# nghiệp, and communes (xã, phường, đặc khu). Same kinds at the same positions as DISTRICT_UNITS.
PROVINCE_UNITS: tuple[SeedUnit, ...] = (
    SeedUnit("Văn phòng UBND tỉnh", "VP UBND tỉnh", "phong_ban", f"vanphong@{PROVINCE_DOMAIN}"),
    SeedUnit("Sở Tài chính", "Sở Tài chính", "phong_ban", f"stc@{PROVINCE_DOMAIN}"),
    SeedUnit("Sở Tư pháp", "Sở Tư pháp", "phong_ban", f"stp@{PROVINCE_DOMAIN}"),
    SeedUnit("Sở Văn hóa, Thể thao và Du lịch", "Sở VHTTDL", "phong_ban",
             f"svhttdl@{PROVINCE_DOMAIN}"),
    SeedUnit("Sở Giáo dục và Đào tạo", "Sở GD-ĐT", "phong_ban", f"sgddt@{PROVINCE_DOMAIN}"),
    SeedUnit("Sở Y tế", "Sở Y tế", "phong_ban", f"syt@{PROVINCE_DOMAIN}"),
    SeedUnit("Thanh tra tỉnh", "Thanh tra", "phong_ban", f"thanhtra@{PROVINCE_DOMAIN}"),
    SeedUnit("Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh", "MTTQ tỉnh", "doan_the",
             "mttq.tinhtanhung@gmail.com"),
    SeedUnit("Hội Liên hiệp Phụ nữ tỉnh", "Hội LHPN", "doan_the", "phunu.tinhtanhung@gmail.com"),
    SeedUnit("Tỉnh đoàn Tân Hưng", "Tỉnh đoàn", "doan_the", f"tinhdoan@{PROVINCE_DOMAIN}"),
    SeedUnit("Hội Nông dân tỉnh", "Hội Nông dân", "doan_the", f"hoinongdan@{PROVINCE_DOMAIN}"),
    SeedUnit("Trung tâm Kiểm soát bệnh tật tỉnh", "CDC tỉnh", "su_nghiep",
             f"cdc@{PROVINCE_DOMAIN}"),
    SeedUnit("Ban Quản lý dự án đầu tư xây dựng tỉnh", "BQLDA", "su_nghiep",
             f"bqlda@{PROVINCE_DOMAIN}"),
    SeedUnit("Trung tâm Phục vụ hành chính công tỉnh", "TT PVHCC", "su_nghiep",
             f"pvhcc@{PROVINCE_DOMAIN}"),
    SeedUnit("UBND phường Tân Hưng", "Phường Tân Hưng", "xa", "ubnd@phuongtanhung.example.vn"),
    SeedUnit("UBND xã Hưng Điền", "Xã Hưng Điền", "xa", "ubnd@hungdien.example.vn"),
    SeedUnit("UBND phường Hưng Điền B", "Phường Hưng Điền B", "xa", "ubnd@hungdienb.example.vn"),
    SeedUnit("UBND xã Hưng Hà", "Xã Hưng Hà", "xa", "ubnd@hungha.example.vn"),
    SeedUnit("UBND xã Hưng Thạnh", "Xã Hưng Thạnh", "xa", "ubnd@hungthanh.example.vn"),
    SeedUnit("UBND xã Thạnh Hưng", "Xã Thạnh Hưng", "xa", "ubnd@thanhhung.example.vn"),
    SeedUnit("UBND phường Vĩnh Châu", "Phường Vĩnh Châu", "xa", "ubnd@vinhchau.example.vn"),
    SeedUnit("UBND đặc khu Hòn Tre", "Đặc khu Hòn Tre", "xa", "ubnd@hontre.example.vn"),
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
