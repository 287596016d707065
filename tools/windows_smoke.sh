#!/usr/bin/env bash
# The Windows smoke test: tracker's whole campaign on a real Windows CPython 3.13 under wine,
# compared with the same steps on Linux. Options: see `tools/windows_smoke.sh --help`.
# Needs: apt-get install wine wine64 locales; a Python >= 3.11 with this checkout installed
# (PYTHON=..., default python3), since the filled returns are made with tracker's own code.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "${PYTHON:-python3}" "$here/windows_smoke.py" "$@"
