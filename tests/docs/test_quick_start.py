"""The README's first quick-start command works on a fresh virtualenv (installs from PyPI)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_fresh_venv_install_runs_the_demo(tmp_path: Path) -> None:
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block
    command = next(line for line in block.group(1).splitlines() if line.endswith("aiops demo"))
    assert command == "python3 -m venv .venv && .venv/bin/pip install -q . && .venv/bin/aiops demo"
    # The same command, on a copy of the sources, so the checkout's own .venv is left alone.
    source = tmp_path / "src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "node_modules", "__pycache__", "site", ".nox"
        ),
    )
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    python = shutil.which("python3", path=env["PATH"]) or sys.executable
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    out = subprocess.run(
        command.replace("python3", python, 1),
        shell=True,
        cwd=source,
        capture_output=True,
        text=True,
        env=env,
        timeout=840,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "a scripted demo model" in out.stdout
    assert "10.11.2.2 is in 10.11.0.0/16" in out.stdout
