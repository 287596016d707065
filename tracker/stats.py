"""Acceptance counts: the one computation behind the table, JSON, CSV, master summary and report.

A product is accepted when every criterion is met, not_accepted when one is not met, incomplete
when returned with blanks and nothing not met, pending when nothing was returned. A unit is
on_time/late by its first submission against the due date; with none it is missing once the due
date has passed at `as_of`, waiting before.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # `tracker stats` on a campaign with no ledger yet never imports sqlite3
    from tracker.model.campaign import Campaign
    from tracker.store.ledger import Submission
    from tracker.model.registry import Unit

PRODUCT_KEYS = ("accepted", "not_accepted", "incomplete", "pending")
UNIT_KEYS = ("returned", "on_time", "late", "missing", "waiting")

STATUS_VI = {"accepted": "Đạt (nghiệm thu)", "not_accepted": "Không đạt", "incomplete": "Chưa đủ",
             "pending": "Chưa nhận"}
DEADLINE_VI = {"on_time": "Đúng hạn", "late": "Muộn", "missing": "Quá hạn, chưa nộp",
               "waiting": "Đang chờ"}
ANSWER_KEYS = ("met", "not_met", "blank")


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


def compute(campaign: Campaign, units: list[Unit], history: dict[str, list[Submission]],
            as_of: dt.date) -> dict:
    """The stats document of DESIGN.md §3 (plus `unit_rows` for reports; dropped from JSON)."""
    crit_ids = [c.id for c in campaign.criteria]
    groups = {g.id: {"id": g.id, "name": g.name, "units": _zero(("total",) + UNIT_KEYS),
                     "products": _zero(("total",) + PRODUCT_KEYS)} for g in campaign.groups}
    totals_u = _zero(("total",) + UNIT_KEYS)
    totals_p = _zero(("total",) + PRODUCT_KEYS)
    criteria = {c.id: {"id": c.id, "name": c.group, "met": 0, "not_met": 0, "blank": 0}
                for c in campaign.criteria}
    by_kind: dict[str, dict] = {}
    rows, unit_rows = [], []
    for unit in units:
        subs = [s for s in history.get(unit.id, []) if s.received_at <= as_of]
        live = [s for s in subs if not s.stale]
        # At an earlier as_of only a stale copy may be visible: it was the unit's reply back then.
        current = live[-1] if live else max(subs, key=lambda s: (s.received_at, s.id or 0), default=None)
        first = min((s.received_at for s in subs), default=None)
        dl = deadline_status(first, campaign.due, as_of)
        g = groups[unit.group]
        for bucket in (totals_u, g["units"]):
            bucket["total"] += 1
            bucket[dl] += 1
            if first is not None:
                bucket["returned"] += 1
        unit_rows.append({"unit_id": unit.id, "unit_name": unit.name, "group": unit.group,
                          "deadline_status": dl, "received_at": first.isoformat() if first else None,
                          "days_late": (first - campaign.due).days if dl == "late" else 0,
                          "submissions": len(subs), "email": unit.email, "phone": unit.phone,
                          "current": current})
        for p in unit.products:
            answers = {c: (current.answers.get((p.id, c), "blank") if current else "blank") for c in crit_ids}
            # A product the unit's form did not have (added to the registry later): not returned yet.
            on_form = current is not None and any(k[0] == p.id for k in current.answers)
            status = product_status(list(answers.values()), on_form)
            kind = by_kind.setdefault(p.kind, {"kind": p.kind, **_zero(("total",) + PRODUCT_KEYS)})
            for bucket in (totals_p, g["products"], kind):
                bucket["total"] += 1
                bucket[status] += 1
            for c, v in answers.items():
                criteria[c][v] += 1
            rows.append({"unit_id": unit.id, "unit_name": unit.name, "group": unit.group,
                         "product": p.name, "status": status, "deadline_status": dl,
                         "received_at": first.isoformat() if first else None, "answers": answers,
                         "product_id": p.id, "product_kind": p.kind,
                         "domain": unit.domain if p.kind == "site" else ""})
    return {
        "campaign": {"id": campaign.id, "title": campaign.title, "due": campaign.due.isoformat(),
                     "as_of": as_of.isoformat()},
        "units": totals_u, "products": totals_p,
        "groups": list(groups.values()),
        "criteria": list(criteria.values()),
        "rows": rows,
        # Extras for the table, the report and the master (not part of the JSON contract).
        "_kinds": list(by_kind.values()), "_units": unit_rows,
    }


def _zero(keys) -> dict:
    return {k: 0 for k in keys}


def add_up(docs: list[dict]) -> dict:
    """The counts of compute() over all units, from its documents over disjoint sets of units
    (the master is built a group at a time). Rows are left out: each document keeps its own."""
    first = docs[0]

    def total(dicts):
        out = dict.fromkeys(dicts[0], 0)
        for d in dicts:
            for k, v in d.items():
                if isinstance(v, int):
                    out[k] += v
                else:
                    out[k] = v
        return out

    def by(key, name):
        order, acc = [], {}
        for d in docs:
            for item in d[key]:
                if item[name] not in acc:
                    order.append(item[name])
                    acc[item[name]] = []
                acc[item[name]].append(item)
        return [{**total([{k: v for k, v in i.items() if not isinstance(v, dict)} for i in acc[x]]),
                 **{k: total([i[k] for i in acc[x]]) for k, v in acc[x][0].items() if isinstance(v, dict)}}
                for x in order]

    return {"campaign": first["campaign"], "units": total([d["units"] for d in docs]),
            "products": total([d["products"] for d in docs]), "groups": by("groups", "id"),
            "criteria": by("criteria", "id"), "rows": [], "_kinds": by("_kinds", "kind"), "_units": []}


def to_json_doc(stats: dict) -> dict:
    """Exactly the contract of DESIGN.md §3."""
    doc = {k: v for k, v in stats.items() if not k.startswith("_")}
    doc["rows"] = [{k: r[k] for k in ("unit_id", "unit_name", "group", "product", "status",
                                      "deadline_status", "received_at", "answers")} for r in stats["rows"]]
    return doc


def csv_safe(value) -> str:
    """Neutralise spreadsheet formulas in CSV cells (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def to_csv(stats: dict, campaign: Campaign) -> str:
    """One row per product, Vietnamese headers, UTF-8 with BOM so Excel shows the accents."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    crit = [c for c in campaign.criteria]
    w.writerow(["Mã đơn vị", "Đơn vị", "Khối", "Sản phẩm", "Kết quả", "Tình trạng hạn", "Ngày nhận"]
               + [f"TC{i} {c.group}" for i, c in enumerate(crit, 1)])
    answer_vi = {"met": campaign.answer_met, "not_met": campaign.answer_not_met, "blank": ""}
    group_names = {g.id: g.name for g in campaign.groups}
    for r in stats["rows"]:
        received = dt.date.fromisoformat(r["received_at"]).strftime("%d/%m/%Y") if r["received_at"] else ""
        w.writerow([csv_safe(v) for v in [
            r["unit_id"], r["unit_name"], group_names.get(r["group"], r["group"]), r["product"],
            STATUS_VI[r["status"]], DEADLINE_VI[r["deadline_status"]], received,
            *[answer_vi[r["answers"][c.id]] for c in crit]]])
    return "\ufeff" + buf.getvalue()


def campaign_stats(ws, as_of: dt.date | None = None) -> dict:
    """Stats of a campaign folder (read-only: no lock, no write)."""
    as_of = as_of or dt.date.today()
    if not ws.ledger_file.exists():
        return compute(ws.campaign, ws.units, {}, as_of)
    from tracker.store.ledger import Ledger

    with Ledger.reader(ws.ledger_file) as ledger:
        return compute(ws.campaign, ws.units, ledger.history(), as_of)
