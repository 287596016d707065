"""The acceptance report (`tracker report`) and the units yet to reply (`tracker missing`).

Every number comes from tracker.stats.compute (through campaign_stats): this module only selects
and words what the stats already hold, so the report can never disagree with `tracker stats`, its
CSV or the master's summary. Every fact about the campaign (issuer, contract, place, criteria,
product kinds) comes from the campaign template; an optional [report] section of the template
overrides the wording of the document (number, subject, recipients, signer).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from tracker.model.campaign import Campaign
from tracker.model.dates import show
from tracker.model.errors import TrackerError
from tracker.stats import DEADLINE_VI, campaign_stats, csv_safe

FORMATS = ("xlsx", "docx")
NOT_REPLIED = ("missing", "waiting")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text) -> str:
    """Text safe for any XML part (docx, xlsx): control characters a unit may paste are dropped."""
    return _XML_ILLEGAL.sub("", "" if text is None else str(text))


def date_line(place: str, d: dt.date) -> str:
    """'Hà Nội, ngày 05 tháng 6 năm 2026' (Nghị định 30/2020: a leading 0 on days 1-9 and months 1-2)."""
    day = f"{d.day:02d}"
    month = f"{d.month:02d}" if d.month < 3 else str(d.month)
    prefix = f"{place}, " if place else ""
    return f"{prefix}ngày {day} tháng {month} năm {d.year}"


def percent(part: int, whole: int) -> str:
    """'33,3%' (Vietnamese decimal comma); '-' for an empty whole."""
    return f"{100 * part / whole:.1f}%".replace(".", ",") if whole else "-"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


@dataclass
class ReportTexts:
    """The wording of the report, all from the campaign template."""
    issuer_parent: str
    issuer_name: str          # as in the header block (capitals)
    issuer_full: str          # as in running text
    number: str
    place: str
    date_line: str
    title: str
    subject: str
    intro: list[str]
    closing: str
    recipients: list[str]
    signer_title: str
    signer_name: str
    contract_short: str
    due_text: str
    kind_labels: dict[str, str]
    answer_met: str
    answer_not_met: str


def report_texts(campaign: Campaign, as_of: dt.date) -> ReportTexts:
    c = campaign.section("campaign")
    issuer = campaign.section("issuer")
    contract = campaign.section("contract")
    products = campaign.section("products")
    rep = campaign.section("report")
    short = issuer.get("short", "")
    issuer_full = issuer.get("name", "")
    contract_short = contract.get("short", "")
    place = c.get("city", "")
    subject = rep.get("subject") or (
        f"Kết quả {_lower_first(campaign.title)} phục vụ nghiệm thu khối lượng"
        + (f" theo {contract_short}" if contract_short else ""))
    due_text = c.get("due_text", "") or f"đến hết ngày {show(campaign.due)}"
    intro = []
    if contract.get("text"):
        intro.append(f"Căn cứ {contract['text']};")
    letter = c.get("letter_number", "")
    if letter:
        letter_ref = f"Công văn số {letter}"
        if c.get("letter_date"):
            letter_ref += f" ngày {c['letter_date']}"
        vv = c.get("subject", "")
        vv = re.sub(r"^\s*V/v\s*", "", vv)
        purpose = contract.get("purpose", "")
        intro.append(f"Thực hiện {letter_ref} của {issuer_full}" + (f" về việc {vv}" if vv else "")
                     + f", các cơ quan, đơn vị gửi văn bản xác nhận {due_text}"
                     + (f" để phục vụ {purpose}" if purpose else "") + ";")
    intro.append(f"{issuer_full} báo cáo kết quả tổng hợp xác nhận của các cơ quan, đơn vị, số liệu tính đến ngày "
                 f"{show(as_of)} (hạn gửi {due_text}, tức nhận đến hết ngày {show(campaign.due)}), như sau:")
    closing = rep.get("closing") or (
        "Trên đây là kết quả tổng hợp xác nhận của các cơ quan, đơn vị phục vụ nghiệm thu khối lượng"
        + (f" theo {contract_short}" if contract_short else "") + f"; {issuer_full} trân trọng báo cáo./.")
    recipients = rep.get("recipients") or ([f"Lãnh đạo {short} (để b/c);"] if short else []) + ["Lưu: VT."]
    return ReportTexts(
        issuer_parent=rep.get("issuer_parent") or issuer.get("parent", ""),
        issuer_name=issuer.get("header") or issuer_full.upper(),
        issuer_full=issuer_full,
        number=rep.get("number") or ("Số:        /BC-" + short if short else "Số:        /BC"),
        place=place,
        date_line=date_line(place, as_of),
        title=rep.get("title", "BÁO CÁO"),
        subject=subject,
        intro=intro,
        closing=closing,
        recipients=list(recipients),
        signer_title=rep.get("signer_title", "THỦ TRƯỞNG ĐƠN VỊ"),
        signer_name=rep.get("signer_name", ""),
        contract_short=contract_short,
        due_text=due_text,
        kind_labels={"site": products.get("site_kind", "Trang TTĐT"),
                     "chuyen_trang": products.get("other_kind", "Chuyên trang")},
        answer_met=campaign.answer_met,
        answer_not_met=campaign.answer_not_met,
    )


@dataclass
class Report:
    """What the report shows: the stats, and lists selected from them (never recounted)."""
    campaign: Campaign
    stats: dict
    as_of: dt.date
    texts: ReportTexts
    group_names: dict[str, str]
    criteria_labels: dict[str, str]            # criterion id -> "TC1. Chức năng hệ thống"
    accepted: list[dict] = field(default_factory=list)
    not_accepted: list[dict] = field(default_factory=list)   # not_accepted and incomplete products
    not_replied: list[dict] = field(default_factory=list)    # units missing or waiting
    late: list[dict] = field(default_factory=list)           # units that replied late
    units: list[dict] = field(default_factory=list)          # every unit with its deadline status
    kinds: list[dict] = field(default_factory=list)

    @property
    def volume(self) -> str:
        p = self.stats["products"]
        return f"{p['accepted']}/{p['total']}"


def build_report(campaign: Campaign, stats: dict) -> Report:
    from tracker.master.workbook import notes_text

    as_of = dt.date.fromisoformat(stats["campaign"]["as_of"])
    group_names = {g["id"]: g["name"] for g in stats["groups"]}
    labels = {cr["id"]: f"TC{i}. {cr['name']}" for i, cr in enumerate(stats["criteria"], 1)}
    rep = Report(campaign, stats, as_of, report_texts(campaign, as_of), group_names, labels)
    units = {u["unit_id"]: u for u in stats["_units"]}
    n_products: dict[str, int] = {}
    for r in stats["rows"]:
        n_products[r["unit_id"]] = n_products.get(r["unit_id"], 0) + 1
        u = units[r["unit_id"]]
        sub = u["current"]
        item = {**r, "group_name": group_names.get(r["group"], r["group"]),
                "kind_label": rep.texts.kind_labels.get(r["product_kind"], r["product_kind"]),
                "domain": ((sub.domains.get(r["product_id"]) if sub else None) or r.get("domain") or ""),
                "received": dt.date.fromisoformat(r["received_at"]) if r["received_at"] else None,
                "days_late": u["days_late"]}
        if r["status"] == "accepted":
            rep.accepted.append(item)
        elif r["status"] in ("not_accepted", "incomplete"):
            item["unmet"] = [labels[c] for c, v in r["answers"].items() if v == "not_met"]
            item["blank"] = [labels[c] for c, v in r["answers"].items() if v == "blank"]
            item["notes"] = notes_text(sub, campaign)
            item["proposals"] = sub.proposals if sub else ""
            item["signer"] = sub.signer if sub else ""
            rep.not_accepted.append(item)
    for u in stats["_units"]:
        item = {**u, "group_name": group_names.get(u["group"], u["group"]),
                "received": dt.date.fromisoformat(u["received_at"]) if u["received_at"] else None,
                "products": n_products.get(u["unit_id"], 0)}
        rep.units.append(item)
        if u["deadline_status"] in NOT_REPLIED:
            rep.not_replied.append(item)
        elif u["deadline_status"] == "late":
            rep.late.append(item)
    rep.kinds = [{**k, "label": rep.texts.kind_labels.get(k["kind"], k["kind"])} for k in stats["_kinds"]]
    return rep


def report_paths(ws, as_of: dt.date) -> dict[str, Path]:
    stem = f"bao-cao-nghiem-thu-{as_of:%Y%m%d}"
    return {fmt: ws.reports / f"{stem}.{fmt}" for fmt in FORMATS}


@dataclass
class ReportResult:
    report: Report
    paths: list[Path]


def write_report(ws, as_of: dt.date | None = None, formats=FORMATS, folder: Path | None = None) -> ReportResult:
    """Write the acceptance report of a campaign folder (atomically) in the given formats, into
    reports/ or `folder`. A folder that cannot be written is said so, with where else to write."""
    from tracker.store.files import atomic_write_bytes

    stats = campaign_stats(ws, as_of or dt.date.today())
    rep = build_report(ws.campaign, stats)
    targets = report_paths(ws, rep.as_of)
    if folder is not None:
        targets = {fmt: Path(folder) / p.name for fmt, p in targets.items()}
    paths = []
    for fmt in FORMATS:
        if fmt not in formats:
            continue
        if fmt == "xlsx":
            from tracker.reports.workbook import build_report_workbook

            data = build_report_workbook(rep)
        else:
            from tracker.reports.document import build_report_docx

            data = build_report_docx(rep)
        try:
            atomic_write_bytes(targets[fmt], data)
        except OSError as e:
            where = targets[fmt].parent
            raise TrackerError(
                f"Không ghi được báo cáo vào thư mục '{where}' ({e.strerror}): thư mục chỉ đọc hoặc không có quyền ghi. "
                "Số liệu vẫn xem được bằng 'tracker stats'. Để có báo cáo: nhờ người có quyền ghi chạy lệnh, hoặc chép "
                "cả thư mục chiến dịch sang máy mình rồi chạy 'tracker report -C <bản chép>'.") from None
        paths.append(targets[fmt])
    return ReportResult(rep, paths)


# ---------------------------------------------------------------------------- tracker missing
def missing_units(stats: dict) -> list[dict]:
    """Units with no valid return at `as_of` (deadline status missing or waiting), registry order."""
    names = {g["id"]: g["name"] for g in stats["groups"]}
    return [{"unit_id": u["unit_id"], "unit_name": u["unit_name"], "group": u["group"],
             "group_name": names.get(u["group"], u["group"]), "email": u["email"] or "",
             "phone": u["phone"] or "", "deadline_status": u["deadline_status"]}
            for u in stats["_units"] if u["deadline_status"] in NOT_REPLIED]


MISSING_HEADERS = ["STT", "Mã đơn vị", "Đơn vị", "Khối", "Email", "Điện thoại", "Tình trạng"]


def missing_csv(rows: list[dict]) -> str:
    """The list as CSV (UTF-8 with BOM for Excel); formula-like cells neutralised."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(MISSING_HEADERS)
    for i, r in enumerate(rows, 1):
        w.writerow([csv_safe(v) for v in (i, r["unit_id"], r["unit_name"], r["group_name"], r["email"],
                                          r["phone"], DEADLINE_VI[r["deadline_status"]])])
    return "\ufeff" + buf.getvalue()


__all__ = ["FORMATS", "Report", "ReportResult", "ReportTexts", "build_report", "clean", "date_line",
           "missing_csv", "missing_units", "percent", "report_paths", "report_texts", "write_report"]
