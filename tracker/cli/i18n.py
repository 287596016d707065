"""English help texts, and choosing the language of `--help`.

The Vietnamese texts live where the commands are defined (tracker/cli*.py); this module holds their
English versions, keyed by command path ("" for `tracker` itself, "mail send") and by option name
(the click parameter name). Only help is translated: messages printed while a command runs stay
Vietnamese. The language is `--lang vi|en` given to `tracker` itself, else $TRACKER_LANG, else
$LANG (English when it starts with "en"), else Vietnamese.
"""
from __future__ import annotations

import contextlib
import os

import click

LANGS = ("vi", "en")
ENV = "TRACKER_LANG"

COMMANDS = {
    "": """tracker: run a spreadsheet confirmation campaign from start to end.

    \b
    The usual sequence:
      tracker init                  make the campaign folder (default: Hà Nội 2026, 136 units)
      tracker generate              write the 136 unit workbooks (outbox/) and master.xlsx
      tracker mail draft            write an email (.eml) with its workbook for each unit
      tracker merge inbox/          merge the workbooks units send back, checking each file
      tracker stats                 acceptance figures by group, criterion and product
      tracker report                the acceptance report (.xlsx, .docx)
    The user guide (in Vietnamese): docs/huong-dan.md.
    Only the help is in English: messages printed while a command runs, the workbooks, emails
    and reports stay in Vietnamese.
    Example:
      tracker demo                  rehearse a whole campaign on simulated data (workbooks/demo)
      tracker --lang en merge --help
    """,
    "init": """Make a campaign folder from a template and a list of units.

    \b
    Example:
      tracker init                               the built-in Hà Nội 2026 campaign, 136 units
      tracker init chien-dich-2027 --template mau.toml --units donvi.csv
    """,
    "generate": """Write one Excel workbook per unit (outbox/) and the tracking workbook master.xlsx.

    \b
    Example:
      tracker generate
      tracker generate -C workbooks/hanoi-ttdt-2026
    """,
    "stats": """Acceptance figures: by group, criterion and product kind; deadline status.

    \b
    Example:
      tracker stats
      tracker stats --format json --as-of 05/06/2026
      tracker stats --format csv > so-lieu.csv
    """,
    "merge": """Merge what units send back (files, folders, saved emails .eml/.msg), checking each file.

    \b
    Exit status: 0 every file accepted or merged before; 1 a file was refused; 2 usage error.
    Example:
      tracker merge inbox/
      tracker merge thu-phuong-hoan-kiem.eml --received 04/06/2026
    """,
    "verify": """Check a campaign folder (ledger, archive, master, outbox) and say how to repair it.

    \b
    Use it after a disk or folder-sync problem, or a copy. Exit status 0: no error; 1: errors.
    Example:
      tracker verify -C workbooks/hanoi-ttdt-2026
    """,
    "mail": """Email each unit its workbook; remind the units that have not replied.

    \b
    The text comes from mail-invite.txt, mail-remind-before.txt, mail-remind-after.txt; to change it
    for one campaign, copy the template into the campaign folder and edit it there.
    Sender: --from, else $TRACKER_MAIL_FROM, else the email of [support] in campaign.toml.
    Example:
      tracker mail draft
      tracker mail send --host mail.hanoi.gov.vn --starttls --user ttdlcns --dry-run
    """,
    "mail draft": """Write an email (.eml) with its workbook for each unit that has an email, in drafts/invite/.

    \b
    Open the .eml files in Outlook (or Thunderbird) to check them, then press Send.
    Example:
      tracker mail draft
      tracker mail draft --from "Trung tâm TTDLCNS <ttdlcns@hanoi.gov.vn>"
    """,
    "mail send": """Send each unit its workbook through the mail server (SMTP).

    \b
    Every email sent is recorded in the ledger: running again after an interruption sends only the rest.
    Example:
      tracker mail send --host mail.hanoi.gov.vn --starttls --user ttdlcns --dry-run
      tracker mail send --host mail.hanoi.gov.vn --starttls --user ttdlcns --limit 2
      tracker mail send --host mail.hanoi.gov.vn --starttls --user ttdlcns
    """,
    "mail remind": """Remind the units without a valid reply (the before- or after-deadline text).

    \b
    Each unit gets at most one reminder a day.
    Example:
      tracker mail remind --draft
      tracker mail remind --host mail.hanoi.gov.vn --starttls --user ttdlcns
    """,
    "mail fetch": """Fetch the replies from the mailbox (IMAP) into inbox/ (each message exactly once), then merge them.

    \b
    Fetches every new message with an attachment, or from an address in units.csv, or answering an
    email tracker sent. The server settings are in [mail.imap] of campaign.toml. The mailbox is left
    as it is: nothing deleted, moved or marked as read (unless --move-to is given).
    Exit status: 0 every message accepted or merged before; 1 a message was refused or fetching
    failed; 2 usage error.
    Example:
      tracker mail fetch --dry-run
      tracker mail fetch
      tracker mail fetch --host mail.hanoi.gov.vn --user ttdlcns --folder INBOX --no-merge
    """,
    "report": """The acceptance report (.xlsx, .docx) in the reports/ folder.

    \b
    It holds: the number of products that can be accepted, results by group, criterion and
    product kind, a chart; the accepted products; the products not accepted (criteria not met,
    the unit's proposals); the units that have not replied (email, phone). The document prints
    on A4 in the format of Nghị định 30/2020.
    Example:
      tracker report
      tracker report --as-of 05/06/2026 --format docx
    """,
    "missing": """The units without a valid reply, with their email and phone, to remind them.

    \b
    Example:
      tracker missing
      tracker missing --format csv > chua-nop.csv
    """,
    "demo": """Rehearse a whole confirmation campaign on simulated data, in a folder of its own.

    \b
    DIRECTORY defaults to workbooks/demo. Steps: make the built-in Hà Nội 2026 campaign and its
    136 unit workbooks; simulate returns in inbox/ (on time, late, sent twice, a value typed by
    hand, a formula, last year's form, a PDF scan, an empty file, a saved email) and a paper reply
    typed into master.xlsx; merge; figures as of 10/06/2026 (after the deadline); the acceptance
    report. No email is sent and the list of units is not changed. Running it again wipes and
    remakes the previous rehearsal folder.
    Example:
      tracker demo
      tracker demo /tmp/dien-tap
    """,
}

_SMTP = {
    "host": "Mail server (SMTP), e.g. mail.hanoi.gov.vn.",
    "port": "SMTP port (default 25; 587 with --starttls; 465 with --ssl).",
    "starttls": "Encrypt with STARTTLS (usually port 587).",
    "use_ssl": "Encrypted SSL/TLS connection from the start (usually port 465).",
    "user": "SMTP login. Password: the TRACKER_SMTP_PASSWORD environment variable, else asked when the command "
            "runs (never on the command line).",
    "rate": "At most N emails a minute (0: no limit).",
    "limit": "Send only N emails (to try).",
    "dry_run": "Only list the emails that would be sent; send nothing, record nothing.",
    "resend_unconfirmed": "Also send again to units 'not known to have been sent' (the previous run stopped while "
                          "the server was receiving the email). Only after checking that the unit did not get it.",
    "mark": "Record a unit 'not known to have been sent' as having got its email (after checking); repeatable. "
            "Sends nothing.",
}

# Options by command path; COMMON applies to every command that has the option.
OPTIONS = {
    "": {"lang": "Language of the help (--help): vi (default) or en; or the TRACKER_LANG (or LANG) environment variable. "
                 "Messages printed while a command runs are always in Vietnamese."},
    "init": {"template": "Campaign template (a built-in name or a .toml file).",
             "units": "List of units (.csv).",
             "force": "Replace the template and list of units of an existing campaign (the old ones are kept in "
                      "backups/)."},
    "generate": {"jobs": "Number of parallel processes (default: chosen automatically)."},
    "stats": {"fmt": "Output format.",
              "as_of": "Figures as of this date (DD/MM/YYYY), default today."},
    "merge": {"received": "Received date for every file (DD/MM/YYYY); default: the email's date, else the file's "
                          "modification date."},
    "mail send": dict(_SMTP),
    "mail remind": {**_SMTP,
                    "as_draft": "Only write the reminders (.eml) in drafts/remind/, do not send.",
                    "as_of": "As of this date (DD/MM/YYYY), default today: picks the units that have not replied "
                             "and the before- or after-deadline text."},
    "mail fetch": {
        "host": "Mail server (IMAP), e.g. mail.hanoi.gov.vn (default: host in [mail.imap] of campaign.toml).",
        "port": "IMAP port (default 993 with ssl; 143 with starttls or none).",
        "user": "Mailbox login. Password: the TRACKER_IMAP_PASSWORD environment variable, else the OS keyring, else "
                "asked when the command runs (never on the command line).",
        "folders": "Folder to read (repeatable; default: folders in [mail.imap], else INBOX).",
        "security": "Encryption: ssl (default, port 993), starttls (port 143), none (unencrypted: only when IT asks "
                    "for it).",
        "insecure": "Do not check the server's certificate (only when IT confirms it is the right server; better, "
                    "set cafile in [mail.imap]).",
        "move_to": "After saving, move the fetched messages into this folder on the server (it must exist). Without "
                   "it the mailbox is left as it is.",
        "since": "Only messages the server received from this date on (DD/MM/YYYY); default: since in [mail.imap], "
                 "else the day before the first email tracker sent.",
        "no_merge": "Only fetch into inbox/, do not merge.",
        "dry_run": "Only list the messages that would be fetched; save nothing, merge nothing, record nothing.",
    },
    "report": {"fmt": "Report format: spreadsheet, Word document, or both."},
    "missing": {"fmt": "Output format."},
    "demo": {"force": "Use DIRECTORY even if it holds other files (they are kept); a real campaign's folder is never "
                      "used."},
}
COMMON = {
    "campaign_dir": "Campaign folder (default: the current folder if it is a campaign, else "
                    "workbooks/hanoi-ttdt-2026).",
    "as_of": "As of this date (DD/MM/YYYY), default today.",
    "from_addr": "Sender, e.g. \"Trung tâm <ten@hanoi.gov.vn>\" (default: $TRACKER_MAIL_FROM, else the email of "
                 "[support] in the campaign).",
    "only": "Only this unit (repeatable), e.g. --unit xp-00070.",
}
# Options click adds itself: their text in both languages.
BUILTIN = {
    "help": {"vi": "Hiện hướng dẫn này rồi thoát.", "en": "Show this help and exit."},
    "version": {"vi": "Hiện phiên bản rồi thoát.", "en": "Show the version and exit."},
}
METAVARS = {"NGÀY": "DATE", "TÊN|TỆP": "NAME|FILE", "ĐỊA_CHỈ": "ADDRESS", "MÁY_CHỦ": "HOST", "CỔNG": "PORT",
            "TÊN": "NAME", "MÃ": "ID", "THƯ_MỤC": "FOLDER"}
ARGUMENTS = {
    "directory": {"vi": "[THƯ_MỤC]", "en": "[DIRECTORY]"},
    "paths": {"vi": "[TỆP_HOẶC_THƯ_MỤC]...", "en": "[FILE_OR_FOLDER]..."},
}


def option_help(path: str, name: str) -> str | None:
    """The English help of an option, or None when there is none."""
    return OPTIONS.get(path, {}).get(name) or COMMON.get(name)


def _type_metavar(kind) -> str | None:
    """Vietnamese placeholders for the types whose click metavar is an English word."""
    if isinstance(kind, click.Path):
        return "THƯ_MỤC" if not kind.file_okay else "TỆP" if not kind.dir_okay else "ĐƯỜNG_DẪN"
    if isinstance(kind, click.types.IntParamType):
        return "SỐ"
    return None


def choose(args: list[str], environ=os.environ) -> str:
    """The help language: `--lang` before the command name, else $TRACKER_LANG, else $LANG."""
    for i, tok in enumerate(args):
        if tok == "--lang" and i + 1 < len(args):
            return _norm(args[i + 1])
        if tok.startswith("--lang="):
            return _norm(tok.split("=", 1)[1])
        if tok == "--" or not tok.startswith("-"):
            break
    value = environ.get(ENV) or environ.get("LANG") or ""
    return _norm(value)


def _norm(value: str) -> str:
    return "en" if value.strip().lower().startswith("en") else "vi"


def walk(root: click.Command, only: str | None = None):
    """(path, command, context) for `root` and every subcommand, depth first.

    With `only`, a command of `root`, the other commands of `root` are left out (and not imported)."""
    def visit(cmd, path, parent, name):
        ctx = click.Context(cmd, info_name=name, parent=parent, **getattr(cmd, "context_settings", {}))
        yield path, cmd, ctx
        if isinstance(cmd, click.Group):
            names = cmd.list_commands(ctx)
            if cmd is root and only in names:
                names = [only]
            for sub_name in names:
                sub = cmd.get_command(ctx, sub_name)
                if sub is not None:
                    yield from visit(sub, f"{path} {sub_name}".strip(), ctx, sub_name)
    yield from visit(root, "", None, "tracker")


class _Texts:
    """Swaps help texts on the command tree and puts the Vietnamese ones back."""

    def __init__(self):
        self.saved: dict[tuple[int, str], tuple[object, str, object]] = {}

    def set(self, obj, attr: str, value) -> None:
        key = (id(obj), attr)
        if key not in self.saved:
            self.saved[key] = (obj, attr, getattr(obj, attr))
        setattr(obj, attr, value)

    def restore(self) -> None:
        for obj, attr, value in self.saved.values():
            setattr(obj, attr, value)
        self.saved.clear()


def apply(root: click.Command, lang: str, only: str | None = None) -> _Texts:
    """Put the help texts of `lang` on every command and option (of `root` and its command `only`, when
    given); returns what restores Vietnamese."""
    texts = _Texts()
    en = lang == "en"
    for path, cmd, ctx in walk(root, only):
        if en and path in COMMANDS:
            texts.set(cmd, "help", COMMANDS[path])
            texts.set(cmd, "short_help", None)
        for param in cmd.params:
            if isinstance(param, click.Argument):
                if param.name in ARGUMENTS:
                    texts.set(param, "metavar", ARGUMENTS[param.name][lang])
                continue
            if param.name in BUILTIN:
                texts.set(param, "help", BUILTIN[param.name][lang])
            elif en and option_help(path, param.name):
                texts.set(param, "help", option_help(path, param.name))
            if en and getattr(param, "metavar", None) in METAVARS:
                texts.set(param, "metavar", METAVARS[param.metavar])
            elif not en and param.metavar is None and _type_metavar(param.type):
                texts.set(param, "metavar", _type_metavar(param.type))
        help_option = cmd.get_help_option(ctx)
        if help_option is not None:
            texts.set(help_option, "help", BUILTIN["help"][lang])
    return texts


@contextlib.contextmanager
def language(root: click.Command, args: list[str] | None, only: str | None = None):
    """Run `root` with the help texts of the language its arguments and environment ask for (on `root`
    and its command `only`, when given: the command these arguments run)."""
    import sys

    texts = apply(root, choose(list(sys.argv[1:] if args is None else args)), only)
    try:
        yield
    finally:
        texts.restore()
