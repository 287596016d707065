"""The campaign's figures as pandas DataFrames, for analysts (`pip install tracker[pandas]`).

pandas is imported here only, so no command pays for it.
"""
from __future__ import annotations

from tracker.model.errors import TrackerError
from tracker.model.language import _


def _pandas():
    try:
        import pandas
    except ImportError:
        raise TrackerError(_("Cần gói pandas để lấy bảng dữ liệu: cài bằng 'pip install tracker[pandas]'.")) from None
    return pandas


def rows_frame(stats, campaign):
    """One row per product: unit, group, product, status, deadline status, received date, and a
    column per criterion id holding met / not_met / blank."""
    pd = _pandas()
    criteria = [c.id for c in campaign.criteria]
    records = [{"unit_id": r.unit_id, "unit_name": r.unit_name, "group": r.group, "product_id": r.product_id,
                "product": r.product, "product_kind": r.product_kind, "status": r.status,
                "deadline_status": r.deadline_status,
                "received_at": pd.Timestamp(r.received_at) if r.received_at else pd.NaT,
                **{c: r.answers.get(c, "blank") for c in criteria}} for r in stats.rows]
    columns = ["unit_id", "unit_name", "group", "product_id", "product", "product_kind", "status",
               "deadline_status", "received_at", *criteria]
    return pd.DataFrame.from_records(records, columns=columns)


def history_frame(history: dict, campaign):
    """Every answer of every submission (superseded ones included), one row per answer:
    submission id, unit, source (file/manual), received date, stale, product, criterion, answer."""
    pd = _pandas()
    records = []
    for unit_id, subs in history.items():
        for s in subs:
            for (product_id, criterion_id), value in s.answers.items():
                records.append({"submission_id": s.id, "unit_id": unit_id, "source": s.source,
                                "received_at": pd.Timestamp(s.received_at), "stale": s.stale,
                                "product_id": product_id, "criterion_id": criterion_id, "answer": value})
    columns = ["submission_id", "unit_id", "source", "received_at", "stale", "product_id", "criterion_id", "answer"]
    return pd.DataFrame.from_records(records, columns=columns)
