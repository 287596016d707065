#!/usr/bin/env bash
# The Windows smoke test: tracker's whole campaign on a real Windows CPython 3.13 under wine,
# compared with the same steps on Linux. Options: see `tools/windows_smoke.sh --help`.
# Needs: apt-get install wine wine64 locales; a Python >= 3.11 with this checkout installed
# (pip install -e .): the filled returns are made, and the Linux reference run, with tracker itself.
# That Python is $PYTHON, else the first of python, python3 that imports tracker.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -z "${PYTHON:-}" ]; then
  for p in python python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c "import tracker" >/dev/null 2>&1; then PYTHON="$p"; break; fi
  done
fi
exec "${PYTHON:-python3}" "$here/windows_smoke.py" "$@"
