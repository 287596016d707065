"""`tracker mail fetch` against a real IMAP server (Dovecot on 127.0.0.1, see imap_server.py): replies
saved into inbox/ exactly once and merged, across a server killed mid-fetch, a fetch killed between
saving and recording, and a recreated folder (new UIDVALIDITY); the mailbox left as it was; every
fault a clear Vietnamese message."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from click.testing import CliRunner

import imap_server
from test_mail import with_emails
from tracker.cli import main
from tracker.demo.simulate import email_return, fill
from tracker.mail import imap
from tracker.mail.message import message_id
from tracker.model.errors import TrackerError
from tracker.stats import campaign_stats
from tracker.store.ledger import Ledger
from tracker.store.workspace import Workspace

if not imap_server.available():
    if os.environ.get("TRACKER_REQUIRE_DOVECOT"):
        raise RuntimeError("Dovecot (/usr/sbin/dovecot, Debian's dovecot-imapd) is required by "
                           "TRACKER_REQUIRE_DOVECOT=1 but is not installed")
    pytest.skip("Dovecot (dovecot-imapd) is not installed", allow_module_level=True)

AS_OF = dt.date(2026, 6, 10)
SENT = dt.datetime(2026, 6, 3, 9, 30)
STAFF = "canbo.tiepnhan@hanoi.gov.vn"
UNITS = ["so-khcn", "so-noivu", "so-xaydung", "so-yte", "xp-00070", "xp-00082", "xp-00004"]


# ------------------------------------------------------------------ the server and the mailboxes

@pytest.fixture(scope="module")
def dovecot():
    server = imap_server.Dovecot().start()
    yield server
    server.cleanup()


class Box:
    """One test user's mailbox, filled and looked at over IMAP by the test's own client."""

    def __init__(self, server: imap_server.Dovecot):
        self.server = server
        self.user, self.password = server.new_user()

    def client(self):
        return self.server.client(self.user)

    def append(self, data: bytes, folder: str = "INBOX", when: dt.datetime | None = None) -> None:
        c = self.client()
        try:
            if not c.folder_exists(folder):
                c.create_folder(folder)
            c.append(folder, data, msg_time=when)
        finally:
            c.logout()

    def state(self, folder: str = "INBOX") -> dict:
        """uid -> (flags, size): what a fetch must leave as it was."""
        c = self.client()
        try:
            c.select_folder(folder, readonly=True)
            return {uid: (tuple(sorted(v[b"FLAGS"])), v[b"RFC822.SIZE"])
                    for uid, v in c.fetch(c.search("ALL"), ["FLAGS", "RFC822.SIZE"]).items()}
        finally:
            c.logout()


@pytest.fixture
def box(dovecot):
    return Box(dovecot)


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory, generated_campaign) -> dict[str, dict[str, bytes]]:
    """Filled returns of a few units: an all-met first version and a second version."""
    ws = Workspace(generated_campaign)
    out = tmp_path_factory.mktemp("filled")
    made = {}
    for uid in UNITS:
        src = ws.outbox_path(ws.unit_by_id[uid])
        made[uid] = {"v1": fill(src, out / f"{uid}-1.xlsx", campaign=ws.campaign).read_bytes()}
    made["so-khcn"]["v2"] = fill(ws.outbox_path(ws.unit_by_id["so-khcn"]), out / "so-khcn-2.xlsx", "not_met",
                                 campaign=ws.campaign).read_bytes()
    return made


def address(uid: str) -> str:
    return f"{uid}@donvi.example.vn"        # what with_emails puts in units.csv


def reply(tmp_path: Path, workbook: bytes, sender: str, *, subject="Trả lời: phiếu xác nhận",
          name="Phiếu xác nhận.xlsx", sent: dt.datetime = SENT) -> bytes:
    """A unit's reply with its workbook attached, as a mail client sends it (tracker.demo.simulate)."""
    att = tmp_path / f"att-{hashlib.sha256(workbook + sender.encode() + subject.encode()).hexdigest()[:8]}.xlsx"
    att.write_bytes(workbook)
    eml = email_return(tmp_path / f"{att.stem}.eml", att, sender=sender, to="ttdlcns@hanoi.gov.vn", subject=subject,
                       body="Kính gửi Trung tâm, đơn vị gửi phiếu xác nhận.", sent=sent, attachment_name=name)
    return eml.read_bytes()


def forward(original: bytes, sender: str = STAFF) -> bytes:
    """The reply forwarded as an attachment (message/rfc822) by a colleague who received it."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "ttdlcns@hanoi.gov.vn", "Fwd: Trả lời: phiếu xác nhận"
    msg["Date"] = "Thu, 04 Jun 2026 08:00:00 +0700"
    msg["Message-ID"] = f"<fwd.{hashlib.sha256(original).hexdigest()[:12]}@hanoi.gov.vn>"
    msg.set_content("Chuyển tiếp thư đơn vị gửi nhầm địa chỉ.")
    msg.add_attachment(BytesParser(policy=policy.default).parsebytes(original))
    return msg.as_bytes()


def plain(sender: str, subject: str, *, in_reply_to: str = "", mid: str = "", body: str = "Nội dung.") -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "ttdlcns@hanoi.gov.vn", subject
    msg["Date"] = "Thu, 04 Jun 2026 10:00:00 +0700"
    if mid:
        msg["Message-ID"] = mid
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(body)
    return msg.as_bytes()


def with_logo(sender: str) -> bytes:
    """Unrelated mail whose only 'attachment' is the signature's logo, shown inline."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "ttdlcns@hanoi.gov.vn", "Lịch họp tuần"
    msg["Message-ID"] = "<lich-hop@so-khac.example.vn>"
    msg.set_content("Lịch họp")
    msg.add_alternative('<p>Lịch họp</p><img src="cid:logo">', subtype="html")
    msg.get_payload()[1].add_related(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, maintype="image", subtype="png",
                                     cid="<logo>", filename="image001.png", disposition="inline")
    return msg.as_bytes()


def campaign(ws: Workspace, box: Box, **conf) -> Workspace:
    """The campaign with units' emails and a [mail.imap] section for the test's mailbox (TLS checked
    against the test CA)."""
    ws = with_emails(ws)
    values = {"host": "127.0.0.1", "port": box.server.imaps_port, "user": box.user, "security": "ssl",
              "cafile": str(box.server.ca), **conf}
    lines = ["", "[mail.imap]"]
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, list):
            lines.append(f"{key} = [{', '.join(repr(v).replace(chr(39), chr(34)) for v in value)}]")
        elif isinstance(value, int):
            lines.append(f"{key} = {value}")
        else:
            lines.append(f'{key} = "{value}"')
    with open(ws.campaign_file, "a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return Workspace(ws.root)


def run(ws: Workspace, box: Box, *args, password: str | None = None):
    env = {"TRACKER_IMAP_PASSWORD": box.password if password is None else password}
    return CliRunner().invoke(main, ["mail", "fetch", "-C", str(ws.root), *args], env=env)


def settings(ws: Workspace, box: Box, **kw) -> imap.ImapSettings:
    s = imap.settings(ws, **kw)
    s.password = box.password
    return s


def inbox(ws: Workspace) -> list[Path]:
    folder = ws.root / "inbox"
    return sorted(folder.glob("*.eml")) if folder.is_dir() else []


def contents(ws: Workspace) -> list[str]:
    return sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox(ws))


def imap_rows(ws: Workspace) -> list:
    with Ledger(ws.ledger_file) as ledger:
        return ledger.db.execute("SELECT * FROM imap_messages ORDER BY id").fetchall()


def returns(ws: Workspace) -> list:
    with Ledger(ws.ledger_file) as ledger:
        return ledger.db.execute("SELECT * FROM returns WHERE outcome != 'duplicate' ORDER BY id").fetchall()


def returned_units(ws: Workspace) -> dict[str, str]:
    return {r.unit_id: r.status for r in campaign_stats(ws, as_of=AS_OF).rows
            if r.deadline_status in ("on_time", "late")}


def our_reminder_id(ws: Workspace, uid: str) -> str:
    """Record a reminder sent to a unit (as `tracker mail remind` does); its Message-ID."""
    unit = ws.unit_by_id[uid]
    mid = message_id(ws, "remind", "2026-06-01", unit, "hanoi.gov.vn")
    with Ledger(ws.ledger_file) as ledger:
        row = ledger.mail_begin(unit_id=uid, kind="remind", batch="2026-06-01", recipients=address(uid),
                                message_id=mid, attachment_sha256="0" * 64)
        ledger.mail_finish(row, "sent", None)
    return mid


# ------------------------------------------------------------------ the whole path

def test_fetch_saves_each_reply_once_merges_them_and_leaves_the_mailbox_as_it_was(ws, box, workbooks, tmp_path):
    ws = campaign(ws, box)
    first = reply(tmp_path, workbooks["so-khcn"]["v1"], address("so-khcn"))
    box.append(first)                                                            # a reply from a unit
    box.append(reply(tmp_path, workbooks["so-noivu"]["v1"], "vanthu.rieng@gmail.example.com"))  # unknown address
    box.append(forward(reply(tmp_path, workbooks["so-yte"]["v1"], address("so-yte"))))          # forwarded
    box.append(first)                                                            # the same message twice
    mid = our_reminder_id(ws, "xp-00070")
    box.append(plain("xa.bt@gmail.example.com", "Re: Nhắc nộp phiếu", in_reply_to=mid,           # answers ours,
                     body="Đơn vị sẽ gửi phiếu trong ngày mai."))                                # no attachment
    box.append(plain("tin.tuc@bao.example.vn", "Bản tin tuần", mid="<bt@bao.example.vn>"))        # unrelated
    box.append(with_logo("van.phong@so-khac.example.vn"))                                        # unrelated, logo
    box.append(reply(tmp_path, workbooks["so-khcn"]["v2"], address("so-khcn"), subject="Gửi lại bản đúng",
                     sent=SENT + dt.timedelta(days=1)))                                         # second version
    before = box.state()

    res = run(ws, box)
    # The reply to the reminder holds no workbook: merge refuses it (exit 1), saying what to ask for.
    assert res.exit_code == 1, res.output
    assert "Đã lấy 5 thư mới" in res.output and "1 thư đã lấy ở lần trước" in res.output
    assert "2 thư mới khác không phải thư trả lời" in res.output
    assert "không kèm tệp Excel" in res.output and "xa.bt@gmail.example.com" in res.output
    assert len(inbox(ws)) == 5 and len(set(contents(ws))) == 5
    assert returned_units(ws) == {"so-khcn": "not_accepted", "so-noivu": "accepted", "so-yte": "accepted"}
    assert "Đã nhận, thay bản trước" in res.output                  # the second version replaced the first
    # The sender reaches the merge (for the sender check): the From of each saved email.
    senders = {r["unit_id"]: r["sender"] for r in returns(ws) if r["unit_id"]}
    assert senders == {"so-khcn": address("so-khcn"), "so-noivu": "vanthu.rieng@gmail.example.com",
                       "so-yte": STAFF}
    # Nothing changed on the server: no message flagged \Seen, moved or deleted.
    assert box.state() == before
    assert len(before) == 8 and not any(b"\\Seen" in flags for flags, _ in before.values())

    # Run again: nothing new, nothing pending.
    res = run(ws, box)
    assert res.exit_code == 0, res.output
    assert "Đã lấy 0 thư mới" in res.output and "Ghép" not in res.output and len(inbox(ws)) == 5
    # A new reply arrives: only it is fetched.
    box.append(reply(tmp_path, workbooks["xp-00082"]["v1"], address("xp-00082")))
    res = run(ws, box)
    assert res.exit_code == 0, res.output
    assert "Đã lấy 1 thư mới" in res.output and len(inbox(ws)) == 6
    assert set(returned_units(ws)) == {"so-khcn", "so-noivu", "so-yte", "xp-00082"}
    assert [r["outcome"] for r in imap_rows(ws)].count("saved") == 6


def test_dry_run_lists_sender_date_subject_size_and_attachments_and_changes_nothing(ws, box, workbooks, tmp_path):
    ws = campaign(ws, box)
    box.append(reply(tmp_path, workbooks["xp-00070"]["v1"], address("xp-00070"), subject="Phiếu của phường"))
    box.append(plain("tin.tuc@bao.example.vn", "Bản tin tuần"))
    ledger_before = ws.ledger_file.read_bytes() if ws.ledger_file.exists() else None
    res = run(ws, box, "--dry-run")
    assert res.exit_code == 0, res.output
    assert "Chạy thử: sẽ lấy 1 thư" in res.output
    line = next(ln for ln in res.output.splitlines() if address("xp-00070") in ln)
    assert "03/06/2026 09:30" in line and "“Phiếu của phường”" in line and "KB" in line
    assert "Phiếu xác nhận.xlsx" in line                       # the attachment's name, decoded
    assert not (ws.root / "inbox").exists()
    assert (ws.ledger_file.read_bytes() if ws.ledger_file.exists() else None) == ledger_before


def test_library_reports_data_and_progress(ws, box, workbooks, tmp_path):
    ws = campaign(ws, box)
    for uid in UNITS[:3]:
        box.append(reply(tmp_path, workbooks[uid]["v1"], address(uid)))
    calls = []
    report = imap.fetch(ws, settings(ws, box), progress=lambda total=None, advance=0: calls.append((total, advance)))
    assert report.exit_code == 0 and len(report.saved) == 3
    assert calls[0] == (3, 0) and sum(a for _, a in calls) == 3
    saved = report.saved[0]
    assert saved.message.sender == address(UNITS[0]) and saved.message.why == ["attachment", "sender"]
    assert saved.path.parent == ws.root / "inbox" and saved.path.name.endswith(f"_{saved.sha256[:16]}.eml")
    assert hashlib.sha256(saved.path.read_bytes()).hexdigest() == saved.sha256
    there, gone = imap.pending(ws)
    assert [p.path for p in there] == [s.path for s in report.saved] and not gone
    res = run(ws, box, "--no-merge")
    assert res.exit_code == 0 and "3 thư đã lưu trong inbox/, chưa ghép" in res.output
    res = run(ws, box)
    assert res.exit_code == 0 and "Ghép 3 thư đã lấy về" in res.output
    assert imap.pending(ws) == ([], [])


# ------------------------------------------------------------------ exactly once

def test_server_killed_mid_fetch_keeps_what_was_saved_and_the_next_run_goes_on(ws, box, workbooks, tmp_path):
    ws = campaign(ws, box)
    for uid in UNITS[:6]:
        box.append(reply(tmp_path, workbooks[uid]["v1"], address(uid)))
    done = []

    def progress(total=None, advance=0):
        done.extend([1] * advance)
        if len(done) == 3:
            box.server.kill()                       # the server dies after the third message

    try:
        report = imap.fetch(ws, settings(ws, box), progress=progress)
    finally:
        if box.server.proc is None:
            box.server.start()
    assert report.exit_code == 1 and len(report.saved) == 3
    assert "Mất kết nối với máy chủ thư" in report.aborted and "'INBOX'" in report.aborted
    assert len(inbox(ws)) == 3
    res = run(ws, box)
    assert res.exit_code == 0, res.output
    assert "Đã lấy 3 thư mới" in res.output and "Ghép 6 thư" in res.output
    assert len(inbox(ws)) == 6 and len(set(contents(ws))) == 6
    assert set(returned_units(ws)) == set(UNITS[:6])


@pytest.mark.parametrize("point", ["imap.saved:2", "imap.recorded:3"])
def test_fetch_killed_between_saving_and_merging_neither_misses_nor_duplicates(ws, box, workbooks, tmp_path, point):
    ws = campaign(ws, box)
    for uid in UNITS[:4]:
        box.append(reply(tmp_path, workbooks[uid]["v1"], address(uid)))
    env = {**os.environ, "TRACKER_IMAP_PASSWORD": box.password, "TRACKER_KILL_AT": point}
    cmd = [sys.executable, "-m", "tracker", "mail", "fetch", "-C", str(ws.root)]
    killed = subprocess.run(cmd, env=env, capture_output=True, timeout=120)
    assert killed.returncode == -9, killed.stderr.decode()
    saved_before = len(inbox(ws))
    assert saved_before == int(point.split(":")[1])      # the file of the killed step is on disk
    env.pop("TRACKER_KILL_AT")
    again = subprocess.run(cmd, env=env, capture_output=True, timeout=120, text=True, encoding="utf-8")
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(inbox(ws)) == 4 and len(set(contents(ws))) == 4
    rows = imap_rows(ws)
    assert sorted(r["uid"] for r in rows) == [1, 2, 3, 4] and {r["outcome"] for r in rows} == {"saved"}
    assert all(r["merged_at"] for r in rows)
    assert set(returned_units(ws)) == set(UNITS[:4])
    assert len([r for r in returns(ws) if r["outcome"] == "accepted"]) == 4


def test_recreated_folder_new_uidvalidity_fetches_nothing_twice(ws, box, workbooks, tmp_path):
    folder = "Đơn vị trả lời"                     # a Vietnamese folder name (modified UTF-7 on the wire)
    ws = campaign(ws, box, folders=[folder])
    messages = [reply(tmp_path, workbooks[uid]["v1"], address(uid)) for uid in UNITS[:3]]
    no_id = plain(address("xp-00004"), "Phiếu", body="x")          # no Message-ID: known by its content only
    messages.append(no_id)
    for data in messages:
        box.append(data, folder)
    res = run(ws, box)
    assert res.exit_code == 1, res.output          # the message without a workbook is refused by merge
    assert "Đã lấy 4 thư mới" in res.output
    files, counts, merged = contents(ws), returned_units(ws), len(returns(ws))

    c = box.client()
    old = c.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"]
    c.delete_folder(folder)
    c.create_folder(folder)
    for data in messages:
        c.append(folder, data)
    new = c.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"]
    c.logout()
    assert new != old

    res = run(ws, box)
    assert res.exit_code == 0, res.output
    assert "UIDVALIDITY đổi" in res.output and "Đã lấy 0 thư mới" in res.output
    assert "4 thư đã lấy ở lần trước" in res.output
    assert contents(ws) == files and returned_units(ws) == counts and len(returns(ws)) == merged
    # A genuinely new message in the recreated folder is fetched.
    box.append(reply(tmp_path, workbooks["xp-00070"]["v1"], address("xp-00070")), folder)
    res = run(ws, box)
    assert "Đã lấy 1 thư mới" in res.output and len(inbox(ws)) == 5


def test_move_to_moves_only_the_fetched_messages(ws, box, workbooks, tmp_path):
    ws = campaign(ws, box)
    box.append(reply(tmp_path, workbooks["so-yte"]["v1"], address("so-yte")))
    box.append(plain("tin.tuc@bao.example.vn", "Bản tin tuần"))
    c = box.client()
    c.create_folder("Đã xử lý")
    c.logout()
    res = run(ws, box, "--move-to", "Đã xử lý")
    assert res.exit_code == 0, res.output
    assert "Đã chuyển 1 thư" in res.output
    assert len(box.state("INBOX")) == 1 and len(box.state("Đã xử lý")) == 1
    res = run(ws, box, "--move-to", "Không có")
    assert res.exit_code == 2 and "Không có thư mục 'Không có'" in res.output


# ------------------------------------------------------------------ faults

def test_wrong_password_is_clear_and_never_written(ws, box):
    ws = campaign(ws, box)
    res = run(ws, box, password="sai-mat-khau-123")
    assert res.exit_code == 1
    assert "từ chối đăng nhập" in res.output and box.user in res.output and "127.0.0.1" in res.output
    assert "Traceback" not in res.output and "sai-mat-khau-123" not in res.output


def test_password_is_never_written_to_disk_or_output(ws, box, workbooks, tmp_path):
    ws = campaign(ws, box)
    box.append(reply(tmp_path, workbooks["so-yte"]["v1"], address("so-yte")))
    res = run(ws, box)
    assert res.exit_code == 0, res.output
    assert box.password not in res.output
    for path in ws.root.rglob("*"):
        if path.is_file():
            assert box.password.encode() not in path.read_bytes(), path


def test_untrusted_certificate_is_refused_unless_insecure(ws, box, workbooks, tmp_path):
    ws = campaign(ws, box, cafile=None)         # the server's certificate is from a CA the system does not know
    box.append(reply(tmp_path, workbooks["so-yte"]["v1"], address("so-yte")))
    res = run(ws, box)
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "Không tin được chứng chỉ TLS của máy chủ thư 127.0.0.1" in res.output and "cafile" in res.output
    assert not inbox(ws)
    res = run(ws, box, "--insecure")
    assert res.exit_code == 0, res.output
    assert "không kiểm tra chứng chỉ" in res.output and len(inbox(ws)) == 1


def test_missing_folder_is_named_with_the_folders_there_and_the_others_are_fetched(ws, box, workbooks, tmp_path):
    ws = campaign(ws, box, folders=["INBOX", "Tra loi"])
    box.append(reply(tmp_path, workbooks["so-yte"]["v1"], address("so-yte")))
    res = run(ws, box)
    assert res.exit_code == 1
    assert "Không có thư mục 'Tra loi' trên máy chủ thư 127.0.0.1" in res.output and "'INBOX'" in res.output
    assert len(inbox(ws)) == 1 and set(returned_units(ws)) == {"so-yte"}


def test_oversized_message_is_skipped_with_a_notice_and_left_on_the_server(ws, box, workbooks, tmp_path):
    ws = campaign(ws, box)
    box.append(reply(tmp_path, workbooks["so-yte"]["v1"], address("so-yte")))
    big = reply(tmp_path, workbooks["so-noivu"]["v1"] + b"\0" * 300_000, address("so-noivu"), name="lon.xlsx")
    box.append(big)
    report = imap.fetch(ws, settings(ws, box), max_bytes=200_000)
    assert report.exit_code == 1 and len(report.saved) == 1
    [m] = report.too_large
    assert m.sender == address("so-noivu") and m.size > 200_000
    assert len(inbox(ws)) == 1
    # Not downloaded again, not reported again.
    again = imap.fetch(ws, settings(ws, box), max_bytes=200_000)
    assert not again.saved and not again.too_large and again.exit_code == 0


def test_malformed_messages_are_saved_and_refused_by_merge_without_a_traceback(ws, box):
    ws = campaign(ws, box)
    broken = (b"From: =?utf-8?B?!!!?= <" + address("xp-00004").encode() + b">\r\n"
              b"Subject: \xff\xfe Phi\xe1\xba\xbfu \x00 h\xe1\r\nDate: not a date\r\n"
              b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n"
              b"--zz\r\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; "
              b"name=\"=?x-unknown?Q?abc?=\"\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@not base64@@@\r\n")
    box.append(broken)
    box.append(b"\x00\x01garbage without headers\r\n\r\n\xff")
    res = run(ws, box, "--dry-run")
    assert res.exit_code == 0 and "Traceback" not in res.output and "sẽ lấy 1 thư" in res.output
    res = run(ws, box)
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output and "Lỗi không mong đợi" not in res.output
    assert len(inbox(ws)) == 1 and "Từ chối" in res.output


def test_starttls_and_plain_connections(ws, box, workbooks, tmp_path):
    ws = campaign(ws, box, port=box.server.imap_port, security="starttls")
    box.append(reply(tmp_path, workbooks["so-yte"]["v1"], address("so-yte")))
    res = run(ws, box)
    assert res.exit_code == 0, res.output
    assert "không mã hóa" not in res.output and len(inbox(ws)) == 1
    box.append(reply(tmp_path, workbooks["xp-00070"]["v1"], address("xp-00070")))
    res = run(ws, box, "--security", "none")
    assert res.exit_code == 0, res.output
    assert "kết nối không mã hóa" in res.output and len(inbox(ws)) == 2
    # TLS spoken to the plain port: a clear message, not a traceback.
    res = run(ws, box, "--security", "ssl")
    assert res.exit_code == 1 and "Lỗi mã hóa TLS" in res.output


def test_vietnamese_password_logs_in(ws, dovecot, workbooks, tmp_path):
    box = Box(dovecot)
    box.user, box.password = "vn", dovecot.users["vn"]
    ws = campaign(ws, box)
    res = run(ws, box, "--dry-run")
    assert res.exit_code == 0, res.output


def test_settings_and_password_errors_are_usage_errors(ws, box):
    res = CliRunner().invoke(main, ["mail", "fetch", "-C", str(ws.root)], env={"TRACKER_IMAP_PASSWORD": "x"})
    assert res.exit_code == 2 and "Chưa có host, user của máy chủ nhận thư (IMAP)" in res.output
    ws = campaign(ws, box, security="tls")
    res = run(ws, box)
    assert res.exit_code == 2 and "Kiểu mã hóa 'tls' không có" in res.output
    res = CliRunner().invoke(main, ["mail", "fetch", "-C", str(ws.root), "--security", "ssl"],
                             env={"TRACKER_IMAP_PASSWORD": None})
    assert res.exit_code == 2 and "TRACKER_IMAP_PASSWORD" in res.output


def test_connection_refused_is_clear(ws, box):
    ws = campaign(ws, box, port=imap_server.free_port())
    with pytest.raises(TrackerError, match="máy chủ từ chối kết nối"):
        imap.fetch(ws, settings(ws, box))


def test_password_from_the_os_keyring(ws, box):
    """With no TRACKER_IMAP_PASSWORD, the password kept in the OS keyring (service tracker-imap, user
    USER@HOST) is used; here a keyring backend that keeps it in memory stands for the OS's."""
    import keyring
    from keyring.backend import KeyringBackend

    class InMemory(KeyringBackend):
        priority = 1

        def __init__(self):
            super().__init__()
            self.items = {}

        def get_password(self, service, username):
            return self.items.get((service, username))

        def set_password(self, service, username, password):
            self.items[(service, username)] = password

        def delete_password(self, service, username):
            self.items.pop((service, username), None)

    ws = campaign(ws, box)
    before = keyring.get_keyring()
    keyring.set_keyring(InMemory())
    try:
        keyring.set_password(imap.KEYRING_SERVICE, f"{box.user}@127.0.0.1", box.password)
        res = CliRunner().invoke(main, ["mail", "fetch", "-C", str(ws.root), "--dry-run"],
                                 env={"TRACKER_IMAP_PASSWORD": None})
        assert res.exit_code == 0, res.output
        assert "Chạy thử: sẽ lấy 0 thư" in res.output
    finally:
        keyring.set_keyring(before)


def test_since_leaves_older_mail_and_an_earlier_since_fetches_what_it_left(ws, box, workbooks, tmp_path):
    ws = campaign(ws, box)
    our_reminder_id(ws, "xp-00070")              # tracker's first email: no reply is older than the day before
    vn = dt.timezone(dt.timedelta(hours=7))
    box.append(reply(tmp_path, workbooks["so-yte"]["v1"], address("so-yte")),
               when=dt.datetime(2025, 11, 20, 9, 0, tzinfo=vn))       # last year's mail, received long ago
    box.append(reply(tmp_path, workbooks["so-noivu"]["v1"], address("so-noivu")))
    res = run(ws, box)
    assert res.exit_code == 0, res.output
    assert "ngày trước thư đầu tiên tracker gửi" in res.output and "Đã lấy 1 thư mới" in res.output
    assert set(returned_units(ws)) == {"so-noivu"}
    res = run(ws, box, "--since", "01/11/2025")
    assert res.exit_code == 0, res.output
    assert "Chỉ xét thư nhận từ ngày 01/11/2025." in res.output and "Đã lấy 1 thư mới" in res.output
    assert set(returned_units(ws)) == {"so-noivu", "so-yte"} and len(inbox(ws)) == 2
    res = run(ws, box, "--since", "01/11/2025")
    assert "Đã lấy 0 thư mới" in res.output and len(inbox(ws)) == 2
