"""The one exception type the CLI turns into a clean Vietnamese message (never a traceback)."""


class TrackerError(Exception):
    """A user-facing error; `str(err)` is a complete Vietnamese message saying what to do.

    `details`: lines listed under it, texts or findings (tracker.model.findings): a finding is
    rendered when the details are read, in the language of that moment."""

    exit_code = 1

    def __init__(self, message: str, details: list | None = None):
        super().__init__(message)
        self.listed = list(details or [])

    @property
    def details(self) -> list[str]:
        return [str(d) for d in self.listed]


class UsageError(TrackerError):
    exit_code = 2
