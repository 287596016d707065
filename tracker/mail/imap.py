"""Fetching the replies from the Centre's mailbox over IMAP, exactly once, into the campaign's inbox/.

Every new message that could be a reply (one with an attachment, one from an address in units.csv,
or one answering an email tracker sent: In-Reply-To/References naming one of its Message-IDs) is
saved as an .eml in inbox/, to be merged like any saved email. Nothing on the server changes:
folders are opened with EXAMINE and messages read with BODY.PEEK, so no flag is set; only
`move_to` (asked for by the user) moves the messages dealt with into another folder.

Exactly once, across runs that are killed or lose the connection:
  - per folder, the ledger keeps its UIDVALIDITY and the UID up to which every message was dealt
    with; a run starts after it;
  - each message is written to inbox/ atomically, then recorded (with the folder's new last UID) in
    one transaction. A file saved but not recorded (killed in between) carries its content hash
    in its name: the next run finds it and records it instead of writing a second copy;
  - a changed UIDVALIDITY (the folder was recreated, or the server moved) makes every UID new:
    each message is then compared by Message-ID, and by content hash once downloaded, with what
    was saved before, and only what is new is saved.
Saved messages are `pending` until the caller has given them to merge (`mark_merged`).

Returns data and prints nothing; every fault is a Vietnamese message naming the server, the folder
and the message.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from tracker.intake.saved_email import MAX_EMAIL_BYTES, VN_TZ
from tracker.mail.message import recipients
from tracker.model.errors import TrackerError, UsageError
from tracker.model.language import _
from tracker.store.crash_points import checkpoint
from tracker.store.files import atomic_write_bytes, sha256_file
from tracker.store.workspace import Workspace

PASSWORD_ENV = "TRACKER_IMAP_PASSWORD"
KEYRING_SERVICE = "tracker-imap"          # keyring entry: service "tracker-imap", user "USER@HOST"
SECURITIES = ("ssl", "starttls", "none")
DEFAULT_FOLDERS = ("INBOX",)
INBOX = "inbox"
MAX_MESSAGE_BYTES = MAX_EMAIL_BYTES       # what merge reads: a larger message could not be merged anyway
IMAP_TIMEOUT_S = 60
HEADER_BATCH = 200
HEADER_FIELDS = "FROM SUBJECT DATE MESSAGE-ID IN-REPLY-TO REFERENCES"
_OUR_ID = re.compile(r"<(?:invite|remind)\.(.+)\.[0-9a-f]{16}@[^<>\s]+>")
_IDS = re.compile(r"<[^<>\s]+>")


# ------------------------------------------------------------------ settings

@dataclass
class ImapSettings:
    host: str
    user: str
    port: int | None = None
    security: str = "ssl"                 # ssl | starttls | none
    folders: tuple[str, ...] = DEFAULT_FOLDERS
    password: str | None = field(default=None, repr=False)
    insecure: bool = False                # do not check the server's certificate
    cafile: str | None = None             # the certificate (CA) the server's is checked against
    since: dt.date | None = None          # only messages the server received from this day on
    timeout: float = IMAP_TIMEOUT_S

    @property
    def real_port(self) -> int:
        return self.port or (993 if self.security == "ssl" else 143)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.real_port}"

    @property
    def account(self) -> str:
        """The key of this mailbox in the ledger (not the port: the same mailbox over SSL or STARTTLS)."""
        return f"{self.user}@{self.host.lower()}"


def settings(ws: Workspace, *, host: str | None = None, port: int | None = None, user: str | None = None,
             folders=(), security: str | None = None, insecure: bool = False,
             since: dt.date | None = None) -> ImapSettings:
    """campaign.toml's [mail.imap], each key overridden by the option given; UsageError when incomplete."""
    conf = ws.campaign.section("mail").get("imap", {})
    where = f"[mail.imap] ({ws.campaign_file})"
    if not isinstance(conf, dict):
        raise UsageError(_("Mục {where} phải là một bảng (host = \"...\", user = \"...\").").format(where=where))
    host = host or conf.get("host") or ""
    user = user or conf.get("user") or ""
    security = security or conf.get("security") or "ssl"
    port = port or conf.get("port")
    given = list(folders) or conf.get("folders") or list(DEFAULT_FOLDERS)
    if isinstance(given, str):
        given = [given]
    missing = [name for name, value in (("host", host), ("user", user)) if not str(value).strip()]
    if missing:
        raise UsageError(_("Chưa có {keys} của máy chủ nhận thư (IMAP). Điền vào {where}, ví dụ host = "
                           "\"mail.hanoi.gov.vn\", user = \"ttdlcns\"; hoặc dùng --host, --user. Hỏi bộ phận "
                           "CNTT các thông số này (xem docs/huong-dan.md, mục Lấy thư trả lời).")
                         .format(keys=", ".join(missing), where=where))
    if security not in SECURITIES:
        raise UsageError(_("Kiểu mã hóa '{value}' không có (có: ssl, starttls, none). Sửa security ở {where}.")
                         .format(value=security, where=where))
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        raise UsageError(_("Cổng '{value}' không hợp lệ (một số từ 1 đến 65535). Sửa port ở {where}.")
                         .format(value=port, where=where))
    if not all(isinstance(f, str) and f.strip() for f in given):
        raise UsageError(_("folders ở {where} phải là danh sách tên thư mục, ví dụ folders = [\"INBOX\"].")
                         .format(where=where))
    cafile = conf.get("cafile") or None
    if cafile:
        path = Path(cafile) if Path(cafile).is_absolute() else ws.root / cafile
        if not path.is_file():
            raise UsageError(_("Không tìm thấy tệp chứng chỉ '{path}' (cafile ở {where}).")
                             .format(path=path, where=where))
        cafile = str(path)
    since = since or conf.get("since") or None
    if isinstance(since, str):
        from tracker.model.dates import parse_date

        try:
            since = parse_date(since)
        except TrackerError:
            since = None
    if since is not None and (not isinstance(since, dt.date) or isinstance(since, dt.datetime)):
        raise UsageError(_("since ở {where} phải là một ngày, ví dụ since = 2026-05-25.").format(where=where))
    return ImapSettings(host=str(host).strip(), user=str(user).strip(), port=port, security=security,
                        folders=tuple(dict.fromkeys(f.strip() for f in given)), insecure=insecure, cafile=cafile,
                        since=since)


def keyring_password(s: ImapSettings) -> str | None:
    """The password kept in the OS keyring (service tracker-imap, user USER@HOST), when the keyring
    package is installed and holds one."""
    try:
        import keyring
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, f"{s.user}@{s.host}")
    except Exception:  # noqa: BLE001 - no usable keyring backend: as if none were installed
        return None


# ------------------------------------------------------------------ what a message is

@dataclass
class Message:
    """A message as the server describes it before it is downloaded."""
    folder: str
    uid: int
    size: int
    sender: str = ""
    subject: str = ""
    date: dt.datetime | None = None        # its Date header
    received: dt.datetime | None = None    # when the server got it (INTERNALDATE)
    message_id: str = ""
    references: list[str] = field(default_factory=list)   # In-Reply-To and References
    attachments: list[str] = field(default_factory=list)
    why: list[str] = field(default_factory=list)   # attachment | sender | reply: why it could be a reply

    @property
    def shown(self) -> str:
        """The message named for people: sender, date, subject."""
        when = self.date or self.received
        day = when.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M") if when else _("không rõ ngày")
        return _("thư của {sender} ({day}), tiêu đề “{subject}”").format(
            sender=self.sender or _("không rõ người gửi"), day=day, subject=self.subject)


@dataclass
class Saved:
    message: Message
    path: Path
    sha256: str


@dataclass
class FetchReport:
    where: str
    folders: list[str]
    dry_run: bool = False
    saved: list[Saved] = field(default_factory=list)
    already: list[Message] = field(default_factory=list)        # saved before (same Message-ID or content)
    too_large: list[Message] = field(default_factory=list)      # over the limit: left on the server
    failed: list[tuple[str, str]] = field(default_factory=list)  # (folder, Vietnamese reason)
    planned: list[Message] = field(default_factory=list)        # dry run: what would be fetched
    recreated: list[str] = field(default_factory=list)          # folders whose UIDVALIDITY changed
    not_replies: int = 0                                        # new messages that cannot be a reply
    moved: int = 0
    since: dt.date | None = None                                # messages received from this day on were read
    since_first_mail: bool = False                              # ... the day before tracker's first email
    aborted: str = ""                                           # a fault that stopped the run
    max_bytes: int = MAX_MESSAGE_BYTES

    @property
    def exit_code(self) -> int:
        return 1 if (self.failed or self.too_large or self.aborted) else 0


@dataclass
class Pending:
    id: int
    path: Path
    sender: str
    subject: str


# ------------------------------------------------------------------ the connection

class _Lost(Exception):
    """The connection broke: what was saved stays, the run stops."""


def _ssl_context(s: ImapSettings):
    import ssl

    ctx = ssl.create_default_context(cafile=s.cafile)
    if s.insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _reply_text(e) -> str:
    """The server's words in an IMAP error, without imaplib's wrapping."""
    text = str(e)
    m = re.search(r"b['\"](.*)['\"]", text)
    return " ".join((m.group(1) if m else text).split())[:200]


def connect(s: ImapSettings):
    """An IMAP session, logged in; TrackerError in Vietnamese on any failure (nothing fetched yet)."""
    import imaplib
    import socket
    import ssl

    from imapclient import IMAPClient
    from imapclient.exceptions import CapabilityError, LoginError

    where = s.where
    if s.password is None:
        raise UsageError(_("Chưa có mật khẩu hộp thư của '{user}'. Đặt biến môi trường {env}, hoặc lưu trong "
                           "keyring, hoặc chạy lệnh trong cửa sổ dòng lệnh để nhập.").format(user=s.user,
                                                                                            env=PASSWORD_ENV))
    client = None
    nothing = _("Chưa lấy thư nào.")
    try:
        ctx = _ssl_context(s)
        client = IMAPClient(s.host, port=s.real_port, ssl=s.security == "ssl", ssl_context=ctx, timeout=s.timeout)
        client.normalise_times = False
        if s.security == "starttls":
            client.starttls(ctx)
        if (s.user + s.password).isascii():
            client.login(s.user, s.password)
        else:       # LOGIN carries ASCII only; AUTHENTICATE PLAIN carries UTF-8 (a Vietnamese password)
            client.plain_login(s.user, s.password)
        return client
    except CapabilityError:
        _close(client)
        raise TrackerError(_("Máy chủ thư {where} không hỗ trợ STARTTLS. Dùng security = \"ssl\" (thường cổng "
                             "993) theo hướng dẫn của bộ phận CNTT. {nothing}").format(where=where,
                                                                                       nothing=nothing)) from None
    except LoginError as e:
        _close(client)
        raise TrackerError(_("Máy chủ thư {where} từ chối đăng nhập của '{user}' ({reply}). Kiểm tra tên đăng nhập "
                             "(user ở [mail.imap] hoặc --user) và mật khẩu ({env}). {nothing}")
                           .format(where=where, user=s.user, reply=_reply_text(e), env=PASSWORD_ENV,
                                   nothing=nothing)) from None
    except ssl.SSLCertVerificationError as e:
        _close(client)
        raise TrackerError(_("Không tin được chứng chỉ TLS của máy chủ thư {where} ({reason}). Có thể máy chủ dùng "
                             "chứng chỉ nội bộ hoặc tự ký, hoặc đây không phải máy chủ thật. Xin bộ phận CNTT tệp "
                             "chứng chỉ gốc (CA, .pem) rồi điền cafile = \"...\" ở [mail.imap]; chỉ khi CNTT xác nhận "
                             "đúng máy chủ mới dùng --insecure (không kiểm tra chứng chỉ). {nothing}")
                           .format(where=where, reason=e.verify_message or e.reason or e,
                                   nothing=nothing)) from None
    except ssl.SSLError as e:
        _close(client)
        raise TrackerError(_("Lỗi mã hóa TLS với máy chủ thư {where} ({reason}). Kiểm tra đúng cổng và đúng kiểu: "
                             "ssl cho cổng 993, starttls hoặc none cho cổng 143. {nothing}")
                           .format(where=where, reason=e.reason or e, nothing=nothing)) from None
    except ConnectionRefusedError:
        raise TrackerError(_("Không kết nối được máy chủ thư {where}: máy chủ từ chối kết nối. Kiểm tra địa chỉ "
                             "(host), cổng (port) và mạng. {nothing}").format(where=where, nothing=nothing)) from None
    except socket.gaierror:
        raise TrackerError(_("Không tìm thấy máy chủ thư '{host}'. Kiểm tra lại tên máy chủ (host) và kết nối "
                             "mạng. {nothing}").format(host=s.host, nothing=nothing)) from None
    except (TimeoutError, socket.timeout):
        _close(client)
        raise TrackerError(_("Máy chủ thư {where} không trả lời sau {n} giây. Kiểm tra địa chỉ, cổng và tường "
                             "lửa. {nothing}").format(where=where, n=int(s.timeout), nothing=nothing)) from None
    except (imaplib.IMAP4.error, OSError) as e:
        _close(client)
        raise TrackerError(_("Không làm việc được với máy chủ thư {where} ({reason}). Kiểm tra cổng và kiểu mã hóa "
                             "(security: ssl, starttls hoặc none). {nothing}")
                           .format(where=where, reason=_reply_text(e) or type(e).__name__,
                                   nothing=nothing)) from None


def _close(client) -> None:
    if client is None:
        return
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - closing a broken session
        try:
            client.shutdown()
        except Exception:  # noqa: BLE001
            pass


def _call(what, *args, **kw):
    """One IMAP command: a broken connection becomes _Lost; the server's NO/BAD stays imaplib's error."""
    import imaplib

    try:
        return what(*args, **kw)
    except imaplib.IMAP4.abort as e:
        raise _Lost(_reply_text(e) or type(e).__name__) from None
    except OSError as e:
        raise _Lost(e.strerror or str(e) or type(e).__name__) from None


# ------------------------------------------------------------------ fetching

def fetch(ws: Workspace, s: ImapSettings, *, dry_run: bool = False, move_to: str | None = None,
          max_bytes: int = MAX_MESSAGE_BYTES, progress=None) -> FetchReport:
    """Save every new message of `s.folders` that could be a reply into inbox/ (dry run: list them).

    progress(total=None, advance=0): total is the number of messages to download known so far,
    advanced by one as each is dealt with."""
    import imaplib

    report = FetchReport(s.where, list(s.folders), dry_run=dry_run, max_bytes=max_bytes)
    with _fetch_lock(ws):
        known = _Known.load(ws, s, read_only=dry_run)
        report.since = s.since
        if report.since is None and known.ledger is not None:
            first = known.ledger.first_mail_day()      # no reply comes before the first email sent
            if first is not None:
                report.since, report.since_first_mail = first - dt.timedelta(days=1), True
        try:
            client = connect(s)
            try:
                if move_to and not dry_run:
                    _check_move_target(client, s, move_to)
                for folder in s.folders:
                    try:
                        _folder(ws, client, s, folder, known, report, move_to, max_bytes, progress)
                    except imaplib.IMAP4.error as e:     # the server refused a command on this folder
                        report.failed.append((folder, _("Máy chủ thư {where} báo lỗi khi đọc thư mục '{folder}' "
                                                        "({reply}). Các thư đã lấy được vẫn giữ nguyên; chạy lại "
                                                        "lệnh để thử lại.").format(where=s.where, folder=folder,
                                                                                    reply=_reply_text(e))))
                    except _Lost as e:
                        report.aborted = _("Mất kết nối với máy chủ thư {where} khi đang đọc thư mục '{folder}' "
                                           "({reason}). Các thư đã lấy được vẫn giữ nguyên; chạy lại lệnh để lấy "
                                           "tiếp.").format(where=s.where, folder=folder, reason=e)
                        break
            finally:
                _close(client)
        finally:
            known.close()
    return report


class _Known:
    """What the ledger knows of this mailbox, read once per run and kept up to date as messages are saved."""

    def __init__(self, ledger, ws: Workspace, s: ImapSettings):
        self.ledger = ledger
        self.account = s.account
        self.addresses = {a.lower() for u in ws.units for a in recipients(u)}
        self.unit_ids = set(ws.unit_by_id)
        self.sent_ids: set[str] = set()
        self.ids: set[str] = set()
        self.digests: set[str] = set()
        if ledger is not None:
            self.sent_ids = ledger.sent_message_ids()
            self.ids, self.digests = ledger.imap_saved_keys()

    @classmethod
    def load(cls, ws: Workspace, s: ImapSettings, read_only: bool) -> "_Known":
        from tracker.store.ledger import Ledger

        if read_only and not ws.ledger_file.exists():      # a dry run creates nothing
            return cls(None, ws, s)
        return cls(Ledger(ws.ledger_file), ws, s)

    def close(self) -> None:
        if self.ledger is not None:
            self.ledger.close()

    def folder(self, folder: str) -> tuple[int, int, str] | None:
        return self.ledger.imap_folder(self.account, folder) if self.ledger else None

    def uids(self, folder: str, uidvalidity: int, outcomes=("saved", "already", "too_large")) -> set[int]:
        return self.ledger.imap_uids(self.account, folder, uidvalidity, outcomes) if self.ledger else set()

    def answers_ours(self, ids: list[str]) -> bool:
        for mid in ids:
            if mid in self.sent_ids:
                return True
            m = _OUR_ID.fullmatch(mid)       # ids are deterministic: a draft sent by hand has one too
            if m and m.group(1) in self.unit_ids:
                return True
        return False


def _fetch_lock(ws: Workspace):
    """One fetch per campaign at a time (two would save the same message twice)."""
    import contextlib

    from filelock import FileLock, Timeout

    @contextlib.contextmanager
    def held():
        ws.state.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(ws.state / "imap.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise TrackerError(_("Một lệnh lấy thư khác đang chạy trên chiến dịch này. Chờ lệnh đó xong rồi chạy "
                                 "lại.")) from None
        try:
            yield
        finally:
            lock.release()
    return held()


def _check_move_target(client, s: ImapSettings, target: str) -> None:
    import imaplib

    try:
        exists = _call(client.folder_exists, target)
    except imaplib.IMAP4.error:
        exists = False
    except _Lost as e:
        raise TrackerError(_("Mất kết nối với máy chủ thư {where} ({reason}). Chưa lấy thư nào; chạy lại lệnh.")
                           .format(where=s.where, reason=e)) from None
    if not exists:
        raise UsageError(_("Không có thư mục '{folder}' trên máy chủ thư {where} để chuyển thư vào (--move-to). "
                           "Tạo thư mục đó trong Outlook hoặc webmail trước, rồi chạy lại. Chưa lấy thư nào.")
                         .format(folder=target, where=s.where))
    if not (client.has_capability("MOVE") or client.has_capability("UIDPLUS")):
        raise UsageError(_("Máy chủ thư {where} không hỗ trợ chuyển thư an toàn (MOVE hoặc UIDPLUS). Bỏ --move-to; "
                           "chuyển thư bằng tay trong Outlook. Chưa lấy thư nào.").format(where=s.where))


def _open_folder(client, s: ImapSettings, folder: str, readonly: bool, report: FetchReport) -> int | None:
    """Open a folder; its UIDVALIDITY, or None (and a failure reported) when it cannot be opened."""
    import imaplib

    try:
        info = _call(client.select_folder, folder, readonly=readonly)
    except imaplib.IMAP4.error as e:
        try:
            names = [f[2] for f in _call(client.list_folders)]
        except imaplib.IMAP4.error:
            names = []
        if names and folder not in names:
            shown = ", ".join(f"'{n}'" for n in names[:15]) + (" ..." if len(names) > 15 else "")
            report.failed.append((folder, _("Không có thư mục '{folder}' trên máy chủ thư {where} (tài khoản "
                                            "{user}). Các thư mục có: {names}. Sửa folders ở [mail.imap] hoặc "
                                            "--folder.").format(folder=folder, where=s.where, user=s.user,
                                                                names=shown)))
        else:
            report.failed.append((folder, _("Không mở được thư mục '{folder}' trên máy chủ thư {where} ({reply}).")
                                  .format(folder=folder, where=s.where, reply=_reply_text(e))))
        return None
    value = info.get(b"UIDVALIDITY")
    if not isinstance(value, int):
        report.failed.append((folder, _("Máy chủ thư {where} không cho biết UIDVALIDITY của thư mục '{folder}': "
                                        "không lấy được thư an toàn (mỗi thư đúng một lần) từ thư mục này.")
                              .format(where=s.where, folder=folder)))
        return None
    return value


def _folder(ws, client, s: ImapSettings, folder: str, known: _Known, report: FetchReport, move_to, max_bytes,
            progress) -> None:
    import imaplib

    moving = bool(move_to) and not report.dry_run
    uidvalidity = _open_folder(client, s, folder, readonly=not moving, report=report)
    if uidvalidity is None:
        return
    since = report.since.isoformat() if report.since else ""
    state = known.folder(folder)
    last = 0
    if state is not None:
        if state[0] != uidvalidity:
            report.recreated.append(folder)
        elif state[2] == since:
            last = state[1]
        # else: searched from another day before: look at the folder again (what was recorded is skipped)
    criteria = ["UID", f"{last + 1}:*"] + (["SINCE", report.since] if report.since else [])
    uids = sorted(u for u in _call(client.search, criteria) if u > last)
    done_before = known.uids(folder, uidvalidity)        # recorded by a run killed before its last UID was
    todo = [u for u in uids if u not in done_before]
    messages = []
    for i in range(0, len(todo), HEADER_BATCH):
        messages += _describe(client, folder, todo[i:i + HEADER_BATCH])
    described = {m.uid for m in messages}       # the UIDs in `todo` the server described
    candidates = []
    for m in messages:
        m.why = _why(m, known)
        if m.why:
            candidates.append(m)
        else:
            report.not_replies += 1
    if report.dry_run:
        for m in candidates:
            if m.message_id and m.message_id in known.ids:
                report.already.append(m)
            else:
                report.planned.append(m)
                if m.message_id:
                    known.ids.add(m.message_id)     # in memory only: the same message twice is listed once
        return
    if progress:
        progress(total=len(candidates) + len(report.saved) + len(report.already) + len(report.too_large))
    # Every UID up to `safe` is dealt with: not a reply, or recorded. A message that could not be
    # read holds it back, so that the next run tries that message again.
    safe = last
    stuck = False
    by_uid = {m.uid: m for m in candidates}
    for uid in uids:
        if uid not in done_before and uid not in described:
            stuck = True              # gone between SEARCH and FETCH (expunged), or not described: look again
            continue
        if uid not in by_uid:         # recorded by an earlier run, or not a reply
            if not stuck:
                safe = uid
            continue
        m = by_uid[uid]
        try:
            ok = _one(ws, client, folder, uidvalidity, since, m, known, report, max_bytes, None if stuck else uid)
        except imaplib.IMAP4.error as e:
            report.failed.append((folder, _("Không đọc được {message} (thư mục '{folder}' trên máy chủ {where}, "
                                            "UID {uid}): {reply}. Thư để nguyên trên máy chủ; lần chạy sau thử lại.")
                                  .format(message=m.shown, folder=folder, where=s.where, uid=uid,
                                          reply=_reply_text(e))))
            ok = False
        if not ok:
            stuck = True
        elif not stuck:
            safe = uid
        if progress:
            progress(advance=1)
    if safe > last or state is None or state[0] != uidvalidity or state[2] != since:
        known.ledger.imap_set_folder(known.account, folder, uidvalidity, safe, since)
    if moving:
        _move(client, s, folder, uidvalidity, known, move_to, report)


def _one(ws, client, folder, uidvalidity, since, m: Message, known: _Known, report: FetchReport, max_bytes,
         last_uid) -> bool:
    """Deal with one message that could be a reply; False when it could not be read (tried again next run)."""
    record = dict(account=known.account, folder=folder, uidvalidity=uidvalidity, uid=m.uid, size=m.size,
                  message_id=m.message_id, sender=m.sender, subject=m.subject, last_uid=last_uid, since=since)
    if m.message_id and m.message_id in known.ids:
        known.ledger.imap_record(outcome="already", **record)
        report.already.append(m)
        return True
    if m.size > max_bytes:
        known.ledger.imap_record(outcome="too_large", **record)
        report.too_large.append(m)
        return True
    got = _call(client.fetch, [m.uid], ["BODY.PEEK[]"]).get(m.uid, {})
    data = got.get(b"BODY[]")
    if not isinstance(data, bytes):
        return False          # expunged meanwhile, or the server gave nothing: next run looks again
    sha = hashlib.sha256(data).hexdigest()
    if sha in known.digests:
        known.ledger.imap_record(outcome="already", sha256=sha, **record)
        report.already.append(m)
        return True
    path = _write(ws, m, sha, data)
    checkpoint("imap.saved")
    known.ledger.imap_record(outcome="saved", sha256=sha, file=path.relative_to(ws.root).as_posix(), **record)
    checkpoint("imap.recorded")
    known.digests.add(sha)
    if m.message_id:
        known.ids.add(m.message_id)
    report.saved.append(Saved(m, path, sha))
    return True


def _write(ws: Workspace, m: Message, sha: str, data: bytes) -> Path:
    """inbox/<date>_<sender>_<hash>.eml, atomically; a file of the same content already there (saved by a
    run killed before recording it) is used as it is."""
    folder = ws.root / INBOX
    for there in sorted(folder.glob(f"*_{sha[:16]}.eml")) if folder.is_dir() else ():
        if sha256_file(there) == sha:
            return there
    when = m.received or m.date
    stamp = when.astimezone(VN_TZ).strftime("%Y%m%d-%H%M%S") if when else "khong-ro-ngay"
    from tracker.model.registry import ascii_fold

    who = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_fold(m.sender.replace("@", "_at_"))).strip("-._")[:60]
    path = folder / f"{stamp}_{who or 'khong-ro'}_{sha[:16]}.eml"
    if path.exists():              # same name, other content: cannot happen short of a hash collision
        path = folder / f"{stamp}_{who or 'khong-ro'}_{sha}.eml"
    atomic_write_bytes(path, data)
    return path


def _move(client, s: ImapSettings, folder: str, uidvalidity: int, known: _Known, target: str,
          report: FetchReport) -> None:
    """Move the messages recorded (saved, or saved before) out of `folder`, once they are safe in inbox/."""
    import imaplib

    done = known.uids(folder, uidvalidity, ("saved", "already"))
    here = set(_call(client.search, ["ALL"])) & done
    if not here:
        return
    uids = sorted(here)
    try:
        if client.has_capability("MOVE"):
            _call(client.move, uids, target)
        else:
            _call(client.copy, uids, target)
            _call(client.add_flags, uids, [b"\\Deleted"], silent=True)
            _call(client.uid_expunge, uids)
        report.moved += len(uids)
    except imaplib.IMAP4.error as e:
        report.failed.append((folder, _("Đã lấy thư nhưng không chuyển được sang thư mục '{target}' trên máy chủ "
                                        "{where} ({reply}). Thư vẫn nằm ở '{folder}'; lần chạy sau thử chuyển lại.")
                              .format(target=target, where=s.where, reply=_reply_text(e), folder=folder)))


# ------------------------------------------------------------------ describing a message

def _describe(client, folder: str, uids: list[int]) -> list[Message]:
    """Size, dates, headers and attachment names of each message, without downloading it. A
    structure the library cannot parse is not a reason to miss a reply: such a message is taken as
    one with an attachment."""
    import imaplib

    header_key = f"BODY.PEEK[HEADER.FIELDS ({HEADER_FIELDS})]"
    try:
        rows = _call(client.fetch, uids, ["RFC822.SIZE", "INTERNALDATE", "BODYSTRUCTURE", header_key])
        structured = True
    except (imaplib.IMAP4.error, ValueError):
        rows = _call(client.fetch, uids, ["RFC822.SIZE", "INTERNALDATE", header_key])
        structured = False
    out = []
    for uid in uids:
        row = rows.get(uid)
        if row is None:
            continue
        headers = next((v for k, v in row.items() if k.startswith(b"BODY[HEADER")), b"") or b""
        m = _from_headers(folder, uid, headers)
        m.size = int(row.get(b"RFC822.SIZE") or 0)
        received = row.get(b"INTERNALDATE")
        m.received = received if isinstance(received, dt.datetime) and received.tzinfo else None
        if structured and b"BODYSTRUCTURE" in row:
            try:
                m.attachments = list(_attachments(row[b"BODYSTRUCTURE"]))
            except Exception:  # noqa: BLE001 - an odd structure from the server: look at it whole
                m.attachments = [_("(không đọc được cấu trúc thư)")]
        else:
            m.attachments = [_("(không đọc được cấu trúc thư)")]
        out.append(m)
    return out


def _from_headers(folder: str, uid: int, raw: bytes) -> Message:
    from email import policy
    from email.parser import BytesHeaderParser
    from email.utils import getaddresses, parsedate_to_datetime

    h = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
    m = Message(folder, uid, 0)
    m.subject = _decoded(h.get("Subject"))
    try:
        pairs = [a for _n, a in getaddresses([_decoded(h.get("From"))]) if a]
    except Exception:  # noqa: BLE001 - a malformed From header
        pairs = []
    m.sender = (pairs[0] if pairs else _decoded(h.get("From")))[:200]
    try:
        when = parsedate_to_datetime(str(h.get("Date"))) if h.get("Date") else None
        m.date = when if when is None or when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
    except (TypeError, ValueError, IndexError, OverflowError):
        m.date = None
    ids = _IDS.findall(str(h.get("Message-ID") or ""))
    m.message_id = ids[0] if ids else " ".join(str(h.get("Message-ID") or "").split())[:300]
    m.references = _IDS.findall(f"{h.get('In-Reply-To') or ''} {h.get('References') or ''}")
    return m


def _decoded(value) -> str:
    """A header as one line of text: RFC 2047 words decoded, raw 8-bit bytes read as UTF-8, control
    characters dropped. Never fails: it is shown to people, whatever a sender put there."""
    import unicodedata
    from email.header import decode_header, make_header

    if value is None:
        return ""
    try:
        text = str(make_header(decode_header(value)))
    except Exception:  # noqa: BLE001 - unknown charsets, 8-bit bytes, broken encoded words
        try:
            text = "".join(c.decode(_charset(cs), "replace") if isinstance(c, bytes) else c
                           for c, cs in decode_header(value))
        except Exception:  # noqa: BLE001
            text = str(value)
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", unicodedata.normalize("NFC", text)).split())[:300]


def _charset(name: str | None) -> str:
    import codecs

    try:
        return codecs.lookup(name).name if name and name != "unknown-8bit" else "utf-8"
    except LookupError:
        return "utf-8"


def _why(m: Message, known: _Known) -> list[str]:
    why = []
    if m.attachments:
        why.append("attachment")
    if m.sender.lower() in known.addresses:
        why.append("sender")
    if known.answers_ours(m.references):
        why.append("reply")
    return why


def _attachments(body, depth: int = 0):
    """Names of the attachments in a BODYSTRUCTURE: parts given as attachments, attached emails (and
    what they hold), named parts that are not pictures shown in the text (a signature's logo)."""
    if depth > 20 or not isinstance(body, (tuple, list)) or not body:
        return
    first = body[0]
    if isinstance(first, list):                     # multipart, as the library gives the top level
        for part in first:
            yield from _attachments(part, depth + 1)
        return
    if isinstance(first, tuple):                    # multipart nested in an attached email
        for part in body:
            if not isinstance(part, (tuple, list)):
                break
            yield from _attachments(part, depth + 1)
        return
    kind = _text(body[0]).lower()
    sub = _text(body[1]).lower() if len(body) > 1 else ""
    params = body[2] if len(body) > 2 else None
    at = 11 if (kind, sub) == ("message", "rfc822") else 9 if kind == "text" else 8
    disposition = body[at] if len(body) > at else None
    dtype = _text(disposition[0]).lower() if isinstance(disposition, tuple) and disposition else ""
    name = _part_name(params, disposition[1] if isinstance(disposition, tuple) and len(disposition) > 1 else None)
    if (kind, sub) == ("message", "rfc822"):
        yield name or _("thư đính kèm")
        if len(body) > 8:
            yield from _attachments(body[8], depth + 1)
        return
    if dtype == "attachment" or (name and kind != "image"):
        yield name or f"{kind}/{sub}"


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def _part_name(params, disposition_params) -> str:
    """filename (Content-Disposition) or name (Content-Type), RFC 2231 and RFC 2047 decoded."""
    from email.message import Message as EmailMessage

    for pairs, header in ((disposition_params, "Content-Disposition"), (params, "Content-Type")):
        if not isinstance(pairs, tuple) or len(pairs) < 2:
            continue
        items = [(_text(pairs[i]), _text(pairs[i + 1])) for i in range(0, len(pairs) - 1, 2)]
        msg = EmailMessage()
        value = "; ".join(f'{k}="{v.replace(chr(34), "")}"' for k, v in items)
        msg[header] = ("attachment; " if header == "Content-Disposition" else "application/octet-stream; ") + value
        try:
            name = msg.get_filename() if header == "Content-Disposition" else msg.get_param("name")
        except Exception:  # noqa: BLE001 - a malformed parameter
            name = None
        if isinstance(name, tuple):
            from email.utils import collapse_rfc2231_value

            name = collapse_rfc2231_value(name)
        if name:
            return _decoded(name)
    return ""


# ------------------------------------------------------------------ after the fetch

def pending(ws: Workspace) -> tuple[list[Pending], list[Pending]]:
    """(saved messages not yet given to merge whose file is in inbox/, those whose file is gone)."""
    if not ws.ledger_file.exists():
        return [], []
    from tracker.store.ledger import Ledger

    with Ledger(ws.ledger_file) as ledger:
        rows = ledger.imap_pending()
    there, gone = [], []
    for r in rows:
        p = Pending(r["id"], ws.root / r["file"], r["sender"], r["subject"])
        (there if p.path.is_file() else gone).append(p)
    return there, gone


def mark_merged(ws: Workspace, items: list[Pending]) -> None:
    """The saved messages were given to merge (whatever merge made of them)."""
    if not items:
        return
    from tracker.store.ledger import Ledger

    with Ledger(ws.ledger_file) as ledger:
        ledger.imap_merged([p.id for p in items])
