"""`tracker demo`: a complete rehearsal of the built-in campaign in a scratch folder.

init + generate, then returns of every kind a campaign really gets, simulated into DIR/inbox/
(good ones on time with varied answers, late ones, two versions from one unit, the same file
twice, a value typed by hand, a formula, last year's form, a photo of the signed biên bản read by
its QR code, an empty file, a saved email carrying a digitally signed PDF beside its workbook) and
a paper reply typed into master.xlsx; then merge, stats as of a date after the
deadline, and the acceptance report. Seeded: the same seed gives the same returns.

No mail is sent and the registry is kept as shipped. The folder is marked as a rehearsal
(DIEN-TAP.txt) so a later run may wipe it; any other non-empty folder is refused.
"""
from __future__ import annotations

import datetime as dt
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tracker.model.errors import TrackerError
from tracker.stats import Stats
from tracker.store.workspace import Workspace

DEFAULT_DIR = Path("workbooks/demo")
AS_OF = dt.date(2026, 6, 10)        # after the deadline (05/06/2026): late and missing units show
SEED = 2026
MARKER = "DIEN-TAP.txt"
MARKER_FIRST_LINE = "Thư mục diễn tập của tracker (tạo bởi lệnh 'tracker demo')."
# What a rehearsal writes in its folder; a rerun removes exactly these, nothing else.
OWN = ("campaign.toml", "units.csv", "outbox", "inbox", "master.xlsx", "ledger.sqlite", "ledger.sqlite-wal",
       "ledger.sqlite-shm", "ledger.sqlite-journal", "archive", "reports", "backups", "drafts", ".tracker", MARKER)

PLAIN_KINDS = ("good", "late")
OTHER_CAMPAIGN, OTHER_VERSION = "hanoi-ttdt-2025", "2025.1"
SENDER_DOMAIN = "example.com"       # reserved for examples (RFC 2606): no real address is made up
SIGNERS = ["Nguyễn Văn Hùng", "Trần Thị Lan", "Lê Minh Tuấn", "Phạm Thị Hoa", "Hoàng Văn Nam", "Vũ Thị Thu Hà",
           "Đỗ Quang Minh", "Bùi Thị Ngọc", "Đặng Văn Long", "Ngô Thị Mai", "Phan Đức Anh", "Trịnh Thị Hương"]
NOT_MET_NOTES = {
    "c1": "Chưa có chuyên mục tra cứu văn bản",
    "c2": "Giao diện trên điện thoại còn khó dùng",
    "c3": "Còn thiếu một số nhóm thông tin công khai theo quy định",
    "c4": "Một số trang hiển thị lỗi trên Firefox",
    "c5": "Trang tải chậm vào giờ cao điểm",
    "c6": "Cán bộ đầu mối mới, chưa được hướng dẫn",
}
PROPOSALS = ["Đề nghị tổ chức tập huấn bổ sung cho cán bộ biên tập.",
             "Đề nghị hỗ trợ chuyển dữ liệu tin bài từ trang cũ sang trang mới.",
             "Đề nghị tăng dung lượng lưu trữ hình ảnh, video."]


@dataclass
class Case:
    """One simulated return (a file in the inbox, or a paper reply typed into the master)."""
    kind: str               # good, late (plain returns); version_old, version_new, copy, wrong_value, formula,
                            # other_campaign, scan, with_scan, empty, email, manual (the special cases)
    unit_id: str
    file: str               # name in the inbox ("" for a paper reply)
    received: dt.date
    what: str               # Vietnamese: what it stands for
    expect: str             # the merge outcome: accepted/replaced/stale/duplicate/rejected/manual
    code: str = ""          # the finding code that explains a rejection
    answers: dict = field(default_factory=dict)    # (product key, criterion id) -> met/not_met/blank/text
    notes: dict = field(default_factory=dict)
    proposals: str = ""
    signer: str = ""
    doc_number: str = ""


@dataclass
class Simulation:
    ws: Workspace
    inbox: Path
    cases: list[Case]
    silent: list[str]       # units that send nothing

    def count(self, *kinds: str) -> int:
        return sum(1 for c in self.cases if c.kind in kinds)

    @property
    def special(self) -> list[Case]:
        return [c for c in self.cases if c.kind not in PLAIN_KINDS]


@dataclass
class DemoRun:
    sim: Simulation
    merge: object           # tracker.merge.MergeReport
    stats: Stats
    report_paths: list[Path]


# ---------------------------------------------------------------------------------------- the folder
def is_demo(root: Path) -> bool:
    marker = Path(root) / MARKER
    try:
        return marker.is_file() and marker.read_text(encoding="utf-8").splitlines()[0] == MARKER_FIRST_LINE
    except (OSError, UnicodeDecodeError, IndexError):
        return False


def check_target(root: Path, force: bool = False) -> bool:
    """May the rehearsal use `root`? True when it holds a previous rehearsal (to be wiped).

    Refused: a real campaign (always), a non-empty folder (unless force), and with force a folder
    holding any name the rehearsal writes."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise TrackerError(f"'{root}' là một tệp, không phải thư mục. Chọn thư mục khác cho buổi diễn tập.")
    if not root.exists() or not any(root.iterdir()):
        return False
    if is_demo(root):
        return True
    if Workspace.is_campaign(root):
        raise TrackerError(f"'{root}' là thư mục của một chiến dịch thật; diễn tập không bao giờ ghi vào đó. "
                           f"Chạy 'tracker demo' không kèm thư mục (dùng {DEFAULT_DIR}) hoặc chọn một thư mục trống.")
    if not force:
        raise TrackerError(f"Thư mục '{root}' đã có tệp và không phải thư mục diễn tập cũ, nên không dùng để tránh "
                           "lẫn dữ liệu. Chọn thư mục trống (hoặc chưa có), hoặc thêm --force để vẫn dùng thư mục "
                           "này (các tệp đang có được giữ nguyên).")
    taken = [n for n in OWN if (root / n).exists()]
    if taken:
        raise TrackerError(f"Thư mục '{root}' đã có {', '.join(taken)}: diễn tập cần dùng các tên này. "
                           "Chọn thư mục khác.")
    return False


def _wipe(root: Path) -> None:
    """Remove what a previous rehearsal wrote (and nothing else)."""
    for name in OWN:
        path = root / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    for extra in root.glob("master-*.xlsx"):      # a master written beside a locked one
        extra.unlink()


def _quiet(key: str, total: int | None = None) -> None:
    pass


def start(root: Path = DEFAULT_DIR, force: bool = False, progress=None, part=_quiet):
    """Check and (re)make the folder, init the built-in campaign there and generate.

    Returns (workspace, GenerateResult). `part(key, total)` is told of each part as it starts,
    `progress(total=None, advance=1)` of each unit workbook written."""
    from tracker.model.campaign import template_path
    from tracker.api import generate
    from tracker.store.workspace import init_workspace

    root = Path(root)
    if check_target(root, force):
        _wipe(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text(
        MARKER_FIRST_LINE + "\n"
        "Mọi tệp ở đây là dữ liệu giả lập để tập dượt, không dùng cho chiến dịch thật; không gửi thư nào.\n"
        "Chạy lại 'tracker demo' sẽ xóa các tệp diễn tập ở đây rồi tạo lại: đừng để tệp thật trong thư mục này.\n",
        encoding="utf-8")
    part("init")
    ws = init_workspace(root, template_path(None), None, force=False)
    part("outbox", len(ws.units))
    return ws, generate(ws, progress=progress)


# ---------------------------------------------------------------------------------------- the plan
def _on_time_day(rng: random.Random, due: dt.date) -> dt.date:
    # Most replies come in the last days before the deadline.
    return due - dt.timedelta(days=rng.choice([0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 6, 9]))


def _varied(rng: random.Random, unit, crit_ids: list[str]) -> tuple[dict, dict]:
    """Answers and notes: mostly all met; some with one criterion not met (and a note), some with one left blank."""
    answers, notes = {}, {}
    r = rng.random()
    for p in unit.products:
        for c in crit_ids:
            answers[(p.key, c)] = "met"
    if r < 0.10:
        c = rng.choice(crit_ids)
        answers[(unit.products[-1].key, c)] = "not_met"
        notes[(unit.products[-1].key, c)] = NOT_MET_NOTES.get(c, "Chưa đáp ứng")     # that product's note
    elif r < 0.17:
        answers[(unit.products[0].key, rng.choice(crit_ids))] = "blank"
    return answers, notes


def plan(ws: Workspace, seed: int = SEED) -> tuple[list[Case], list[str]]:
    """Which unit sends what, and when (no file is written). Returns (cases, silent unit ids)."""
    campaign = ws.campaign
    due = campaign.due
    rng = random.Random(seed)
    crit = [c.id for c in campaign.criteria]
    first, *rest = campaign.groups
    # The first group (departments) acts out the special cases, in the order of their file names
    # (the order merge reads them), so the merge report shows them first.
    depts = sorted((u for u in ws.units if u.group == first.id), key=lambda u: u.file_stem)
    others = [u for u in ws.units if u.group != first.id]
    rng.shuffle(others)
    cases: list[Case] = []

    def case(kind, unit, file, received, what, expect, code="", answers=None, notes=None, **kw):
        ans = answers if answers is not None else {(p.key, c): "met" for p in unit.products for c in crit}
        num = rng.randint(80, 450)
        suffix = campaign.group(unit.group).texts.get("doc_number_suffix", "/")
        c = Case(kind, unit.id, file, received, what, expect, code, ans, notes or {},
                 signer=kw.pop("signer", rng.choice(SIGNERS)),
                 doc_number=f"{num}{suffix}" if suffix != "/" else f"{num}/CV", **kw)
        cases.append(c)
        return c

    x = lambda name, unit: f"{unit.file_stem}{name}"  # noqa: E731 - the name a unit sends its file back under
    roles = ["good", "wrong_value", "formula", "versions", "late", "email", "other_campaign", "scan", "empty",
             "manual"]
    for role, u in zip(roles, depts):
        if role == "good":
            case("good", u, x(".xlsx", u), due - dt.timedelta(days=2), "đúng hạn, đủ tiêu chí", "accepted")
        elif role == "wrong_value":
            ans = {(p.key, c): "met" for p in u.products for c in crit}
            ans[(u.products[0].key, crit[2])] = "Đạt"
            case("wrong_value", u, x(".xlsx", u), due - dt.timedelta(days=1),
                 "gõ tay “Đạt” thay vì chọn trong danh sách", "rejected", "bad_answer", ans)
        elif role == "formula":
            ans = {(p.key, c): "met" for p in u.products for c in crit}
            ans[(u.products[0].key, crit[1])] = "=D21"
            case("formula", u, x(".xlsx", u), due - dt.timedelta(days=3), "dán công thức vào ô trả lời",
                 "rejected", "formula_in_answer", ans)
        elif role == "versions":
            ans = {(p.key, c): "met" for p in u.products for c in crit}
            ans[(u.products[0].key, crit[1])] = "not_met"
            case("version_old", u, x(".xlsx", u), due - dt.timedelta(days=4), "bản đầu (có tiêu chí chưa đáp ứng)",
                 "stale", "stale", ans, {crit[1]: NOT_MET_NOTES.get(crit[1], "")})
            case("version_new", u, x(" (1).xlsx", u), due - dt.timedelta(days=1),
                 "bản sửa gửi lại (trình duyệt tự thêm “ (1)” vào tên)", "accepted")
        elif role == "late":
            ans = {(p.key, c): "met" for p in u.products for c in crit}
            ans[(u.products[-1].key, crit[4])] = "not_met"
            case("late", u, x(".xlsx", u), due + dt.timedelta(days=3), "gửi muộn (sau hạn)", "accepted", "",
                 ans, {(u.products[-1].key, crit[4]): NOT_MET_NOTES.get(crit[4], "")}, proposals=PROPOSALS[0])
        elif role == "email":
            case("email", u, f"{u.id}-thu-tra-loi.eml", due - dt.timedelta(days=2),
                 "thư điện tử (.eml) kèm tệp Excel và biên bản ký số (PDF), ngày nhận lấy theo ngày gửi thư",
                 "accepted")
        elif role == "other_campaign":
            case("other_campaign", u, x(".xlsx", u), due - dt.timedelta(days=3),
                 f"gửi nhầm tệp của đợt trước ({OTHER_CAMPAIGN})", "rejected", "other_campaign")
        elif role == "scan":
            case("scan", u, f"{u.id}-bien-ban-da-ky.jpg", due - dt.timedelta(days=1),
                 "ảnh chụp biên bản đã ký (JPG, nhận ra đơn vị qua mã QR in trên biểu mẫu), gửi kèm tệp Excel",
                 "accepted")
            case("with_scan", u, x(".xlsx", u), due - dt.timedelta(days=1), "tệp Excel gửi cùng bản scan", "accepted")
        elif role == "empty":
            case("empty", u, x(".xlsx", u), due - dt.timedelta(days=2), "tệp rỗng (0 byte, gửi lỗi)", "rejected",
                 "empty")
        elif role == "manual":
            case("manual", u, "", due, "văn bản giấy, cán bộ nhập tay vào master.xlsx", "manual",
                 notes={"": f"Văn bản giấy số {rng.randint(100, 300)}/TTPVHCC, nhận qua văn thư"})
    # The other groups: most reply on time, a few late, the rest stay silent.
    n_on_time, n_late = min(100, len(others)), 4
    late_days = [3, 3, 4, 5]
    for i, u in enumerate(others):
        if i < n_on_time:
            ans, notes = _varied(rng, u, crit)
            c = case("good", u, x(".xlsx", u), _on_time_day(rng, due), "đúng hạn", "accepted", "", ans, notes)
            if rng.random() < 0.15:
                c.proposals = rng.choice(PROPOSALS)
            if c.answers and any(v == "not_met" for v in ans.values()):
                c.what = "đúng hạn, có tiêu chí chưa đáp ứng"
            elif any(v == "blank" for v in ans.values()):
                c.what = "đúng hạn, để trống một tiêu chí"
        elif i < n_on_time + n_late:
            ans, notes = _varied(rng, u, crit)
            case("late", u, x(".xlsx", u), due + dt.timedelta(days=late_days[i - n_on_time]), "gửi muộn (sau hạn)",
                 "accepted", "", ans, notes)
    # The same file saved twice (an attachment downloaded again): the second one read is recognised.
    # "name (1).xlsx" sorts before "name.xlsx", so merge reads the copy first and the original second.
    twin = next(c for c in cases if c.kind == "good" and c.unit_id in {u.id for u in others})
    cases.append(Case("copy", twin.unit_id, twin.file.replace(".xlsx", " (1).xlsx"), twin.received,
                      "cùng một tệp lưu hai lần", "accepted", "", twin.answers, twin.notes,
                      twin.proposals, twin.signer, twin.doc_number))
    twin.expect, twin.code = "duplicate", "duplicate"
    sent = {c.unit_id for c in cases}
    silent = [u.id for u in ws.units if u.id not in sent]
    return cases, silent


# ---------------------------------------------------------------------------------------- the files
def simulate(ws: Workspace, seed: int = SEED, progress=None, part=_quiet) -> Simulation:
    """Write the planned returns into ws.root/inbox and type the paper reply into master.xlsx."""
    from tracker.demo import simulate as sim

    cases, silent = plan(ws, seed)
    part("returns", len(cases))
    inbox = ws.root / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    campaign, units = ws.campaign, ws.unit_by_id
    place = campaign.section("campaign").get("city", "")
    for c in cases:
        unit = units[c.unit_id]
        dest = inbox / c.file if c.file else None
        kw = dict(notes=c.notes, signer=c.signer, proposals=c.proposals, campaign=campaign,
                  doc_date=sim.doc_date_text(place, c.received - dt.timedelta(days=1)), doc_number=c.doc_number)
        if c.kind in ("good", "late", "with_scan", "version_old", "version_new", "wrong_value", "formula"):
            sim.fill(ws.outbox_path(unit), dest, c.answers, received=c.received, **kw)
        elif c.kind == "copy":
            shutil.copy2(inbox / c.file.replace(" (1).xlsx", ".xlsx"), dest)
        elif c.kind == "other_campaign":
            sim.other_campaign_form(campaign, unit, ws.secret, dest, OTHER_CAMPAIGN, OTHER_VERSION, answers=c.answers,
                                    received=c.received, **{k: v for k, v in kw.items() if k != "campaign"})
        elif c.kind == "scan":
            sim.signed_scan(dest, ws, unit, received=c.received)
        elif c.kind == "empty":
            sim.empty_file(dest, received=c.received)
        elif c.kind == "email":
            attached = ws.root / ".tracker" / f"{unit.file_stem}.xlsx"
            sim.fill(ws.outbox_path(unit), attached, c.answers, **kw)
            sent = dt.datetime.combine(c.received, dt.time(9, 15))
            # Signed with the head's certificate under the rehearsal's CA (its root put in trust/).
            pdf = sim.signed_pdf(ws.root / ".tracker" / f"{unit.id}-bien-ban-ky-so.pdf", ws, unit, sim.demo_ca(ws),
                                 c.signer or "Nguyễn Văn An", sent.replace(tzinfo=dt.timezone(dt.timedelta(hours=7)))
                                 - dt.timedelta(hours=1))
            sim.email_return(
                dest, attached, sender=f"Văn thư {unit.name} <van-thu.{unit.id}@{SENDER_DOMAIN}>",
                to=f"{campaign.section('issuer').get('short', 'Trung tâm')} (diễn tập) <dien-tap@{SENDER_DOMAIN}>",
                subject=f"Re: {campaign.section('campaign').get('subject', campaign.title)}",
                body=f"Kính gửi {campaign.section('issuer').get('recipient', '')},\n\n{unit.name} gửi biên bản xác "
                     "nhận (tệp đính kèm).\n\nTrân trọng.\n",
                sent=sent, attachment_name=attached.name, also=(pdf,))
            attached.unlink()
            pdf.unlink()
            # The day the email was saved to disk is later: merge must take the Date header.
            sim.set_received(dest, c.received + dt.timedelta(days=5))
        elif c.kind == "manual":
            sim.type_into_master(ws, unit, c.answers, received=c.received, note=c.notes.get("", ""),
                                 signer=c.signer)
        if progress:
            progress()
    return Simulation(ws, inbox, cases, silent)


# ---------------------------------------------------------------------------------------- the steps
@dataclass
class Made:
    """Step 1: the campaign and its unit workbooks (as `tracker init` then `tracker generate`)."""
    ws: Workspace
    generated: object       # tracker.outbound.generate.GenerateResult


@dataclass
class Simulated:
    """Step 2: the returns written into inbox/, and the paper reply typed into master.xlsx."""
    sim: Simulation


@dataclass
class Merged:
    """Step 3: the inbox merged (as `tracker merge inbox/`)."""
    report: object          # tracker.merge.MergeReport


@dataclass
class Counted:
    """Step 4: the figures as of AS_OF, after the deadline (as `tracker stats --as-of`)."""
    stats: Stats


@dataclass
class Reported:
    """Step 5: the acceptance report as of AS_OF (as `tracker report --as-of`), and the merge report."""
    paths: list[Path]
    merge_report: Path | None


STEPS = 5


PARTS = ("init", "outbox", "returns", "merge", "stats", "report")


def steps(root: Path = DEFAULT_DIR, force: bool = False, seed: int = SEED, progress=None, part=_quiet):
    """The rehearsal, a step at a time: each step runs when the next result is asked for, so a
    caller can say what comes before it runs. Yields Made, Simulated, Merged, Counted, Reported.

    `part(key, total=None)` is told when each part (PARTS) starts, with its count of items when it
    has one; `progress(total=None, advance=1)` of each item done (a workbook, a return, a file
    merged): a caller shows them so that the rehearsal is never silent for long."""
    from tracker.api import merge
    from tracker.reports.acceptance import write_report
    from tracker.stats import campaign_stats

    ws, generated = start(root, force, progress, part)
    yield Made(ws, generated)
    sim = simulate(ws, seed, progress, part)
    yield Simulated(sim)
    part("merge")
    report = merge(ws, [sim.inbox], progress=progress)
    yield Merged(report)
    part("stats")
    yield Counted(campaign_stats(ws, AS_OF))
    part("report")
    result = write_report(ws, AS_OF)
    yield Reported(list(result.paths), report.report_path)


def run(root: Path = DEFAULT_DIR, force: bool = False, seed: int = SEED) -> DemoRun:
    """The whole rehearsal without printing: start, simulate, merge, stats and report as of AS_OF."""
    done = {type(step): step for step in steps(root, force, seed)}
    return DemoRun(done[Simulated].sim, done[Merged].report, done[Counted].stats, done[Reported].paths)
