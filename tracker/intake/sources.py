"""What a path given to merge holds: a workbook, or a saved email (.eml/.msg) with workbooks attached."""
from __future__ import annotations

import os
import unicodedata
from pathlib import Path

from tracker.intake.incoming import Incoming
from tracker.model.findings import Finding

EMAIL_SUFFIXES = {".eml", ".msg"}


def is_email(path: str | Path) -> bool:
    return os.path.splitext(path)[1].lower() in EMAIL_SUFFIXES


def incoming(path: Path, tmp: Path, notices: list[Finding]):
    """Yield the workbooks to merge from one file."""
    if is_email(path):
        try:
            from tracker.intake import saved_email as email_source
        except ImportError:  # pragma: no cover - email intake not installed
            notices.append(Finding("email_unsupported", file=path.name))
            return
        yield from email_source.incoming(path, tmp, notices)
        return
    yield workbook(path)


def workbook(path: str | Path):
    """A file given as it is (not a saved email) as an Incoming. A path found in a folder stays
    a string (thousands of Path objects cost a re-merge a tenth of its time)."""

    # macOS and some zip tools give NFD file names: show them as typed (NFC), keep the path as it is.
    name = os.path.basename(path)
    return Incoming(path=path, name=name if name.isascii() else unicodedata.normalize("NFC", name),
                    origin=os.fspath(path))
