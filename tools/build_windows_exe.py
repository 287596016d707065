#!/usr/bin/env python3
"""Build tracker.exe (a PyInstaller one-folder build) with the Windows CPython of the smoke test.

    tools/build_windows_exe.sh [--cache DIR] [--source DIR] [--out DIR] [--no-try]

Uses the cached wine prefix and Python of tools/windows_smoke.py (built if missing), adds the
win_amd64 wheels of PyInstaller, installs the wheel of the checkout, and builds
dist/tracker/tracker.exe from the package's own `tracker/__main__.py`: calling
multiprocessing.freeze_support() there is the product's job, not this script's. The templates
(and any other data file of the package) go in as data. The folder is copied to --out (default
CACHE/exe/tracker), zipped beside it (tracker-windows.zip: what staff unzip) and, unless
--no-try, the exe is tried: `--version`, then `init` in a scratch
folder, each with its output redirected inside wine; their results are printed, not judged (the
smoke test judges the product: `tools/windows_smoke.sh --exe` runs its steps through this
build). Exit 0 when tracker.exe was built.
"""
from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import windows_smoke as smoke

# PyInstaller, and what it needs on Windows only (markers pip evaluates for Linux drop them)
EXE_REQUIREMENTS = ["pyinstaller", "pefile", "pywin32-ctypes"]


WORK_C = r"C:\exe"

# A frozen tracker.exe reads no sitecustomize.py, so the smoke test's wine workarounds
# (windows_smoke.SITECUSTOMIZE) reach it as a PyInstaller runtime hook instead. It acts only where
# ntdll says it is wine: on Windows, the build staff get behaves exactly as without it.
WINE_GAPS_HOOK = '''\
"""Wine gaps (see tools/windows_smoke.py), worked around only when running under wine."""
import ctypes
import sys

try:
    _under_wine = hasattr(ctypes.WinDLL("ntdll"), "wine_get_version")
except (OSError, AttributeError):
    _under_wine = False
if _under_wine:
    try:    # kernel32.CopyFile2 is missing: shutil.copy2 then copies plainly, as before 3.12
        import _winapi
        if hasattr(_winapi, "CopyFile2"):
            del _winapi.CopyFile2
    except ImportError:
        pass
    sys.modules["_wmi"] = None      # propsys.VariantToString is missing: platform reads the registry
'''


def build(wine, cache: Path, source: Path, logs: Path) -> tuple[Path, float]:
    """PyInstaller (installed once per prefix), the checkout's wheel, then the one-folder build:
    (the folder holding tracker.exe, inside the prefix; seconds the build took). Raises
    SystemExit with the reason when a step fails."""
    work = wine.path(WORK_C)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    # PyInstaller's own wheels for Windows (pefile, pywin32-ctypes, its bootloaders...), kept with
    # the setup's wheels and installed once per prefix.
    t1 = time.monotonic()
    wheels = cache / "wheels-exe"
    if not (wine.drive_c / "Python313" / "Lib" / "site-packages" / "PyInstaller").exists():
        shutil.rmtree(wheels, ignore_errors=True)
        try:
            smoke.download_wheels(wheels, EXE_REQUIREMENTS, logs)
            smoke.check_windows_closure(wheels, EXE_REQUIREMENTS[:1])
        except SystemExit as e:
            raise SystemExit(str(e).replace("WINDOWS_ONLY in tools/windows_smoke.py",
                                            "EXE_REQUIREMENTS in tools/build_windows_exe.py")) from None
        shutil.rmtree(wine.drive_c / "wheels-exe", ignore_errors=True)
        shutil.copytree(wheels, wine.drive_c / "wheels-exe")
        rc = wine.batch("exe-pip", f"{smoke.WIN_PY}\\python.exe -m pip install --no-index --find-links C:\\wheels-exe "
                        f"{' '.join(EXE_REQUIREMENTS)} > {WORK_C}\\pip.out 2>&1\n", logs / "pip.wine.log")
        if rc != 0:
            raise SystemExit("PyInstaller did not install:\n"
                             + smoke._read(work / "pip.out").decode("utf-8", "replace")[-2000:])
    whl = smoke.build_wheel(source, logs.parent / "dist-wheel")
    shutil.copy(whl, work / whl.name)
    rc = wine.batch("exe-install", f"{smoke.WIN_PY}\\python.exe -m pip install --no-index --no-deps --force-reinstall "
                    f"{WORK_C}\\{whl.name} > {WORK_C}\\install.out 2>&1\n", logs / "install.wine.log")
    if rc != 0:
        raise SystemExit("the wheel did not install:\n" + smoke._read(work / "install.out").decode("utf-8", "replace")[-2000:])
    smoke.log(f"PyInstaller and {whl.name} installed in {time.monotonic() - t1:.0f} s")

    (work / "wine_gaps.py").write_text(WINE_GAPS_HOOK, encoding="utf-8")
    t2 = time.monotonic()
    entry = f"{smoke.WIN_PY}\\Lib\\site-packages\\tracker\\__main__.py"
    args = ["--noconfirm", "--clean", "--onedir", "--console", "--name", "tracker",
            # every module, imported lazily or not, and the metadata `--version` reads
            "--collect-submodules", "tracker", "--copy-metadata", "tracker",
            # the templates (tracker/templates/*.toml, *.csv), the catalogs, any data file the package gains
            "--collect-data", "tracker",
            "--runtime-hook", f"{WORK_C}\\wine_gaps.py",
            "--distpath", f"{WORK_C}\\dist", "--workpath", f"{WORK_C}\\build", "--specpath", WORK_C, entry]
    rc = wine.batch("exe-build", f"cd /d {WORK_C}\n{smoke.WIN_PY}\\python.exe -m PyInstaller {' '.join(args)} "
                    f"> {WORK_C}\\build.out 2>&1\n", logs / "build.wine.log", timeout=1800)
    build_s = time.monotonic() - t2
    folder = work / "dist" / "tracker"
    if rc != 0 or not (folder / "tracker.exe").exists():
        out = smoke._read(work / "build.out").decode("utf-8", "replace")
        raise SystemExit(f"PyInstaller failed (exit {rc}) after {build_s:.0f} s:\n{out[-3000:]}")
    return folder, build_s


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get(smoke.CACHE_ENV)
                                                       or Path.home() / ".cache" / "tracker-windows"))
    ap.add_argument("--source", type=Path, default=smoke.REPO)
    ap.add_argument("--out", type=Path, help="where to copy the built folder (default CACHE/exe/tracker)")
    ap.add_argument("--no-try", action="store_true", help="build only; do not run tracker.exe")
    a = ap.parse_args()
    cache = a.cache.expanduser().resolve()
    cache.mkdir(parents=True, exist_ok=True)
    lock = open(cache / ".lock", "w", encoding="ascii")      # the smoke test's lock: one user of the prefix at a time
    fcntl.flock(lock, fcntl.LOCK_EX)
    t0 = time.monotonic()
    try:
        wine, setup_s, rebuilt = smoke.setup(cache, a.source.resolve())
    except SystemExit as e:
        print(str(e), file=sys.stderr)
        return 2
    smoke.log(f"setup: {'built' if rebuilt else 'reused'} in {setup_s:.0f} s")
    exe_dir = cache / "exe"
    logs = exe_dir / "logs"
    shutil.rmtree(exe_dir, ignore_errors=True)
    logs.mkdir(parents=True)
    try:
        with wine.server():
            folder, build_s = build(wine, cache, a.source.resolve(), logs)
            size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
            dest = (a.out or exe_dir / "tracker").resolve()
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(folder, dest)
            # what staff get: the folder in a zip, unzipped anywhere (C:\tracker) and run as it is
            archive = shutil.make_archive(str(dest.parent / "tracker-windows"), "zip", dest.parent, dest.name)
            smoke.log(f"built {dest / 'tracker.exe'}: {size / 2**20:.0f} MB in {build_s:.0f} s "
                      f"(total {time.monotonic() - t0:.0f} s; log {wine.path(WORK_C) / 'build.out'}); zip: {archive}")
            if not a.no_try:
                exe_c = f"{WORK_C}\\dist\\tracker\\tracker.exe"
                work = wine.path(WORK_C)
                for name, cmd in (("version", "--version"), ("init", f"init {WORK_C}\\try")):
                    rc = wine.batch(f"exe-{name}", f"{exe_c} {cmd} > {WORK_C}\\{name}.out 2> {WORK_C}\\{name}.err\n"
                                    f"echo %ERRORLEVEL% > {WORK_C}\\{name}.rc\n", logs / f"try-{name}.wine.log")
                    got = smoke._read(work / f"{name}.rc").decode().strip() or f"none (wine {rc})"
                    text, bad = smoke.decode(smoke._read(work / f"{name}.out") + smoke._read(work / f"{name}.err"))
                    smoke.log(f"try: tracker.exe {cmd}: exit {got}{' ' + bad if bad else ''}\n    "
                              + (text.strip().replace("\n", "\n    ")[:1500] or "(no output)"))
    except SystemExit as e:
        print(str(e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
