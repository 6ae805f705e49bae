"""The ``aiops`` command.

Command groups live in their own modules (``demo``, ``run``, ``chat``, ``providers``,
``middleware``, ``threads``, ``mcp``, ``usage``); each exposes ``register(subparsers)`` and imports the
engine only when its command runs, so ``aiops --help`` stays fast.

Exit codes are :class:`~aiops_core.cli._errors.ExitCode`: 0 done, 1 a runtime failure, 2 a
usage or configuration mistake, 3 paused until tool calls are approved or rejected, 130
interrupted, 141 the output pipe closed.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from ._errors import ErrorContext, ExitCode, describe
from ._term import Term

__all__ = ["ExitCode", "build_parser", "main"]

GROUPS = ("demo", "run", "chat", "providers", "middleware", "threads", "mcp", "usage")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def build_parser() -> argparse.ArgumentParser:
    """The ``aiops`` argument parser with every command group."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="aiops",
        description="AI operations assistant for network and IT teams.",
        epilog=(
            "Run 'aiops COMMAND --help' for a command's options. Exit codes: 0 done, 1 failed, "
            "2 usage or configuration error, 3 paused for tool approval, 130 interrupted."
        ),
    )
    parser.add_argument("--version", action="version", version=f"aiops {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more log output: -v info with tracebacks, -vv debug",
    )
    parser.add_argument(
        "--log-level", choices=LEVELS, type=str.upper, help="log level (default WARNING)"
    )
    parser.add_argument(
        "--debug", action="store_true", help="debug logs, and the traceback of an error"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS:
        importlib.import_module(f"{__name__}.{group}").register(sub)
    return parser


class _TermLogHandler(logging.Handler):
    """Log records on the terminal: a warning once, as one line; full records when verbose."""

    def __init__(self, term: Term, verbose: bool) -> None:
        super().__init__()
        self.term = term
        self.verbose = verbose
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.verbose:
                self.term.spinner.stop()
                self.term.err.write(self.format(record) + "\n")
                self.term.err.flush()
            elif record.levelno >= logging.ERROR:
                self.term.error(record.getMessage())
            else:
                self.term.warn(record.getMessage())
        except Exception:  # pragma: no cover - logging must never break the command
            self.handleError(record)


def _setup_logging(args: argparse.Namespace, term: Term) -> Callable[[], None]:
    """Route log records to the terminal; returns what undoes it (``main`` may run in-process)."""
    if args.log_level:
        level = getattr(logging, args.log_level)
    elif args.debug or args.verbose >= 2:
        level = logging.DEBUG
    elif args.verbose == 1:
        level = logging.INFO
    else:
        level = logging.WARNING
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _TermLogHandler):
            root.removeHandler(handler)
    handler = _TermLogHandler(term, verbose=level < logging.WARNING)
    handler.setLevel(level)  # a library that lowers its own logger's level stays quiet here
    previous = root.level
    root.addHandler(handler)
    root.setLevel(level)

    def restore() -> None:
        root.removeHandler(handler)
        root.setLevel(previous)

    return restore


def _unwrap(err: BaseException) -> BaseException:
    """The one error inside (nested) single-exception groups from task groups."""
    while isinstance(err, BaseExceptionGroup) and len(err.exceptions) == 1:
        err = err.exceptions[0]
    return err


def _silence_stdout() -> None:
    # The reader left: point stdout at /dev/null so the interpreter's final flush is quiet.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a file descriptor
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``aiops`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    term = Term()
    args.term = term
    args.errors = ErrorContext()
    restore_logging = _setup_logging(args, term)
    if not getattr(args, "func", None):
        restore_logging()
        parser.print_help()
        return ExitCode.USAGE
    try:
        return int(args.func(args) or 0)
    except BaseException as caught:
        err = _unwrap(caught)
        if isinstance(err, KeyboardInterrupt):
            term.note("interrupted")
            return ExitCode.INTERRUPTED
        if isinstance(err, BrokenPipeError):
            _silence_stdout()
            return ExitCode.BROKEN_PIPE
        if not isinstance(err, Exception):
            raise
        if args.debug:
            traceback.print_exception(err)
        text, code = describe(err, args.errors)
        term.error(text)
        return code
    finally:
        term.spinner.stop()
        restore_logging()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
