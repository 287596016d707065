"""The campaign folder: its paths, its lock, atomic writes, and opening it as a whole.

Layout:
    campaign.toml   the template this campaign runs on (a copy, so the folder stands alone)
    units.csv       the registry (staff fill in emails and phones here)
    outbox/         one workbook per unit (written by `generate`)
    master.xlsx     the tracking workbook, rebuilt from the ledger
    ledger.sqlite   the truth: returns, submissions, answers, mail, events
    archive/        every file given to `merge`, content-addressed, never deleted
    reports/        merge reports and acceptance reports
    backups/        previous master.xlsx files
    .tracker/       secret key for identification tokens, lock file
"""
from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import secrets
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from tracker.campaign import Campaign, load_campaign
from tracker.errors import TrackerError
from tracker.registry import Unit, load_registry

DEFAULT_DIR = Path("workbooks/hanoi-ttdt-2026")
LOCK_TIMEOUT_S = 120


_tmp_numbers = itertools.count()


def _create_temp(folder: Path, name: str) -> tuple[int, Path]:
    """A new temporary file beside `name`, made for this process alone (O_EXCL), with the folder
    made on demand: cheaper than mkstemp's random names, which merge pays once per file."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = folder / f".{name}.{os.getpid()}.{next(_tmp_numbers)}.tmp"
        try:
            # 0o666 less the umask, as open() gives: mkstemp's 0600 would hide files from colleagues.
            return os.open(tmp, flags, 0o666), tmp
        except FileNotFoundError:
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:       # left by a killed run that had the same process id
            continue
    raise FileExistsError(f"{folder}/.{name}.*.tmp")


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Replace `path` with `data` all at once: readers see the old file or the new, never half."""
    fd, tmp = _create_temp(path.parent, path.name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _archive_suffix(name: str) -> str:
    """The file's extension as the archive keeps it: lower case, letters and digits, 8 at most."""
    if name.endswith(".xlsx") and name[name.rfind(os.sep) + 1:-5].strip("."):      # nearly every return
        return ".xlsx"
    ext = os.path.splitext(name)[1]
    ext = "" if ext == "." else ext.lower()[:8]      # as Path.suffix: "a." has none
    return ext if ext[1:].isalnum() and ext.isascii() else "".join(c for c in ext if c.isalnum() or c == ".")


def _relative(path: Path, root: Path) -> str:
    return str(path.relative_to(root))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


HEAD_BYTES = 128


class Archived(NamedTuple):
    digest: str
    path: Path | None   # None for a file known by its digest (a repeat needs no Path; see `relative`)
    size: int
    head: bytes     # the first bytes when the file was read (b"" otherwise): sniffed without a reread
    relative: str   # the path in the campaign folder, as the ledger keeps it


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
        from tracker.registry_cache import load_campaign_cached

        return load_campaign_cached(self.campaign_file, self.state / "campaign-cache.json")

    @cached_property
    def units(self) -> list[Unit]:
        from tracker.registry_cache import load_registry_cached

        return load_registry_cached(self.registry_file, self.campaign_file, self.campaign,
                                    self.state / "units-cache.json")

    @cached_property
    def unit_by_id(self) -> dict[str, Unit]:
        return {u.id: u for u in self.units}

    @cached_property
    def secret(self) -> bytes:
        """The key that signs identification tokens; made once at init."""
        path = self.state / "secret.key"
        if not path.exists():
            atomic_write_bytes(path, secrets.token_hex(32).encode())
        return path.read_bytes().strip()

    def outbox_path(self, unit: Unit) -> Path:
        return self.outbox / unit.group / f"{unit.file_stem}.xlsx"

    @contextlib.contextmanager
    def lock(self, timeout: float = LOCK_TIMEOUT_S):
        """Exclusive lock on the campaign: a second writer waits, then says why it cannot go on."""
        from filelock import FileLock, Timeout

        self.state.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.state / "campaign.lock"))
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise TrackerError(f"Một lệnh tracker khác đang chạy trên chiến dịch '{self.root}' (đã chờ "
                               f"{int(timeout)} giây). Chờ lệnh đó xong rồi chạy lại.") from None
        try:
            yield
        finally:
            lock.release()

    ARCHIVE_IN_MEMORY = 64 << 20   # files up to this size are read once: hashed and written from memory

    def archive_file(self, source: Path | str, known_digest: str | None = None) -> Archived:
        """Copy a given file into the archive under its SHA-256.

        The copy is the very bytes that were hashed (read once), written atomically; it is made
        durable in batches by the caller (os.sync before the ledger points at it). With
        `known_digest` (the file was hashed before and has not changed since), a file already
        archived is not read again (its Archived has no `path`)."""
        suffix = _archive_suffix(os.fspath(source))
        if known_digest is not None:      # strings, not Paths: a re-merge does this for every file
            relative = f"archive/{known_digest[:2]}/{known_digest}{suffix}"
            try:
                return Archived(known_digest, None, os.stat(f"{self.root}{os.sep}{relative}").st_size, b"", relative)
            except OSError:
                pass        # the copy is gone: read, hashed and archived again
        data = None
        if os.stat(source).st_size <= self.ARCHIVE_IN_MEMORY:
            with open(source, "rb") as fh:
                data = fh.read()
            digest = hashlib.sha256(data).hexdigest()
        else:
            digest = sha256_file(source)
        dest = self.archive / digest[:2] / f"{digest}{suffix}"
        if data is not None:
            if not dest.exists():
                atomic_write_bytes(dest, data, durable=False)
            return Archived(digest, dest, len(data), data[:HEAD_BYTES], _relative(dest, self.root))
        if dest.exists():
            return Archived(digest, dest, dest.stat().st_size, b"", _relative(dest, self.root))
        fd, tmp = _create_temp(dest.parent, dest.name)
        os.close(fd)
        try:
            shutil.copyfile(source, tmp)
            if sha256_file(Path(tmp)) != digest:
                raise TrackerError(f"Tệp '{source}' thay đổi trong khi đang sao lưu. Chạy lại lệnh.")
            os.replace(tmp, dest)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return Archived(digest, dest, dest.stat().st_size, b"", _relative(dest, self.root))


def init_workspace(root: Path, template: Path, registry: Path | None, force: bool) -> Workspace:
    """Make a campaign folder from a template and a registry (checked before anything is written)."""
    campaign = load_campaign(template)
    if registry is None:
        from tracker.campaign import builtin_path

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
        for d in (ws.outbox, ws.archive, ws.reports):
            d.mkdir(exist_ok=True)
        _ = ws.secret
    ws.__dict__["units"] = units
    return ws
