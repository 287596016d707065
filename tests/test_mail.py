"""Email: drafts, sending over SMTP (aiosmtpd on 127.0.0.1), exactly-once across a killed sender,
reminders, and saved emails (.eml, .msg) given to merge."""
from __future__ import annotations

import collections
import csv
import datetime as dt
import hashlib
import io
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner
from fill import fill

from tracker import mail
from tracker.cli import main
from tracker.model.errors import TrackerError
from tracker.intake import saved_email as email_source
from tracker.store.ledger import Ledger
from tracker.api import merge
from tracker.store.workspace import Workspace

SENDER = "ttdlcns@hanoi.gov.vn"
KILLED = 1 if os.name == "nt" else -signal.SIGKILL      # Popen.kill(): TerminateProcess(1) on Windows
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# ------------------------------------------------------------------ helpers

def with_emails(ws: Workspace, emails: dict[str, str] | None = None, default=lambda uid: f"{uid}@donvi.example.vn"):
    """Write emails into the campaign's units.csv (header kept); a new Workspace re-reads it."""
    raw = ws.registry_file.read_bytes().decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(raw))
    rows = list(reader)
    for row in rows:
        value = (emails or {}).get(row["id"])
        row["email"] = value if value is not None else (default(row["id"]) if default else "")
    buf = io.StringIO()
    w = csv.DictWriter(buf, reader.fieldnames, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    ws.registry_file.write_text(buf.getvalue(), encoding="utf-8")
    return Workspace(ws.root)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Store:
    """aiosmtpd handler keeping every accepted message."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.lock = threading.Lock()
        self.refuse: set[str] = set()
        self.on_data = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            n = len(self.messages)
        if self.on_data:
            self.on_data(n)       # runs before the 250 reply goes out
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def parsed(self):
        with self.lock:
            return [BytesParser(policy=policy.compat32).parsebytes(m[2]) for m in self.messages]

    def units(self) -> collections.Counter:
        return collections.Counter(m["X-Tracker-Unit"] for m in self.parsed())


@pytest.fixture
def smtpd():
    store = Store()
    ctl = Controller(store, hostname="127.0.0.1", port=free_port(), ready_timeout=10)
    ctl.start()
    store.port = ctl.port
    yield store
    ctl.stop()


def decoded(value) -> str:
    return str(make_header(decode_header(value)))


def attachments(msg) -> list[tuple[str, str, bytes]]:
    return [(p.get_filename(), p.get_content_type(), p.get_payload(decode=True))
            for p in msg.walk() if p.get_filename()]


def body(msg) -> str:
    for p in msg.walk():
        if p.get_content_type() == "text/plain":
            return p.get_payload(decode=True).decode("utf-8")
    return ""


def mail_rows(ws: Workspace) -> list:
    if not ws.ledger_file.exists():
        return []
    with Ledger(ws.ledger_file) as ledger:
        return ledger.db.execute("SELECT * FROM mail ORDER BY id").fetchall()


def settings(port) -> mail.SmtpSettings:
    return mail.SmtpSettings("127.0.0.1", port, timeout=10)


# ------------------------------------------------------------------ drafts

def test_draft_one_eml_per_unit_with_email_and_lists_the_others(ws):
    blank = {"so-yte": "", "xp-00070": ""}
    ws = with_emails(ws, {**blank, "so-noivu": "vanthu@sonoivu.example.vn; giamdoc@sonoivu.example.vn"})
    res = mail.draft(ws, from_addr=SENDER, today=dt.date(2026, 6, 1))
    assert len(res.written) == 134
    assert sorted(u.id for u in res.no_email) == sorted(blank)
    assert all(p.parent == ws.drafts / "invite" for p in res.written)
    unit = ws.unit_by_id["so-noivu"]
    path = ws.drafts / "invite" / f"{unit.file_stem}.eml"
    raw = path.read_bytes()
    msg = BytesParser(policy=policy.compat32).parsebytes(raw)
    assert decoded(msg["Subject"]) == f"{ws.campaign.section('campaign')['subject']} – Sở Nội vụ"
    assert decoded(msg["To"]) == ("Sở Nội vụ <vanthu@sonoivu.example.vn>, Sở Nội vụ <giamdoc@sonoivu.example.vn>")
    assert msg["X-Tracker-Campaign"] == "hanoi-ttdt-2026" and msg["X-Tracker-Unit"] == "so-noivu"
    assert msg["X-Unsent"] == "1"
    text = body(msg)
    assert "Kính gửi: Sở Nội vụ." in text
    # due date, in one style with the letter's (Nghị định 30: no leading zero on month 6)
    assert "trước ngày 06/6/2026 (hạn cuối nhận: ngày 05/6/2026)" in text
    assert "bằng cách trả lời (Reply) thư này" in text                # where to send: no support email set
    assert "Bắt buộc gửi tệp Excel (.xlsx) đã điền; đề nghị gửi kèm bản scan" in text   # what to send
    assert "Nguyễn Thị Thanh Vân" in text and "0988755769" in text      # whom to call
    [(name, ctype, data)] = attachments(msg)
    assert name == ws.outbox_path(unit).name and ctype == "/".join(XLSX)
    assert data == ws.outbox_path(unit).read_bytes()
    # Every header line is ASCII (UTF-8 only inside encoded words) and folded.
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and max(len(x) for x in head.split(b"\r\n")) <= 78
    # Communes are addressed as their People's Committee, the kind of unit in lower case mid-sentence.
    xa = BytesParser(policy=policy.compat32).parsebytes(
        (ws.drafts / "invite" / f"{ws.unit_by_id['xp-00082'].file_stem}.eml").read_bytes())
    assert "Kính gửi: UBND phường Cửa Nam." in body(xa)
    xa = BytesParser(policy=policy.compat32).parsebytes(
        (ws.drafts / "invite" / f"{ws.unit_by_id['xp-00382'].file_stem}.eml").read_bytes())
    assert "Kính gửi: UBND xã Kim Anh." in body(xa)


def test_the_invitation_says_where_to_send_and_whether_the_scan_is_required(ws):
    """With the support email set, units are told to send there; [submission].signed_scan says
    whether the signed scan is required beside the .xlsx (which always is)."""
    toml = ws.campaign_file.read_text(encoding="utf-8")
    toml = toml.replace('email = ""', 'email = "xacnhan@ttdl.example.vn"', 1)
    toml = toml.replace('signed_scan = "requested"', 'signed_scan = "required"', 1)
    ws.campaign_file.write_text(toml, encoding="utf-8")
    ws = with_emails(Workspace(ws.root), {"so-yte": "vanthu@soyte.example.vn"}, default=None)
    mail.draft(ws, from_addr=SENDER, today=dt.date(2026, 6, 1))
    msg = BytesParser(policy=policy.compat32).parsebytes(
        (ws.drafts / "invite" / f"{ws.unit_by_id['so-yte'].file_stem}.eml").read_bytes())
    text = " ".join(body(msg).split())
    assert "qua thư điện tử tới địa chỉ xacnhan@ttdl.example.vn" in text
    assert "trả lời (Reply) thư này" not in text
    assert "Bắt buộc gửi cả tệp Excel (.xlsx) đã điền và bản scan biên bản đã ký, đóng dấu (tệp PDF)" in text
    assert "email: xacnhan@ttdl.example.vn" in text                     # and in the contact line


def test_long_vietnamese_subject_and_names_decode_with_their_spaces(ws):
    ws = with_emails(ws)
    unit = ws.unit_by_id["bqlda-giaothong"]
    out = mail.build(ws, unit, "invite", "b", dt.date(2026, 6, 1), ("Trung tâm Truyền thông, Dữ liệu và Công nghệ số "
                                                                   "Thành phố", SENDER))
    msg = BytesParser(policy=policy.compat32).parsebytes(out.as_bytes())
    assert decoded(msg["Subject"]).endswith("của cơ quan, đơn vị trong Thành phố – " + unit.name)
    assert "hiện trạng triển khai" in decoded(msg["Subject"])
    assert decoded(msg["To"]) == f"{unit.name} <bqlda-giaothong@donvi.example.vn>"
    assert decoded(msg["From"]).startswith("Trung tâm Truyền thông, Dữ liệu và Công nghệ số Thành phố <")


def test_campaign_folder_overrides_a_mail_text(ws):
    ws = with_emails(ws)
    (ws.root / "mail-invite.txt").write_text("## ghi chú\nTiêu đề: Thư riêng {unit}\n\nHạn {due}.\n", encoding="utf-8")
    out = mail.build(ws, ws.unit_by_id["so-yte"], "invite", "b", dt.date(2026, 6, 1), None)
    msg = BytesParser(policy=policy.compat32).parsebytes(out.as_bytes())
    assert decoded(msg["Subject"]) == "Thư riêng Sở Y tế"
    assert body(msg) == "Hạn 05/6/2026.\n"
    (ws.root / "mail-invite.txt").write_text("Tiêu đề: {khong_co}\n\nx\n", encoding="utf-8")
    with pytest.raises(TrackerError, match="khong_co"):
        mail.build(ws, ws.unit_by_id["so-yte"], "invite", "b", dt.date(2026, 6, 1), None)


def test_sender_required_for_sending(ws, monkeypatch):
    ws = with_emails(ws)
    monkeypatch.delenv(mail.FROM_ENV, raising=False)
    with pytest.raises(TrackerError, match="--from"):
        mail.send(ws, settings(1), dry_run=True)
    monkeypatch.setenv(mail.FROM_ENV, "Trung tâm <ttdlcns@hanoi.gov.vn>")
    assert mail.sender(ws) == ("Trung tâm", SENDER)


# ------------------------------------------------------------------ sending

def test_send_to_136_units_delivers_136_exact_messages_once(ws, smtpd):
    ws = with_emails(ws, {"so-noivu": "vanthu@sonoivu.example.vn; giamdoc@sonoivu.example.vn"})
    report = mail.send(ws, settings(smtpd.port), from_addr=SENDER, rate=0)
    assert len(report.sent) == 136 and not report.failed and report.exit_code == 0
    msgs = smtpd.parsed()
    assert len(msgs) == 136
    by_unit = {m["X-Tracker-Unit"]: m for m in msgs}
    assert len(by_unit) == 136
    subject = ws.campaign.section("campaign")["subject"]
    for unit in ws.units:
        m = by_unit[unit.id]
        [(name, ctype, data)] = attachments(m)
        assert data == ws.outbox_path(unit).read_bytes(), unit.id          # byte-identical
        assert name == ws.outbox_path(unit).name and ctype == "/".join(XLSX)
        assert decoded(m["Subject"]) == f"{subject} – {unit.name}"
        assert m["X-Unsent"] is None
    assert decoded(by_unit["so-noivu"]["To"]) == ("Sở Nội vụ <vanthu@sonoivu.example.vn>, "
                                                  "Sở Nội vụ <giamdoc@sonoivu.example.vn>")
    envelopes = {decoded(m["X-Tracker-Unit"]): (frm, rcpts) for (frm, rcpts, _), m in zip(smtpd.messages, msgs)}
    assert envelopes["so-noivu"] == (SENDER, ["vanthu@sonoivu.example.vn", "giamdoc@sonoivu.example.vn"])
    assert envelopes["xp-00070"] == (SENDER, ["xp-00070@donvi.example.vn"])
    assert len({m["Message-ID"].strip() for m in msgs}) == 136
    rows = mail_rows(ws)
    assert len(rows) == 136 and {r["status"] for r in rows} == {"sent"}
    assert {r["message_id"] for r in rows} == {m["Message-ID"].strip() for m in msgs}
    assert all(r["attachment_sha256"] == hashlib.sha256(ws.outbox_path(ws.unit_by_id[r["unit_id"]]).read_bytes())
               .hexdigest() for r in rows)
    # Run again: nothing left to send.
    again = mail.send(ws, settings(smtpd.port), from_addr=SENDER, rate=0)
    assert not again.sent and len(again.already) == 136 and smtpd.count() == 136


def test_dry_run_sends_and_records_nothing(ws, smtpd):
    ws = with_emails(ws, {"so-yte": ""})
    res = CliRunner().invoke(main, ["mail", "send", "-C", str(ws.root), "--from", SENDER, "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "Chạy thử: sẽ gửi 135 thư mời" in res.output
    assert "so-yte: Sở Y tế" in res.output                 # the unit without an email is listed
    assert smtpd.count() == 0 and mail_rows(ws) == []


def test_limit_then_resume_and_rate_limit(ws, smtpd):
    ws = with_emails(ws)
    first = mail.send(ws, settings(smtpd.port), from_addr=SENDER, rate=0, limit=3)
    assert len(first.sent) == 3 and len(first.not_attempted) == 133
    waits = []
    rest = mail.send(ws, settings(smtpd.port), from_addr=SENDER, rate=120, only=[u.id for u in ws.units[:8]],
                     sleep=waits.append)
    assert len(rest.sent) == 5 and len(rest.already) == 3
    # 120 a minute: each message after the first waits until half a second after the previous one.
    assert len(waits) == 4 and all(0 < w <= 0.5 for w in waits)
    assert smtpd.count() == 8 and len(smtpd.units()) == 8


def test_refused_recipient_fails_that_unit_only_and_is_retried(ws, smtpd):
    ws = with_emails(ws, {"xp-00070": "khongco@donvi.example.vn"})
    smtpd.refuse.add("khongco@donvi.example.vn")
    report = mail.send(ws, settings(smtpd.port), from_addr=SENDER, rate=0)
    assert [u.id for u, _ in report.failed] == ["xp-00070"] and "550" in report.failed[0][1].message
    assert len(report.sent) == 135 and report.exit_code == 1
    status = mail.mail_status(ws, "invite", ws.campaign.id)
    assert status["xp-00070"]["status"] == "failed"
    smtpd.refuse.clear()
    again = mail.send(ws, settings(smtpd.port), from_addr=SENDER, rate=0)
    assert [u.id for u, _ in again.sent] == ["xp-00070"]
    assert smtpd.count() == 136 and set(smtpd.units().values()) == {1}


def test_authentication_failure_is_clear_and_marks_nothing(ws, monkeypatch):
    ws = with_emails(ws)
    store = Store()

    def reject(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False)

    ctl = Controller(store, hostname="127.0.0.1", port=free_port(), authenticator=reject, auth_require_tls=False,
                     ready_timeout=10)
    ctl.start()
    try:
        monkeypatch.setenv(mail.PASSWORD_ENV, "sai-mat-khau")
        res = CliRunner().invoke(main, ["mail", "send", "-C", str(ws.root), "--host", "127.0.0.1", "--port",
                                        str(ctl.port), "--user", "ttdlcns", "--from", SENDER])
    finally:
        ctl.stop()
    assert res.exit_code == 1
    assert "từ chối đăng nhập của 'ttdlcns'" in res.output and "535" in res.output
    assert "Chưa gửi thư nào" in res.output and "Traceback" not in res.output
    assert store.count() == 0 and not [r for r in mail_rows(ws) if r["status"] == "sent"]
    assert "sai-mat-khau" not in res.output


def test_connection_refused_is_clear_and_marks_nothing(ws):
    ws = with_emails(ws)
    port = free_port()          # nobody listens there
    with pytest.raises(TrackerError, match="từ chối kết nối") as e:
        mail.send(ws, settings(port), from_addr=SENDER, rate=0)
    assert f"127.0.0.1:{port}" in str(e.value)
    assert mail_rows(ws) == []


def test_silent_server_times_out_clearly(ws):
    ws = with_emails(ws)
    with socket.socket() as silent:          # accepts the connection, never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        slow = mail.SmtpSettings("127.0.0.1", silent.getsockname()[1], timeout=1)
        with pytest.raises(TrackerError, match="không trả lời sau 1 giây"):
            mail.send(ws, slow, from_addr=SENDER, rate=0)
    assert mail_rows(ws) == []


def test_password_is_never_a_flag(ws):
    res = CliRunner().invoke(main, ["mail", "send", "-C", str(ws.root), "--password", "x"])
    assert res.exit_code == 2


def _sender_cmd(ws, port, *extra):
    return [sys.executable, "-m", "tracker", "mail", "send", "-C", str(ws.root), "--host", "127.0.0.1",
            "--port", str(port), "--from", SENDER, "--rate", "0", *extra]


def _run(cmd):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    return subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", env=env, timeout=120)


def test_sender_killed_as_the_server_accepts_delivers_each_unit_exactly_once(ws, smtpd):
    """The worst moment: the server has the message, the sender dies before hearing '250'."""
    ws = with_emails(ws)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen(_sender_cmd(ws, smtpd.port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env)
    kill_at = 40
    smtpd.on_data = lambda n: proc.kill() if n == kill_at else None
    assert proc.wait(timeout=120) == KILLED
    smtpd.on_data = None
    assert smtpd.count() == kill_at
    status = mail.mail_status(ws, "invite", ws.campaign.id)
    left = [u for u, s in status.items() if s["status"] == "sending"]
    caught = smtpd.parsed()[-1]["X-Tracker-Unit"]
    assert left == [caught] and sum(s["status"] == "sent" for s in status.values()) == kill_at - 1
    # Run again: the rest is sent; the unconfirmed unit is not sent twice, it is reported.
    second = _run(_sender_cmd(ws, smtpd.port))
    assert second.returncode == 1, second.stdout + second.stderr
    assert caught in second.stdout and "--mark-sent" in second.stdout
    assert smtpd.count() == 136
    units = smtpd.units()
    assert len(units) == 136 and set(units.values()) == {1}
    # The staff checked: it arrived.
    third = _run(_sender_cmd(ws, smtpd.port, "--mark-sent", caught))
    assert third.returncode == 0, third.stdout + third.stderr
    fourth = _run(_sender_cmd(ws, smtpd.port))
    assert fourth.returncode == 0 and "136 đơn vị đã được gửi" in fourth.stdout
    assert smtpd.count() == 136
    assert len({m["Message-ID"] for m in smtpd.parsed()}) == 136


def test_sender_killed_at_a_random_moment_then_rerun_delivers_each_unit_exactly_once(ws, smtpd):
    ws = with_emails(ws)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen(_sender_cmd(ws, smtpd.port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env)
    deadline = time.monotonic() + 120
    while smtpd.count() < 50 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    proc.kill()
    proc.wait(timeout=30)
    delivered_before = smtpd.count()
    assert 50 <= delivered_before < 136
    second = _run(_sender_cmd(ws, smtpd.port))
    status = mail.mail_status(ws, "invite", ws.campaign.id)
    unconfirmed = [u for u, s in status.items() if s["status"] == "sending"]
    assert second.returncode == (1 if unconfirmed else 0), second.stdout + second.stderr
    for uid in unconfirmed:              # at most one: the message in flight when the kill landed
        assert uid in second.stdout
    assert len(unconfirmed) <= 1
    # Nothing was sent twice by the rerun, whatever the moment of the kill.
    assert max(smtpd.units().values()) == 1
    # The staff resolve the unconfirmed unit as the report tells them.
    for uid in unconfirmed:
        if smtpd.units()[uid]:
            assert _run(_sender_cmd(ws, smtpd.port, "--mark-sent", uid)).returncode == 0
        else:
            assert _run(_sender_cmd(ws, smtpd.port, "--resend-unconfirmed", "--unit", uid)).returncode == 0
    units = smtpd.units()
    assert len(units) == 136 and set(units.values()) == {1}
    assert {s["status"] for s in mail.mail_status(ws, "invite", ws.campaign.id).values()} == {"sent"}


def test_unconfirmed_unit_is_resent_only_on_request_with_the_same_message_id(ws, smtpd):
    ws = with_emails(ws)
    first = mail.send(ws, settings(smtpd.port), from_addr=SENDER, rate=0, only=["so-yte", "so-noivu"])
    assert len(first.sent) == 2
    with Ledger(ws.ledger_file) as ledger, ledger.transaction() as db:     # as a kill would leave it
        db.execute("UPDATE mail SET status='sending' WHERE unit_id='so-yte'")
    again = mail.send(ws, settings(smtpd.port), from_addr=SENDER, rate=0, only=["so-yte", "so-noivu"])
    assert not again.sent and [u.id for u, _ in again.unconfirmed] == ["so-yte"] and again.exit_code == 1
    with pytest.raises(TrackerError, match="so-noivu"):
        mail.mark_sent(ws, "invite", ws.campaign.id, ["so-noivu"])      # already sent: nothing to confirm
    for lang, words in (("vi", "'chưa rõ đã gửi'. Không phải: so-noivu (đã gửi), so-khcn (chưa gửi)."),
                        ("en", "can be confirmed. These are not: so-noivu (sent), so-khcn (not sent).")):
        res = CliRunner().invoke(main, ["--lang", lang, "mail", "send", "-C", str(ws.root), "--mark-sent", "so-noivu",
                                        "--mark-sent", "so-khcn"])
        assert res.exit_code == 2 and words in res.output, res.output
    resent = mail.send(ws, settings(smtpd.port), from_addr=SENDER, rate=0, only=["so-yte"], resend_unconfirmed=True)
    assert [u.id for u, _ in resent.sent] == ["so-yte"]
    ids = [m["Message-ID"] for m in smtpd.parsed() if m["X-Tracker-Unit"] == "so-yte"]
    assert len(ids) == 2 and ids[0] == ids[1]


# ------------------------------------------------------------------ reminders

def test_remind_targets_units_without_a_valid_return_before_and_after_due(ws, smtpd, outbox, tmp_path):
    ws = with_emails(ws)
    done = ["so-yte", "xp-00070"]
    paths = [fill(outbox[uid], tmp_path / "in" / f"{uid}.xlsx") for uid in done]
    report = merge(ws, paths, received=dt.date(2026, 6, 2), report=False)
    assert [f.outcome for f in report.files] == ["accepted", "accepted"]
    before = mail.send(ws, settings(smtpd.port), "remind", SENDER, today=dt.date(2026, 6, 3), rate=0)
    assert len(before.sent) == 134 and not set(done) & {u.id for u, _ in before.sent}
    m = next(x for x in smtpd.parsed() if x["X-Tracker-Unit"] == "xp-00082")
    assert decoded(m["Subject"]).startswith("Nhắc: ") and m["X-Tracker-Kind"] == "remind"
    assert "còn 2 ngày" in body(m) and "Đến ngày 03/6/2026" in body(m)
    assert attachments(m)[0][2] == outbox["xp-00082"].read_bytes()
    # One reminder per unit per day.
    same_day = mail.send(ws, settings(smtpd.port), "remind", SENDER, today=dt.date(2026, 6, 3), rate=0)
    assert not same_day.sent and len(same_day.already) == 134
    after = mail.send(ws, settings(smtpd.port), "remind", SENDER, today=dt.date(2026, 6, 8), rate=0,
                      only=["xp-00082", "xp-00070"])
    assert [u.id for u, _ in after.sent] == ["xp-00082"]
    late = smtpd.parsed()[-1]
    assert "quá hạn" in decoded(late["Subject"]) and "đã quá hạn 3 ngày" in body(late)
    assert smtpd.count() == 135


def test_remind_draft_cli(ws):
    ws = with_emails(ws, {"so-yte": ""})
    res = CliRunner().invoke(main, ["mail", "remind", "-C", str(ws.root), "--draft", "--as-of", "01/06/2026"])
    assert res.exit_code == 0, res.output
    assert len(list((ws.drafts / "remind").glob("*.eml"))) == 135
    assert "so-yte: Sở Y tế" in res.output


# ------------------------------------------------------------------ saved emails given to merge

def make_eml(path: Path, parts, date="Fri, 05 Jun 2026 09:15:00 +0700",
             sender="Văn thư UBND <vanthu@donvi.example.vn>", subject="Gửi lại biểu mẫu xác nhận") -> Path:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"], m["Date"] = sender, SENDER, subject, date
    m.set_content("Kính gửi Trung tâm, đơn vị gửi lại biểu mẫu đã điền.")
    for name, data, mime in parts:
        if isinstance(data, EmailMessage):
            m.add_attachment(data)
        else:
            m.add_attachment(data, maintype=mime[0], subtype=mime[1], filename=name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(m.as_bytes(policy=policy.SMTP))
    return path


def returns(ws) -> list:
    with Ledger(ws.ledger_file) as ledger:
        return ledger.returns()


def test_filled_return_in_eml_merges_with_the_email_date_and_sender(ws, outbox, tmp_path):
    filled = fill(outbox["xp-00070"], tmp_path / "f.xlsx").read_bytes()
    eml = make_eml(tmp_path / "inbox" / "thu.eml", [("bien-ban.xlsx", filled, XLSX)])
    report = merge(ws, [eml], report=False)
    [f] = report.files
    assert f.outcome == "accepted" and f.unit_id == "xp-00070" and f.received == dt.date(2026, 6, 5)
    assert f.name == "thu.eml › bien-ban.xlsx"
    [r] = returns(ws)
    assert (r["received_at"], r["received_source"], r["sender"]) == ("2026-06-05", "email", "vanthu@donvi.example.vn")
    assert r["origin"] == str(eml)


def test_email_date_counts_in_vietnam_time(ws, outbox, tmp_path):
    filled = fill(outbox["so-yte"], tmp_path / "f.xlsx").read_bytes()
    # 23:30 UTC on 05/06 is 06:30 on 06/06 in Hà Nội: one day late.
    eml = make_eml(tmp_path / "thu.eml", [("a.xlsx", filled, XLSX)], date="Fri, 05 Jun 2026 23:30:00 +0000")
    [f] = merge(ws, [eml], report=False).files
    assert f.received == dt.date(2026, 6, 6)
    assert email_source.received_date(dt.datetime(2026, 6, 4, 23, 30)) == dt.date(2026, 6, 5)   # no zone: UTC


def test_eml_with_two_workbooks_merges_both(ws, outbox, tmp_path):
    a = fill(outbox["so-yte"], tmp_path / "a.xlsx").read_bytes()
    b = fill(outbox["xp-00082"], tmp_path / "b.xlsx", answers="not_met").read_bytes()
    eml = make_eml(tmp_path / "hai.eml", [("Sở Y tế.xlsx", a, ("application", "octet-stream")),   # by name
                                          ("bien ban", b, XLSX)])                                 # by MIME type
    report = merge(ws, [eml], report=False)
    assert sorted((f.unit_id, f.outcome) for f in report.files) == [("so-yte", "accepted"), ("xp-00082", "accepted")]
    assert {f.name for f in report.files} == {"hai.eml › Sở Y tế.xlsx", "hai.eml › bien ban"}
    # Merged again: both already merged.
    assert {f.outcome for f in merge(ws, [eml], report=False).files} == {"duplicate"}


def test_hostile_attachment_name_stays_inside(ws, outbox, tmp_path):
    filled = fill(outbox["xp-00070"], tmp_path / "f.xlsx").read_bytes()
    inbox = tmp_path / "a" / "b" / "c"
    eml = make_eml(inbox / "thu.eml", [("../../x.xlsx", filled, XLSX), ("..\\..\\y.xlsx", filled, XLSX),
                                       ("/tmp/z.xlsx", filled, XLSX)])
    tmp_root = Path(tempfile.gettempdir())
    report = merge(ws, [eml], report=False)
    assert [f.outcome for f in report.files] == ["accepted", "duplicate", "duplicate"]
    for d in [inbox, *inbox.parents[:4], ws.root, ws.root.parent, tmp_root, tmp_root.parent, Path("/")]:
        for name in ("x.xlsx", "y.xlsx", "z.xlsx"):
            assert not (d / name).exists(), d / name
    assert not [p for p in tmp_path.rglob("*") if p.name in ("x.xlsx", "y.xlsx", "z.xlsx")]
    digest = hashlib.sha256(eml.read_bytes()).hexdigest()
    archived = ws.archive / digest[:2] / f"{digest}.eml"
    assert archived.read_bytes() == eml.read_bytes()
    assert report.files[0].name == "thu.eml › ../../x.xlsx"       # the name is only shown


def test_safe_name_is_a_plain_basename():
    for hostile in ("../../x.xlsx", "..\\..\\x.xlsx", "/etc/x.xlsx", "C:\\x.xlsx", "x.xlsx\x00.sh", ".xlsx",
                    "Biên bản xác nhận.xlsx", "", "con", "a" * 300 + ".xlsx"):
        name = email_source.safe_name(hostile, "/".join(XLSX))
        assert "/" not in name and "\\" not in name and not name.startswith(".")
        assert name.endswith(email_source.WORKBOOK_SUFFIXES) and len(name) <= 70
        assert all(c.isascii() and (c.isalnum() or c in "._-") for c in name)


def test_forwarded_email_inside_an_email_is_read_one_level(ws, outbox, tmp_path):
    filled = fill(outbox["so-noivu"], tmp_path / "f.xlsx").read_bytes()
    inner = EmailMessage()
    inner["From"], inner["Subject"], inner["Date"] = "a@b.vn", "Biên bản", "Wed, 03 Jun 2026 10:00:00 +0700"
    inner.set_content("x")
    inner.add_attachment(filled, maintype=XLSX[0], subtype=XLSX[1], filename="bb.xlsx")
    eml = make_eml(tmp_path / "fw.eml", [("", inner, None)], subject="Fw: Biên bản")
    [f] = merge(ws, [eml], report=False).files
    assert f.outcome == "accepted" and f.unit_id == "so-noivu" and f.received == dt.date(2026, 6, 5)


def test_outlook_encoded_attachment_name_is_shown_decoded(tmp_path):
    raw = (b"From: vanthu@donvi.example.vn\r\nDate: Fri, 05 Jun 2026 09:15:00 +0700\r\nSubject: x\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
           b"Content-Type: text/plain\r\n\r\nx\r\n--b\r\n"
           b"Content-Type: application/octet-stream; name=\"=?utf-8?B?QmnDqm4gYuG6o24ueGxzeA==?=\"\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n--b--\r\n")
    eml = tmp_path / "o.eml"
    eml.write_bytes(raw)
    [item] = list(email_source.incoming(eml, tmp_path / "t", []))
    assert item.name == "o.eml › Biên bản.xlsx" and item.path.read_bytes() == b"PK\x03\x04"
    assert item.path.parent.parent == tmp_path / "t"


def test_email_without_workbook_is_reported_and_merge_exits_1(ws, tmp_path):
    docx = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
    eml = make_eml(tmp_path / "scan.eml", [("bien-ban.docx", b"PK\x03\x04 not much", docx)],
                   subject="Biên bản đã ký")
    report = merge(ws, [eml], report=False)
    assert not report.notices
    [res] = report.files                                   # a refused return like any other file
    assert res.outcome == "rejected" and report.exit_code == 1
    [n] = res.findings
    assert n.code == "email_no_workbook" and n.severity == "error"
    archived = next(ws.archive.rglob(f"{res.sha256}*"))
    assert archived.read_bytes() == eml.read_bytes()       # kept, like everything given to merge
    assert "scan.eml" in n.message and "vanthu@donvi.example.vn" in n.message and "Biên bản đã ký" in n.message
    assert "bien-ban.docx" in n.message
    res = CliRunner().invoke(main, ["merge", str(eml), "-C", str(ws.root)])
    assert res.exit_code == 1 and "không kèm tệp Excel" in res.output


def test_email_with_only_a_pdf_reads_it_as_a_signed_copy(ws, tmp_path):
    """A PDF alone is no longer "an email without a workbook": it is read as the signed copy (this
    one is damaged, and says so)."""
    eml = make_eml(tmp_path / "scan.eml", [("scan.pdf", b"%PDF-1.4", ("application", "pdf"))],
                   subject="Biên bản đã ký")
    report = merge(ws, [eml], report=False)
    [res] = report.files
    assert res.outcome == "rejected" and report.exit_code == 1 and res.name == "scan.eml › scan.pdf"
    assert [f.code for f in res.findings] == ["signed_damaged"]


# ------------------------------------------------------------------ Outlook .msg

def build_msg(path: Path, subject: str, sender: str, date: str, parts: list[tuple[str, bytes]]) -> Path:
    """A minimal Outlook .msg (MS-OXMSG) written with extract_msg's own compound-file writer."""
    from extract_msg.ole_writer import OleWriter

    def u16(s):
        return s.encode("utf-16-le")

    w = OleWriter()
    w.addEntry("__nameid_version1.0", storage=True)
    for stream in ("00020102", "00030102", "00040102"):
        w.addEntry(f"__nameid_version1.0/__substg1.0_{stream}", b"")
    w.addEntry("__properties_version1.0", b"\0" * 8 + struct.pack("<IIII", 0, len(parts), 0, len(parts)) + b"\0" * 8)
    w.addEntry("__substg1.0_001A001F", u16("IPM.Note"))
    w.addEntry("__substg1.0_0037001F", u16(subject))
    w.addEntry("__substg1.0_007D001F", u16(f"From: {sender}\r\nDate: {date}\r\nMIME-Version: 1.0\r\n\r\n"))
    w.addEntry("__substg1.0_1000001F", u16("Kính gửi Trung tâm."))
    for i, (name, data) in enumerate(parts):
        d = f"__attach_version1.0_#{i:08X}"
        w.addEntry(d, storage=True)
        w.addEntry(f"{d}/__properties_version1.0", b"\0" * 8 + struct.pack("<HHII", 0x0003, 0x3705, 6, 1) + b"\0" * 4)
        w.addEntry(f"{d}/__substg1.0_37010102", data)
        w.addEntry(f"{d}/__substg1.0_3707001F", u16(name))
    w.write(str(path))
    return path


def test_outlook_msg_return_merges_with_its_date_and_sender(ws, outbox, tmp_path):
    filled = fill(outbox["xp-00082"], tmp_path / "f.xlsx").read_bytes()
    msg = build_msg(tmp_path / "thu.msg", "Gửi lại biểu mẫu", "Văn thư <vanthu@cuanam.example.vn>",
                    "Thu, 04 Jun 2026 23:30:00 +0000", [("../Biên bản.xlsx", filled)])
    report = merge(ws, [msg], report=False)
    [f] = report.files
    assert (f.outcome, f.unit_id, f.received) == ("accepted", "xp-00082", dt.date(2026, 6, 5))
    assert f.name == "thu.msg › ../Biên bản.xlsx"
    [r] = returns(ws)
    assert r["sender"] == "vanthu@cuanam.example.vn" and r["received_source"] == "email"
    digest = hashlib.sha256(msg.read_bytes()).hexdigest()
    assert (ws.archive / digest[:2] / f"{digest}.msg").read_bytes() == msg.read_bytes()


def test_msg_without_workbook_and_unreadable_msg_are_refused_and_archived(ws, tmp_path):
    empty = build_msg(tmp_path / "trong.msg", "Không kèm", "a@b.vn", "Thu, 04 Jun 2026 10:00:00 +0700", [])
    broken = tmp_path / "hong.msg"
    broken.write_bytes(b"\xd0\xcf\x11\xe0 not really an Outlook message")
    report = merge(ws, [empty, broken], report=False)
    assert not report.notices
    assert [(f.outcome, f.findings[0].code) for f in report.files] == [("rejected", "email_no_workbook"),
                                                                      ("rejected", "email_unreadable")]
    assert "hong.msg" in report.files[1].findings[0].message
    for f, src in zip(report.files, (empty, broken)):
        assert next(ws.archive.rglob(f"{f.sha256}*")).read_bytes() == src.read_bytes()
