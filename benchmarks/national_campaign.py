"""A national campaign for scale tests and benchmarks: the Hà Nội template with one group per
province, and a registry of all 3,321 xã/phường/đặc khu (shared/data/vietnam-communes-2025.csv)."""
from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path

from tracker.model.campaign import template_path
from tracker.model.registry import COLUMNS, slug

REPO = Path(__file__).resolve().parent.parent
DATA_CANDIDATES = [REPO.parent / "shared" / "data" / "vietnam-communes-2025.csv",
                   REPO / "benchmarks" / "data" / "vietnam-communes-2025.csv"]


def communes_csv() -> Path:
    for p in DATA_CANDIDATES:
        if p.exists():
            return p
    raise FileNotFoundError("vietnam-communes-2025.csv not found in " + ", ".join(map(str, DATA_CANDIDATES)))


def make_national(out_dir: Path, n_units: int | None = None) -> tuple[Path, Path]:
    """Write national.toml and units-national.csv into out_dir; return their paths.

    With n_units, take that many communes spread over every province (for the memory check)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = list(csv.DictReader(open(communes_csv(), encoding="utf-8")))
    if n_units is not None and n_units < len(rows):
        step = len(rows) / n_units
        rows = [rows[int(i * step)] for i in range(n_units)]
    base = template_path(None).read_text(encoding="utf-8")
    head, _, groups_part = base.partition("[[groups]]")
    blocks = groups_part.split("[[groups]]")
    commune_block = next(b for b in blocks if 'id = "xa-phuong"' in b)
    provinces = {}
    for r in rows:
        provinces.setdefault(r["province_code"], r["province_name"])
    text = head.replace('id = "hanoi-ttdt-2026"', 'id = "national-ttdt-2026"')
    text = re.sub(r'registry = ".*"', 'registry = "units-national.csv"', text)
    for code, name in provinces.items():
        block = commune_block.replace('id = "xa-phuong"', f'id = "p{code}"')
        block = block.replace('name = "Xã, phường"', f'name = "{name}"')
        text += "[[groups]]" + block
    tpl = out_dir / "national.toml"
    tpl.write_text(text, encoding="utf-8")
    reg = out_dir / "units-national.csv"
    with open(reg, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            bare = r["name"].split(" ", 1)[1] if " " in r["name"] else r["name"]
            w.writerow({"id": f"xp-{r['official_code']}", "group": f"p{r['province_code']}",
                        "name": unicodedata.normalize("NFC", r["name"]), "kind": r["kind"],
                        "official_code": r["official_code"],
                        "domain": slug(bare).replace("-", "") + ".gov.vn",
                        "products": "site=Trang TTĐT của địa phương",
                        "source": "vietnam-communes-2025.csv (QĐ 19/2025/QĐ-TTg)"})
    return tpl, reg
