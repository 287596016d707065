"""The command line: every command, every print, every label.

The language is chosen first (`--lang vi|en` given to `tracker`, else $TRACKER_LANG, else $LANG
starting with "en", else Vietnamese), and only then is the command tree built: its help texts,
`help=_("...")` in the decorators, are read from the catalogs in that language, and click's own
texts ("Usage:", "Options:") from ours through gettext's default domain (tracker.model.language).
"""
from __future__ import annotations

import codecs
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


def utf8_streams() -> None:
    """Standard output and error in UTF-8, whatever the system's code page.

    Redirected to a file or a pipe, Python writes in the locale's encoding: on a Vietnamese
    Windows the ANSI code page cp1258, which lacks most of Vietnamese's precomposed letters, so
    every command printing Vietnamese failed with UnicodeEncodeError. UTF-8 is what the JSON and
    CSV are documented in and what Excel, Notepad and PowerShell read. Characters that cannot be
    encoded at all (a file name's undecodable bytes) are replaced on stdout, escaped on stderr,
    never a crash."""
    for stream, errors in ((sys.stdout, "replace"), (sys.stderr, "backslashreplace")):
        reconfigure = getattr(stream, "reconfigure", None)      # None under pythonw; a test's stand-in
        if reconfigure is None:
            continue
        try:
            if codecs.lookup(stream.encoding or "ascii").name != "utf-8" or stream.errors == "strict":
                reconfigure(encoding="utf-8", errors=errors)
        except (LookupError, ValueError, OSError):      # a stream that cannot change: leave it
            pass


class _Entry(click.Command):
    """`tracker`: picks the language, then builds and runs the command tree in it."""

    def main(self, args=None, prog_name=None, **extra):
        import multiprocessing

        # The worker processes of a frozen tracker.exe start here (spawn): they run their job
        # and exit inside this call. Outside a frozen build it does nothing.
        multiprocessing.freeze_support()
        utf8_streams()
        args = list(sys.argv[1:] if args is None else args)
        language.use(choose_language(args))
        return tree().main(args, prog_name=prog_name, **extra)


main = _Entry("tracker")

__all__ = ["choose_language", "main", "tree", "utf8_streams"]
