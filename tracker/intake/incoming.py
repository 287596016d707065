"""One file to read: given on the command line, found in a folder, or attached to a saved email."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Incoming:
    """One workbook to merge: a file given on the command line, or an attachment of a saved email."""
    path: Path | str             # a string when found in a folder given to merge
    name: str                    # shown to people
    origin: str                  # where it came from (path, or "email.eml › attachment.xlsx")
    received: dt.date | None = None
    received_source: str = ""
    sender: str = ""
