"""The ledger: a SQLite file that is the truth of the campaign.

Every file given to merge is a `returns` row (rejected ones too), but for a file merged before and
given again unchanged from where it was (a daily re-merge of the whole inbox): that is counted in
the merge's `events` row, its first arrival being its record. Every accepted reading of a
return, or a hand entry in the master, is a `submissions` row with its answers. A unit's current
submission is its latest recorded one that is not `stale`: a version received before the current
one (by its received time, to the second; merged late) is kept in the history but does not win, so
the recorded non-stale versions of a unit follow each other in received time. Nothing is ever
deleted.

Schema 2 added the received time to the second with its offset (`received_time`, ISO 8601) beside
the received date (`received_at`, kept for the deadline, which is counted in days), and the
workbook's own saved time (`returns.saved_time`) that breaks ties between equal received times.
Rows of schema 1 keep their date; their time is unknown (NULL) and is read as the start of that
day, so they still order before any later-timed version.

Notes belong to a product (`criterion_notes.product_id`): a unit with two products writes a note per
product and criterion. product_id '' is a note of the whole unit: every note of a ledger made
before (migrated in place, whatever its schema version: the step is keyed on the column), and the
one "Ghi chú" column of a two-product form sent before. Criterion '' is a product row's whole note
typed by hand into the master (it stands for that row's notes).

Schema 3 added `signed_copies`: every signed copy of the biên bản merge read (a digitally signed
PDF, a scan or a photo), matched to its unit or not, each a row that is never deleted; a staff
decision (confirm, reject) updates its status and is logged as an event. A unit's current copy is
its newest attached one by received time (`SignedCopy.when`).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA_VERSION = 3
_NOTES_TABLE = """CREATE TABLE IF NOT EXISTS criterion_notes(
  submission_id INTEGER NOT NULL REFERENCES submissions(id),
  criterion_id TEXT NOT NULL,
  text TEXT NOT NULL,
  product_id TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(submission_id, product_id, criterion_id)
)"""
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS returns(
  id INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL,
  name TEXT NOT NULL,
  origin TEXT NOT NULL,
  archived TEXT NOT NULL,
  size INTEGER NOT NULL,
  received_at TEXT,
  received_source TEXT,
  sender TEXT,
  merged_at TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK(outcome IN ('accepted','replaced','duplicate','rejected','stale')),
  unit_id TEXT,
  findings TEXT NOT NULL DEFAULT '[]',
  received_time TEXT,
  saved_time TEXT
);
-- Contents are looked up only among decisive outcomes (returns_decisive): an index of every
-- row would grow with the repeats, which are never looked up, and slow their writing.
DROP INDEX IF EXISTS returns_sha;
CREATE INDEX IF NOT EXISTS returns_decisive ON returns(sha256, id) WHERE outcome IN ('accepted','replaced','stale');
CREATE INDEX IF NOT EXISTS returns_distinct ON returns(id) WHERE outcome != 'duplicate';
CREATE TABLE IF NOT EXISTS submissions(
  id INTEGER PRIMARY KEY,
  unit_id TEXT NOT NULL,
  return_id INTEGER REFERENCES returns(id),
  source TEXT NOT NULL CHECK(source IN ('file','manual')),
  received_at TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  stale INTEGER NOT NULL DEFAULT 0,
  doc_number TEXT NOT NULL DEFAULT '',
  doc_date TEXT NOT NULL DEFAULT '',
  signer TEXT NOT NULL DEFAULT '',
  proposals TEXT NOT NULL DEFAULT '',
  note TEXT NOT NULL DEFAULT '',
  sha256 TEXT,
  received_time TEXT
);
CREATE INDEX IF NOT EXISTS submissions_unit ON submissions(unit_id);
CREATE TABLE IF NOT EXISTS answers(
  submission_id INTEGER NOT NULL REFERENCES submissions(id),
  product_id TEXT NOT NULL,
  criterion_id TEXT NOT NULL,
  value TEXT NOT NULL CHECK(value IN ('met','not_met','blank')),
  PRIMARY KEY(submission_id, product_id, criterion_id)
);
""" + _NOTES_TABLE + """;
CREATE TABLE IF NOT EXISTS product_domains(
  submission_id INTEGER NOT NULL REFERENCES submissions(id),
  product_id TEXT NOT NULL,
  domain TEXT NOT NULL,
  PRIMARY KEY(submission_id, product_id)
);
CREATE TABLE IF NOT EXISTS mail(
  id INTEGER PRIMARY KEY,
  unit_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  batch TEXT NOT NULL,
  recipients TEXT NOT NULL,
  message_id TEXT NOT NULL,
  attachment_sha256 TEXT,
  status TEXT NOT NULL CHECK(status IN ('sending','sent','failed')),
  error TEXT,
  at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS mail_once ON mail(kind, batch, unit_id) WHERE status = 'sent';
CREATE TABLE IF NOT EXISTS emails(
  sha256 TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  origin TEXT NOT NULL,
  archived TEXT NOT NULL,
  merged_at TEXT NOT NULL
);
-- What each file given to merge hashed to, keyed by where it was and its stat: a re-merge of an
-- unchanged inbox then reads none of it (see tracker/seen_files.py).
CREATE TABLE IF NOT EXISTS seen_files(
  path TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  ctime_ns INTEGER NOT NULL,
  inode INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  hashed_at_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events(
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '{}'
);
-- IMAP fetch (tracker/mail/imap.py). Per mailbox folder: the UIDVALIDITY its UIDs belong to, the
-- UID up to which every message was dealt with, and the date messages were searched from. Per
-- message that looked like a reply: what became of it, once; `merged_at` is set when its saved
-- .eml was given to merge.
CREATE TABLE IF NOT EXISTS imap_folders(
  account TEXT NOT NULL,
  folder TEXT NOT NULL,
  uidvalidity INTEGER NOT NULL,
  last_uid INTEGER NOT NULL,
  since TEXT NOT NULL DEFAULT '',
  at TEXT NOT NULL,
  PRIMARY KEY(account, folder)
);
CREATE TABLE IF NOT EXISTS imap_messages(
  id INTEGER PRIMARY KEY,
  account TEXT NOT NULL,
  folder TEXT NOT NULL,
  uidvalidity INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  outcome TEXT NOT NULL CHECK(outcome IN ('saved','already','too_large')),
  message_id TEXT NOT NULL DEFAULT '',
  sha256 TEXT,
  size INTEGER NOT NULL,
  sender TEXT NOT NULL DEFAULT '',
  subject TEXT NOT NULL DEFAULT '',
  file TEXT,
  fetched_at TEXT NOT NULL,
  merged_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS imap_messages_uid ON imap_messages(account, folder, uidvalidity, uid);
CREATE INDEX IF NOT EXISTS imap_messages_pending ON imap_messages(id) WHERE outcome = 'saved' AND merged_at IS NULL;
-- Signed copies of the biên bản (schema 3). status: attached (counts for its unit), pending (matched
-- by file name or sender only: counts once staff confirm it), flagged (no unit, or another unit than
-- the one its email came from, or a QR/signature that does not hold: never attached by itself),
-- rejected (by staff). valid: 1/0 for a digitally signed PDF, NULL for a scan. untrusted: a
-- signature did not chain to the trust roots of its day (read again when trust/ changes).
CREATE TABLE IF NOT EXISTS signed_copies(
  id INTEGER PRIMARY KEY,
  return_id INTEGER REFERENCES returns(id),
  sha256 TEXT NOT NULL,
  name TEXT NOT NULL,
  archived TEXT NOT NULL,
  unit_id TEXT,
  method TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL CHECK(kind IN ('digital','scan')),
  status TEXT NOT NULL CHECK(status IN ('attached','pending','flagged','rejected')),
  valid INTEGER,
  signer TEXT,
  signed_at TEXT,
  received_at TEXT,
  received_time TEXT,
  sender TEXT NOT NULL DEFAULT '',
  expected_unit TEXT,
  untrusted INTEGER NOT NULL DEFAULT 0,
  findings TEXT NOT NULL DEFAULT '[]',
  recorded_at TEXT NOT NULL,
  decided_at TEXT,
  note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS signed_copies_unit ON signed_copies(unit_id);
CREATE INDEX IF NOT EXISTS signed_copies_sha ON signed_copies(sha256);
"""


def _among(unit_ids, column: str) -> tuple[str, tuple]:
    """(WHERE clause, its parameters) keeping the rows of `unit_ids`; nothing when None (all units)."""
    if unit_ids is None:
        return "", ()
    return f" WHERE {column} IN (SELECT value FROM json_each(?))", (json.dumps(list(unit_ids)),)


def _iso(when: dt.datetime | None) -> str | None:
    return when.isoformat(timespec="seconds") if when is not None else None


def _time(text: str | None) -> dt.datetime | None:
    from tracker.model.dates import from_iso_time

    return from_iso_time(text)


def _row_time(row: sqlite3.Row) -> dt.datetime | None:
    """A submission row's received time; None for a row of schema 1 (and a ledger of schema 1 read
    without being migrated: a reading command never writes)."""
    return _time(row["received_time"]) if "received_time" in row.keys() else None


def _note_key(row: sqlite3.Row) -> tuple[str, str]:
    """(product_id, criterion_id) of a note row; a ledger read without being migrated has no
    product_id: its notes are the whole unit's."""
    return (row["product_id"] if "product_id" in row.keys() else "", row["criterion_id"])


def now_iso() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


@dataclass(slots=True)     # thousands are loaded at once for stats and the master
class Submission:
    unit_id: str
    received_at: dt.date
    source: str = "file"
    answers: dict[tuple[str, str], str] = field(default_factory=dict)  # (product_id, criterion_id) -> met/not_met/blank
    # (product_id, criterion_id) -> text; product_id '' for the whole unit's, criterion_id '' for a
    # product row's whole note typed into the master
    notes: dict[tuple[str, str], str] = field(default_factory=dict)
    domains: dict[str, str] = field(default_factory=dict)              # product_id -> domain
    doc_number: str = ""
    doc_date: str = ""
    signer: str = ""
    proposals: str = ""
    note: str = ""
    sha256: str | None = None
    id: int | None = None
    return_id: int | None = None
    stale: bool = False
    received_time: dt.datetime | None = None     # to the second, with its offset; None: only the day is known

    @property
    def when(self) -> dt.datetime:
        """The received time that orders this version among the unit's (the start of its day
        when only the day is known)."""
        from tracker.model.dates import when_of

        return when_of(self.received_time, self.received_at)


COPY_STATUSES = ("attached", "pending", "flagged", "rejected")


@dataclass(slots=True)
class SignedCopy:
    """One signed copy of the biên bản, as the ledger keeps it (see signed_copies in SCHEMA)."""
    sha256: str
    name: str
    archived: str
    kind: str                          # "digital" | "scan"
    status: str                        # COPY_STATUSES
    unit_id: str | None = None
    method: str = ""                   # qr | signer | file_name | sender | staff
    valid: bool | None = None          # None for a scan
    signer: str | None = None          # "Name (Organisation)" of the signature that counts
    signed_at: dt.datetime | None = None
    received_at: dt.date | None = None
    received_time: dt.datetime | None = None
    sender: str = ""
    expected_unit: str | None = None   # the unit of the workbook (or sender) it came with
    untrusted: bool = False
    findings: list = field(default_factory=list)     # Finding.record() dicts
    return_id: int | None = None
    id: int | None = None
    recorded_at: str = ""
    decided_at: str | None = None
    note: str = ""

    @property
    def when(self) -> dt.datetime | None:
        from tracker.model.dates import when_of

        return when_of(self.received_time, self.received_at)


def _copy(row: sqlite3.Row) -> SignedCopy:
    return SignedCopy(
        sha256=row["sha256"], name=row["name"], archived=row["archived"], kind=row["kind"], status=row["status"],
        unit_id=row["unit_id"], method=row["method"], valid=None if row["valid"] is None else bool(row["valid"]),
        signer=row["signer"], signed_at=_time(row["signed_at"]),
        received_at=dt.date.fromisoformat(row["received_at"]) if row["received_at"] else None,
        received_time=_time(row["received_time"]), sender=row["sender"], expected_unit=row["expected_unit"],
        untrusted=bool(row["untrusted"]), findings=json.loads(row["findings"] or "[]"), return_id=row["return_id"],
        id=row["id"], recorded_at=row["recorded_at"], decided_at=row["decided_at"], note=row["note"])


# Seconds a write waits for another writer (a mail run and a merge may write at once: each
# transaction is short); a reader of a WAL ledger never waits for writers, only for a program
# holding the file exclusively, and then says so soon.
WRITE_TIMEOUT_S = 60
READ_TIMEOUT_S = 3
# What the master is built from besides the ledger (files of the campaign folder, beside the
# ledger): a unit renamed or a product added must reach the master though no return came.
MASTER_INPUTS = ("campaign.toml", "units.csv")


def failure_kind(e: BaseException) -> str:
    """What an SQLite error means for the user: busy (another program holds the file), readonly
    (the folder or file cannot be written), access (cannot be opened: permission, path), full
    (disk full), io (the disk failed), corrupt (the file is damaged), or other."""
    code = getattr(e, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    kinds = {sqlite3.SQLITE_BUSY: "busy", sqlite3.SQLITE_LOCKED: "busy", sqlite3.SQLITE_READONLY: "readonly",
             sqlite3.SQLITE_PERM: "access", sqlite3.SQLITE_CANTOPEN: "access", sqlite3.SQLITE_AUTH: "access",
             sqlite3.SQLITE_FULL: "full", sqlite3.SQLITE_IOERR: "io", sqlite3.SQLITE_CORRUPT: "corrupt",
             sqlite3.SQLITE_NOTADB: "corrupt"}
    if primary in kinds:
        return kinds[primary]
    if isinstance(e, PermissionError):
        return "access"
    return "other"


def failure_message(path: Path, e: BaseException) -> str:
    """The user's words for an SQLite error on the ledger at `path`: only damage advises a restore."""
    from tracker.store.locks import holders

    kind = failure_kind(e)
    if kind == "busy":
        who = holders(Path(path).parent / ".tracker")
        by = ("; ".join(who) + " đang dùng") if who else (
            "một chương trình khác đang giữ tệp (phần mềm mở tệp SQLite như DB Browser, công cụ đồng bộ hay sao "
            "lưu); đóng chương trình đó")
        return f"Sổ ghi '{path}' đang bận, thử lại: {by}, rồi chạy lại lệnh. Sổ ghi không hỏng."
    if kind == "readonly":
        return (f"Không ghi được vào sổ ghi '{path}' (thư mục hoặc tệp chỉ đọc). Lệnh này cần ghi: kiểm tra quyền "
                "ghi thư mục chiến dịch. Các lệnh chỉ đọc (stats, report, missing, verify) vẫn chạy được. Sổ ghi "
                "không hỏng.")
    if kind == "access":
        return (f"Không mở được sổ ghi '{path}' ({e}): kiểm tra quyền truy cập tệp và thư mục chiến dịch (ổ mạng "
                "còn kết nối?), rồi chạy lại. Sổ ghi không hỏng.")
    if kind == "full":
        from tracker.store.disk import disk_full

        return str(disk_full(path))
    if kind == "io":
        return (f"Lỗi đọc/ghi ổ đĩa khi dùng sổ ghi '{path}' ({e}). Kiểm tra ổ đĩa (ổ mạng, USB còn kết nối?) rồi "
                "chạy lại; nếu lỗi lặp lại, chạy 'tracker verify'.")
    return (f"Sổ ghi '{path}' bị hỏng, không mở được ({e}). Chạy 'tracker verify' để biết cách khắc phục "
            "(khôi phục từ bản sao lưu rồi ghép lại các tệp đã nhận).")


def open_read_only(path: Path, timeout: float = READ_TIMEOUT_S) -> tuple[sqlite3.Connection, object]:
    """(connection, cleanup) reading the ledger at `path` without writing anything or needing the
    write lock: SQLite's read-only mode, the file never created, the schema never run. A WAL
    ledger whose -shm file is missing in a folder that cannot be written (a read-only copy taken
    while tracker ran) is read from a private copy of the file and its WAL: all that was committed
    is seen. sqlite3.Error when it cannot be read."""
    import shutil
    import tempfile

    path = Path(path)
    uri = f"{path.resolve().as_uri()}?mode=ro"
    db = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()     # opens the file and its WAL now
        return db, None
    except sqlite3.Error as e:
        db.close()
        wal = path.with_name(path.name + "-wal")
        if failure_kind(e) != "access" or not path.is_file() or not wal.is_file():
            raise
    # The WAL holds commits the file has not: read both from a private copy (nothing written here).
    tmp = Path(tempfile.mkdtemp(prefix="tracker-ledger-"))
    try:
        shutil.copyfile(path, tmp / path.name)
        shutil.copyfile(wal, tmp / wal.name)
        db = sqlite3.connect(tmp / path.name, timeout=timeout, isolation_level=None)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        db.execute("PRAGMA query_only=ON")
    except (OSError, sqlite3.Error):
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return db, lambda: shutil.rmtree(tmp, ignore_errors=True)


class Ledger:
    def __init__(self, path: Path, *, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        self._cleanup = None
        try:
            self._open()
        except sqlite3.Error as e:
            from tracker.model.errors import TrackerError

            raise TrackerError(failure_message(self.path, e)) from None
        except OSError as e:
            from tracker.model.errors import TrackerError

            raise TrackerError(failure_message(self.path, e)) from None

    @classmethod
    def reader(cls, path: Path) -> "Ledger":
        """The ledger opened for reading only (stats, report, missing, verify, mail drafts): no
        lock, nothing written, a healthy ledger held by another program is never called damaged."""
        return cls(path, read_only=True)

    def _open(self) -> None:
        if self.read_only:
            self.db, self._cleanup = open_read_only(self.path)
            self.db.row_factory = sqlite3.Row
            return
        self.db = sqlite3.connect(self.path, timeout=WRITE_TIMEOUT_S, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a killed process loses nothing; a power cut may roll back the last commits,
        # whose files are archived and merge again on the next run.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)
        self._migrate()
        self._notes_per_product()

    # Columns added since schema 1, in the order CREATE TABLE has them (so `SELECT *` reads alike).
    _ADDED = (("returns", "received_time"), ("returns", "saved_time"), ("submissions", "received_time"))

    def _migrate(self) -> None:
        """Bring a ledger of an older schema to this one, in one transaction (a new ledger is made
        at this schema by SCHEMA). Old rows keep what they held; the new columns are NULL there."""
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is not None and int(row[0]) >= SCHEMA_VERSION:
            return
        with self.transaction() as db:
            for table, column in self._ADDED:
                have = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
                if column not in have:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
            db.execute("INSERT OR REPLACE INTO meta VALUES('schema_version', ?)", (str(SCHEMA_VERSION),))

    def _notes_per_product(self) -> None:
        """Give criterion_notes its product_id (the key grows, so SQLite needs the table made
        anew): old notes become the whole unit's (''). Keyed on the column, not on the schema
        version, so that it composes with any other migration; one transaction, idempotent."""
        have = {r[1] for r in self.db.execute("PRAGMA table_info(criterion_notes)")}
        if "product_id" in have:
            return
        with self.transaction() as db:
            if "product_id" in {r[1] for r in db.execute("PRAGMA table_info(criterion_notes)")}:
                return          # another process migrated it while this one waited
            db.execute("ALTER TABLE criterion_notes RENAME TO criterion_notes_before_products")
            db.execute(_NOTES_TABLE)
            db.execute("INSERT INTO criterion_notes(submission_id, criterion_id, text, product_id) "
                       "SELECT submission_id, criterion_id, text, '' FROM criterion_notes_before_products")
            db.execute("DROP TABLE criterion_notes_before_products")

    def close(self) -> None:
        self.db.close()
        if self._cleanup is not None:
            self._cleanup()
            self._cleanup = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        # An SQLite failure inside the block says what it means (busy, read-only, disk full...),
        # never a traceback nor "damaged" for a healthy file; anything else goes on as it was.
        if isinstance(exc, sqlite3.Error) and failure_kind(exc) != "other":
            from tracker.model.errors import TrackerError

            raise TrackerError(failure_message(self.path, exc)) from None

    @contextlib.contextmanager
    def transaction(self):
        """One all-or-nothing write: a crash inside leaves the ledger as it was before."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    # ------------------------------------------------------------------ returns
    def find_return(self, sha256: str) -> sqlite3.Row | None:
        """The last decisive outcome for this exact content (accepted/replaced/stale), if any."""
        return self.db.execute(
            "SELECT unit_id, merged_at, name FROM returns WHERE sha256=? AND outcome IN ('accepted','replaced','stale') "
            "ORDER BY id DESC LIMIT 1", (sha256,)).fetchone()

    _INSERT_RETURN = ("INSERT INTO returns(sha256,name,origin,archived,size,received_at,received_source,sender,"
                      "merged_at,outcome,unit_id,findings,received_time,saved_time) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)")

    @staticmethod
    def _return_values(merged_at, *, sha256, name, origin, archived, size, received_at, received_source, sender,
                       outcome, unit_id, findings, received_time=None, saved_time=None) -> tuple:
        return (sha256, name, origin, archived, size, received_at.isoformat() if received_at else None,
                received_source, sender, merged_at, outcome, unit_id, json.dumps(findings, ensure_ascii=False),
                _iso(received_time), _iso(saved_time))

    def return_name(self, return_id: int | None, db=None) -> str | None:
        if return_id is None:
            return None
        row = (db or self.db).execute("SELECT name FROM returns WHERE id=?", (return_id,)).fetchone()
        return row[0] if row else None

    def saved_time(self, return_id: int | None, db=None) -> dt.datetime | None:
        """The workbook's own saved time recorded with a return (None when not known or not plausible)."""
        if return_id is None:
            return None
        row = (db or self.db).execute("SELECT saved_time FROM returns WHERE id=?", (return_id,)).fetchone()
        return _time(row[0]) if row else None

    def decisive_returns(self) -> dict[str, tuple]:
        """sha256 -> (unit_id, merged_at, name) of the last decisive outcome of each content: what
        find_return says, for every file at once (a re-merge asks it of thousands)."""
        # In (sha256, id) order through the partial index: the last row of each content wins.
        return {sha: (unit_id, merged_at, name) for sha, unit_id, merged_at, name in self.db.execute(
            "SELECT sha256, unit_id, merged_at, name FROM returns INDEXED BY returns_decisive "
            "WHERE outcome IN ('accepted','replaced','stale') ORDER BY sha256, id")}

    def add_return(self, db, **fields) -> int:
        return db.execute(self._INSERT_RETURN, self._return_values(now_iso(), **fields)).lastrowid

    def add_returns(self, db, rows: list[dict]) -> None:
        """Many returns at once (the repeats of a re-merge), in the caller's transaction."""
        merged_at = now_iso()
        db.executemany(self._INSERT_RETURN, [self._return_values(merged_at, **r) for r in rows])

    def add_email(self, *, sha256: str, name: str, origin: str, archived: str) -> None:
        """A saved email given to merge (its workbooks are `returns`): kept so the archive has no strangers."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO emails VALUES(?,?,?,?,?)", (sha256, name, origin, archived, now_iso()))

    def returns(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM returns ORDER BY id").fetchall()

    def distinct_returns(self):
        """Every return but the repeats of a file merged before, oldest first, one row at a time."""
        return self.db.execute("SELECT * FROM returns WHERE outcome != 'duplicate' ORDER BY id")

    # ------------------------------------------------------------------ submissions
    def current(self, unit_id: str, db=None) -> Submission | None:
        row = (db or self.db).execute(
            "SELECT * FROM submissions WHERE unit_id=? AND stale=0 ORDER BY id DESC LIMIT 1",
            (unit_id,)).fetchone()
        return self._load(row) if row else None

    def add_submission(self, db, sub: Submission) -> int:
        """Record a submission (in the caller's transaction); returns its id."""
        cur = db.execute(
            "INSERT INTO submissions(unit_id,return_id,source,received_at,recorded_at,stale,doc_number,"
            "doc_date,signer,proposals,note,sha256,received_time) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (sub.unit_id, sub.return_id, sub.source, sub.received_at.isoformat(), now_iso(),
             int(sub.stale), sub.doc_number, sub.doc_date, sub.signer, sub.proposals, sub.note, sub.sha256,
             _iso(sub.received_time)))
        sid = cur.lastrowid
        db.executemany("INSERT INTO answers VALUES(?,?,?,?)",
                       [(sid, p, c, v) for (p, c), v in sub.answers.items()])
        # A note typed into the master is kept though empty: it says the row's notes were cleared.
        db.executemany("INSERT INTO criterion_notes(submission_id, product_id, criterion_id, text) VALUES(?,?,?,?)",
                       [(sid, p, c, t) for (p, c), t in sub.notes.items() if t or c == ""])
        db.executemany("INSERT INTO product_domains VALUES(?,?,?)",
                       [(sid, p, d) for p, d in sub.domains.items() if d])
        sub.id = sid
        return sid

    def _load(self, row: sqlite3.Row) -> Submission:
        sid = row["id"]
        answers = {(r["product_id"], r["criterion_id"]): r["value"] for r in
                   self.db.execute("SELECT * FROM answers WHERE submission_id=?", (sid,))}
        notes = {_note_key(r): r["text"] for r in
                 self.db.execute("SELECT * FROM criterion_notes WHERE submission_id=?", (sid,))}
        domains = {r["product_id"]: r["domain"] for r in
                   self.db.execute("SELECT * FROM product_domains WHERE submission_id=?", (sid,))}
        return Submission(
            unit_id=row["unit_id"], received_at=dt.date.fromisoformat(row["received_at"]),
            source=row["source"], answers=answers, notes=notes, domains=domains,
            doc_number=row["doc_number"], doc_date=row["doc_date"], signer=row["signer"],
            proposals=row["proposals"], note=row["note"], sha256=row["sha256"], id=sid,
            return_id=row["return_id"], stale=bool(row["stale"]), received_time=_row_time(row))

    def history(self, as_of: dt.date | None = None, unit_ids=None) -> dict[str, list[Submission]]:
        """Every unit's submissions (received on or before `as_of`), oldest first; with `unit_ids`,
        those units' only (the master is built a group at a time, so memory stays flat)."""
        units, args = _among(unit_ids, "unit_id")
        mine = "" if not units else f" WHERE submission_id IN (SELECT id FROM submissions{units})"
        rows = self.db.execute(f"SELECT * FROM submissions{units} ORDER BY id", args).fetchall()
        # Every row repeats the same few ids and values: one copy of each (a third of the memory
        # of a national campaign's history went to copies).
        same: dict = {}
        one = same.setdefault
        answers: dict[int, dict] = {}
        for sid, product, criterion, value in self.db.execute(
                f"SELECT submission_id, product_id, criterion_id, value FROM answers{mine}", args):
            answers.setdefault(sid, {})[one((product, criterion), (one(product, product), one(criterion, criterion)))] \
                = one(value, value)
        notes: dict[int, dict] = {}
        for r in self.db.execute(f"SELECT * FROM criterion_notes{mine}", args):
            notes.setdefault(r["submission_id"], {})[_note_key(r)] = r["text"]
        domains: dict[int, dict] = {}
        for r in self.db.execute(f"SELECT * FROM product_domains{mine}", args):
            domains.setdefault(r["submission_id"], {})[r["product_id"]] = r["domain"]
        out: dict[str, list[Submission]] = {}
        for row in rows:
            received = dt.date.fromisoformat(row["received_at"])
            if as_of and received > as_of:
                continue
            sid = row["id"]
            out.setdefault(row["unit_id"], []).append(Submission(
                unit_id=row["unit_id"], received_at=received, source=row["source"],
                answers=answers.get(sid, {}), notes=notes.get(sid, {}), domains=domains.get(sid, {}),
                doc_number=row["doc_number"], doc_date=row["doc_date"], signer=row["signer"],
                proposals=row["proposals"], note=row["note"], sha256=row["sha256"], id=sid,
                return_id=row["return_id"], stale=bool(row["stale"]), received_time=_row_time(row)))
        return out

    def source_names(self, unit_ids=None) -> dict[int, str]:
        """return id -> file name, for the returns a submission came from (not the repeats); with
        `unit_ids`, those units' only."""
        units, args = _among(unit_ids, "s.unit_id")
        return {r["id"]: r["name"] for r in self.db.execute(
            f"SELECT r.id, r.name FROM submissions s JOIN returns r ON r.id = s.return_id{units}", args)}

    def event(self, db, kind: str, **detail) -> None:
        db.execute("INSERT INTO events(at,kind,detail) VALUES(?,?,?)",
                   (now_iso(), kind, json.dumps(detail, ensure_ascii=False)))

    # ------------------------------------------------------------------ signed copies
    def add_signed_copy(self, db, c: SignedCopy) -> int:
        """Record a signed copy (in the caller's transaction); returns its id."""
        c.recorded_at = c.recorded_at or now_iso()
        c.id = db.execute(
            "INSERT INTO signed_copies(return_id,sha256,name,archived,unit_id,method,kind,status,valid,signer,"
            "signed_at,received_at,received_time,sender,expected_unit,untrusted,findings,recorded_at,note) "
            "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (c.return_id, c.sha256, c.name, c.archived, c.unit_id, c.method, c.kind, c.status,
             None if c.valid is None else int(c.valid), c.signer, _iso(c.signed_at),
             c.received_at.isoformat() if c.received_at else None, _iso(c.received_time), c.sender,
             c.expected_unit, int(c.untrusted), json.dumps(c.findings, ensure_ascii=False), c.recorded_at,
             c.note)).lastrowid
        return c.id

    def signed_copies(self, statuses=None, unit_ids=None, untrusted: bool | None = None) -> list[SignedCopy]:
        """Signed copies, oldest first: with `statuses`, those only; with `unit_ids`, those units'
        only; with `untrusted`, those whose signature did (not) chain to the trust roots. A ledger
        of schema 2 read without being migrated has none."""
        where, args = [], []
        if statuses is not None:
            where.append("status IN (SELECT value FROM json_each(?))")
            args.append(json.dumps(list(statuses)))
        if unit_ids is not None:
            where.append("unit_id IN (SELECT value FROM json_each(?))")
            args.append(json.dumps(list(unit_ids)))
        if untrusted is not None:
            where.append("untrusted = ?")
            args.append(int(untrusted))
        sql = "SELECT * FROM signed_copies" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        try:
            return [_copy(r) for r in self.db.execute(sql, args)]
        except sqlite3.OperationalError:
            if self._has_table("signed_copies"):
                raise
            return []

    def _has_table(self, name: str) -> bool:
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() \
            is not None

    def signed_copy_digests(self, db=None) -> dict[str, tuple]:
        """sha256 -> (recorded_at, name, unit_id) of the first record of every signed copy's content
        (a copy given again is a repeat, whatever became of it)."""
        out: dict[str, tuple] = {}
        for sha, at, name, unit_id in (db or self.db).execute(
                "SELECT sha256, recorded_at, name, unit_id FROM signed_copies ORDER BY id"):
            out.setdefault(sha, (at, name, unit_id))
        return out

    def signed_copy_at(self, copy_id: int) -> SignedCopy | None:
        row = self.db.execute("SELECT * FROM signed_copies WHERE id=?", (copy_id,)).fetchone()
        return _copy(row) if row else None

    def decide_signed_copy(self, copy_id: int, *, status: str, unit_id: str | None, method: str, note: str,
                           by: str = "staff") -> None:
        """A staff decision on a copy (attach it to `unit_id`, or reject it): its row updated, the
        decision logged as an event with what the row said before."""
        with self.transaction() as db:
            before = db.execute("SELECT status, unit_id, method FROM signed_copies WHERE id=?", (copy_id,)).fetchone()
            db.execute("UPDATE signed_copies SET status=?, unit_id=?, method=?, note=?, decided_at=? WHERE id=?",
                       (status, unit_id, method, note, now_iso(), copy_id))
            self.event(db, "signed_copy_decided", copy=copy_id, by=by, status=status, unit=unit_id,
                       before=dict(before) if before else None, note=note)

    def recheck_signed_copy(self, db, c: SignedCopy) -> None:
        """A copy read again (the trust roots changed): its verdict replaced, the change logged."""
        db.execute("UPDATE signed_copies SET unit_id=?, method=?, kind=?, status=?, valid=?, signer=?, signed_at=?, "
                   "untrusted=?, findings=? WHERE id=?",
                   (c.unit_id, c.method, c.kind, c.status, None if c.valid is None else int(c.valid), c.signer,
                    _iso(c.signed_at), int(c.untrusted), json.dumps(c.findings, ensure_ascii=False), c.id))
        self.event(db, "signed_copy_rechecked", copy=c.id, status=c.status, valid=c.valid, unit=c.unit_id)

    def meta_value(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta_value(self, key: str, value: str, db=None) -> None:
        if db is not None:
            db.execute("INSERT OR REPLACE INTO meta VALUES(?, ?)", (key, value))
            return
        with self.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO meta VALUES(?, ?)", (key, value))

    # ------------------------------------------------------------------ mail
    def mail_rows(self, kind: str, batch: str) -> list[sqlite3.Row]:
        """Every attempt of one batch, oldest first."""
        return self.db.execute("SELECT * FROM mail WHERE kind=? AND batch=? ORDER BY id", (kind, batch)).fetchall()

    def mail_begin(self, *, unit_id: str, kind: str, batch: str, recipients: str, message_id: str,
                   attachment_sha256: str) -> int:
        """A 'sending' row, committed before the message is handed to the server."""
        with self.transaction() as db:
            return db.execute(
                "INSERT INTO mail(unit_id,kind,batch,recipients,message_id,attachment_sha256,status,at) "
                "VALUES(?,?,?,?,?,?,'sending',?)",
                (unit_id, kind, batch, recipients, message_id, attachment_sha256, now_iso())).lastrowid

    def mail_finish(self, row_id: int, status: str, error: str | None) -> None:
        with self.transaction() as db:
            db.execute("UPDATE mail SET status=?, error=?, at=? WHERE id=?", (status, error, now_iso(), row_id))

    def mail_confirm(self, kind: str, batch: str, unit_ids: list[str], note: str) -> None:
        """Staff checked that units left 'sending' did receive the message: their last row becomes 'sent'."""
        with self.transaction() as db:
            for uid in unit_ids:
                row = db.execute("SELECT id FROM mail WHERE kind=? AND batch=? AND unit_id=? AND status='sending' "
                                 "ORDER BY id DESC LIMIT 1", (kind, batch, uid)).fetchone()
                db.execute("UPDATE mail SET status='sent', error=?, at=? WHERE id=?", (note, now_iso(), row["id"]))
            self.event(db, "mail_mark_sent", mail_kind=kind, batch=batch, units=unit_ids)

    # ------------------------------------------------------------------ the master's record
    def master_state(self, day: dt.date) -> str:
        """What the master shows depends on: submissions, returns other than repeats, the day, and
        the template and registry it lays out (MASTER_INPUTS, by content)."""
        import hashlib

        subs = self.db.execute("SELECT COALESCE(MAX(id), 0) FROM submissions").fetchone()[0]
        rets = self.db.execute("SELECT COALESCE(MAX(id), 0) FROM returns WHERE outcome != 'duplicate'").fetchone()[0]
        # A staff decision or a re-check changes a signed copy without a new return.
        copies = hashlib.sha256()
        if self._has_table("signed_copies"):
            for row in self.db.execute("SELECT id, status, unit_id, valid, signer FROM signed_copies ORDER BY id"):
                copies.update(repr(tuple(row)).encode("utf-8"))
        inputs = hashlib.sha256()
        for name in MASTER_INPUTS:
            try:
                inputs.update((self.path.parent / name).read_bytes())
            except OSError:
                inputs.update(b"-")
            inputs.update(b"\0")
        state = f"{subs}|{rets}|{day.isoformat()}|{inputs.hexdigest()[:16]}"
        empty = hashlib.sha256().hexdigest()
        return state + (f"|{copies.hexdigest()[:16]}" if copies.hexdigest() != empty else "")

    def master_record(self) -> dict:
        """{'state', 'sha256'} of the master last written (empty before the first)."""
        row = self.db.execute("SELECT value FROM meta WHERE key='master'").fetchone()
        return json.loads(row[0]) if row else {}

    def set_master_record(self, state: str, sha256: str, *, kept: int = 0, beside: dict | None = None) -> None:
        """`kept`: rows of refused hand entries written back as typed (read again next time though
        the file is unchanged); `beside`: name -> SHA-256 of masters written beside a held one."""
        record = {"state": state, "sha256": sha256}
        if kept:
            record["kept"] = kept
        if beside:
            record["beside"] = beside
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES('master', ?)", (json.dumps(record),))

    # ------------------------------------------------------------------ when the forms were made
    def forms_generated_at(self) -> dt.datetime | None:
        """When `generate` first made the campaign's forms (no unit saved one before): None when not
        recorded (a campaign generated before this was kept)."""
        row = self.db.execute("SELECT value FROM meta WHERE key='forms_generated_at'").fetchone()
        return _time(row[0]) if row else None

    def note_forms_generated(self, when: dt.datetime) -> None:
        """Record the first generation only: a unit may still hold a form of the first one."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO meta VALUES('forms_generated_at', ?)", (_iso(when),))

    # ------------------------------------------------------------------ files seen before
    def seen_files(self) -> dict[str, tuple]:
        """path -> (size, mtime_ns, ctime_ns, inode, sha256, hashed_at_ns) of each file merge hashed."""
        return {row[0]: tuple(row[1:]) for row in self.db.execute(
            "SELECT path, size, mtime_ns, ctime_ns, inode, sha256, hashed_at_ns FROM seen_files")}

    def remember_seen(self, rows: list[tuple]) -> None:
        """(path, size, mtime_ns, ctime_ns, inode, sha256, hashed_at_ns) rows, in one transaction."""
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO seen_files VALUES(?,?,?,?,?,?,?)", rows)

    # ------------------------------------------------------------------ IMAP fetch
    def sent_message_ids(self) -> set[str]:
        """The Message-IDs of every email tracker handed to a mail server (a reply names one)."""
        return {r[0] for r in self.db.execute("SELECT DISTINCT message_id FROM mail WHERE status != 'failed'")}

    def first_mail_day(self) -> dt.date | None:
        """The day tracker first handed an email to a mail server (no reply comes before it)."""
        at = self.db.execute("SELECT MIN(at) FROM mail WHERE status != 'failed'").fetchone()[0]
        return dt.date.fromisoformat(at[:10]) if at else None

    def imap_folder(self, account: str, folder: str) -> tuple[int, int, str] | None:
        """(UIDVALIDITY, last UID dealt with, searched since) of a mailbox folder, None before its first fetch."""
        row = self.db.execute("SELECT uidvalidity, last_uid, since FROM imap_folders WHERE account=? AND folder=?",
                              (account, folder)).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def imap_set_folder(self, account: str, folder: str, uidvalidity: int, last_uid: int, since: str,
                        db=None) -> None:
        sql = "INSERT OR REPLACE INTO imap_folders(account,folder,uidvalidity,last_uid,since,at) VALUES(?,?,?,?,?,?)"
        values = (account, folder, uidvalidity, last_uid, since, now_iso())
        if db is not None:
            db.execute(sql, values)
            return
        with self.transaction() as tx:
            tx.execute(sql, values)

    def imap_uids(self, account: str, folder: str, uidvalidity: int, outcomes=("saved", "already", "too_large")
                  ) -> set[int]:
        """UIDs of a folder (under one UIDVALIDITY) recorded with one of `outcomes`."""
        return {r[0] for r in self.db.execute(
            "SELECT uid FROM imap_messages WHERE account=? AND folder=? AND uidvalidity=? "
            "AND outcome IN (SELECT value FROM json_each(?))", (account, folder, uidvalidity, json.dumps(outcomes)))}

    def imap_saved_keys(self) -> tuple[set[str], set[str]]:
        """(Message-IDs, SHA-256 digests) of every message saved from any mailbox."""
        ids, digests = set(), set()
        for mid, sha in self.db.execute("SELECT message_id, sha256 FROM imap_messages WHERE outcome='saved'"):
            if mid:
                ids.add(mid)
            digests.add(sha)
        return ids, digests

    def imap_record(self, *, account: str, folder: str, uidvalidity: int, uid: int, outcome: str, size: int,
                    message_id: str = "", sha256: str | None = None, sender: str = "", subject: str = "",
                    file: str | None = None, last_uid: int | None = None, since: str = "") -> None:
        """One message dealt with, and (when given) the folder's last UID, in one transaction: a run
        killed before it fetches the message again; after it, never."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO imap_messages(account,folder,uidvalidity,uid,outcome,message_id,sha256,"
                       "size,sender,subject,file,fetched_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
                       (account, folder, uidvalidity, uid, outcome, message_id, sha256, size, sender, subject,
                        file, now_iso()))
            if last_uid is not None:
                self.imap_set_folder(account, folder, uidvalidity, last_uid, since, db)

    def imap_pending(self) -> list[sqlite3.Row]:
        """Messages saved but not yet given to merge, oldest first."""
        return self.db.execute("SELECT id, file, sender, subject FROM imap_messages INDEXED BY imap_messages_pending "
                               "WHERE outcome='saved' AND merged_at IS NULL ORDER BY id").fetchall()

    def imap_merged(self, ids: list[int]) -> None:
        with self.transaction() as db:
            db.execute("UPDATE imap_messages SET merged_at=? WHERE id IN (SELECT value FROM json_each(?))",
                       (now_iso(), json.dumps(ids)))


@dataclass
class Health:
    """What SQLite's own checks say of a ledger file, and every archived file it names."""
    integrity: list[str]
    broken_links: int
    archived: list[tuple]       # (return id or None for a saved email, sha256, name, archived path)


def check_health(path: Path) -> Health:
    """Open the ledger read-only (no lock, no write, nothing created) and run SQLite's checks.
    sqlite3.Error when it cannot be read (failure_kind says why: busy is not damage)."""
    db, cleanup = open_read_only(path)
    try:
        integrity = [r[0] for r in db.execute("PRAGMA integrity_check")]
        broken = len(db.execute("PRAGMA foreign_key_check").fetchall())
        rows = db.execute("SELECT id, sha256, name, archived FROM returns").fetchall()
        try:
            rows += db.execute("SELECT NULL, sha256, name, archived FROM emails").fetchall()
        except sqlite3.OperationalError:   # a ledger from before emails were recorded
            pass
        return Health(integrity, broken, rows)
    finally:
        db.close()
        if cleanup:
            cleanup()
