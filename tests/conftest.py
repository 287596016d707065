"""Shared fixtures: a generated Hà Nội campaign (made once per session, copied per test)."""
from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
# A machine whose LANG is English would show English --help; tests of help texts say their language.
os.environ.setdefault("TRACKER_LANG", "vi")

from tracker.model import findings  # noqa: E402
from tracker.model.campaign import template_path  # noqa: E402
from tracker.api import generate  # noqa: E402
from tracker.store.workspace import Workspace, init_workspace  # noqa: E402

# A finding built with an unknown code or without a parameter its words need fails here, loudly
# (a user's desk shows the placeholder instead); so it does in the reading workers, through the
# environment they are started with.
os.environ["TRACKER_STRICT_FINDINGS"] = "1"
findings.STRICT = True


@pytest.fixture(autouse=True)
def in_vietnamese():
    """Each test starts in Vietnamese: a test that showed English help (`--lang en`) leaves the
    language switched, and the next would read English messages."""
    from tracker.model import language

    language.use("vi")
    yield


@pytest.fixture(scope="session")
def generated_campaign(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("golden") / "camp"
    ws = init_workspace(root, template_path(None), None, force=False)
    generate(ws)
    return root


@pytest.fixture
def ws(generated_campaign, tmp_path) -> Workspace:
    """A fresh copy of the generated built-in campaign, for a test to change."""
    root = tmp_path / "camp"
    shutil.copytree(generated_campaign, root)
    return Workspace(root)


@pytest.fixture
def outbox(ws):
    """unit id -> path of its generated workbook."""
    return {u.id: ws.outbox_path(u) for u in ws.units}


def soffice() -> str | None:
    from tracker.intake.convert import find_soffice     # where tracker finds it (Windows: Program Files)

    return find_soffice()


# CI sets TRACKER_REQUIRE_SOFFICE=1: there a missing LibreOffice is a failure, not a skip.
if soffice() is None and os.environ.get("TRACKER_REQUIRE_SOFFICE"):
    raise RuntimeError("LibreOffice (soffice) is required by TRACKER_REQUIRE_SOFFICE=1 but is not installed")
needs_soffice = pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")


# ../shared beside the clone (in CI too): the letter, the registry's sources, the OOXML checkers.
# TRACKER_SHARED names it where a machine keeps it elsewhere (no machine's path in the tests).
SHARED = Path(os.environ.get("TRACKER_SHARED") or Path(__file__).resolve().parent.parent.parent / "shared")
# The OOXML checkers travel with the tests (tests/ooxml: the team's ../shared/tools and the schemas
# they read, copied as they are; test_ooxml_copy says when ../shared's have changed), so every run,
# CI's on a bare clone too, checks every file we write.
OOXML_TOOLS = Path(__file__).resolve().parent / "ooxml" / "tools"
OOXML_SUFFIXES = (".xlsx", ".docx")


def ooxml_parts(files, into: Path) -> list[Path]:
    """The OOXML files among `files`: .xlsx and .docx as they are, and each .xlsx/.docx attached to
    an .eml (a draft carries the unit's form) saved under `into`; anything else is an error."""
    import email
    import email.policy

    out = []
    for f in map(Path, files):
        if f.suffix.lower() in OOXML_SUFFIXES:
            out.append(f)
            continue
        assert f.suffix.lower() == ".eml", f"not a file the OOXML checkers read: {f}"
        msg = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        attached = [a for a in msg.iter_attachments()
                    if Path(a.get_filename() or "").suffix.lower() in OOXML_SUFFIXES]
        assert attached, f"{f}: no workbook attached"
        for k, a in enumerate(attached):
            dest = into / f"{len(out)}-{k}{Path(a.get_filename()).suffix.lower()}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(a.get_payload(decode=True))
            out.append(dest)
    return out


def ooxml_check(*files) -> None:
    """Both OOXML checkers (ISO/IEC 29500 schemas, Excel's own rules) over `files` (.xlsx, .docx, and
    the workbooks attached to .eml drafts): zero errors, or the test fails with what they said.
    Needs lxml (the test extras); never skipped."""
    import subprocess
    import tempfile

    if importlib.util.find_spec("lxml") is None:
        pytest.fail("the OOXML checkers need lxml: pip install -e '.[test]'")
    assert files, "no file to check"
    with tempfile.TemporaryDirectory(prefix="ooxml-") as tmp:
        paths = ooxml_parts(files, Path(tmp))
        for check in ("ooxml_validate.py", "ooxml_rules.py"):
            done = subprocess.run([sys.executable, str(OOXML_TOOLS / check), *map(str, paths)], capture_output=True,
                                  text=True, check=False)
            assert done.returncode == 0, f"{check}:\n" + done.stdout[-3000:] + done.stderr[-2000:]


def soffice_convert(src: Path, fmt: str, outdir: Path, profile: Path | None = None) -> Path:
    """Convert with real headless LibreOffice (private profile, so runs never clash)."""
    import subprocess
    import tempfile

    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as prof:
        profile_dir = profile or Path(prof)
        subprocess.run([soffice(), f"-env:UserInstallation={profile_dir.as_uri()}", "--headless", "--norestore",
                        "--convert-to", fmt, "--outdir", str(outdir), str(src)],
                       check=True, capture_output=True, timeout=180)
    out = outdir / f"{src.stem}.{fmt.split(':')[0]}"
    assert out.exists(), f"LibreOffice did not write {out}"
    return out


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page of a PDF (poppler's pdftotext)."""
    import subprocess

    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def pdf_page_size(pdf: Path) -> tuple[float, float]:
    import re
    import subprocess

    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    m = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
    return float(m[1]), float(m[2])


@contextlib.contextmanager
def held_open(path: Path, monkeypatch, for_s: float | None = None):
    """`path` held open by another program, as Excel holds a workbook (for `for_s` seconds, or
    throughout): Windows then refuses to replace it. On Windows it is really held open (Python,
    like Excel, opens without sharing deletion); Linux lets an open file be replaced, so there
    os.replace onto that one path refuses as Windows does."""
    if os.name == "nt":
        fh = open(path, "rb")
        timer = threading.Timer(for_s, fh.close) if for_s else None
        if timer:
            timer.start()
        try:
            yield
        finally:
            if timer:
                timer.cancel()
            fh.close()
        return
    real = os.replace
    until = time.monotonic() + for_s if for_s else None

    def replace(src, dst, *args, **kwargs):
        held = os.path.abspath(path) in (os.path.abspath(src), os.path.abspath(dst))     # neither moved nor replaced
        if held and (until is None or time.monotonic() < until):
            raise PermissionError(13, "The process cannot access the file because it is being used by another "
                                      "process", os.fspath(dst))
        return real(src, dst, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(os, "replace", replace)
        yield
