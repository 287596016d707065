"""tracker: run a spreadsheet-driven confirmation campaign end to end.

The command line (`tracker.cli.app`) is a thin shell over this library: `campaign`, `registry`,
`workspace`, `forms`, `intake`, `ledger`, `merge`, `stats`, `report`, `mail`.
"""
__version__ = "0.1.0"
