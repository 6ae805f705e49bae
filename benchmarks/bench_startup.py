"""Import and start-up: what a fresh interpreter pays before it can do anything.

Each figure is the median of several fresh interpreters (5 in a full run) timing the import inside
the child with ``time.perf_counter`` (interpreter start-up excluded), next to ``import openai`` for
scale. The CLI row times a whole ``aiops run "..." --model test`` from spawn to exit, next to a bare
``python -c pass``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from typing import Any

__all__ = ["run"]

IMPORTS = {
    "import aiops_core": "import aiops_core",
    "from aiops_core import Agent": "from aiops_core import Agent",
    "from aiops_core import Agent, tool, MemoryStore, MiddlewareSpec": (
        "from aiops_core import Agent, tool, MemoryStore, MiddlewareSpec"
    ),
    "import openai (baseline)": "import openai",
}
_TIMER = (
    "import time; _t = time.perf_counter(); {stmt}; "
    "print(time.perf_counter() - _t); import sys; print(sorted(sys.modules).__len__())"
)
HEAVY = ("openai", "anthropic", "redis", "sqlalchemy", "mcp", "httpx2", "ollama", "huggingface_hub")
CLI = [sys.executable, "-m", "aiops_core.cli", "run", "Is core-sw-01 up?", "--model", "test"]
"""``aiops run ... --model test`` (the console script's module, run with this interpreter)."""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


def time_import(stmt: str, repeat: int) -> tuple[float, int]:
    """Median seconds of ``stmt`` in ``repeat`` fresh interpreters, and modules loaded after it."""
    times, modules = [], 0
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", _TIMER.format(stmt=stmt)],
            capture_output=True,
            text=True,
            env=_env(),
            check=True,
        ).stdout.split()
        times.append(float(out[0]))
        modules = int(out[1])
    return statistics.median(times), modules


def heavy_imports(stmt: str) -> list[str]:
    """Heavy packages (provider SDKs, drivers) that ``stmt`` drags in; should be none."""
    code = f"{stmt}; import sys; print(' '.join(sorted(set(m.split('.')[0] for m in sys.modules))))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(), check=True
    )
    loaded = set(out.stdout.split())
    return [name for name in HEAVY if name in loaded]


def time_command(cmd: list[str], repeat: int) -> tuple[float | None, str]:
    """Median wall seconds from spawn to exit, or ``None`` and why it could not run."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=60)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            return None, tail[0][:160]
    return statistics.median(times), ""


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Scenario entry point (see the module docstring)."""
    repeat = 2 if quick else 5
    measured = {label: time_import(stmt, repeat) for label, stmt in IMPORTS.items()}
    baseline = measured["import openai (baseline)"][0]
    rows = [
        [
            label,
            round(1000 * seconds, 1),
            modules,
            round(seconds / baseline, 3),
            "(baseline)"
            if "openai" in label
            else " ".join(heavy_imports(IMPORTS[label])) or "none",
        ]
        for label, (seconds, modules) in measured.items()
    ]
    bare, _ = time_command([sys.executable, "-c", "pass"], repeat)
    cli, why = time_command(CLI, repeat)
    assert bare is not None
    cli_rows = [["python -c pass (baseline)", round(1000 * bare, 1), 1.0]]
    cli_rows.append(
        [
            'aiops run "Is core-sw-01 up?" --model test',
            round(1000 * cli, 1) if cli else None,
            round(cli / bare, 3) if cli else None,
        ]
    )
    return [
        {
            "title": f"Import time (median of {repeat} fresh interpreters)",
            "columns": ["statement", "ms", "modules loaded", "vs import openai", "heavy imports"],
            "rows": rows,
            "notes": "Timed inside the child, interpreter start-up excluded. 'heavy imports' lists "
            "provider SDKs and drivers the statement pulled in (lazy imports keep it 'none').",
        },
        {
            "title": f"Time to first answer from the command line (median of {repeat})",
            "columns": ["command", "ms", "vs bare interpreter"],
            "rows": cli_rows,
            "notes": "Spawn to exit, offline test model."
            + (f" CLI not available: {why}" if why else ""),
        },
    ]
