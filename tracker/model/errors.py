"""The one exception type the CLI turns into a clean Vietnamese message (never a traceback)."""


class TrackerError(Exception):
    """A user-facing error; `str(err)` is a complete Vietnamese message saying what to do."""

    exit_code = 1

    def __init__(self, message: str, details: list[str] | None = None):
        super().__init__(message)
        self.details = details or []


class UsageError(TrackerError):
    exit_code = 2
