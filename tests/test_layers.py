"""The folders are the stages: the layers in pyproject.toml hold, and no module imports itself back."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_each_stage_imports_only_the_stages_below_it_and_only_the_cli_speaks():
    pytest.importorskip("importlinter")
    run = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command;"
                          "sys.exit(lint_imports_command())"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_there_is_no_import_cycle():
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("tracker")
    cycles = sorted({tuple(sorted((a, b))) for a in graph.modules for b in graph.find_modules_directly_imported_by(a)
                     if graph.chain_exists(importer=b, imported=a)})
    assert not cycles, cycles
