"""One file to read: given on the command line, found in a folder, or attached to a saved email."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Incoming:
    """One file to merge (a workbook, or a signed copy of the biên bản): a file given on the command
    line, or an attachment of a saved email."""
    path: Path | str             # a string when found in a folder given to merge
    name: str                    # shown to people
    origin: str                  # where it came from (path, or "email.eml › attachment.xlsx")
    received: dt.date | None = None
    received_source: str = ""    # option | email | workbook | mtime | today
    sender: str = ""             # the From address of the saved email it came in
    received_time: dt.datetime | None = None     # to the second, in Vietnam time; None: only the day is known
    # The From addresses of the messages around it, the saved email's first (a forwarded message
    # holds the unit's own): what the sender cross-check looks at.
    senders: tuple[str, ...] = ()
    attached: bool = False       # unpacked from a saved email into merge's private folder
    email: str = ""              # the SHA-256 of the saved email it came in ("" for a file given as it is)
