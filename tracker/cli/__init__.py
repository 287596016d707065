"""The command line: every command, every print, every label.

The language is chosen first (`--lang vi|en` given to `tracker`, else $TRACKER_LANG, else $LANG
starting with "en", else Vietnamese), and only then is the command tree built: its help texts,
`help=_("...")` in the decorators, are read from the catalogs in that language, and click's own
texts ("Usage:", "Options:") from ours through gettext's default domain (tracker.model.language).
"""
from __future__ import annotations

import os
import sys

import click

from tracker.model import language


def choose_language(args: list[str], environ=os.environ) -> str:
    """`--lang` among the options before the command name, else the environment's language."""
    for i, tok in enumerate(args):
        if tok == "--lang" and i + 1 < len(args):
            return "en" if args[i + 1].strip().lower().startswith("en") else "vi"
        if tok.startswith("--lang="):
            return "en" if tok.split("=", 1)[1].strip().lower().startswith("en") else "vi"
        if tok == "--" or not tok.startswith("-"):
            break
    return language.choose(environ)


def tree() -> click.Group:
    """The command tree, its texts in the current language."""
    from tracker.cli.app import build

    return build()


class _Entry(click.Command):
    """`tracker`: picks the language, then builds and runs the command tree in it."""

    def main(self, args=None, prog_name=None, **extra):
        args = list(sys.argv[1:] if args is None else args)
        language.use(choose_language(args))
        return tree().main(args, prog_name=prog_name, **extra)


main = _Entry("tracker")

__all__ = ["choose_language", "main", "tree"]
