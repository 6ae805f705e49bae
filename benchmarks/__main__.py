"""The benchmark runner: ``python -m benchmarks [--quick] [--only NAME ...] [--output FILE]``.

Discovers every ``bench_<name>.py`` module in this package, runs each one's ``run(quick)``,
prints its tables, and merges them into the JSON report (``benchmarks/results/latest.json``)
as soon as each scenario finishes, so an interrupted run keeps what it measured.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from ._report import check_table, format_markdown, format_table, merge_report
from ._server import pin_client

DEFAULT_OUTPUT = Path(__file__).parent / "results" / "latest.json"


def discover() -> list[str]:
    """Scenario names (``bench_<name>.py`` → ``name``), sorted."""
    return sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.startswith("bench_")
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run the aiops benchmarks (local only: no network beyond 127.0.0.1).",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run (each scenario well under a minute)"
    )
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="run only these scenarios (see --list)"
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"JSON report to merge into (default {DEFAULT_OUTPUT})",
    )
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument(
        "--show", action="store_true", help="print the stored report's tables instead of running"
    )
    return parser.parse_args(argv)


def show(path: Path, names: list[str], *, markdown: bool) -> int:
    """Print the tables of ``names`` stored in the report at ``path``."""
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        print(f"Cannot read the report {path}: {err}; run the benchmarks first", file=sys.stderr)
        return 2
    for name in names:
        entry = report.get("scenarios", {}).get(name)
        if entry is None:
            continue
        print(f"== {name} ({entry['command']}, {entry['run_at']}, {entry['seconds']} s)\n")
        for table in entry["tables"]:
            print(format_markdown(table) if markdown else format_table(table), end="\n\n")
    machine = report.get("machine", {})
    print("machine: " + ", ".join(f"{k}={v}" for k, v in sorted(machine.items())))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = discover()
    if args.list:
        print("\n".join(names))
        return 0
    if args.only:
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            print(
                f"Unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(names)}",
                file=sys.stderr,
            )
            return 2
        names = [n for n in names if n in args.only]
    if args.show:
        return show(args.output, names, markdown=args.markdown)
    pin_client()
    failed = []
    for name in names:
        print(f"== {name}{' (quick)' if args.quick else ''}", flush=True)
        started, when = time.perf_counter(), datetime.now(UTC).isoformat(timespec="seconds")
        load = [round(x, 2) for x in os.getloadavg()]
        try:
            module = importlib.import_module(f"benchmarks.bench_{name}")
            tables = module.run(quick=args.quick)
            problems = [f"table {i}: {p}" for i, t in enumerate(tables) for p in check_table(t)]
            if problems:
                raise ValueError("; ".join(problems))
        except Exception:
            traceback.print_exc()
            failed.append(name)
            continue
        seconds = round(time.perf_counter() - started, 2)
        for table in tables:
            print(
                format_markdown(table) if args.markdown else format_table(table),
                end="\n\n",
                flush=True,
            )
        entry = {
            "command": "python -m benchmarks" + (" --quick" if args.quick else ""),
            "quick": args.quick,
            "run_at": when,
            "load_average_at_start": load,
            "seconds": seconds,
            "tables": tables,
        }
        merge_report(args.output, name, entry)
        print(f"({name}: {seconds:.1f} s, written to {args.output})\n", flush=True)
    if failed:
        print(f"Failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
