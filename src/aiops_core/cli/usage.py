"""``aiops usage``: model calls, tokens and cost from the usage database, as a table or JSON."""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

__all__ = ["default_usage_url", "register"]

_DESCRIPTION = """\
Show what the assistant used and cost, from the usage database that 'aiops run' and
'aiops chat' write to when one is configured ('usage = "sqlite:///usage.db"' in the config
file, or $AIOPS_USAGE). Cost is frozen at call time from the model catalog; '?' marks calls
of models without a price (unknown, not free).
"""


def default_usage_url() -> str:
    """``$AIOPS_USAGE``, else ``usage.db`` next to the default thread store."""
    if os.environ.get("AIOPS_USAGE"):
        return os.environ["AIOPS_USAGE"]
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return f"sqlite:///{Path(base) / 'aiops' / 'usage.db'}"


def register(subparsers: Any) -> None:
    """Add the ``usage`` command to the ``aiops`` parser."""
    parser = subparsers.add_parser(
        "usage",
        help="model calls, tokens and cost by model, user, tenant or day",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--by", choices=("model", "user", "tenant", "day"), default="model", help="group by"
    )
    parser.add_argument("--days", type=int, help="only the last N days (default: all)")
    parser.add_argument("--tools", action="store_true", help="tool calls per tool instead")
    parser.add_argument("--db", help="usage database URL (default: $AIOPS_USAGE or usage.db)")
    parser.add_argument("--config", help="TOML config file (its 'usage' key)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def _money(value: Decimal | None, unpriced: int = 0) -> str:
    if value is None:
        return "?"
    text = f"${value:.4f}"
    return f"{text} + ?" if unpriced else text


def run(args: argparse.Namespace) -> int:
    """Print the usage summary (the ``usage`` command)."""
    import anyio

    from ..errors import UserError
    from ..usage.sql import SQLUsageRecorder
    from .config import load_config

    if args.days is not None and args.days < 1:
        raise UserError(f"--days must be 1 or more, got {args.days}")
    url = args.db or load_config(args.config).usage or default_usage_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise UserError(
            f"No usage database at {url}: set 'usage' in the config file (or $AIOPS_USAGE) so "
            "runs are recorded, or pass --db"
        )
    since = datetime.now(UTC) - timedelta(days=args.days) if args.days else None
    recorder = SQLUsageRecorder(url, create_schema=True)

    async def read() -> list[dict[str, Any]]:
        try:
            if args.tools:
                return await recorder.tool_summary(since=since)
            return await recorder.summary(args.by, since=since)
        finally:
            await recorder.aclose()

    rows = anyio.run(read)
    if args.json:
        print(json.dumps(rows, indent=2, default=lambda v: str(v) if isinstance(v, Decimal) else v))
        return 0
    if args.tools:
        tools = [
            (
                r["tool"],
                r["server"],
                str(r["calls"]),
                str(r["failures"]),
                f"{r['latency'] * 1000:.1f}",
            )
            for r in rows
        ]
        args.term.table(("TOOL", "SERVER", "CALLS", "FAILURES", "MEAN MS"), tools)
        return 0
    table = [
        (
            str(r[args.by]),
            str(r["calls"]),
            str(r["errors"]),
            str(r["input_tokens"]),
            str(r["cached_tokens"]),
            str(r["output_tokens"]),
            _money(r["cost"], r["unpriced_calls"]),
        )
        for r in rows
    ]
    header = (args.by.upper(), "CALLS", "ERRORS", "INPUT", "CACHED", "OUTPUT", "COST")
    args.term.table(header, table)
    return 0
