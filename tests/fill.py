"""Filling generated unit workbooks in code, as a unit would in Excel: a thin alias of
tracker.demo.simulate (the same code fills the returns of `tracker demo`)."""
from tracker.demo.simulate import cell_of, fill, set_saved_time  # noqa: F401
