"""The acceptance report (`tracker report`) and the units yet to reply (`tracker missing`).

Every number comes from tracker.stats.compute (through campaign_stats): this module only selects
and words what the stats already hold, so the report can never disagree with `tracker stats`, its
CSV or the master's summary. Every fact about the campaign (issuer, contract, place, criteria,
product kinds) comes from the campaign template; an optional [report] section of the template
overrides the wording of the document (number, subject, recipients, signer).
"""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field

from tracker.model.campaign import Campaign
from tracker.model.dates import show_text
from tracker.model.findings import Finding
from tracker.model.text import xml_safe
from tracker.stats import NOT_REPLIED, ProductCounts, ProductRow, Stats, UnitRow

FORMATS = ("xlsx", "docx")


def clean(text) -> str:
    """Text safe for any XML part (docx, xlsx): control characters a unit may paste are dropped,
    lone surrogates (no UTF-8 writer takes them) replaced."""
    return xml_safe("" if text is None else str(text))


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
    due_text = c.get("due_text", "") or f"đến hết ngày {show_text(campaign.due)}"
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
                 f"{show_text(as_of)} (hạn gửi {due_text}, tức nhận đến hết ngày {show_text(campaign.due)}), như sau:")
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


@dataclass(frozen=True, slots=True, eq=False)
class ProductItem:
    """A product row of the report: the stats' row and what the report says of it."""
    row: ProductRow
    group_name: str
    kind_label: str
    domain: str                    # as the unit's reply gives it, else the registry's
    days_late: int                 # the unit's
    unmet: tuple[str, ...] = ()    # criteria labels not met (products not accepted)
    blank: tuple[str, ...] = ()    # criteria labels left blank
    notes: str = ""
    proposals: str = ""
    signer: str = ""

    unit_id = property(lambda self: self.row.unit_id)
    unit_name = property(lambda self: self.row.unit_name)
    product = property(lambda self: self.row.product)
    status = property(lambda self: self.row.status)
    deadline_status = property(lambda self: self.row.deadline_status)
    received = property(lambda self: self.row.received_at)
    signed_copy = property(lambda self: self.row.signed_copy)


@dataclass(frozen=True, slots=True, eq=False)
class Refusal:
    """A unit's latest refused return: it did send something, and this is why it does not count."""
    file: str
    received: dt.date | None
    finding: Finding | None        # the first error found in it

    def reason(self, lang: str | None = "vi") -> str:
        return self.finding.statement(lang) if self.finding is not None else ""


@dataclass(frozen=True, slots=True, eq=False)
class UnitItem:
    """A unit of the report: the stats' unit row, its group's name and its number of products; a
    unit with no valid reply that did send a file has its latest refusal."""
    row: UnitRow
    group_name: str
    products: int
    refused: Refusal | None = None

    unit_id = property(lambda self: self.row.unit_id)
    unit_name = property(lambda self: self.row.unit_name)
    email = property(lambda self: self.row.email)
    phone = property(lambda self: self.row.phone)
    deadline_status = property(lambda self: self.row.deadline_status)
    received = property(lambda self: self.row.received_at)
    days_late = property(lambda self: self.row.days_late)
    submissions = property(lambda self: self.row.submissions)


@dataclass(frozen=True, slots=True)
class KindItem:
    label: str
    products: ProductCounts


@dataclass
class Report:
    """What the report shows: the stats, and lists selected from them (never recounted)."""
    campaign: Campaign
    stats: Stats
    as_of: dt.date
    texts: ReportTexts
    group_names: dict[str, str]
    criteria_labels: dict[str, str]            # criterion id -> "TC1. Chức năng hệ thống"
    accepted: list[ProductItem] = field(default_factory=list)
    not_accepted: list[ProductItem] = field(default_factory=list)   # not_accepted and incomplete products
    not_replied: list[UnitItem] = field(default_factory=list)       # units missing or waiting
    late: list[UnitItem] = field(default_factory=list)              # units that replied late
    units: list[UnitItem] = field(default_factory=list)             # every unit with its deadline status
    kinds: list[KindItem] = field(default_factory=list)
    # The signed copies: whether the template requires one ([submission] signed_scan = "required"),
    # and then the accepted products whose unit has none that holds (tracker.stats.lacking_signed_copy).
    signed_required: bool = False
    lacking_signed: list[ProductItem] = field(default_factory=list)

    @property
    def signed_line(self) -> str:
        """The signed copies in one sentence (both documents)."""
        u = self.stats.units
        kinds = [x.signed_copy.kind for x in self.stats.unit_rows if x.signed_copy]
        text = (f"Biên bản đã ký (tệp PDF ký số, hoặc bản quét có mã QR của biểu mẫu): đã nhận của {u.signed}/{u.total} "
                f"đơn vị ({kinds.count('digital')} bản ký số, {kinds.count('scan')} bản quét).")
        if self.signed_required:
            text += (f" Chiến dịch yêu cầu biên bản đã ký: {len(self.lacking_signed)} sản phẩm đủ điều kiện về tiêu chí "
                     "chưa có biên bản đã ký hợp lệ" + (" (danh sách kèm theo)." if self.lacking_signed else "."))
        return text

    @property
    def volume(self) -> str:
        p = self.stats.products
        return f"{p.accepted}/{p.total}"


def _unit_items(stats: Stats, group_names: dict[str, str], refused: dict[str, Refusal] | None = None
                ) -> list[UnitItem]:
    n_products = Counter(r.unit_id for r in stats.rows)
    refused = refused or {}
    return [UnitItem(u, group_names.get(u.group, u.group), n_products[u.unit_id],
                     refused.get(u.unit_id) if u.deadline_status in NOT_REPLIED else None)
            for u in stats.unit_rows]


def refusals(ws, as_of: dt.date) -> dict[str, Refusal]:
    """Each unit's latest refused return received by `as_of` (one of unknown date counts too):
    a unit that sent only refused files has sent something, and should hear why it does not count."""
    if not ws.ledger_file.exists():
        return {}
    import json

    from tracker.model.dates import from_iso
    from tracker.store.ledger import Ledger

    out: dict[str, Refusal] = {}
    with Ledger.reader(ws.ledger_file) as ledger:
        for r in ledger.distinct_returns():        # oldest first: the latest one stays
            if r["outcome"] != "rejected" or not r["unit_id"]:
                continue
            received = from_iso(r["received_at"])
            if received is not None and received > as_of:
                continue
            errors = [Finding.from_record(f) for f in json.loads(r["findings"] or "[]")]
            errors = [f for f in errors if f.severity == "error"] or errors
            out[r["unit_id"]] = Refusal(r["name"], received, errors[0] if errors else None)
    return out


def build_report(campaign: Campaign, stats: Stats, refused: dict[str, Refusal] | None = None) -> Report:
    from tracker.master.workbook import notes_text, products_of

    group_names = {g.id: g.name for g in stats.groups}
    labels = {cr.id: f"TC{i}. {cr.name}" for i, cr in enumerate(stats.criteria, 1)}
    rep = Report(campaign, stats, stats.as_of, report_texts(campaign, stats.as_of), group_names, labels)
    from tracker.model.campaign import signed_scan

    rep.signed_required = signed_scan(campaign) == "required"
    units = {u.unit_id: u for u in stats.unit_rows}
    kind_labels = rep.texts.kind_labels
    n_products = products_of(stats.rows)
    for r in stats.rows:
        u = units[r.unit_id]
        sub = u.current
        common = dict(row=r, group_name=group_names.get(r.group, r.group),
                      kind_label=kind_labels.get(r.product_kind, r.product_kind),
                      domain=(sub.domains.get(r.product_id) if sub else None) or r.domain or "",
                      days_late=u.days_late)
        if r.status == "accepted":
            rep.accepted.append(ProductItem(**common))
            if rep.signed_required and (r.signed_copy is None or r.signed_copy.valid is False):
                rep.lacking_signed.append(rep.accepted[-1])
        elif r.status in ("not_accepted", "incomplete"):
            rep.not_accepted.append(ProductItem(
                **common, unmet=tuple(labels[c] for c, v in r.answers.items() if v == "not_met"),
                blank=tuple(labels[c] for c, v in r.answers.items() if v == "blank"),
                notes=notes_text(sub, campaign, r.product_id, n_products[r.unit_id] == 1), proposals=sub.proposals if sub else "",
                signer=sub.signer if sub else ""))
    for item in _unit_items(stats, group_names, refused):
        rep.units.append(item)
        if item.deadline_status in NOT_REPLIED:
            rep.not_replied.append(item)
        elif item.deadline_status == "late":
            rep.late.append(item)
    rep.kinds = [KindItem(kind_labels.get(k.kind, k.kind), k.products) for k in stats.kinds]
    return rep


# ---------------------------------------------------------------------------- tracker missing
def unsigned_units(stats: Stats) -> list[UnitItem]:
    """Units whose spreadsheet is in at `as_of` but whose signed copy is not (`tracker missing
    --signed`), registry order."""
    return [u for u in _unit_items(stats, {g.id: g.name for g in stats.groups})
            if u.row.current is not None and u.row.signed_copy is None]



def missing_units(stats: Stats, refused: dict[str, Refusal] | None = None) -> list[UnitItem]:
    """Units with no valid return at `as_of` (deadline status missing or waiting), registry order;
    those that sent only refused files carry their latest refusal (`refusals`)."""
    return [u for u in _unit_items(stats, {g.id: g.name for g in stats.groups}, refused)
            if u.deadline_status in NOT_REPLIED]


__all__ = ["FORMATS", "KindItem", "ProductItem", "Refusal", "Report", "ReportTexts", "UnitItem",
           "build_report", "clean", "date_line", "missing_units", "unsigned_units", "percent", "refusals", "report_texts"]
