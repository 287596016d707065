#!/usr/bin/env python3
"""Build tracker.exe (a PyInstaller one-folder build) with the Windows CPython of the smoke test.

    tools/build_windows_exe.sh [--cache DIR] [--source DIR] [--out DIR] [--no-try]

Uses the cached wine prefix and Python of tools/windows_smoke.py (built if missing), adds the
win_amd64 wheels of PyInstaller, installs the wheel of the checkout, and builds
dist/tracker/tracker.exe from the package's own `tracker/__main__.py`: calling
multiprocessing.freeze_support() there is the product's job, not this script's. The templates
(and any other data file of the package) go in as data. The folder is copied to --out (default
CACHE/exe/tracker) and, unless --no-try, the exe is tried: `--version`, then `init` in a scratch
folder, each with its output redirected inside wine; their results are printed, not judged (the
smoke test judges the product). Exit 0 when tracker.exe was built.
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
    lock = open(cache / ".lock", "w")      # the smoke test's lock: one user of the prefix at a time
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
    work_c = r"C:\exe"
    work = wine.path(work_c)
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
            print(str(e).replace("WINDOWS_ONLY in tools/windows_smoke.py", "EXE_REQUIREMENTS in tools/build_windows_exe.py"),
                  file=sys.stderr)
            return 2
        shutil.rmtree(wine.drive_c / "wheels-exe", ignore_errors=True)
        shutil.copytree(wheels, wine.drive_c / "wheels-exe")
        rc = wine.batch("exe-pip", f"{smoke.WIN_PY}\\python.exe -m pip install --no-index --find-links C:\\wheels-exe "
                        f"{' '.join(EXE_REQUIREMENTS)} > {work_c}\\pip.out 2>&1\n", logs / "pip.wine.log")
        if rc != 0:
            print("PyInstaller did not install:\n" + smoke._read(work / "pip.out").decode("utf-8", "replace")[-2000:],
                  file=sys.stderr)
            return 2
    whl = smoke.build_wheel(a.source.resolve(), exe_dir / "dist-wheel")
    shutil.copy(whl, work / whl.name)
    rc = wine.batch("exe-install", f"{smoke.WIN_PY}\\python.exe -m pip install --no-index --no-deps --force-reinstall "
                    f"{work_c}\\{whl.name} > {work_c}\\install.out 2>&1\n", logs / "install.wine.log")
    if rc != 0:
        print("the wheel did not install:\n" + smoke._read(work / "install.out").decode("utf-8", "replace")[-2000:],
              file=sys.stderr)
        return 2
    smoke.log(f"PyInstaller and {whl.name} installed in {time.monotonic() - t1:.0f} s")

    t2 = time.monotonic()
    entry = f"{smoke.WIN_PY}\\Lib\\site-packages\\tracker\\__main__.py"
    args = ["--noconfirm", "--clean", "--onedir", "--console", "--name", "tracker",
            # every module, imported lazily or not, and the metadata `--version` reads
            "--collect-submodules", "tracker", "--copy-metadata", "tracker",
            # the templates (tracker/templates/*.toml, *.csv) and any data file the package gains
            "--collect-data", "tracker",
            "--distpath", f"{work_c}\\dist", "--workpath", f"{work_c}\\build", "--specpath", work_c, entry]
    rc = wine.batch("exe-build", f"cd /d {work_c}\n{smoke.WIN_PY}\\python.exe -m PyInstaller {' '.join(args)} "
                    f"> {work_c}\\build.out 2>&1\n", logs / "build.wine.log", timeout=1800)
    build_s = time.monotonic() - t2
    exe = work / "dist" / "tracker" / "tracker.exe"
    if rc != 0 or not exe.exists():
        out = smoke._read(work / "build.out").decode("utf-8", "replace")
        print(f"PyInstaller failed (exit {rc}) after {build_s:.0f} s:\n{out[-3000:]}", file=sys.stderr)
        return 1
    folder = work / "dist" / "tracker"
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    dest = (a.out or exe_dir / "tracker").resolve()
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(folder, dest)
    smoke.log(f"built {dest / 'tracker.exe'}: {size / 2**20:.0f} MB in {build_s:.0f} s "
              f"(total {time.monotonic() - t0:.0f} s; log {work / 'build.out'})")

    if not a.no_try:
        exe_c = f"{work_c}\\dist\\tracker\\tracker.exe"
        for name, cmd in (("version", "--version"), ("init", f"init {work_c}\\try")):
            rc = wine.batch(f"exe-{name}", f"{exe_c} {cmd} > {work_c}\\{name}.out 2> {work_c}\\{name}.err\n"
                            f"echo %ERRORLEVEL% > {work_c}\\{name}.rc\n", logs / f"try-{name}.wine.log")
            got = smoke._read(work / f"{name}.rc").decode().strip() or f"none (wine {rc})"
            text, bad = smoke.decode(smoke._read(work / f"{name}.out") + smoke._read(work / f"{name}.err"))
            smoke.log(f"try: tracker.exe {cmd}: exit {got}{' ' + bad if bad else ''}\n    "
                      + (text.strip().replace("\n", "\n    ")[:1500] or "(no output)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
