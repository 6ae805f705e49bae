"""The ``aiops`` command.

Command groups live in their own modules (``demo``, ``run``, ``chat``, ``providers``,
``middleware``, ``threads``, ``mcp``); each exposes ``register(subparsers)``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Sequence

__all__ = ["build_parser", "main"]

GROUPS = ("demo", "run", "chat", "providers", "middleware", "threads", "mcp")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="aiops",
        description="AI operations assistant for network and IT teams.",
        epilog="Run 'aiops COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"aiops {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS:
        importlib.import_module(f"{__name__}.{group}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``aiops`` command; returns the exit status."""
    from ..errors import AiopsError

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except AiopsError as err:
        if args.debug:
            traceback.print_exc()
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Exception as err:
        if args.debug:
            traceback.print_exc()
        else:
            print(
                f"error: unexpected {type(err).__name__}: {err} (run with --debug for details)",
                file=sys.stderr,
            )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
