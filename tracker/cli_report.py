"""`tracker report` and `tracker missing`. Heavy imports stay inside the functions."""
import click

from tracker.cli import CONTEXT, campaign_option  # noqa: F401
