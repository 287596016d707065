"""Drafts: one .eml per unit, to open in Outlook or Thunderbird, check and send by hand."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from tracker.mail.message import batch_for, build, check_outbox, sender, targets
from tracker.model.registry import Unit
from tracker.store.files import write_user_file
from tracker.store.workspace import Workspace


@dataclass
class DraftResult:
    kind: str
    folder: Path
    written: list[Path] = field(default_factory=list)
    no_email: list[Unit] = field(default_factory=list)
    sender: tuple[str, str] | None = None
    beside: list[tuple[Path, Path]] = field(default_factory=list)  # (draft held open in Outlook, where the new one went)


def draft(ws: Workspace, kind: str = "invite", from_addr: str | None = None, today: dt.date | None = None,
          only: list[str] | None = None) -> DraftResult:
    """One .eml per unit with an email, in drafts/<kind>/<unit file stem>.eml."""
    today = today or dt.date.today()
    batch = batch_for(ws, kind, today)
    from_ = sender(ws, from_addr, required=False)
    units, no_email = targets(ws, kind, today, only)
    check_outbox(ws, units)
    result = DraftResult(kind, ws.drafts / kind, no_email=no_email, sender=from_)
    for unit in units:
        out = build(ws, unit, kind, batch, today, from_, draft=True)
        path = result.folder / f"{unit.file_stem}.eml"
        written = write_user_file(path, out.as_bytes())
        result.written.append(written)
        if written != path:
            result.beside.append((path, written))
    return result
