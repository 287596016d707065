"""The campaign folder: its paths, its one lock, and opening it as a whole.

Layout:
    campaign.toml   the template this campaign runs on (a copy, so the folder stands alone)
    units.csv       the registry (staff fill in emails and phones here)
    outbox/         one workbook per unit (written by `generate`)
    master.xlsx     the tracking workbook, rebuilt from the ledger
    ledger.sqlite   the truth: returns, submissions, answers, mail, events
    archive/        every file given to `merge`, content-addressed, never deleted
    reports/        merge reports and acceptance reports
    backups/        previous master.xlsx files
    trust/          root certificates that digitally signed copies must chain to (staff put them
                    there; none is bundled): README.txt says which
    .tracker/       secret key for identification tokens (its loss changes meaning: guarded, and
                    copied to backups/), locks and who holds them, caches (safe to lose)
"""
from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from tracker.model.campaign import Campaign, load_campaign
from tracker.model.errors import TrackerError
from tracker.model.registry import Unit, load_registry
from tracker.store.archive import Archived, archive_file
from tracker.store.files import atomic_write_bytes, is_owner_file
from tracker.store.locks import file_lock, held

DEFAULT_DIR = Path("workbooks/hanoi-ttdt-2026")
LOCK_TIMEOUT_S = 120
NEW_KEY_ENV = "TRACKER_NEW_KEY"      # =1: make a new key although forms were made with the lost one

# What the trust/ folder is for, for whoever opens it (in Notepad: CRLF and a BOM). A file of the
# campaign folder, like units.csv: in the campaign's language, whatever language the CLI speaks.
TRUST_README_NAME = "README.txt"
TRUST_README = """\
THƯ MỤC trust/: CHỨNG THƯ SỐ GỐC ĐỂ KIỂM TRA BIÊN BẢN KÝ SỐ

Khi đơn vị gửi biên bản dạng tệp PDF đã ký số, tracker kiểm tra chữ ký số theo các chứng thư số gốc
(root certificate) đặt trong thư mục này. Chữ ký chỉ được công nhận khi chứng thư của người ký do
một tổ chức có chứng thư gốc ở đây cấp, còn hiệu lực vào ngày nhận, và tệp không bị sửa sau khi ký.

Đặt vào đây chứng thư gốc của các tổ chức chứng thực mà các đơn vị dùng để ký:
- Ban Cơ yếu Chính phủ (Cục Chứng thực số và Bảo mật thông tin): chứng thư gốc của hệ thống chứng
  thực chữ ký số chuyên dùng Chính phủ, mà các cơ quan nhà nước thường dùng. Tải tại ca.gov.vn.
- Nếu có đơn vị ký bằng chữ ký số công cộng (VNPT-CA, Viettel-CA, FPT-CA, BKAV-CA, ...): chứng thư
  gốc quốc gia của Trung tâm Chứng thực điện tử quốc gia (NEAC, neac.gov.vn), hoặc chứng thư gốc
  do chính tổ chức đó công bố trên trang của họ.
Không chắc thì hỏi bộ phận CNTT của Trung tâm.

Tệp chứng thư có đuôi .cer, .crt, .pem hoặc .der (một tệp .pem có thể chứa nhiều chứng thư). Chỉ chép
chứng thư tải từ trang chính thức của tổ chức chứng thực: mọi chứng thư đặt ở đây đều được tin cậy.

tracker không kèm sẵn chứng thư gốc nào. Khi thư mục này chưa có chứng thư, mọi chữ ký số đều được báo
là chưa kiểm tra được (lời báo signed_untrusted). Các tệp khác trong thư mục (như tệp này) được bỏ qua.
"""


class KeyMissing(TrackerError):
    """The signing key is gone while forms or a ledger made with it exist."""

    def __init__(self, ws: "Workspace"):
        if ws.secret_backup.is_file():
            how = (f"chép tệp {ws.secret_backup} thành {ws.secret_file} (bản sao khóa do tracker giữ trong "
                   "backups/)")
        else:
            how = (f"chép {ws.secret_file} từ bản sao lưu của thư mục chiến dịch (thư mục ẩn .tracker/ hay bị bỏ "
                   "sót khi sao chép)")
        super().__init__(
            f"Không thấy khóa xác thực của chiến dịch ({ws.secret_file}) trong khi thư mục đã có "
            f"{' và '.join(ws._key_dependents())} làm bằng khóa đó. Không tạo khóa mới: khóa mới làm mọi tệp đã "
            f"gửi đơn vị bị từ chối khi gửi về. Khôi phục khóa: {how}, rồi chạy lại (xem docs/huong-dan.md, mục 11). "
            f"Chỉ khi khóa đã mất hẳn: chạy lệnh với biến môi trường {NEW_KEY_ENV}=1 để tạo khóa mới, rồi "
            "'tracker generate' và gửi lại tệp cho mọi đơn vị.")


@dataclass
class Workspace:
    root: Path

    def __post_init__(self):
        self.root = Path(self.root)

    campaign_file = property(lambda self: self.root / "campaign.toml")
    registry_file = property(lambda self: self.root / "units.csv")
    outbox = property(lambda self: self.root / "outbox")
    master_file = property(lambda self: self.root / "master.xlsx")
    ledger_file = property(lambda self: self.root / "ledger.sqlite")
    archive = property(lambda self: self.root / "archive")
    reports = property(lambda self: self.root / "reports")
    backups = property(lambda self: self.root / "backups")
    drafts = property(lambda self: self.root / "drafts")
    trust = property(lambda self: self.root / "trust")
    state = property(lambda self: self.root / ".tracker")

    @staticmethod
    def is_campaign(path: Path) -> bool:
        return (path / "campaign.toml").is_file() and (path / "units.csv").is_file()

    @classmethod
    def find(cls, given: str | Path | None) -> "Workspace":
        """-C DIR; else the current directory if it is a campaign; else the default folder."""
        if given:
            root = Path(given)
        elif cls.is_campaign(Path.cwd()):
            root = Path.cwd()
        else:
            root = DEFAULT_DIR
        if not cls.is_campaign(root):
            raise TrackerError(f"'{root}' không phải thư mục chiến dịch (thiếu campaign.toml hoặc units.csv). "
                               "Chạy 'tracker init' trước, hoặc chỉ đúng thư mục bằng -C.")
        return cls(root)

    @cached_property
    def campaign(self) -> Campaign:
        from tracker.store.caches import load_campaign_cached

        return load_campaign_cached(self.campaign_file, self.state / "campaign-cache.json")

    @cached_property
    def units(self) -> list[Unit]:
        from tracker.store.caches import load_registry_cached

        return load_registry_cached(self.registry_file, self.campaign_file, self.campaign,
                                    self.state / "units-cache.json")

    @cached_property
    def unit_by_id(self) -> dict[str, Unit]:
        return {u.id: u for u in self.units}

    @property
    def secret_file(self) -> Path:
        return self.state / "secret.key"

    @property
    def secret_backup(self) -> Path:
        """A copy of the key where a copy of the folder without its hidden files still has it."""
        return self.backups / "secret.key"

    @cached_property
    def secret(self) -> bytes:
        """The key that signs identification tokens; made at init. Never made again over forms or a
        ledger that depend on the one lost: a new key would refuse every genuine return."""
        path = self.secret_file
        try:
            key = path.read_bytes().strip()
        except FileNotFoundError:
            key = b""
        if key:
            return key
        if self._key_dependents() and not os.environ.get(NEW_KEY_ENV):
            raise KeyMissing(self)
        self.state.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, secrets.token_hex(32).encode())
        return path.read_bytes().strip()

    def _key_dependents(self) -> list[str]:
        """What was made with the key: forms in outbox/ (their tokens), the ledger (mail ids, returns)."""
        out = []
        if self.outbox.is_dir() and next((p for p in self.outbox.rglob("*.xlsx") if not is_owner_file(p.name)),
                                         None) is not None:
            out.append("outbox/")
        if self.ledger_file.exists():
            out.append(self.ledger_file.name)
        return out

    def back_up_secret(self) -> None:
        """Keep a copy of the key in backups/ (visible: a copy of the folder without hidden files keeps it)."""
        key = self.secret
        try:
            if self.secret_backup.read_bytes().strip() == key:
                return
        except OSError:
            pass
        atomic_write_bytes(self.secret_backup, key + b"\n")

    def outbox_path(self, unit: Unit) -> Path:
        return self.outbox / unit.group / f"{unit.file_stem}.xlsx"

    @cached_property
    def _lock(self):
        return file_lock(self.state / "campaign.lock")

    def lock(self, timeout: float = LOCK_TIMEOUT_S):
        """Exclusive lock on the campaign: a second writer waits, then says who holds it and why it
        cannot go on. Reentrant: a step that holds it may call another that takes it."""
        def busy(who: str) -> str:
            return (f"{who[:1].upper()}{who[1:]} đang chạy trên chiến dịch '{self.root}' (đã chờ {int(timeout)} giây). "
                    "Chờ lệnh đó xong rồi chạy lại.")
        return held(self.state / "campaign.lock", timeout, busy, make_lock=lambda: self._lock)

    def archive_file(self, source: Path | str, known_digest: str | None = None, opened=None) -> Archived:
        """Copy a given file into the archive under its SHA-256 (see tracker.store.archive)."""
        return archive_file(self.root, source, known_digest, opened)


def init_workspace(root: Path, template: Path, registry: Path | None, force: bool) -> Workspace:
    """Make a campaign folder from a template and a registry (checked before anything is written)."""
    campaign = load_campaign(template)
    if registry is None:
        from tracker.model.campaign import builtin_path

        name = campaign.section("campaign").get("registry", "")
        registry = template.parent / name if (template.parent / name).is_file() else builtin_path(name)
        if not name or not registry.is_file():
            raise TrackerError(f"Mẫu '{template}' không kèm danh sách đơn vị. Chỉ rõ bằng --units TỆP.csv.")
    units = load_registry(registry, campaign)
    ws = Workspace(root)
    if ws.campaign_file.exists() or ws.registry_file.exists():
        if not force:
            raise TrackerError(f"Thư mục '{root}' đã có chiến dịch. Không ghi đè để tránh mất dữ liệu "
                               "(như email đã điền trong units.csv). Dùng --force nếu thật sự muốn thay "
                               "mẫu và danh sách; bản cũ sẽ được lưu trong backups/.")
    root.mkdir(parents=True, exist_ok=True)
    with ws.lock():
        for f in (ws.campaign_file, ws.registry_file):
            if f.exists():
                ws.backups.mkdir(exist_ok=True)
                from datetime import datetime

                stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
                shutil.copy2(f, ws.backups / f"{f.stem}-{stamp}{f.suffix}")
        atomic_write_bytes(ws.campaign_file, template.read_bytes())
        atomic_write_bytes(ws.registry_file, registry.read_bytes())
        for d in (ws.outbox, ws.archive, ws.reports, ws.trust):
            d.mkdir(exist_ok=True)
        readme = ws.trust / TRUST_README_NAME
        if not readme.exists():         # staff may have written their own notes there
            atomic_write_bytes(readme, TRUST_README.replace("\n", "\r\n").encode("utf-8-sig"))
        ws.back_up_secret()
    ws.__dict__["units"] = units
    return ws
