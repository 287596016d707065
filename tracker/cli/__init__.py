"""The command line: every command, every print, every label."""
from tracker.cli.app import main

__all__ = ["main"]
