"""Filling generated unit workbooks in code, as a unit would in Excel: a thin alias of
tracker.simulate (the same code fills the returns of `tracker demo`)."""
from tracker.simulate import cell_of, fill  # noqa: F401
