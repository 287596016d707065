"""Finding record and the exception that carries it to the CLI."""
from __future__ import annotations

from dataclasses import dataclass

from tracker.model.errors import TrackerError


@dataclass(frozen=True)
class Finding:
    code: str  # short stable code, e.g. "not_spreadsheet", "zip_bomb"
    severity: str  # "error" | "warning"
    message: str  # Vietnamese, for staff to forward to the unit
    file: str = ""  # file name as given
    sheet: str = ""
    cell: str = ""
    value: str = ""  # value found, if any
    expected: str = ""  # values allowed, if any


class IntakeError(TrackerError):
    """Raised by intake functions; `str(err)` is the Vietnamese message (CLI shows it, no traceback)."""

    def __init__(self, finding: Finding):
        super().__init__(finding.message)
        self.finding = finding

    def __reduce__(self):  # keep picklable across run_bounded's process boundary
        return (type(self), (self.finding,))
