#!/usr/bin/env bash
# Build tracker.exe (PyInstaller, one folder) under wine with the smoke test's Windows CPython.
# Options: see `tools/build_windows_exe.sh --help`. Needs: apt-get install wine wine64 locales,
# and a Python >= 3.11 with pip ($PYTHON, default python3) to download wheels and build tracker's.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "${PYTHON:-python3}" "$here/build_windows_exe.py" "$@"
