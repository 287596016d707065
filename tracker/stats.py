"""Acceptance counts: the one computation behind the table, JSON, CSV, master summary and report.

A product is accepted when every criterion is met, not_accepted when one is not met, incomplete
when returned with blanks and nothing not met, pending when nothing was returned. A unit is
on_time/late by its first submission against the due date; with none it is missing once the due
date has passed at `as_of`, waiting before. A unit is *signed* when a signed copy of its biên bản
was received by `as_of` and attached to it (matched by its QR code or a valid signature, or
confirmed by staff); the newest such copy by received time is the one shown.

The results are typed data with real dates and the statuses' keys ("accepted", "late"): no label
and no text for people. Their words are the documents' (tracker.outbound.wording) and the command
line's; `Stats.to_json()` is the contract of DESIGN.md §3.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # `tracker stats` on a campaign with no ledger yet never imports sqlite3
    from tracker.model.campaign import Campaign
    from tracker.model.registry import Unit
    from tracker.store.ledger import SignedCopy, Submission

PRODUCT_KEYS = ("accepted", "not_accepted", "incomplete", "pending")
UNIT_KEYS = ("returned", "on_time", "late", "missing", "waiting", "signed")
DEADLINE_KEYS = ("on_time", "late", "missing", "waiting")
ANSWER_KEYS = ("met", "not_met", "blank")
CRITERION_KEYS = ANSWER_KEYS + ("pending",)   # pending: the product was not returned (no answer yet)
NOT_REPLIED = ("missing", "waiting")


def product_status(answers: list[str], returned: bool) -> str:
    if not returned:
        return "pending"
    if "not_met" in answers:
        return "not_accepted"
    if "blank" in answers or not answers:
        return "incomplete"
    return "accepted"


def deadline_status(first_received: dt.date | None, due: dt.date, as_of: dt.date) -> str:
    if first_received is not None:
        return "on_time" if first_received <= due else "late"
    return "missing" if as_of > due else "waiting"


# ------------------------------------------------------------------------------------ the results
class _Counts:
    """Integer fields that add up, read by key (the JSON's and the tables' order is the fields')."""
    __slots__ = ()

    def __getitem__(self, key: str) -> int:
        return getattr(self, key)

    def __add__(self, other):
        return type(self)(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class UnitCounts(_Counts):
    total: int = 0
    returned: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    waiting: int = 0
    signed: int = 0         # with a signed copy of the biên bản received and attached


@dataclass(frozen=True, slots=True)
class ProductCounts(_Counts):
    total: int = 0
    accepted: int = 0
    not_accepted: int = 0
    incomplete: int = 0
    pending: int = 0


@dataclass(frozen=True, slots=True)
class CriterionCounts(_Counts):
    """Over products: met + not_met + blank + pending = products. `blank` counts returned products
    whose criterion was left blank; a product with nothing returned is `pending`, not blank."""
    met: int = 0
    not_met: int = 0
    blank: int = 0
    pending: int = 0


@dataclass(frozen=True, slots=True)
class CampaignFacts:
    id: str
    title: str
    due: dt.date
    as_of: dt.date


@dataclass(frozen=True, slots=True)
class GroupStats:
    id: str
    name: str
    units: UnitCounts
    products: ProductCounts


@dataclass(frozen=True, slots=True)
class CriterionStats:
    id: str
    name: str               # the criterion's short name (its group in the template)
    counts: CriterionCounts   # over products


@dataclass(frozen=True, slots=True)
class KindStats:
    kind: str               # "site" or "chuyen_trang"
    products: ProductCounts


@dataclass(frozen=True, slots=True)
class SignedCopyFacts:
    """A unit's current signed copy: DESIGN.md §3's `signed_copy`, and what the documents show."""
    kind: str                       # "digital" | "scan"
    received_time: dt.datetime      # with its offset (the start of its day when only the day is known)
    valid: bool | None              # the digital signature holds; None for a scan
    signer: str | None              # "Name (Organisation)" of a digital signature; None for a scan
    name: str = ""                  # the file, as received
    method: str = ""                # how it was matched: qr | signer | file_name | sender | staff

    def to_json(self) -> dict:
        return {"kind": self.kind, "received_time": self.received_time.isoformat(timespec="seconds"),
                "valid": self.valid, "signer": self.signer}


def current_copy(copies, as_of: dt.date) -> SignedCopyFacts | None:
    """The newest attached copy received by `as_of` (by received time, then as recorded)."""
    seen = [c for c in copies or () if c.status == "attached" and c.when is not None and c.when.date() <= as_of]
    if not seen:
        return None
    c = max(seen, key=lambda c: (c.when, c.id or 0))
    return SignedCopyFacts(c.kind, c.when, c.valid, c.signer, c.name, c.method)


@dataclass(frozen=True, slots=True, eq=False)
class ProductRow:
    unit_id: str
    unit_name: str
    group: str
    product: str
    product_id: str
    product_kind: str
    domain: str             # the registry's domain of a site ("" for a chuyên trang)
    status: str             # PRODUCT_KEYS
    deadline_status: str    # DEADLINE_KEYS, the unit's
    received_at: dt.date | None   # the unit's first submission (the deadline's; the JSON's is the current one's)
    answers: dict[str, str]        # criterion id -> ANSWER_KEYS, in criterion order
    # When the current submission was received, to the second with its offset (the start of its
    # day when only the day is known): versions are ordered by it.
    received_time: dt.datetime | None = None
    signed_copy: SignedCopyFacts | None = None     # the unit's


@dataclass(frozen=True, slots=True, eq=False)
class UnitRow:
    unit_id: str
    unit_name: str
    group: str
    email: str
    phone: str
    deadline_status: str
    received_at: dt.date | None   # first submission
    days_late: int                # 0 unless late
    submissions: int              # received by as_of, superseded ones included
    current: Submission | None    # the submission that counts
    signed_copy: SignedCopyFacts | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Stats:
    campaign: CampaignFacts
    units: UnitCounts
    products: ProductCounts
    groups: tuple[GroupStats, ...]
    criteria: tuple[CriterionStats, ...]
    kinds: tuple[KindStats, ...]
    rows: tuple[ProductRow, ...] = ()           # one per product, registry order
    unit_rows: tuple[UnitRow, ...] = ()         # one per unit, registry order

    @property
    def as_of(self) -> dt.date:
        return self.campaign.as_of

    def counts_only(self) -> Stats:
        """The counts without the rows (kept while the master is built a group at a time)."""
        return replace(self, rows=(), unit_rows=())

    def to_json(self) -> dict:
        """Exactly the document of DESIGN.md §3 (`tracker stats --format json`)."""
        c = self.campaign
        return {
            "campaign": {"id": c.id, "title": c.title, "due": c.due.isoformat(), "as_of": c.as_of.isoformat()},
            "units": self.units.as_dict(),
            "products": self.products.as_dict(),
            "groups": [{"id": g.id, "name": g.name, "units": g.units.as_dict(), "products": g.products.as_dict()}
                       for g in self.groups],
            "criteria": [{"id": cr.id, "name": cr.name, **cr.counts.as_dict()} for cr in self.criteria],
            "rows": [{"unit_id": r.unit_id, "unit_name": r.unit_name, "group": r.group, "product": r.product,
                      "status": r.status, "deadline_status": r.deadline_status,
                      # DESIGN.md §3: the current version's time, and its date (the deadline status
                      # goes by the first version, as the master's "Ngày nhận" does).
                      "received_at": r.received_time.date().isoformat() if r.received_time else None,
                      "received_time": r.received_time.isoformat(timespec="seconds") if r.received_time else None,
                      "answers": dict(r.answers),
                      "signed_copy": r.signed_copy.to_json() if r.signed_copy else None} for r in self.rows],
        }


# ------------------------------------------------------------------------------------ the count
def compute(campaign: Campaign, units: list[Unit], history: dict[str, list[Submission]],
            as_of: dt.date, copies: dict[str, list[SignedCopy]] | None = None) -> Stats:
    """The counts of `units` at `as_of` from their submissions (`history`: unit id -> submissions)
    and their signed copies (`copies`: unit id -> the attached ones)."""
    crit_ids = [c.id for c in campaign.criteria]
    zero_u = dict.fromkeys(("total",) + UNIT_KEYS, 0)
    zero_p = dict.fromkeys(("total",) + PRODUCT_KEYS, 0)
    g_units = {g.id: dict(zero_u) for g in campaign.groups}
    g_products = {g.id: dict(zero_p) for g in campaign.groups}
    totals_u, totals_p = dict(zero_u), dict(zero_p)
    criteria = {c: dict.fromkeys(CRITERION_KEYS, 0) for c in crit_ids}
    by_kind: dict[str, dict] = {}
    rows, unit_rows = [], []
    due = campaign.due
    for unit in units:
        subs = [s for s in history.get(unit.id, []) if s.received_at <= as_of]
        live = [s for s in subs if not s.stale]
        # The last recorded version that is not stale is the latest received (merge records a
        # version received before the current one as stale). At an earlier as_of only a stale copy
        # may be visible: the latest received of those was the unit's reply back then.
        current = live[-1] if live else max(subs, key=lambda s: (s.when, s.id or 0), default=None)
        current_time = current.when if current is not None else None
        first = min((s.received_at for s in subs), default=None)
        dl = deadline_status(first, due, as_of)
        signed = current_copy(copies.get(unit.id) if copies else None, as_of)
        for bucket in (totals_u, g_units[unit.group]):
            bucket["total"] += 1
            bucket[dl] += 1
            if first is not None:
                bucket["returned"] += 1
            if signed is not None:
                bucket["signed"] += 1
        unit_rows.append(UnitRow(unit.id, unit.name, unit.group, unit.email or "", unit.phone or "", dl, first,
                                 (first - due).days if dl == "late" else 0, len(subs), current, signed))
        for p in unit.products:
            answers = {c: (current.answers.get((p.id, c), "blank") if current else "blank") for c in crit_ids}
            # A product the unit's form did not have (added to the registry later): not returned yet.
            on_form = current is not None and any(k[0] == p.id for k in current.answers)
            status = product_status(list(answers.values()), on_form)
            kind = by_kind.setdefault(p.kind, dict(zero_p))
            for bucket in (totals_p, g_products[unit.group], kind):
                bucket["total"] += 1
                bucket[status] += 1
            for c, v in answers.items():
                criteria[c]["pending" if status == "pending" else v] += 1
            rows.append(ProductRow(unit.id, unit.name, unit.group, p.name, p.id, p.kind,
                                   unit.domain if p.kind == "site" else "", status, dl, first, answers,
                                   current_time, signed))
    return Stats(
        CampaignFacts(campaign.id, campaign.title, due, as_of),
        UnitCounts(**totals_u), ProductCounts(**totals_p),
        tuple(GroupStats(g.id, g.name, UnitCounts(**g_units[g.id]), ProductCounts(**g_products[g.id]))
              for g in campaign.groups),
        tuple(CriterionStats(c.id, c.group, CriterionCounts(**criteria[c.id])) for c in campaign.criteria),
        tuple(KindStats(k, ProductCounts(**v)) for k, v in by_kind.items()),
        tuple(rows), tuple(unit_rows))


def lacking_signed_copy(stats: Stats) -> list[ProductRow]:
    """Accepted products whose unit has no signed copy that holds: none attached, or a digitally
    signed PDF whose signature is not valid (what a template requiring the copy leaves out)."""
    return [r for r in stats.rows if r.status == "accepted" and (r.signed_copy is None or r.signed_copy.valid is False)]


def add_up(parts: list[Stats]) -> Stats:
    """The counts of compute() over all units, from its results over disjoint sets of units (the
    master is built a group at a time). Rows are left out: each part keeps its own."""
    def merged(items, key, add):
        order: dict = {}
        for item in items:
            k = key(item)
            order[k] = add(order[k], item) if k in order else item
        return tuple(order.values())

    first = parts[0]
    units, products = first.units, first.products
    for p in parts[1:]:
        units, products = units + p.units, products + p.products
    return Stats(
        first.campaign, units, products,
        merged((g for p in parts for g in p.groups), lambda g: g.id,
               lambda a, b: replace(a, units=a.units + b.units, products=a.products + b.products)),
        merged((c for p in parts for c in p.criteria), lambda c: c.id,
               lambda a, b: replace(a, counts=a.counts + b.counts)),
        merged((k for p in parts for k in p.kinds), lambda k: k.kind,
               lambda a, b: replace(a, products=a.products + b.products)))


def campaign_stats(ws, as_of: dt.date | None = None) -> Stats:
    """Stats of a campaign folder (read-only: no lock, no write)."""
    as_of = as_of or dt.date.today()
    if not ws.ledger_file.exists():
        return compute(ws.campaign, ws.units, {}, as_of)
    from tracker.store.ledger import Ledger

    with Ledger.reader(ws.ledger_file) as ledger:
        return compute(ws.campaign, ws.units, ledger.history(), as_of, attached_copies(ledger))


def attached_copies(ledger, unit_ids=None) -> dict:
    """unit id -> its attached signed copies (what compute() counts), from the ledger."""
    out: dict = {}
    for c in ledger.signed_copies(statuses=("attached",), unit_ids=unit_ids):
        out.setdefault(c.unit_id, []).append(c)
    return out
