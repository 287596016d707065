"""Units and products from a registry CSV, and the checks a registry must pass.

One row per unit: id, group, name, kind, official_code, domain, domain_source, email, phone,
products, source, and optionally governing_body, head_title, copies. `products` is
`key=name|key=name`; the key equal to the campaign's site key is the unit's own site, any other
is a chuyên trang. The unit's governing body (first line of its letterhead), its head's title and
the copies list of its form come from the template's defaults for its kind ([[kinds]]) unless
the row gives its own (`copies` as `item|item`).
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from tracker.model.campaign import Campaign
from tracker.model.errors import TrackerError
from tracker.model.findings import Finding
from tracker.model.language import N_, _

COLUMNS = ["id", "group", "name", "kind", "official_code", "domain", "domain_source",
           "email", "phone", "products", "source", "governing_body", "head_title", "copies"]
REQUIRED = ["id", "group", "name", "products"]
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_KEY = re.compile(r"^[a-z][a-z0-9]{0,15}$")
_EMAIL = re.compile(r"^[^@\s,;<>\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_DOMAIN = re.compile(r"^([a-z0-9-]+\.)+[a-z]{2,}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")     # tab and line breaks are text


@dataclass(frozen=True, slots=True)    # thousands at national scale: no __dict__ each
class Product:
    id: str          # "<unit id>/<key>", stable across campaigns
    key: str
    name: str
    kind: str        # "site" or "chuyen_trang"
    unit_id: str


@dataclass(frozen=True, slots=True)
class Unit:
    id: str
    group: str
    name: str
    kind: str
    official_code: str
    domain: str
    email: str
    phone: str
    products: tuple[Product, ...]
    source: str = ""
    # The row's own values; blank or empty: the template's default for the unit's kind (see unit_facts).
    governing_body: str = ""
    head_title: str = ""
    copies: tuple[str, ...] = ()

    @property
    def file_stem(self) -> str:
        """ASCII file name that tells the unit: `xp-00070-phuong-hoan-kiem`; a long name is cut
        between words at FILE_STEM_MAX (see there)."""
        stem = f"{self.id}-{slug(self.name)}"
        if len(stem) > FILE_STEM_MAX:
            cut = stem[:FILE_STEM_MAX + 1].rsplit("-", 1)[0]
            stem = cut if len(cut) > len(self.id) else stem[:FILE_STEM_MAX]
        return stem.rstrip("-")


# Excel opens no file whose full path passes 218 characters. A form lives at
# outbox/<group>/<stem>.xlsx: with stems of at most 48 that part stays near 75 characters, so a
# campaign folder of up to ~140 characters works (a Documents folder under OneDrive with a long
# organisation name reaches 100). `generate` warns when a form's path is too long all the same.
FILE_STEM_MAX = 48


@dataclass(frozen=True, slots=True)
class UnitFacts:
    """What the unit's form says of the unit itself, defaults for its kind filled in."""
    governing_body: str        # first line of the letterhead, e.g. "UBND THÀNH PHỐ HÀ NỘI"
    governing_body_bold: bool  # "ỦY BAN NHÂN DÂN" above a commune's name is part of its name: bold
    head_title: str            # "Giám đốc Sở", "Chủ tịch UBND phường"
    copies: tuple[str, ...]    # "Nơi nhận" lines
    in_text: str               # the unit named mid-sentence: "UBND phường Ba Đình", "Sở Y tế"


def unit_facts(campaign: Campaign, unit: Unit) -> UnitFacts:
    kind = campaign.kinds.get(unit.kind.strip().casefold(), {})
    head = unit.head_title or str(kind.get("head_title", "") or "")
    copies = unit.copies or tuple(str(c) for c in kind.get("copies", []) if str(c).strip())
    name, bare = unit.name, unit.name
    if unit.kind and name.casefold().startswith(unit.kind.strip().casefold() + " "):
        bare = name[len(unit.kind.strip()) + 1:].strip()
    pattern = str(kind.get("in_text", "") or "{name}")
    return UnitFacts(
        governing_body=unit.governing_body or str(kind.get("governing_body", "") or ""),
        governing_body_bold=bool(kind.get("governing_body_bold", False)) and not unit.governing_body,
        head_title=head,
        copies=tuple(c.replace("{head_title}", head) for c in copies),
        in_text=pattern.replace("{name}", name).replace("{bare}", bare))


def _missing_facts(campaign: Campaign, unit: Unit) -> list[str]:
    """The facts neither the row nor the template's defaults for its kind give, by column."""
    facts = unit_facts(campaign, unit)
    return [col for col, value in (("governing_body", facts.governing_body), ("head_title", facts.head_title),
                                   ("copies", facts.copies)) if not value]


# What each fact is called in a message: marked here, translated where the message is made.
_FACT_LABELS = {"governing_body": N_("cơ quan chủ quản"), "head_title": N_("chức danh thủ trưởng"),
                "copies": N_("danh sách nơi nhận")}


def ascii_fold(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", ascii_fold(text).lower()).strip("-")


def parse_products(unit_id: str, text: str, site_key: str) -> list[Product]:
    out = []
    for part in filter(None, (p.strip() for p in text.split("|"))):
        key, sep, name = part.partition("=")
        key, name = key.strip(), name.strip()
        if not sep or not _KEY.match(key) or not name:
            raise ValueError(part)
        out.append(Product(f"{unit_id}/{key}", key, name,
                           "site" if key == site_key else "chuyen_trang", unit_id))
    return out


def _column_letters(n: int) -> str:
    letters = ""
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _decode(raw: bytes, path) -> str:
    """The registry's text: UTF-8 (with or without Excel's BOM), or UTF-16 with its BOM (Excel's
    “Unicode Text”); anything else is refused with how to save it right."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TrackerError(f"Danh sách đơn vị '{path}' không phải UTF-8. Trong Excel hãy lưu bằng "
                           "'CSV UTF-8 (Comma delimited)' rồi chạy lại.") from None


DELIMITERS = (",", ";", "\t")


def _header_names(line: str, delimiter: str) -> list[str]:
    return [c.strip().lstrip("\ufeff").strip().lower() for c in next(csv.reader([line], delimiter=delimiter), [])]


def _delimiter(text: str) -> str:
    """The delimiter the header line is written with: the one that names the most known columns
    (Excel with Vietnamese regional settings writes ';'; “Unicode Text” tabs). A comma when none does."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    known = set(COLUMNS)
    scores = {d: len(known & set(_header_names(first, d))) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: (scores[d], d == ","))


def load_registry(path: Path, campaign: Campaign) -> list[Unit]:
    """Read and check a registry; TrackerError listing every problem otherwise: findings naming the
    line, the column and the cell (as Excel shows the CSV opened in it). Read as saved by Excel in
    any of its usual ways: BOM, CR-only or CRLF line ends, ';' or tab delimiters, empty rows
    (a trailing ',,,')."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise TrackerError(f"Không đọc được danh sách đơn vị '{path}': {e.strerror}.") from None
    text = _decode(raw, path)
    delimiter = _delimiter(text)
    # newline="": the csv module splits the records itself (CR, LF or CRLF; line breaks inside quotes).
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(records, [])
    except csv.Error as e:
        raise TrackerError(f"Danh sách đơn vị '{path}': không đọc được dòng tiêu đề ({e}). Mở bằng Excel, lưu lại "
                           "dạng 'CSV UTF-8 (Comma delimited)' rồi chạy lại.") from None
    fieldnames = [h.strip().lstrip("\ufeff").strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in fieldnames]
    if missing:
        raise TrackerError(f"Danh sách đơn vị '{path}' thiếu cột: {', '.join(missing)}. "
                           f"Các cột cần có: {', '.join(COLUMNS)} (ở dòng đầu, cách nhau bằng dấu phẩy).")
    name = Path(path).name
    letters = {col: _column_letters(i) for i, col in enumerate(fieldnames, 1) if col}
    groups = {g.id for g in campaign.groups}
    problems: list[Finding] = []
    units: list[Unit] = []
    seen_ids: dict[str, int] = {}
    seen_names: dict[tuple, int] = {}

    def problem(code: str, line: int, col: str = "", value: str = "", expected: str = "", **params) -> None:
        cell = f"{letters[col]}{line}" if col in letters else ""
        problems.append(Finding(code, file=name, cell=cell, value=value, expected=expected, row=line, **params))

    # csv.DictReader would keep the last of two columns of one name: every address blanked, silently.
    first_at: dict[str, int] = {}
    for i, col in enumerate(fieldnames, 1):
        if col and col in first_at:
            problems.append(Finding("registry_duplicate_column", file=name, cell=f"{_column_letters(i)}1", row=1,
                                    column=col, cells=f"{_column_letters(first_at[col])}1, {_column_letters(i)}1"))
        first_at.setdefault(col, i)
    if problems:
        _refuse(path, problems)

    # NFC text has NFC cells (CSV delimiters and spaces never compose): check cell by cell only to say where.
    all_nfc = unicodedata.is_normalized("NFC", text)
    # Control characters (a NUL, ...) would be written into every workbook, which Excel then refuses.
    controls = _CONTROL.search(text) is not None
    line = 1
    while True:
        try:
            cells = next(records)
        except StopIteration:
            break
        except csv.Error as e:
            problems.append(Finding("registry_unreadable_line", file=name, row=line + 1, value=str(e)))
            break
        line += 1
        if not any(c.strip() for c in cells):
            continue                   # an empty row (Excel writes ',,,' for a row it once had)
        for i, value in enumerate(cells[len(fieldnames):], len(fieldnames) + 1):
            if value.strip():
                problems.append(Finding("registry_extra_cells", file=name, cell=f"{_column_letters(i)}{line}",
                                        value=value.strip()[:80], row=line, letter=_column_letters(i)))
        row = {}
        for i, (col, value) in enumerate(zip(fieldnames, cells), 1):
            if col:
                row[col] = value.strip()
            elif value.strip():
                problems.append(Finding("registry_extra_cells", file=name, cell=f"{_column_letters(i)}{line}",
                                        value=value.strip()[:80], row=line, letter=_column_letters(i)))
        for col, value in () if all_nfc else row.items():
            if value != unicodedata.normalize("NFC", value):
                problem("registry_not_nfc", line, col, value, column=col)
        for col, value in row.items() if controls else ():
            bad = _CONTROL.search(value)
            if bad:
                problem("registry_control_char", line, col, f"U+{ord(bad.group()):04X}", column=col)
        uid = row.get("id", "")
        if not uid and row.get("products"):
            problem("registry_no_unit_id", line, "id")
        elif not _ID.match(uid):
            problem("registry_bad_id", line, "id", uid)
        elif uid in seen_ids:
            problem("registry_duplicate_id", line, "id", uid, other_row=seen_ids[uid])
        else:
            seen_ids[uid] = line
        if row.get("group") not in groups:
            problem("registry_unknown_group", line, "group", row.get("group") or "", ", ".join(sorted(groups)))
        if not row.get("name"):
            problem("registry_no_name", line, "name")
        else:
            key = (row.get("group"), row["name"].casefold())
            if key in seen_names:
                problem("registry_duplicate_name", line, "name", row["name"], other_row=seen_names[key])
            seen_names[key] = line
        email = row.get("email", "")
        for addr in filter(None, re.split(r"[;,]\s*", email)):
            if not _EMAIL.match(addr):
                problem("registry_bad_email", line, "email", addr)
        domain = row.get("domain", "")
        if domain and not _DOMAIN.match(domain):
            problem("registry_bad_domain", line, "domain", domain)
        try:
            products = parse_products(uid, row.get("products", ""), campaign.site_key)
        except ValueError as e:
            problem("registry_bad_product", line, "products", str(e))
            products = []
        if not products and row.get("products", "") == "":
            problem("registry_no_products", line, "products")
        if len({p.key for p in products}) != len(products):
            problem("registry_duplicate_product", line, "products", row.get("products", ""))
        unit = Unit(uid, row.get("group", ""), row.get("name", ""), row.get("kind", ""),
                    row.get("official_code", ""), domain, email, row.get("phone", ""),
                    tuple(products), row.get("source", ""), row.get("governing_body", ""),
                    row.get("head_title", ""),
                    tuple(c for c in (x.strip() for x in row.get("copies", "").split("|")) if c))
        missing = _missing_facts(campaign, unit)
        if missing:
            known = ", ".join(sorted(str(k.get("kind")) for k in campaign.data.get("kinds", [])))
            problem("registry_missing_facts", line, "kind", unit.kind, known, unit=unit.name,
                    facts=", ".join(_(_FACT_LABELS[c]) for c in missing), columns=", ".join(missing))
        units.append(unit)
    if not units and not problems:
        problems.append(Finding("registry_empty", file=name))
    if problems:
        _refuse(path, problems)
    return units


def _refuse(path, problems: list[Finding]):
    shown = problems[:30]
    more = f" (và {len(problems) - 30} lỗi khác)" if len(problems) > 30 else ""
    raise TrackerError(f"Danh sách đơn vị '{path}' có {len(problems)} lỗi{more}; sửa rồi chạy lại:", details=shown)


def registry_rows(units: list[Unit]) -> list[dict]:
    return [{"id": u.id, "group": u.group, "name": u.name, "kind": u.kind,
             "official_code": u.official_code, "domain": u.domain, "email": u.email,
             "phone": u.phone, "products": "|".join(f"{p.key}={p.name}" for p in u.products),
             "source": u.source, "governing_body": u.governing_body, "head_title": u.head_title,
             "copies": "|".join(u.copies)} for u in units]


def all_products(units: list[Unit]) -> list[Product]:
    return [p for u in units for p in u.products]
