"""Build templates/units-hanoi-2026.csv from the reference data in ../shared/data.

Run once when the reference data changes: `python tools/build_registry.py ../shared/data`.
Sources are kept per row; domains are never invented: departments keep the domain for which
public evidence was found, communes get the one derived by the letter's rule
(`<tên đơn vị>.hanoi.gov.vn`), which the unit confirms or corrects in its form.
Each department gets its kind (sở, ban, trung tâm, hội): the template's [[kinds]] give the
governing body, head's title and copies list of each kind; a department whose facts differ from
its kind's says so in its own columns here (see OVERRIDES).
"""
import csv
import sys
import unicodedata
from pathlib import Path

DEPARTMENT_IDS = {   # name -> (id, kind, chuyên trang keys)
    "Sở Khoa học và Công nghệ": ("so-khcn", "sở", {"Chuyên trang Chuyển đổi số Thành phố": "cds"}),
    "Sở Nội vụ": ("so-noivu", "sở", {"Chuyên trang Cải cách hành chính Thành phố": "cchc"}),
    "Sở Xây dựng": ("so-xaydung", "sở", {}),
    "Sở Y tế": ("so-yte", "sở", {}),
    "Sở Công Thương": ("so-congthuong", "sở", {}),
    "Sở Dân tộc và Tôn giáo": ("so-dantoc-tongiao", "sở", {}),
    "Sở Quy hoạch - Kiến trúc": ("so-qhkt", "sở", {}),
    "Trung tâm Phục vụ hành chính công Thành phố": ("tt-phvhcc", "trung tâm", {}),
    "Ban Quản lý dự án đầu tư xây dựng công trình giao thông Thành phố": ("bqlda-giaothong", "ban", {}),
    "Hội Nông dân Thành phố": ("hoi-nongdan", "hội", {}),
}
# Facts of one unit that are not its kind's: the Ban QLDA is headed by a Giám đốc (appointed by the
# Chủ tịch UBND Thành phố), not a Trưởng ban; its copies follow from head_title.
OVERRIDES = {
    "bqlda-giaothong": {"head_title": "Giám đốc Ban"},
}
LETTER = "Công văn /TTDLCNS-HCQLTT (06/2026), mục 1"
FIELDS = ["id", "group", "name", "kind", "official_code", "domain", "domain_source",
          "email", "phone", "products", "source", "governing_body", "head_title", "copies"]


def ascii_fold(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def commune_domain(name: str) -> str:
    bare = name.split(" ", 1)[1]  # drop "Phường"/"Xã"
    return ascii_fold(bare).lower().replace(" ", "").replace("-", "") + ".hanoi.gov.vn"


def main(data_dir: Path, out: Path) -> None:
    rows = []
    with open(data_dir / "hanoi-departments-2026.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            uid, kind, extra = DEPARTMENT_IDS[r["name"]]
            products = []
            for p in (s.strip() for s in r["products"].split(";")):
                products.append(f"{extra.get(p, 'site')}={p}")
            rows.append({
                "id": uid, "group": "so-ban-nganh", "name": r["name"], "kind": kind,
                "official_code": "", "domain": r["domain"],
                "domain_source": f"evidence: {r['domain_evidence']}",
                "email": "", "phone": "", "products": "|".join(products), "source": LETTER,
            })
    with open(data_dir / "hanoi-communes-2025.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            rows.append({
                "id": f"xp-{r['official_code']}", "group": "xa-phuong", "name": r["name"],
                "kind": r["kind"], "official_code": r["official_code"],
                "domain": commune_domain(r["name"]),
                "domain_source": "derived: <tên đơn vị>.hanoi.gov.vn (Công văn, Phụ lục 02); đơn vị xác nhận",
                "email": "", "phone": "", "products": "site=Trang TTĐT của địa phương",
                "source": r["source"],
            })
    for row in rows:
        row.update({"governing_body": "", "head_title": "", "copies": "", **OVERRIDES.get(row["id"], {})})
        for k, v in row.items():
            row[k] = unicodedata.normalize("NFC", v)
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, FIELDS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"{len(rows)} units -> {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"),
         Path(__file__).resolve().parent.parent / "templates" / "units-hanoi-2026.csv")
