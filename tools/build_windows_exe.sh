#!/usr/bin/env bash
# Build tracker.exe (PyInstaller, one folder) under wine with the smoke test's Windows CPython.
# Options: see `tools/build_windows_exe.sh --help`. Needs what tools/windows_smoke.sh needs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "${PYTHON:-python3}" "$here/build_windows_exe.py" "$@"
